"""VimmerseStoryTrigger driven by asyncio directly, against the sandbox and a scripted server."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_vimmerse import _polling as polling
from airflow_provider_vimmerse.exceptions import VimmerseUnavailableError, _error_for_event
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.triggers.story import VimmerseStoryTrigger
from tests.conftest import set_connection
from tests.integration.conftest import add_fault
from tests.integration.recording_server import RecordingServer, Reply, story_body


async def _events(trigger: VimmerseStoryTrigger) -> list[dict]:
    return [event.payload async for event in trigger.run()]


async def test_success_yields_exactly_one_event(sandbox_conn):
    story = await asyncio.to_thread(VimmerseHook().idea_to_video, "A kite over the sea", scene_count=1)
    events = await _events(VimmerseStoryTrigger(story.id, end_time=time.time() + 60, poll_interval=1, needs_video=True))
    assert len(events) == 1
    assert events[0]["status"] == "success" and events[0]["story_id"] == story.id
    assert events[0]["progress"] == 100 and events[0]["video_url"]


async def test_story_failure_event_carries_the_message(sandbox_conn):
    add_fault(sandbox_conn, kind="story_fail", message="No GPUs left")
    story = await asyncio.to_thread(VimmerseHook().create_storyboard, "x")
    (event,) = await _events(VimmerseStoryTrigger(story.id, end_time=time.time() + 60, poll_interval=1))
    assert event["status"] == "fail" and event["message"] == "No GPUs left"


async def test_deadline_yields_timeout(monkeypatch):
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url)
        server.default = Reply(body=story_body("s1", "processing", progress_percentage=40))
        (event,) = await _events(VimmerseStoryTrigger("s1", end_time=time.time() + 0.3, poll_interval=1))
    assert event["status"] == "timeout" and event["progress"] == 40
    assert 2 <= len(server.requests) <= 6  # polled at the interval until the deadline, then stopped


async def test_past_deadline_still_polls_once(monkeypatch):
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url)
        server.default = Reply(body=story_body("s1", "success", video_url="http://v"))
        (event,) = await _events(VimmerseStoryTrigger("s1", end_time=time.time() - 10, poll_interval=1))
    assert event["status"] == "success"


async def test_transient_errors_are_tolerated_then_recovered(monkeypatch):
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url, retry_limit=0)
        server.replies = [Reply(status=502), Reply(status=503), Reply(body="<html>proxy</html>")]
        server.default = Reply(body=story_body("s1", "success"))
        (event,) = await _events(
            VimmerseStoryTrigger("s1", end_time=time.time() + 60, poll_interval=1, max_poll_errors=3)
        )
    assert event["status"] == "success" and len(server.requests) == 4


async def test_persistent_errors_end_in_an_error_event(monkeypatch):
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url, retry_limit=0)
        server.default = Reply(status=500)
        (event,) = await _events(
            VimmerseStoryTrigger("s1", end_time=time.time() + 60, poll_interval=1, max_poll_errors=2)
        )
    assert event["status"] == "error" and "500" in event["message"]
    assert len(server.requests) == 3
    assert isinstance(_error_for_event(event, 60), VimmerseUnavailableError)
    assert "may still be running" in str(_error_for_event(event, 60))


async def test_non_transient_errors_end_at_once(monkeypatch):
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url)
        server.default = Reply(status=401, body={"message": "UNAUTHORIZED"})
        (event,) = await _events(VimmerseStoryTrigger("s1", end_time=time.time() + 60, poll_interval=1))
    assert event["status"] == "error" and len(server.requests) == 1


async def test_one_session_for_the_whole_wait(monkeypatch):
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url)
        server.replies = [Reply(body=story_body("s1", "processing")) for _ in range(5)]
        server.default = Reply(body=story_body("s1", "success"))
        await _events(VimmerseStoryTrigger("s1", end_time=time.time() + 60, poll_interval=1))
    assert len(server.requests) == 6 and len({r.client_port for r in server.requests}) == 1


async def test_the_event_loop_is_never_blocked(monkeypatch):
    """A heartbeat coroutine keeps ticking while the trigger waits on a slow server."""
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url)
        server.replies = [Reply(body=story_body("s1", "processing"), delay=0.5)]
        server.default = Reply(body=story_body("s1", "success"))
        gaps: list[float] = []

        async def heartbeat():
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        await _events(VimmerseStoryTrigger("s1", end_time=time.time() + 60, poll_interval=1))
        beat.cancel()
    assert max(gaps) < 0.25


async def test_success_before_the_video_keeps_polling_until_the_video_exists(sandbox_conn):
    add_fault(sandbox_conn, kind="late_video", delay=0.5)
    story = await asyncio.to_thread(VimmerseHook().idea_to_video, "A kite over the sea", scene_count=1)
    (event,) = await _events(
        VimmerseStoryTrigger(story.id, end_time=time.time() + 60, poll_interval=1, needs_video=True)
    )
    assert event["status"] == "success" and event["video_url"]


async def test_success_that_never_gets_a_video_ends_after_the_grace(monkeypatch):
    monkeypatch.setattr(polling, "VIDEO_GRACE_SECONDS", 0.3)
    monkeypatch.setattr(polling, "VIDEO_POLL_SECONDS", 0.05)
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url)
        server.default = Reply(body=story_body("s1", "success", progress_percentage=100))
        (event,) = await _events(
            VimmerseStoryTrigger("s1", end_time=time.time() + 60, poll_interval=10, needs_video=True)
        )
    assert event["status"] == "no_video" and "no video_url" in event["message"]
    assert len(server.requests) >= 3


@pytest.mark.parametrize("interval", [0, 0.25])
async def test_no_wait_polls_faster_than_once_a_second(interval, monkeypatch):
    from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError, VimmerseWaitError
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
    from airflow_provider_vimmerse.sensors.story import VimmerseStorySensor

    with RecordingServer() as server:
        set_connection(monkeypatch, server.url)
        server.default = Reply(body=story_body("s1", "processing"))
        (event,) = await _events(VimmerseStoryTrigger("s1", end_time=time.time() + 2.5, poll_interval=interval))
        assert event["status"] == "timeout" and len(server.requests) <= 4  # not ~1,000 a second
        server.requests.clear()
        with pytest.raises(VimmerseWaitError):
            await asyncio.to_thread(VimmerseHook().wait_for_story, "s1", poll_interval=interval, timeout=2.5)
        assert len(server.requests) <= 4
        # A sensor is checked like the operators, when the DAG is parsed.
        with pytest.raises(VimmerseInvalidParameterError, match=r"poke_interval.*>= 1"):
            VimmerseStorySensor(task_id="wait", story_id="s1", poke_interval=interval, deferrable=True)
