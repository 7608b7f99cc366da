"""The trigger that waits for a story to finish, for deferrable operators and the sensor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_vimmerse.hooks.vimmerse_async import VimmerseAsyncHook
from airflow_provider_vimmerse.models import VimmerseStory
from airflow_provider_vimmerse.polling import (
    DEFAULT_MAX_POLL_ERRORS,
    DEFAULT_POLL_INTERVAL,
    POLL_ERRORS,
    PollState,
    decide,
    error_event,
    event,
)


class VimmerseStoryTrigger(BaseTrigger):
    """
    Poll ``GET /story/{id}`` until the wait is over (see :func:`~airflow_provider_vimmerse.polling.decide`).

    Yields exactly one event (see :func:`~airflow_provider_vimmerse.polling.event`). One aiohttp
    session serves every poll, and the connection is looked up asynchronously, so the
    triggerer's event loop never blocks.

    :param story_id: the story to wait for.
    :param end_time: absolute deadline, seconds since the epoch (``None``: no deadline); it survives
        triggerer restarts.
    :param vimmerse_conn_id: the ``vimmerse`` connection.
    :param poll_interval: seconds between polls.
    :param max_poll_errors: consecutive failed polls (each after the hook's own retries) tolerated
        before the wait ends with an ``error`` event.
    :param needs_video: the wait ends in ``success`` only once the story has a ``video_url``.
    :param not_found_grace: seconds during which a 404 is read as the service's lag for a story
        just created (0: a 404 ends the wait with a ``not_found`` event).
    """

    def __init__(
        self,
        story_id: str,
        end_time: float | None,
        vimmerse_conn_id: str = VimmerseAsyncHook.default_conn_name,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_errors: int = DEFAULT_MAX_POLL_ERRORS,
        needs_video: bool = False,
        not_found_grace: float = 0.0,
    ) -> None:
        super().__init__()
        self.story_id = story_id
        self.end_time = end_time
        self.vimmerse_conn_id = vimmerse_conn_id
        self.poll_interval = poll_interval
        self.max_poll_errors = max_poll_errors
        self.needs_video = needs_video
        self.not_found_grace = not_found_grace

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "story_id": self.story_id,
                "end_time": self.end_time,
                "vimmerse_conn_id": self.vimmerse_conn_id,
                "poll_interval": self.poll_interval,
                "max_poll_errors": self.max_poll_errors,
                "needs_video": self.needs_video,
                "not_found_grace": self.not_found_grace,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        state = PollState()
        try:
            async with VimmerseAsyncHook(self.vimmerse_conn_id) as hook:
                while True:
                    result: VimmerseStory | Exception
                    try:
                        result = await hook.get_story(self.story_id)
                    except POLL_ERRORS as err:
                        self.log.warning(
                            "Polling story %s failed (%d/%d): %s",
                            self.story_id,
                            state.errors + 1,
                            self.max_poll_errors,
                            err,
                        )
                        result = err
                    decision = decide(
                        result,
                        state,
                        now=time.time(),
                        deadline=self.end_time,
                        poll_interval=self.poll_interval,
                        max_poll_errors=self.max_poll_errors,
                        needs_video=self.needs_video,
                        story_id=self.story_id,
                        not_found_grace=self.not_found_grace,
                    )
                    if decision.progress_changed and decision.story is not None:
                        self.log.info("story %s: %s %d%%", self.story_id, *decision.state.progress)
                    if decision.done:
                        yield TriggerEvent(event(decision, self.story_id))
                        return
                    state = decision.state
                    await asyncio.sleep(decision.sleep)
        except Exception as err:  # a rejected key, an unknown story, a broken connection config
            progress = state.progress[1] if state.progress else None
            yield TriggerEvent(error_event(self.story_id, err, progress))
