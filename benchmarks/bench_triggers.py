"""
Triggerer capacity: many ``VimmerseStoryTrigger.run()`` coroutines in one event loop, the way the
triggerer runs them, against a fast local API whose stories finish at random times.

Run as a module it measures one variant in its own process and prints JSON; :func:`measure`
runs ours and three baselines side by side: the hook as it was before it was built on the http
provider (a hand-made aiohttp session), ``HttpAsyncHook.session()`` used plainly (one session,
no retry policy: the fair baseline), and ``HttpAsyncHook.run`` (a new session per poll).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from benchmarks.common import BENCH_KEY, Row, env_with_connection, fake_api, rss_bytes, run_json
from benchmarks.fake_api import flip_time


def _patch_hook(variant: str) -> None:
    """Swap the trigger's hook for a baseline transport; the trigger and its poll decision stay ours."""
    import aiohttp
    from airflow.providers.http.hooks.http import HttpAsyncHook

    from airflow_provider_vimmerse.hooks import vimmerse_async
    from airflow_provider_vimmerse.models import _story_from_body
    from airflow_provider_vimmerse.triggers import story as trigger_module

    class Baseline(vimmerse_async.VimmerseAsyncHook):
        async def __aenter__(self):  # type: ignore[override]
            if variant == "previous":
                # The hook before the re-cut: a hand-made aiohttp session, key and timeouts set once.
                self._session = aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=70, sock_connect=10),
                    headers={"X-Api-Key": BENCH_KEY, "Accept": "application/json"},
                )
            elif variant == "session":
                self._plain = HttpAsyncHook(method="GET", http_conn_id="bench_http", retry_limit=1)
                self._cm = self._plain.session()
                self._http = await self._cm.__aenter__()
            else:
                self._plain = HttpAsyncHook(method="GET", http_conn_id="bench_http", retry_limit=3)
            return self

        async def __aexit__(self, *exc_info):  # type: ignore[override]
            if variant == "previous":
                await self._session.close()
            elif variant == "session":
                await self._cm.__aexit__(*exc_info)

        async def get_story(self, story_id):  # type: ignore[override]
            path = f"/v2/story/{story_id}"  # the API version the hook speaks by default
            if variant == "previous":
                async with self._session.get(self._base + path, allow_redirects=False) as response:
                    body = await response.read()
            elif variant == "session":
                response = await self._http.run(endpoint=path)
                body = await response.read()
                response.release()
            else:  # a new HTTP session per poll
                response = await self._plain.run(endpoint=path)
                body = await response.read()
            return _story_from_body(body, method="GET", path=path)

    Baseline._base = json.loads(__import__("os").environ["AIRFLOW_CONN_VIMMERSE_DEFAULT"])["host"]
    trigger_module._async_hook = Baseline


async def _run(count: int, interval: float, start: float, low: float, high: float) -> dict:
    import requests

    import airflow_provider_vimmerse.hooks.vimmerse_async  # noqa: F401 (a running triggerer has it imported)
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


VARIANTS = ("ours", "previous", "session", "per_poll")


def measure(count: int, interval: float, duration: float) -> list[Row]:
    low, high = interval, duration
    results = {}
    for variant in VARIANTS:
        start = time.time() + 3  # stories flip between start+low and start+high
        with fake_api(start=start, low=low, high=high) as url:
            args = [variant, str(count), str(interval), str(start), str(low), str(high)]
            env = env_with_connection(url, retry_limit=3)
            env["AIRFLOW_CONN_BENCH_HTTP"] = json.dumps(
                {"conn_type": "http", "host": url, "extra": {"X-Api-Key": BENCH_KEY}}
            )
            results[variant] = run_json("benchmarks.bench_triggers", *args, env=env)
    ours = results["ours"]
    cpu = {variant: result["cpu_per_poll_ms"] for variant, result in results.items()}
    previous, session, per_poll = (cpu["ours"] / cpu[v] for v in ("previous", "session", "per_poll"))
    base = results["session"]
    return [
        Row(
            "trigger CPU per poll vs the hook before the re-cut",
            f"{cpu['ours']:.3f} ms",
            f"{cpu['previous']:.3f} ms (hand-made aiohttp session)",
            previous,
            "<= 1.10x",
            previous <= 1.10,
        ),
        Row(
            "trigger CPU per poll vs HttpAsyncHook.session()",
            f"{cpu['ours']:.3f} ms",
            f"{cpu['session']:.3f} ms (one session, no retry policy)",
            session,
            "<= 1.25x",
            session <= 1.25,
        ),
        Row(
            "trigger CPU per poll vs a session per poll",
            f"{cpu['ours']:.3f} ms",
            f"{cpu['per_poll']:.3f} ms (HttpAsyncHook.run)",
            per_poll,
            "<= 0.5x",
            per_poll <= 0.5,
        ),
        Row(
            "trigger RSS per waiting trigger",
            f"{ours['rss_per_trigger_kb']:.1f} KB",
            f"{base['rss_per_trigger_kb']:.1f} KB",
            ours["rss_per_trigger_kb"] / max(0.001, base["rss_per_trigger_kb"]),
            "<= 30 KB",
            ours["rss_per_trigger_kb"] <= 30,
        ),
        Row(
            "trigger event delay after flip (max)",
            f"{ours['max_delay_s']:.2f} s",
            f"{base['max_delay_s']:.2f} s",
            ours["max_delay_s"] / interval,
            f"<= 1 poll ({interval:g} s) + 5%",
            ours["max_delay_s"] <= interval * 1.05,
        ),
        Row(
            "trigger events lost",
            f"{ours['lost']} of {count}",
            f"{base['lost']} of {count}",
            0.0,
            "0",
            ours["lost"] == 0,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("count", type=int)
    parser.add_argument("interval", type=float)
    parser.add_argument("start", type=float)
    parser.add_argument("low", type=float)
    parser.add_argument("high", type=float)
    args = parser.parse_args()
    if args.variant != "ours":
        _patch_hook(args.variant)
    result = asyncio.run(_run(args.count, args.interval, args.start, args.low, args.high))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
