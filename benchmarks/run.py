"""
``make bench``: every benchmark, each figure printed beside its baseline measured in the same run.

Quick sizes by default; ``--full`` uses the sizes the figures are recorded at, and ``--record``
writes the table into docs/performance.md. Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from benchmarks import bench_download, bench_parse, bench_sandbox, bench_triggers, bench_webhooks
from benchmarks.common import ROOT, Row

QUICK = {
    "triggers": 200,
    "interval": 1.0,
    "duration": 10.0,
    "webhook_interval": 10.0,
    "download_mib": 64,
    "stories": 50,
    "reads": 500,
}
FULL = {
    "triggers": 1000,
    "interval": 5.0,
    "duration": 60.0,
    "webhook_interval": 30.0,
    "download_mib": 256,
    "stories": 200,
    "reads": 2000,
}


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {python}, {platform.platform()}"


def table(rows: list[Row]) -> str:
    lines = [
        "| benchmark | ours | baseline (same run) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.name} | {r.figure} | {r.baseline} | {r.ratio:.2f} | {r.target} | {'yes' if r.ok else 'NO'} |"
        for r in rows
    ]
    return "\n".join(lines)


def record(rows: list[Row], sizes: dict) -> None:
    page = ROOT / "docs" / "performance.md"
    text = page.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    block = f"{start}\nRecorded {time.strftime('%Y-%m-%d')} on {machine()}; sizes {sizes}.\n\n{table(rows)}\n{end}"
    page.write_text(text[: text.index(start)] + block + text[text.index(end) + len(end) :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the recorded sizes (takes a few minutes)")
    parser.add_argument("--record", action="store_true", help="write the table into docs/performance.md")
    parser.add_argument("--only", nargs="*", choices=["triggers", "webhooks", "download", "parse", "sandbox"])
    for name, value in QUICK.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=type(value), help=f"override (quick {value}, full {FULL[name]})"
        )
    args = parser.parse_args()
    sizes = dict(FULL if args.full else QUICK)
    sizes.update({name: getattr(args, name) for name in QUICK if getattr(args, name) is not None})
    chosen = set(args.only or ["triggers", "webhooks", "download", "parse", "sandbox"])
    rows: list[Row] = []
    if "triggers" in chosen:
        rows += bench_triggers.measure(sizes["triggers"], sizes["interval"], sizes["duration"])
    if "webhooks" in chosen:
        rows += bench_webhooks.measure(sizes["triggers"], sizes["webhook_interval"])
    if "download" in chosen:
        rows += bench_download.measure(sizes["download_mib"])
    if "parse" in chosen:
        rows += bench_parse.measure()
    if "sandbox" in chosen:
        rows += bench_sandbox.measure(sizes["stories"], sizes["reads"])
    print(f"\n{machine()}\n")
    print(table(rows))
    missed = [r.name for r in rows if not r.ok]
    if args.record:
        record(rows, sizes)
    if missed:
        print("\nMissed targets: " + "; ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
