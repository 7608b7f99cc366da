"""
Webhooks in the triggerer, over real HTTP: the listener, a waiting trigger woken by its webhook
(and confirmed with one GET), forged and dropped webhooks, and the event trigger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time

import aiohttp
import pytest

from airflow_provider_vimmerse._webhooks import MAX_BODY_BYTES, WebhookToken
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.triggers import _listener as listener_module
from airflow_provider_vimmerse.triggers.story import VimmerseStoryEventTrigger, VimmerseStoryTrigger
from tests.conftest import API_KEY, set_connection
from tests.integration.recording_server import RecordingServer, Reply, story_body

SLOW = 300.0  # poll and fallback intervals no test waits for: only a webhook can end these waits


def _story_gets(sandbox) -> int:
    return sandbox.stats()["requests"].get("GET /v2/story/{story_id}", 0)


async def _post(url: str, body: bytes, **kwargs) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, **kwargs) as answer:
        return answer.status


def _waiting(story_id: str, token: WebhookToken | None, **kwargs) -> VimmerseStoryTrigger:
    return VimmerseStoryTrigger(
        story_id,
        end_time=time.time() + 120,
        poll_interval=kwargs.pop("poll_interval", SLOW),
        needs_video=True,
        webhook_wait_id=token.wait_id if token else None,
        fallback_poll_interval=kwargs.pop("fallback_poll_interval", SLOW),
        **kwargs,
    )


async def _looked(api: RecordingServer, waits: int) -> None:
    """Until ``waits`` waits have registered and read the story once (what each does first)."""
    while len(api.requests) < waits:
        await asyncio.sleep(0.02)


async def _first_event(trigger) -> dict:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


async def test_the_webhook_ends_the_wait_with_one_confirming_get(webhook_sandbox, public_url):
    token = WebhookToken.for_wait(API_KEY)
    hook = VimmerseHook()
    story = await asyncio.to_thread(
        hook.idea_to_video, "A heron waits by the river", scene_count=2, webhook_url=token.url(public_url)
    )
    waiting = _waiting(story.id, token)
    # What Airflow stores of the deferral names the wait, but cannot open its webhook.
    assert token.secret not in json.dumps(waiting.serialize()) and token.wait_id in json.dumps(waiting.serialize())
    event = await asyncio.wait_for(_first_event(waiting), 60)
    assert event["status"] == "success" and event["video_url"]
    stats = webhook_sandbox.stats()
    assert stats["webhooks_delivered"] == 1
    assert _story_gets(webhook_sandbox) == 2  # one look after registering, then the confirmation
    assert listener_module._listeners == {}  # the last trigger out stopped the listener


async def test_a_story_finished_before_its_wait_registered_is_read_at_once(webhook_sandbox, public_url):
    """
    The webhook came while no trigger listened (a fast story, a triggerer restart or failover): the
    wait reads the story right after registering, whatever its age, instead of waiting for the fallback.
    """
    hook = VimmerseHook()
    story = await asyncio.to_thread(hook.idea_to_video, "Nobody listened", scene_count=1)
    await asyncio.to_thread(hook.wait_for_story, story.id, poll_interval=1, timeout=60, needs_video=True)
    waiting = _waiting(story.id, WebhookToken.for_wait(API_KEY))
    event = await asyncio.wait_for(_first_event(waiting), 10)
    assert event["status"] == "success"


async def test_a_dropped_webhook_is_caught_by_the_fallback_poll(webhook_sandbox, public_url):
    webhook_sandbox.add_fault(kind="webhook_error", count=None)
    token = WebhookToken.for_wait(API_KEY)
    story = await asyncio.to_thread(
        VimmerseHook().idea_to_video, "A lost letter", scene_count=1, webhook_url=token.url(public_url)
    )
    event = await asyncio.wait_for(_first_event(_waiting(story.id, token, fallback_poll_interval=2)), 60)
    assert event["status"] == "success"
    assert webhook_sandbox.stats().get("webhooks_delivered", 0) == 0


async def test_forged_webhooks_end_nothing_and_a_burst_costs_one_get(monkeypatch, public_url):
    token = WebhookToken.for_wait(API_KEY)
    with RecordingServer() as api:
        set_connection(monkeypatch, api.url)
        api.default = Reply(body=story_body("s1", "processing", progress_percentage=10))
        task = asyncio.ensure_future(_first_event(_waiting("s1", token)))
        await _looked(api, 1)
        url, success = token.url(public_url), b'{"customer_id": "c", "batch_id": "s1", "status": "success"}'
        wrong = WebhookToken(token.wait_id, token.secret[:-1] + ("A" if token.secret[-1] != "A" else "B"))
        assert await _post(wrong.url(public_url), success) == 404
        assert await _post(WebhookToken.for_wait(API_KEY).url(public_url), success) == 404
        assert await _post(url, b"not json") == 400
        assert await _post(url, b"{" + b" " * MAX_BODY_BYTES + b"}") == 413
        gets_before = len(api.requests)
        # The right token, claiming success while the story is still processing, twenty times at once.
        assert set(await asyncio.gather(*(_post(url, success) for _ in range(20)))) == {204}
        await asyncio.sleep(1.5)
        assert len(api.requests) - gets_before == 1 and not task.done()
        # The real thing: the service finished the story and says so.
        api.default = Reply(body=story_body("s1", "success", progress_percentage=100, video_url="https://cdn/v.mp4"))
        assert await _post(url, success) == 204
        event = await asyncio.wait_for(task, 10)
    assert event["status"] == "success" and event["video_url"] == "https://cdn/v.mp4"


async def test_triggers_share_one_listener_which_stops_with_the_last(monkeypatch, public_url):
    first, second = WebhookToken.for_wait(API_KEY), WebhookToken.for_wait(API_KEY)
    with RecordingServer() as api:
        set_connection(monkeypatch, api.url)
        api.default = Reply(body=story_body("s1", "processing"))
        tasks = [asyncio.ensure_future(_first_event(_waiting("s1", t))) for t in (first, second)]
        await _looked(api, 2)
        assert len(listener_module._listeners) == 1
        api.default = Reply(body=story_body("s1", "success", video_url="https://cdn/v.mp4"))
        body = b'{"batch_id": "s1", "status": "success"}'
        assert await _post(first.url(public_url), body) == 204
        assert (await asyncio.wait_for(tasks[0], 10))["status"] == "success"
        assert not tasks[1].done() and len(listener_module._listeners) == 1  # the other wait still listens
        assert await _post(second.url(public_url), body) == 204
        await asyncio.wait_for(tasks[1], 10)
    assert listener_module._listeners == {}
    with pytest.raises(aiohttp.ClientConnectionError):
        await _post(first.url(public_url), body)


async def test_a_second_registration_of_a_token_keeps_its_route_when_the_first_leaves(monkeypatch, public_url):
    """A retry reattached with the same wait id while the earlier wait still runs: neither removes the other."""
    token = WebhookToken.for_wait(API_KEY)
    with RecordingServer() as api:
        set_connection(monkeypatch, api.url)
        api.default = Reply(body=story_body("s1", "processing"))
        earlier = asyncio.ensure_future(_first_event(_waiting("s1", token)))
        retried = asyncio.ensure_future(_first_event(_waiting("s1", token)))
        await _looked(api, 2)
        earlier.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await earlier
        api.default = Reply(body=story_body("s1", "success", video_url="https://cdn/v.mp4"))
        assert await _post(token.url(public_url), b'{"batch_id": "s1", "status": "success"}') == 204
        assert (await asyncio.wait_for(retried, 10))["status"] == "success"


async def test_a_bad_bind_address_polls_with_one_error_line(monkeypatch, caplog, capfd):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_BIND", "8790")
    with RecordingServer() as api:
        set_connection(monkeypatch, api.url)
        api.default = Reply(body=story_body("s1", "success", video_url="https://cdn/v.mp4"))
        event = await asyncio.wait_for(
            _first_event(_waiting("s1", WebhookToken.for_wait(API_KEY), poll_interval=1)), 10
        )
    assert event["status"] == "success"
    logged = caplog.text + capfd.readouterr().out
    assert logged.count("webhook_bind is '8790'") == 1 and "e.g. 0.0.0.0:8790" in logged


async def test_without_a_listener_configured_a_webhook_wait_polls(monkeypatch):
    monkeypatch.delenv("AIRFLOW__VIMMERSE__WEBHOOK_BIND", raising=False)
    with RecordingServer() as api:
        set_connection(monkeypatch, api.url)
        api.default = Reply(body=story_body("s1", "success", video_url="https://cdn/v.mp4"))
        event = await asyncio.wait_for(
            _first_event(_waiting("s1", WebhookToken.for_wait(API_KEY), poll_interval=1)), 10
        )
    assert event["status"] == "success"


async def test_the_event_trigger_fires_once_per_finished_story(webhook_sandbox, public_url):
    hook = VimmerseHook()
    url = hook.events_webhook_url("published")
    trigger = VimmerseStoryEventTrigger(name="published")
    events = trigger.run()
    first = asyncio.ensure_future(events.__anext__())
    while not listener_module._listeners:
        await asyncio.sleep(0.02)
    story = await asyncio.to_thread(hook.idea_to_video, "Made outside Airflow", scene_count=1, webhook_url=url)
    event = (await asyncio.wait_for(first, 60)).payload
    assert event["story_id"] == story.id and event["status"] == "success" and event["video_url"]
    # A replay of the same webhook fires nothing more, and costs no GET.
    gets = _story_gets(webhook_sandbox)
    body = f'{{"batch_id": "{story.id}", "status": "success"}}'.encode()
    assert await _post(url, body) == 204
    second = asyncio.ensure_future(events.__anext__())
    await asyncio.sleep(0.5)
    assert not second.done() and _story_gets(webhook_sandbox) == gets
    second.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await second
    await events.aclose()
    assert listener_module._listeners == {}


async def test_a_taken_port_falls_back_to_polling(monkeypatch, public_url, caplog, capfd):
    host, port = public_url.split("://", 1)[1].split(":")
    with socket.socket() as taken, RecordingServer() as api:
        taken.bind((host, int(port)))
        taken.listen()
        set_connection(monkeypatch, api.url)
        api.default = Reply(body=story_body("s1", "success", video_url="https://cdn/v.mp4"))
        waiting = _waiting("s1", WebhookToken.for_wait(API_KEY), poll_interval=1)
        event = await asyncio.wait_for(_first_event(waiting), 10)
    assert event["status"] == "success" and listener_module._listeners == {}
    logged = caplog.text + capfd.readouterr().out
    assert "No webhook listener on" in logged and "polling story s1 instead" in logged
