"""A triggerer restart: the serialised wait resumes with the same story and the original deadline."""

from __future__ import annotations

import asyncio
import importlib
import time

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.triggers.story import VimmerseStoryTrigger
from tests.conftest import set_connection
from tests.integration.recording_server import RecordingServer, Reply, story_body


def _rebuild(trigger: VimmerseStoryTrigger) -> VimmerseStoryTrigger:
    """What the triggerer does after a restart: import the class path, call it with the kwargs."""
    classpath, kwargs = trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(**kwargs)


async def _first_event(trigger: VimmerseStoryTrigger) -> dict:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


async def test_wait_resumes_on_the_same_story_after_a_restart(sandbox_conn):
    story = await asyncio.to_thread(VimmerseHook().idea_to_video, "Restarted triggerer", scene_count=2)
    trigger = VimmerseStoryTrigger(story.id, end_time=time.time() + 120, poll_interval=1)
    running = asyncio.create_task(_first_event(trigger))
    await asyncio.sleep(0.2)
    running.cancel()  # the triggerer stops
    rebuilt = _rebuild(trigger)
    assert rebuilt.serialize() == trigger.serialize()
    event = await _first_event(rebuilt)
    assert event["status"] == "success" and event["story_id"] == story.id


async def test_the_original_deadline_survives_a_restart(monkeypatch):
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url)
        server.default = Reply(body=story_body("s1", "processing", progress_percentage=70))
        trigger = VimmerseStoryTrigger("s1", end_time=time.time() + 0.6, poll_interval=1)
        running = asyncio.create_task(_first_event(trigger))
        await asyncio.sleep(0.2)
        running.cancel()
        await asyncio.sleep(0.6)  # the triggerer was down past the deadline
        polled_before = len(server.requests)
        event = await _first_event(_rebuild(trigger))
    assert event["status"] == "timeout" and event["progress"] == 70
    assert len(server.requests) == polled_before + 1  # one look, then the original deadline ended it
