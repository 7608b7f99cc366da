"""
VimmerseStoryEventTrigger's contract over real HTTP: events only for stories sent with this
stream's URL, registrations that do not displace each other, a flood whose cost is bounded and
that does not hold back a real webhook, and what a restart means (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import aiohttp

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.triggers import _listener as listener_module
from airflow_provider_vimmerse.triggers.story import _CONFIRMATIONS_PER_SECOND, VimmerseStoryEventTrigger


def _gets(sandbox) -> int:
    return sandbox.stats()["requests"].get("GET /v2/story/{story_id}", 0)


def _body(story_id: str) -> bytes:
    return f'{{"batch_id": "{story_id}", "status": "success"}}'.encode()


async def _listening(count: int = 1) -> None:
    while not listener_module._listeners or next(iter(listener_module._listeners.values()))[1] < count:
        await asyncio.sleep(0.02)


async def _finished_story(hook: VimmerseHook, webhook_url: str) -> str:
    story = await asyncio.to_thread(hook.idea_to_video, "A heron waits", scene_count=1, webhook_url=webhook_url)
    await asyncio.to_thread(hook.wait_for_story, story.id, poll_interval=1, timeout=60, needs_video=True)
    return story.id


async def _no_event_within(events, seconds: float) -> None:
    pending = asyncio.ensure_future(events.__anext__())
    await asyncio.sleep(seconds)
    assert not pending.done(), pending.result().payload if pending.done() else None
    pending.cancel()
    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
        await pending


async def test_a_story_made_for_another_stream_fires_nothing_here(webhook_sandbox, public_url):
    hook = VimmerseHook()
    events = VimmerseStoryEventTrigger(name="ours").run()
    first = asyncio.ensure_future(events.__anext__())
    await _listening()
    story_id = await _finished_story(hook, hook.events_webhook_url("theirs"))
    # Someone who knows our stream's URL replays the other stream's story to it.
    async with aiohttp.ClientSession() as session, session.post(hook.events_webhook_url("ours"), data=_body(story_id)):
        pass
    await asyncio.sleep(1.0)
    assert not first.done()
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    await events.aclose()


async def test_two_watchers_of_one_name_do_not_displace_each_other(webhook_sandbox, public_url):
    hook = VimmerseHook()
    url = hook.events_webhook_url("default")
    first_events, second_events = VimmerseStoryEventTrigger().run(), VimmerseStoryEventTrigger().run()
    first = asyncio.ensure_future(first_events.__anext__())
    second = asyncio.ensure_future(second_events.__anext__())
    await _listening(2)
    first.cancel()  # one watcher stops: the other keeps its registration
    with contextlib.suppress(asyncio.CancelledError):
        await first
    await first_events.aclose()
    story_id = await _finished_story(hook, url)
    assert (await asyncio.wait_for(second, 30)).payload["story_id"] == story_id
    await second_events.aclose()


async def test_a_flood_costs_bounded_gets_and_the_real_webhook_still_fires(webhook_sandbox, public_url):
    hook = VimmerseHook()
    url = hook.events_webhook_url("flooded")
    story = await asyncio.to_thread(hook.idea_to_video, "A real one", scene_count=1, webhook_url=url)
    webhook_sandbox.add_fault(kind="webhook_error", count=None)  # the real delivery comes by hand, mid-flood
    await asyncio.to_thread(hook.wait_for_story, story.id, poll_interval=1, timeout=60, needs_video=True)
    events = VimmerseStoryEventTrigger(name="flooded").run()
    first = asyncio.ensure_future(events.__anext__())
    await _listening()
    gets_before, started = _gets(webhook_sandbox), time.monotonic()
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes) -> None:
            async with session.post(url, data=body) as answer:
                assert answer.status == 204

        await asyncio.gather(*(post(_body(str(uuid.uuid4()))) for _ in range(1500)))
        await post(_body(story.id))
        event = (await asyncio.wait_for(first, 5)).payload
    elapsed = time.monotonic() - started
    assert event["story_id"] == story.id and event["status"] == "success"
    await events.aclose()
    assert _gets(webhook_sandbox) - gets_before <= _CONFIRMATIONS_PER_SECOND * elapsed + 2


async def test_events_are_at_least_once_across_a_restart(webhook_sandbox, public_url):
    """A replayed webhook fires again after the trigger is re-created (documented: at least once)."""
    hook = VimmerseHook()
    url = hook.events_webhook_url("replayed")
    events = VimmerseStoryEventTrigger(name="replayed").run()
    first = asyncio.ensure_future(events.__anext__())
    await _listening()
    story_id = await _finished_story(hook, url)
    assert (await asyncio.wait_for(first, 30)).payload["story_id"] == story_id
    async with aiohttp.ClientSession() as session, session.post(url, data=_body(story_id)) as answer:
        assert answer.status == 204
    await _no_event_within(events, 1.0)  # the same trigger: no second event
    await events.aclose()
    restarted = VimmerseStoryEventTrigger(name="replayed").run()
    again = asyncio.ensure_future(restarted.__anext__())
    await _listening()
    async with aiohttp.ClientSession() as session, session.post(url, data=_body(story_id)) as answer:
        assert answer.status == 204
    assert (await asyncio.wait_for(again, 10)).payload["story_id"] == story_id
    await restarted.aclose()
