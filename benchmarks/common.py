"""Shared benchmark plumbing: result rows, processes on loopback, memory readings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_KEY = "bench-key-0000"


@dataclass
class Row:
    """One line of the results table: our figure, the baseline's, their ratio, and the target."""

    name: str
    figure: str
    baseline: str
    ratio: float
    target: str
    ok: bool


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def env_with_connection(url: str, **extra: Any) -> dict[str, str]:
    env = dict(os.environ)
    conn = {"conn_type": "vimmerse", "host": url, "password": BENCH_KEY, "extra": {"retry_delay": 0.05, **extra}}
    env["AIRFLOW_CONN_VIMMERSE_DEFAULT"] = json.dumps(conn)
    env.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="vimmerse-bench-airflow-"))
    return env


@contextmanager
def process_serving(*command: str) -> Iterator[str]:
    """Run a server process that writes its URL to ``--url-file``; yield the URL."""
    url_file = Path(tempfile.mkdtemp(prefix="vimmerse-bench-")) / "url"
    process = subprocess.Popen(
        [*command, "--url-file", str(url_file)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not url_file.exists() or not url_file.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {command}")
            time.sleep(0.05)
        url = url_file.read_text()
        _wait_until_answering(url)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def _wait_until_answering(url: str) -> None:
    import requests

    for _ in range(400):
        try:
            requests.get(url + "/health", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)


@contextmanager
def fake_api(
    start: float = 0.0,
    low: float = 0.0,
    high: float = 0.0,
    file: Path | None = None,
    webhooks: Path | None = None,
    stagger: float = 0.0,
) -> Iterator[str]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.fake_api",
        "--start",
        str(start),
        "--low",
        str(low),
        "--high",
        str(high),
        "--stagger",
        str(stagger),
    ]
    if file is not None:
        command += ["--file", str(file)]
    if webhooks is not None:
        command += ["--webhooks", str(webhooks)]
    with process_serving(*command) as url:
        yield url


def run_json(module: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process (so memory and CPU are its own); parse its JSON."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
