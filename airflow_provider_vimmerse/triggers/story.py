"""The trigger that waits for a story to finish, for deferrable operators and the sensor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_vimmerse.exceptions import (
    TRANSIENT_POLL_ERRORS,
    VimmerseError,
    VimmersePollingError,
    VimmerseTriggerEventError,
    VimmerseWaitTimeoutError,
)
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.story import VimmerseStory, VimmerseStoryStatus

EVENT_STATUSES = ("success", "fail", "timeout", "error")


def story_event(
    status: str, story_id: str, *, message: str = "", progress: int | None = None, video_url: str = ""
) -> dict[str, Any]:
    """The one event shape every wait ends with; ``status`` is one of :data:`EVENT_STATUSES`."""
    return {"status": status, "story_id": story_id, "message": message, "progress": progress, "video_url": video_url}


def validate_event(event: Any) -> dict[str, Any]:
    """
    Check the event a deferred task resumed with.

    :raises VimmerseTriggerEventError: when it is missing, not a dict, or has no known status or story id.
    """
    if not isinstance(event, dict):
        raise VimmerseTriggerEventError(f"Resumed without a trigger event (got {type(event).__name__}).")
    if event.get("status") not in EVENT_STATUSES:
        raise VimmerseTriggerEventError(
            f"Trigger event has status {event.get('status')!r}; expected one of {', '.join(EVENT_STATUSES)}."
        )
    if not event.get("story_id"):
        raise VimmerseTriggerEventError("Trigger event has no story_id.")
    return event


def wait_error(event: dict[str, Any], timeout: float) -> VimmerseError:
    """The error for a ``timeout`` or ``error`` event: neither means the story failed."""
    if event["status"] == "timeout":
        return VimmerseWaitTimeoutError(event["story_id"], timeout, event.get("progress"))
    return VimmersePollingError(
        f"Could not read the status of story {event['story_id']}: {event.get('message')} "
        "The story may still be running on the service; it was not cancelled."
    )


def event_for_story(story: VimmerseStory) -> dict[str, Any]:
    """The event for a story in a terminal status."""
    status = "success" if story.status is VimmerseStoryStatus.SUCCESS else "fail"
    return story_event(
        status, story.id, message=story.message, progress=story.progress_percentage, video_url=story.video_url
    )


class VimmerseStoryTrigger(BaseTrigger):
    """
    Poll ``GET /story/{id}`` until the story is terminal, the deadline passes, or polling keeps failing.

    Yields exactly one event (see :func:`story_event`). One aiohttp session serves every poll,
    and the connection is looked up asynchronously, so the triggerer's event loop never blocks.

    :param story_id: the story to wait for.
    :param vimmerse_conn_id: the ``vimmerse`` connection.
    :param poll_interval: seconds between polls.
    :param end_time: absolute deadline, seconds since the epoch; it survives triggerer restarts.
    :param max_poll_errors: consecutive failed polls (each after the hook's own retries) tolerated
        before the wait ends with an ``error`` event.
    """

    def __init__(
        self,
        story_id: str,
        end_time: float,
        vimmerse_conn_id: str = VimmerseHook.default_conn_name,
        poll_interval: float = 30.0,
        max_poll_errors: int = 5,
    ) -> None:
        super().__init__()
        self.story_id = story_id
        self.end_time = end_time
        self.vimmerse_conn_id = vimmerse_conn_id
        self.poll_interval = poll_interval
        self.max_poll_errors = max_poll_errors

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "story_id": self.story_id,
                "end_time": self.end_time,
                "vimmerse_conn_id": self.vimmerse_conn_id,
                "poll_interval": self.poll_interval,
                "max_poll_errors": self.max_poll_errors,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_vimmerse.hooks.vimmerse_async import VimmerseAsyncHook

        progress: int | None = None
        errors = 0
        try:
            async with VimmerseAsyncHook(self.vimmerse_conn_id) as hook:
                while True:
                    try:
                        story = await hook.get_story(self.story_id)
                    except TRANSIENT_POLL_ERRORS as err:
                        errors += 1
                        self.log.warning("Polling story %s failed (%d/%d): %s", self.story_id, errors, self.max_poll_errors, err)
                        if errors > self.max_poll_errors:
                            yield TriggerEvent(story_event("error", self.story_id, message=str(err), progress=progress))
                            return
                    else:
                        errors = 0
                        if story.status.is_terminal:
                            yield TriggerEvent(event_for_story(story))
                            return
                        if story.progress_percentage != progress:
                            self.log.info("story %s: %s %d%%", story.id, story.status.value, story.progress_percentage)
                        progress = story.progress_percentage
                    remaining = self.end_time - time.time()
                    if remaining <= 0:
                        message = f"Story {self.story_id} was still running at the deadline."
                        yield TriggerEvent(story_event("timeout", self.story_id, message=message, progress=progress))
                        return
                    # Back off while polls fail, so a struggling service is not hammered.
                    await asyncio.sleep(min(self.poll_interval * min(2**errors, 8), remaining))
        except Exception as err:  # a rejected key, an unknown story, a broken connection config
            yield TriggerEvent(story_event("error", self.story_id, message=str(err), progress=progress))
