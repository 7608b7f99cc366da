"""
Triggerer capacity: many ``VimmerseStoryTrigger.run()`` coroutines in one event loop, the way the
triggerer runs them, against a fast local API whose stories finish at random times.

Run as a module it measures one variant in its own process and prints JSON; :func:`measure`
runs ours and the baseline (the http provider's ``HttpAsyncHook``: a new HTTP session per poll)
side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from benchmarks.common import BENCH_KEY, Row, env_with_connection, fake_api, rss_bytes, run_json
from benchmarks.fake_api import flip_time


def _use_session_per_poll() -> None:
    """
    Baseline: the http provider's ``HttpAsyncHook``, which opens a new ``aiohttp.ClientSession`` for
    every request (the pattern several public providers' triggers use), in place of our one session.
    """
    from airflow.providers.http.hooks.http import HttpAsyncHook

    from airflow_provider_vimmerse.hooks import vimmerse_async
    from airflow_provider_vimmerse.hooks.policy import story_from_body

    class SessionPerPollHook(vimmerse_async.VimmerseAsyncHook):
        async def __aenter__(self):  # type: ignore[override]
            self._http = HttpAsyncHook(method="GET", http_conn_id="bench_http", retry_limit=3)
            return self

        async def __aexit__(self, *exc_info):  # type: ignore[override]
            return None

        async def get_story(self, story_id):  # type: ignore[override]
            response = await self._http.run(endpoint=f"story/{story_id}")
            return story_from_body(await response.read(), method="GET", path=f"/story/{story_id}")

    vimmerse_async.VimmerseAsyncHook = SessionPerPollHook


async def _run(count: int, interval: float, start: float, low: float, high: float) -> dict:
    import requests

    from airflow_provider_vimmerse.triggers.story import VimmerseStoryTrigger

    url = json.loads(__import__("os").environ["AIRFLOW_CONN_VIMMERSE_DEFAULT"])["host"]
    base_rss = rss_bytes()
    peak = {"rss": base_rss}
    delays: list[float] = []

    async def sample() -> None:
        while True:
            peak["rss"] = max(peak["rss"], rss_bytes())
            await asyncio.sleep(0.2)

    async def wait(index: int) -> str:
        story_id = f"s{index}"
        trigger = VimmerseStoryTrigger(story_id, end_time=time.time() + high + 10 * interval, poll_interval=interval)
        async for event in trigger.run():
            delays.append(time.time() - flip_time(story_id, start, low, high))
            return event.payload["status"]
        return "none"

    sampler = asyncio.create_task(sample())
    waits = asyncio.gather(*(wait(i) for i in range(count)))
    # Steady state only: every trigger has looked up its connection and polled once by now.
    await asyncio.sleep(min(interval * 1.5, low))
    cpu = time.process_time()
    polls_before = requests.get(url + "/stats", timeout=5).json()["count"]
    statuses = await waits
    cpu = time.process_time() - cpu
    sampler.cancel()
    polls = requests.get(url + "/stats", timeout=5).json()["count"] - polls_before
    return {
        "cpu_per_poll_ms": 1000 * cpu / max(1, polls),
        "rss_per_trigger_kb": (peak["rss"] - base_rss) / count / 1024,
        "max_delay_s": max(delays),
        "lost": sum(1 for s in statuses if s != "success"),
        "polls": polls,
    }


def measure(count: int, interval: float, duration: float) -> list[Row]:
    low, high = interval, duration
    results = {}
    for variant in ("ours", "baseline"):
        start = time.time() + 3  # stories flip between start+low and start+high
        with fake_api(start=start, low=low, high=high) as url:
            args = [variant, str(count), str(interval), str(start), str(low), str(high)]
            env = env_with_connection(url, retry_limit=3)
            env["AIRFLOW_CONN_BENCH_HTTP"] = json.dumps({"conn_type": "http", "host": url, "extra": {"X-Api-Key": BENCH_KEY}})
            results[variant] = run_json("benchmarks.bench_triggers", *args, env=env)
    ours, base = results["ours"], results["baseline"]
    cpu_ratio = ours["cpu_per_poll_ms"] / base["cpu_per_poll_ms"]
    return [
        Row("trigger CPU per poll", f"{ours['cpu_per_poll_ms']:.3f} ms", f"{base['cpu_per_poll_ms']:.3f} ms",
            cpu_ratio, "<= 0.5x", cpu_ratio <= 0.5),
        Row("trigger RSS per waiting trigger", f"{ours['rss_per_trigger_kb']:.1f} KB", f"{base['rss_per_trigger_kb']:.1f} KB",
            ours["rss_per_trigger_kb"] / max(0.001, base["rss_per_trigger_kb"]), "<= 30 KB", ours["rss_per_trigger_kb"] <= 30),
        Row("trigger event delay after flip (max)", f"{ours['max_delay_s']:.2f} s", f"{base['max_delay_s']:.2f} s",
            ours["max_delay_s"] / interval, f"<= 1 poll ({interval:g} s) + 5%", ours["max_delay_s"] <= interval * 1.05),
        Row("trigger events lost", f"{ours['lost']} of {count}", f"{base['lost']} of {count}", 0.0, "0", ours["lost"] == 0),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("variant", choices=["ours", "baseline"])
    parser.add_argument("count", type=int)
    parser.add_argument("interval", type=float)
    parser.add_argument("start", type=float)
    parser.add_argument("low", type=float)
    parser.add_argument("high", type=float)
    args = parser.parse_args()
    if args.variant == "baseline":
        _use_session_per_poll()
    result = asyncio.run(_run(args.count, args.interval, args.start, args.low, args.high))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
