"""Request overhead: GET /story through the hook (one keep-alive session) against the reference's style."""

from __future__ import annotations

import os
import time

from benchmarks.common import BENCH_KEY, Row, env_with_connection, fake_api


def measure(calls: int, rounds: int = 3) -> list[Row]:
    """Best of ``rounds`` interleaved runs of ``calls`` requests each."""
    import requests

    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

    ours, baseline = [], []
    with fake_api() as url:
        saved = dict(os.environ)
        os.environ.update(env_with_connection(url))
        try:
            hook = VimmerseHook()
            hook.get_story("s0")  # connection lookup and first connect, outside the timing
            for _ in range(rounds):
                started = time.perf_counter()
                for i in range(calls):
                    hook.get_story(f"s{i}")
                ours.append(time.perf_counter() - started)
                started = time.perf_counter()
                for i in range(calls):  # the reference's example: requests.request per call
                    requests.request("GET", f"{url}/story/s{i}", headers={"X-Api-Key": BENCH_KEY}).json()["data"]
                baseline.append(time.perf_counter() - started)
            hook.close()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    speedup = min(baseline) / min(ours)
    return [
        Row(f"{calls} GET /story calls", f"{min(ours) * 1000 / calls:.2f} ms/call",
            f"{min(baseline) * 1000 / calls:.2f} ms/call (requests.request)", speedup, ">= 2x faster", speedup >= 2),
    ]
