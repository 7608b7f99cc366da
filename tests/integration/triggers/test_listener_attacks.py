"""
The webhook listener under attack, over real sockets on loopback: half-sent requests, stalled
oversized headers and a connection flood must not stop a real webhook from waking its wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import pytest

from airflow_provider_vimmerse._webhooks import WebhookToken
from airflow_provider_vimmerse.triggers import _http_server as http_server
from airflow_provider_vimmerse.triggers import _listener as listener_module
from airflow_provider_vimmerse.triggers.story import VimmerseStoryTrigger
from tests.conftest import API_KEY, set_connection
from tests.integration.airflow_processes import free_port
from tests.integration.recording_server import RecordingServer, Reply, story_body

SLOW = 300.0
SUCCESS = b'{"batch_id": "s1", "status": "success"}'


@pytest.fixture
def bind(monkeypatch) -> tuple[str, int]:
    port = free_port()
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_BIND", f"127.0.0.1:{port}")
    return "127.0.0.1", port


async def _first_event(trigger) -> dict:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


async def _half_sent(host: str, port: int, payload: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(payload)
    await writer.drain()
    return reader, writer


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1024), 1) == b""
    except (ConnectionError, TimeoutError, asyncio.TimeoutError):
        return isinstance(reader.exception(), ConnectionError) if reader.exception() else False


@pytest.mark.parametrize(
    ("attack", "count"),
    [
        (b"POST /vimmerse/webhook/x/y HTTP/1.1\r\nHost: a\r\n", 1100),  # headers never finish
        (b"POST /vimmerse/webhook/x/y HTTP/1.1\r\nX-Pad: " + b"a" * 7000, 150),  # large, stalled headers
        (b"POST /vimmerse/webhook/x/y HTTP/1.1\r\nContent-Length: 4000\r\n\r\n{", 300),  # a body never sent
    ],
    ids=["half-sent", "stalled-large-headers", "stalled-body"],
)
async def test_a_real_webhook_wakes_its_wait_during_an_attack(monkeypatch, bind, attack, count):
    token = WebhookToken.for_wait(API_KEY)
    host, port = bind
    with RecordingServer() as api:
        set_connection(monkeypatch, api.url)
        api.default = Reply(body=story_body("s1", "processing"))
        trigger = VimmerseStoryTrigger(
            "s1", end_time=time.time() + 120, poll_interval=SLOW, webhook_wait_id=token.wait_id,
            fallback_poll_interval=SLOW, needs_video=True,
        )  # fmt: skip
        waiting = asyncio.ensure_future(_first_event(trigger))
        while not api.requests:  # registered, and read the story once
            await asyncio.sleep(0.02)
        listener = next(iter(listener_module._listeners.values()))[0]
        attackers = []
        for _ in range(count):
            with contextlib.suppress(ConnectionError, OSError):
                attackers.append(await _half_sent(host, port, attack))
        await asyncio.sleep(0.2)
        assert listener._server.open_connections <= http_server.MAX_CONNECTIONS
        # The service finishes the story and calls: the wait wakes, whatever the attackers hold.
        api.default = Reply(body=story_body("s1", "success", video_url="https://cdn/v.mp4"))
        url = token.url(f"http://{host}:{port}")
        async with aiohttp.ClientSession() as session, session.post(url, data=SUCCESS) as answer:
            assert answer.status == 204
        assert (await asyncio.wait_for(waiting, 10))["status"] == "success"
        # Every incomplete request is closed within the request timeout (or was evicted before).
        await asyncio.sleep(http_server.REQUEST_TIMEOUT + 0.5)
        closed = await asyncio.gather(*(_closed_by_server(reader) for reader, _ in attackers))
        assert all(closed), f"{closed.count(False)} attack connections still open"
        for _, writer in attackers:
            writer.transport.abort()


async def test_the_health_route_and_oversized_answers(bind):
    host, port = bind
    async with listener_module.listening(bind), aiohttp.ClientSession() as session:
        async with session.get(f"http://{host}:{port}/vimmerse/webhook/health") as answer:
            assert answer.status == 200
        async with session.post(f"http://{host}:{port}/vimmerse/webhook/x/y", data=b"x" * 5000) as answer:
            assert answer.status == 413
        headers = {"X-Pad": "a" * 9000}
        with contextlib.suppress(aiohttp.ClientError):
            async with session.post(f"http://{host}:{port}/vimmerse/webhook/x/y", headers=headers) as answer:
                assert answer.status == 431
