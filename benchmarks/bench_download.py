"""Download throughput and memory: our streaming download against ``curl -o`` on the same file."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import Row, fake_api, run_json


def _make_file(size_mib: int) -> Path:
    path = Path(tempfile.mkdtemp(prefix="vimmerse-bench-")) / "file.bin"
    chunk = os.urandom(1024 * 1024)
    with open(path, "wb") as out:
        for _ in range(size_mib):
            out.write(chunk)
    return path


def measure(size_mib: int, rounds: int = 3) -> list[Row]:
    """Best of ``rounds`` interleaved runs each, so page-cache and disk noise hits both alike."""
    source = _make_file(size_mib)
    ours_seconds, curl_seconds, growth = [], [], 0.0
    try:
        with fake_api(file=source) as url:
            for round_ in range(rounds):
                target = source.with_name(f"ours{round_}.bin")
                ours = run_json("benchmarks.bench_download", url + "/file.bin", str(target))
                ours_seconds.append(ours["seconds"])
                growth = max(growth, ours["rss_growth_mib"])
                curl_target = source.with_name(f"curl{round_}.bin")
                started = time.perf_counter()
                subprocess.run(["curl", "-s", "-o", str(curl_target), url + "/file.bin"], check=True)
                curl_seconds.append(time.perf_counter() - started)
                assert target.stat().st_size == curl_target.stat().st_size == source.stat().st_size
                target.unlink()
                curl_target.unlink()
    finally:
        for path in source.parent.iterdir():
            path.unlink()
        source.parent.rmdir()
    ours_mbps = size_mib / min(ours_seconds)
    curl_mbps = size_mib / min(curl_seconds)
    ratio = ours_mbps / curl_mbps
    return [
        Row(
            f"download {size_mib} MiB throughput",
            f"{ours_mbps:.0f} MiB/s",
            f"{curl_mbps:.0f} MiB/s (curl -o)",
            ratio,
            ">= 0.8x",
            ratio >= 0.8,
        ),
        Row("download peak RSS growth", f"{growth:.1f} MiB", "-", growth / 32, "<= 32 MiB", growth <= 32),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("target")
    args = parser.parse_args()
    import requests

    from airflow_provider_vimmerse._download import download

    session = requests.Session()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    download(session, args.url, args.target)
    seconds = time.perf_counter() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps({"seconds": seconds, "rss_growth_mib": growth}))


if __name__ == "__main__":
    main()
