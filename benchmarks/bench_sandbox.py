"""Sandbox under load: GET /story latency with many stories in flight, against the same sandbox idle."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time

from benchmarks.common import BENCH_KEY, Row, process_serving


def _latencies(stories: int, reads: int, speed: float) -> list[float]:
    import requests

    data_dir = tempfile.mkdtemp(prefix="vimmerse-bench-sandbox-")
    command = [
        sys.executable,
        "-m",
        "vimmerse_sandbox",
        "--port",
        "0",
        "--data-dir",
        data_dir,
        "--api-key",
        BENCH_KEY,
        "--speed",
        str(speed),
        "--credits",
        "1000000",
    ]
    with process_serving(*command) as url:
        session = requests.Session()
        headers = {"X-Api-Key": BENCH_KEY}
        ids = [
            session.post(
                f"{url}/story/idea-2-video",
                json={"idea": f"Story number {i}", "scene_count": 2},
                headers=headers,
                timeout=30,
            ).json()["data"]["id"]
            for i in range(stories)
        ]
        time.sleep(1)  # let the render pool get going
        latencies = []
        for i in range(reads):
            started = time.perf_counter()
            response = session.get(f"{url}/story/{ids[i % len(ids)]}", headers=headers, timeout=30)
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
    return latencies


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def measure(stories: int, reads: int) -> list[Row]:
    # Idle: the same stories in flight, but at a speed where the render threads only wait.
    idle = _latencies(stories, reads, speed=0.0001)
    busy = _latencies(stories, reads, speed=5)
    p50, p99 = _percentile(busy, 50), _percentile(busy, 99)
    idle50, idle99 = _percentile(idle, 50), _percentile(idle, 99)
    return [
        Row(
            f"sandbox GET /story p50, {stories} in flight",
            f"{p50:.1f} ms",
            f"{idle50:.1f} ms (idle)",
            p50 / idle50,
            "<= 5x idle",
            p50 <= 5 * idle50,
        ),
        Row(
            f"sandbox GET /story p99, {stories} in flight",
            f"{p99:.1f} ms",
            f"{idle99:.1f} ms (idle)",
            p99 / idle99,
            "<= 100 ms",
            p99 <= 100,
        ),
    ]
