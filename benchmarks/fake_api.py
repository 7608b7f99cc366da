"""
A minimal, fast Story API for benchmarks (aiohttp, its own process): it measures our clients,
not the sandbox. Story ``<id>`` is ``processing`` until its flip time, then ``success``; with
``--webhooks FILE`` (story id -> webhook URL), it POSTs each story's webhook at its flip time.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import time
from pathlib import Path

from aiohttp import web


def start_offset(story_id: str, stagger: float) -> float:
    """When a story's wait begins after the common start: a fixed pseudo-random point in ``[0, stagger]``."""
    return stagger * int(hashlib.sha256(story_id.encode()).hexdigest()[8:16], 16) / 0xFFFFFFFF


def flip_time(story_id: str, start: float, low: float, high: float, stagger: float = 0.0) -> float:
    """
    When a story turns ``success``: a fixed pseudo-random point ``low``-``high`` seconds after its
    wait began (``start`` plus its :func:`start_offset`).
    """
    fraction = int(hashlib.sha256(story_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return start + start_offset(story_id, stagger) + low + (high - low) * fraction


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=float, default=0.0)
    parser.add_argument("--low", type=float, default=0.0)
    parser.add_argument("--high", type=float, default=0.0)
    parser.add_argument("--stagger", type=float, default=0.0, help="waits begin up to this long after --start")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--url-file", type=Path, required=True)
    parser.add_argument("--webhooks", type=Path, help="JSON: story id -> webhook URL, called at the flip time")
    args = parser.parse_args()
    polls = {"count": 0}

    async def story(request: web.Request) -> web.Response:
        polls["count"] += 1
        story_id = request.match_info["story_id"]
        done = time.time() >= flip_time(story_id, args.start, args.low, args.high, args.stagger)
        data = {
            "id": story_id,
            "status": "success" if done else "processing",
            "progress_percentage": 100 if done else 50,
            "video_url": "http://cdn.invalid/v.mp4" if done else "",
            "created_at": "2025-09-02 17:20:48.587526+00:00",
        }
        return web.Response(text=json.dumps({"data": data}), content_type="application/json")

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(polls)

    app = web.Application()
    app.router.add_get("/story/{story_id}", story)
    app.router.add_get("/v2/story/{story_id}", story)  # the default API version
    app.router.add_get("/stats", stats)
    if args.file:
        app.router.add_get("/file.bin", lambda _r: web.FileResponse(args.file))

    async def deliver(client, story_id: str, url: str) -> None:
        await asyncio.sleep(max(0.0, flip_time(story_id, args.start, args.low, args.high, args.stagger) - time.time()))
        payload = {"customer_id": "bench", "batch_id": story_id, "status": "success"}
        for _ in range(3):
            try:
                async with client.post(url, json=payload) as answer:
                    if answer.status < 500:
                        return
            except OSError:
                await asyncio.sleep(0.5)

    async def run() -> None:
        import aiohttp

        if args.webhooks:
            client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
            targets = json.loads(args.webhooks.read_text())
            app["deliveries"] = [asyncio.ensure_future(deliver(client, s, u)) for s, u in targets.items()]
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        args.url_file.write_text(f"http://127.0.0.1:{port}")
        while True:
            await asyncio.sleep(3600)

    asyncio.run(run())


if __name__ == "__main__":
    main()
