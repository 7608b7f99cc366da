"""
When to stop waiting for a story: one pure decision, driven by the sync wait, the trigger and the sensor.

:func:`decide` takes what the last poll returned (a story, or a transient error), the wait's
state, the deadline and the time, and says whether the wait is over (and how) or how long to
sleep. The drivers only fetch, sleep and report; none of them keeps its own rules.

A finished wait is described by one event dict (see :func:`event`), the same whether it ended in
the worker or in the triggerer, and
:func:`~airflow_provider_vimmerse.exceptions._error_for_event` turns any event but ``success`` into
the error a task raises.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_vimmerse._config import DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL  # noqa: F401 (re-exported)
from airflow_provider_vimmerse.exceptions import VimmerseNotFoundError, VimmerseUnavailableError, VimmerseWaitError
from airflow_provider_vimmerse.models import VimmerseStory, VimmerseStoryStatus

DEFAULT_MAX_POLL_ERRORS = 5
DEFAULT_TIMEOUT = 6 * 60 * 60.0
#: While polls fail, the pause grows 2x per consecutive error, up to this factor of the interval.
MAX_BACKOFF_FACTOR = 8
#: How long a story may say ``success`` without a ``video_url`` before the wait gives up on it.
VIDEO_GRACE_SECONDS = 60.0
#: Poll at most this often while waiting for the video of a story that already says ``success``.
VIDEO_POLL_SECONDS = 5.0
#: How long a story this task created may answer 404 (the service's read-after-write lag) before
#: it counts as gone.
NOT_FOUND_GRACE_SECONDS = 120.0
#: What a poll may raise without ending the wait at once (a 404 only within its grace).
POLL_ERRORS = (VimmerseUnavailableError, VimmerseNotFoundError)

SUCCESS, FAIL, TIMEOUT, ERROR, NO_VIDEO, NOT_FOUND = "success", "fail", "timeout", "error", "no_video", "not_found"
EVENT_STATUSES = (SUCCESS, FAIL, TIMEOUT, ERROR, NO_VIDEO, NOT_FOUND)


@dataclass(frozen=True)
class PollState:
    """
    What a wait remembers between polls.

    :param errors: consecutive failed polls.
    :param progress: the last ``(status, progress)`` seen, to log only changes.
    :param video_wait_started: when the story was first seen ``success`` without a ``video_url``.
    :param started: when the wait began (its first poll).
    """

    errors: int = 0
    progress: tuple[str, int] | None = None
    video_wait_started: float | None = None
    started: float | None = None


@dataclass(frozen=True)
class Decision:
    """
    The verdict on one poll.

    :param outcome: one of :data:`EVENT_STATUSES` when the wait is over, else ``None``.
    :param sleep: seconds to wait before the next poll (when not over).
    :param state: the state to pass to the next :func:`decide`.
    :param story: the story as last seen, if the poll returned one.
    :param message: why the wait ended, for the event and the error.
    :param progress_changed: status or progress differ from the previous poll (worth a log line).
    """

    outcome: str | None
    state: PollState
    sleep: float = 0.0
    story: VimmerseStory | None = None
    message: str = ""
    progress_changed: bool = False

    @property
    def done(self) -> bool:
        return self.outcome is not None


def decide(
    result: VimmerseStory | Exception,
    state: PollState,
    *,
    now: float,
    deadline: float | None,
    poll_interval: float,
    max_poll_errors: int,
    needs_video: bool = False,
    story_id: str = "",
    not_found_grace: float = 0.0,
) -> Decision:
    """
    Decide what follows a poll.

    :param result: the story read, or the transient error the read raised (other errors end a
        wait in the driver, not here).
    :param state: the wait's state after the previous poll (``PollState()`` at first).
    :param now: the current time, in the same clock as ``deadline``.
    :param deadline: when to give up (``None``: never).
    :param poll_interval: seconds between polls while all is well.
    :param max_poll_errors: consecutive failed polls tolerated; one more ends the wait with ``error``.
    :param needs_video: ``success`` counts only once the story has a ``video_url``.
    :param story_id: the story, for messages.
    :param not_found_grace: seconds from the wait's start during which a 404 is a transient poll
        error (a story this task just created may not be readable yet); after it, 404 ends the wait.
    """
    changed = False
    story: VimmerseStory | None = None
    started = state.started
    if started is None:
        started = now
        state = replace(state, started=now)
    if isinstance(result, VimmerseNotFoundError) and now - started >= not_found_grace:
        message = f"Story {story_id} does not exist (HTTP 404); it may have been deleted."
        return Decision(NOT_FOUND, state, message=message)
    if isinstance(result, Exception):
        state = replace(state, errors=state.errors + 1)
        if state.errors > max_poll_errors:
            message = f"Could not read the status of story {story_id} ({state.errors} polls in a row failed): {result}"
            return Decision(ERROR, state, message=message)
    else:
        story = result
        seen = (story.reported_status, story.progress_percentage)
        changed = seen != state.progress
        state = replace(state, errors=0, progress=seen)
        if story.status is VimmerseStoryStatus.FAIL:
            return Decision(FAIL, state, story=story, message=story.message, progress_changed=changed)
        if story.status is VimmerseStoryStatus.SUCCESS:
            if story.video_url or not needs_video:
                return Decision(SUCCESS, state, story=story, progress_changed=changed)
            started = state.video_wait_started if state.video_wait_started is not None else now
            if now - started >= VIDEO_GRACE_SECONDS:
                message = (
                    f"Story {story.id} reached 'success' but still had no video_url {now - started:.0f}s later; "
                    "the video was not produced. Check the story on Vimmerse before running the task again."
                )
                return Decision(NO_VIDEO, state, story=story, message=message, progress_changed=changed)
            state = replace(state, video_wait_started=started)
    if deadline is not None and now >= deadline:
        message = f"Story {story_id} was still running at the deadline."
        return Decision(TIMEOUT, state, story=story, message=message, progress_changed=changed)
    pause = poll_interval * min(2**state.errors, MAX_BACKOFF_FACTOR)
    if state.video_wait_started is not None:
        pause = min(pause, VIDEO_POLL_SECONDS)
    if deadline is not None:
        pause = max(0.0, min(pause, deadline - now))
    return Decision(None, state, sleep=pause, story=story, progress_changed=changed)


def polling_floor(log: Any, name: str, seconds: Any) -> float:
    """
    ``seconds`` (a number or ``timedelta``), raised to :data:`MIN_POLL_INTERVAL` with a warning:
    a wait never polls faster than once a second, however it was started.

    :raises VimmerseInvalidParameterError: for a value that is not a finite number.
    """
    from airflow_provider_vimmerse import _validation as v

    value = v.number(name, seconds)
    if value < MIN_POLL_INTERVAL:
        log.warning("%s=%g is below the floor: polling every %g s instead.", name, value, MIN_POLL_INTERVAL)
        return MIN_POLL_INTERVAL
    return value


def log_progress(log: Any, story_id: str, decision: Decision, note: str = "") -> None:
    """
    One line when a poll saw a new status or progress: INFO while it runs, WARNING (with the
    service's message) when the story failed. A status this provider does not know is shown as the
    service wrote it.
    """
    if not decision.progress_changed or decision.story is None or decision.state.progress is None:
        return
    status, progress = decision.state.progress
    if decision.story.status is VimmerseStoryStatus.FAIL:
        reason = decision.story.message or "no reason given"
        log.warning("story %s: %s %d%%%s: %s", story_id, status, progress, note, reason)
    elif decision.story.status is VimmerseStoryStatus.UNKNOWN:
        log.warning(
            "story %s: status %r (not one this provider knows; waiting as if it were processing) %d%%%s",
            story_id,
            status,
            progress,
            note,
        )
    else:
        log.info("story %s: %s %d%%%s", story_id, status, progress, note)


def event(decision: Decision, story_id: str) -> dict[str, Any]:
    """The event that ends a wait: the same shape from the worker and from the triggerer."""
    story = decision.story
    return {
        "status": decision.outcome,
        "story_id": story.id if story else story_id,
        "message": decision.message,
        "progress": story.progress_percentage if story else (decision.state.progress or (None, None))[1],
        "video_url": story.video_url if story else "",
    }


def error_event(story_id: str, error: BaseException, progress: int | None = None) -> dict[str, Any]:
    """The event for a wait ended by an error no further poll can fix (a rejected key, an unknown story)."""
    return {"status": ERROR, "story_id": story_id, "message": str(error), "progress": progress, "video_url": ""}


def validate_event(value: Any) -> dict[str, Any]:
    """
    Check the event a deferred task resumed with.

    :raises VimmerseWaitError: when it is missing, not a dict, or has no known status or story id.
    """
    if not isinstance(value, dict):
        raise VimmerseWaitError(f"Resumed without a trigger event (got {type(value).__name__}).")
    if value.get("status") not in EVENT_STATUSES:
        raise VimmerseWaitError(
            f"Trigger event has status {value.get('status')!r}; expected one of {', '.join(EVENT_STATUSES)}."
        )
    if not value.get("story_id"):
        raise VimmerseWaitError("Trigger event has no story_id.")
    return value
