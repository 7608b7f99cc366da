"""
Errors raised by the Vimmerse provider.

Every class derives from :class:`VimmerseError` (itself an ``AirflowException``), so a DAG
author can catch all of them at once or exactly the case they mean. Messages never contain
the API key.
"""

from __future__ import annotations

import json
import re
import warnings
from email.utils import parsedate_to_datetime
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

__all__ = [
    "VimmerseApiError",
    "VimmerseConfigurationError",
    "VimmerseError",
    "VimmerseInsufficientCreditError",
    "VimmerseInvalidParameterError",
    "VimmerseNotFoundError",
    "VimmerseStoryFailedError",
    "VimmerseStoryMayExistError",
    "VimmerseUnavailableError",
    "VimmerseWaitError",
]


class VimmerseError(AirflowException):
    """
    Base class of every error raised by the Vimmerse provider.

    Each subclass states whether Airflow retries the task: the ones a retry cannot fix are also
    ``AirflowFailException`` s, so the task fails at once and keeps its retries, and their message
    says so.
    """

    def __str__(self) -> str:
        text = super().__str__()
        if isinstance(self, AirflowFailException) and _in_task():
            return f"{text} The task was not retried: a retry cannot fix this."
        return text


def _in_task() -> bool:
    """Whether this runs inside an Airflow task (a hook may also be used from a plain script)."""
    try:
        from airflow.sdk import get_current_context

        get_current_context()
    except Exception:
        return False
    return True


class VimmerseInvalidParameterError(VimmerseError, AirflowFailException, ValueError):
    """
    An argument was refused before any request was sent (nothing was charged). Not retried.

    :param field: name of the offending argument.
    :param value: the value that was given.
    :param allowed: what would have been accepted, in words.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"Invalid value for {field!r}: {shown}. Allowed: {allowed}.")


class VimmerseConfigurationError(VimmerseError, AirflowFailException):
    """The connection or a ``[vimmerse]`` setting is missing or malformed (the message names it). Not retried."""


class VimmerseApiError(VimmerseError, AirflowFailException):
    """
    The service refused the request (HTTP 400, 401, 403, 422 and other 4xx). Not retried: the same
    request would be refused again.

    :param status_code: the HTTP status (``None`` for a request refused before it was sent).
    :param code: the service's machine-readable error code (v2's ``code``, or Legacy's upper-case
        ``message``), when it sent one; the prose ``message`` is kept in the error's text.
    :param detail: the field-level ``detail`` list of a 422 answer, when present.
    """

    def __init__(
        self, message: str, *, status_code: int | None, code: str | None = None, detail: list[Any] | None = None
    ) -> None:
        self.status_code = status_code  # type: ignore[assignment]  # AirflowException's is the REST API's
        self.code = code
        self.detail = detail or []
        super().__init__(message)


class VimmerseInsufficientCreditError(VimmerseApiError):
    """
    Not enough credits for this story: the service's HTTP 402, or the task's own ``max_credits``
    cap (``status_code`` ``None``). Nothing was created or charged. Not retried.
    """


class VimmerseNotFoundError(VimmerseApiError):
    """
    The story does not exist (HTTP 404, after the grace period a new story gets for the service's
    read-after-write lag). Not retried.
    """


class VimmerseUnavailableError(VimmerseError):
    """
    No usable answer after the hook's own retries: the service (or the video's CDN) could not be
    reached, answered 429 or 5xx, or sent a body that is not the documented one; or a wait's status
    polls kept failing. Retried (it is transient), and a retry reattaches to its story.

    :param status_code: the HTTP status, when there was an answer.
    :param retry_after: seconds the service asked to wait (``Retry-After``), when it said.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        detail: list[Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code  # type: ignore[assignment]  # AirflowException's is the REST API's
        self.code = code
        self.detail = detail or []
        self.retry_after = retry_after
        super().__init__(message)


class VimmerseStoryMayExistError(VimmerseError, AirflowFailException):
    """
    A request that creates or charges may have reached the service, but no usable answer came back.

    Not retried, by the hook or by Airflow, because retrying could create and bill a second story.
    Check the account for the story before running the task again.
    """


class VimmerseStoryFailedError(VimmerseError):
    """
    The story reached status ``fail``. Retried: the next try submits a new story.

    :param story: the story as last seen, with the service's ``message`` and ``failed_medias``.
    """

    def __init__(self, story: Any) -> None:
        self.story = story
        reason = story.message or "no reason given"
        failed = f"; failed scenes: {len(story.failed_medias)}" if story.failed_medias else ""
        super().__init__(f"Story {story.id} failed: {reason}{failed}")


class VimmerseWaitError(VimmerseError):
    """
    A wait ended without a finished story: its deadline passed (``timed_out``), the story said
    ``success`` without a video for longer than the grace period, or a deferred task resumed with a
    malformed event. The story itself is untouched. Retried: the next try reattaches to it.

    :param story_id: the story waited for, when known.
    :param timed_out: the deadline passed.
    :param progress: the story's last progress, when known.
    """

    def __init__(
        self, message: str, *, story_id: str | None = None, timed_out: bool = False, progress: int | None = None
    ) -> None:
        self.story_id = story_id
        self.timed_out = timed_out
        self.progress = progress
        super().__init__(message)

    @classmethod
    def timeout(cls, story_id: str, timeout: float, progress: int | None = None) -> VimmerseWaitError:
        """The error for a wait whose deadline passed."""
        at = f" (last progress {progress}%)" if progress is not None else ""
        return cls(
            f"Story {story_id} did not finish within {timeout:g}s{at}. "
            "It may still be running on the service; it was not cancelled.",
            story_id=story_id,
            timed_out=True,
            progress=progress,
        )


#: The names before 0.5, importable for one more release (with a warning). A name that covered
#: several cases now points at the one class that covers them all.
_RENAMED: dict[str, Any] = {
    "VimmerseBadRequestError": VimmerseApiError,
    "VimmerseAuthenticationError": VimmerseApiError,
    "VimmerseUnprocessableError": VimmerseApiError,
    "VimmerseStoryNotFoundError": VimmerseNotFoundError,
    "VimmerseRateLimitedError": VimmerseUnavailableError,
    "VimmerseServerError": VimmerseUnavailableError,
    "VimmerseTransportError": VimmerseUnavailableError,
    "VimmerseResponseError": VimmerseUnavailableError,
    "VimmersePollingError": VimmerseUnavailableError,
    "VimmerseDownloadError": VimmerseUnavailableError,
    "VimmerseWaitTimeoutError": VimmerseWaitError,
    "VimmerseNoVideoError": VimmerseWaitError,
    "VimmerseTriggerEventError": VimmerseWaitError,
    "VimmerseNotRetriedError": (
        VimmerseInvalidParameterError,
        VimmerseConfigurationError,
        VimmerseApiError,
        VimmerseStoryMayExistError,
    ),
}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        new = _RENAMED[name]
        shown = new.__name__ if isinstance(new, type) else " / ".join(cls.__name__ for cls in new)
        warnings.warn(f"{name} is deprecated (0.5): catch {shown}.", DeprecationWarning, stacklevel=2)
        return new
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - pendulum.now("UTC").timestamp())


_STATUS_ERRORS: dict[int, type[VimmerseApiError]] = {402: VimmerseInsufficientCreditError, 404: VimmerseNotFoundError}
_HINTS = {
    402: " Nothing was created; add credits and submit again.",
    401: " Check the connection's API key.",
    403: " Check the connection's API key.",
}


def _describe_detail(detail: list[Any]) -> str:
    parts = []
    for item in detail:
        if isinstance(item, dict):
            where = ".".join(str(p) for p in item.get("loc", []) if p != "body")
            parts.append(f"{where or '?'}: {item.get('msg', '')}".strip())
    return "; ".join(parts)


def _redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``***``."""
    return text.replace(secret, "***") if secret else text


def _with_note(error: VimmerseError, note: str) -> VimmerseError:
    """The same error (type and fields), its message ending with ``note``."""
    message = BaseException.__str__(error).rstrip(".")
    fields = {
        name: getattr(error, name) for name in ("status_code", "code", "detail", "retry_after") if hasattr(error, name)
    }
    return type(error)(f"{message} ({note}).", **fields)


def _error_for_status(
    status: int,
    body: bytes | str,
    *,
    method: str,
    path: str,
    retry_after: str | None = None,
    secret: str | None = None,
) -> VimmerseApiError | VimmerseUnavailableError:
    """
    Build the typed error for an error answer; the body is summarised, never echoed in full.

    :param secret: removed from everything taken from the body (a gateway page may echo the
        request's headers). Bodies of 401 and 403 are not quoted at all: only their machine code
        (an upper-case word such as ``UNAUTHORIZED``) is kept.
    """
    text = _redact(body.decode("utf-8", "replace") if isinstance(body, bytes) else body, secret)
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        payload = None
    code, prose, detail = _error_fields(payload)
    if status in (401, 403):
        text, payload, prose, detail = "", {}, "", []
    reason = _describe_detail(detail) or ": ".join(dict.fromkeys(filter(None, (code, prose))))
    if not reason and payload is None:
        reason = text.strip()[:120]
    message = (
        f"{method} {path} answered HTTP {status}" + (f": {reason}" if reason else "") + "." + _HINTS.get(status, "")
    )
    if status == 429 or status >= 500:
        return VimmerseUnavailableError(
            message, status_code=status, code=code, detail=detail, retry_after=_parse_retry_after(retry_after)
        )
    return _STATUS_ERRORS.get(status, VimmerseApiError)(message, status_code=status, code=code, detail=detail)


_CODE = re.compile(r"[A-Z][A-Z0-9_]*")


def _error_fields(payload: Any) -> tuple[str | None, str, list[Any]]:
    """
    ``(code, prose, detail)`` of an error body, whatever its style: v2's ``{message, code}``,
    Legacy's ``{message: "CODE"}`` (the upper-case message is the code), FastAPI's ``{detail: [...]}``
    or ``{detail: "text"}``.
    """
    if not isinstance(payload, dict):
        return None, "", []
    message: str = payload["message"] if isinstance(payload.get("message"), str) else ""
    code: str | None = payload.get("code")
    if not isinstance(code, str) or not code.strip():
        code = message if _CODE.fullmatch(message) else None
    prose = "" if message == code else message.strip()
    detail = payload.get("detail")
    if isinstance(detail, str):
        prose = ": ".join(filter(None, (prose, detail.strip())))
    return code, prose[:300], detail if isinstance(detail, list) else []


def _transport_error(
    *, method: str, path: str, charges: bool, connected: bool, cause: str, url: str = ""
) -> VimmerseError:
    """The error for a request that got no answer after its retries (``connected``: it may have arrived)."""
    if charges and connected:
        return VimmerseStoryMayExistError(
            f"{method} {path} may have reached the service but no answer came back ({cause}). "
            "A story may have been created and charged; it was not retried. "
            "Check your stories before submitting again."
        )
    if not connected:
        return VimmerseUnavailableError(f"Could not connect to {url or path}: {cause}.")
    return VimmerseUnavailableError(f"{method} {path} failed: {cause}.")


def _may_exist_error(method: str, path: str, what: str) -> VimmerseStoryMayExistError:
    """A charged request that the service may have handled although its answer says otherwise."""
    return VimmerseStoryMayExistError(
        f"{method} {path} {what}. The service may have created and charged the story before that happened; "
        "it was not retried. Check your stories before submitting again."
    )


def _oversized_answer(method: str, path: str, *, charges: bool, limit: int) -> VimmerseError:
    """The error for a 2xx answer larger than ``limit`` bytes (it was not read past that)."""
    what = f"answered with more than {limit // (1024 * 1024)} MiB (decompressed); it was not read"
    if charges:
        return _may_exist_error(method, path, what)
    return VimmerseUnavailableError(f"{method} {path} {what}.")


def _error_for_event(value: dict[str, Any], timeout: float | None, story: Any = None) -> VimmerseError:
    """
    The error a task raises for a wait that did not end in ``success`` (an event as built by
    :mod:`airflow_provider_vimmerse._polling`; ``story``: the story as last read, when it could be).
    """
    story_id, status = value["story_id"], value["status"]
    message = value.get("message") or ""
    if status == "fail":
        if story is None:
            from airflow_provider_vimmerse.models import VimmerseStory, VimmerseStoryStatus

            story = VimmerseStory(id=story_id, status=VimmerseStoryStatus.FAIL, message=message)
        return VimmerseStoryFailedError(story)
    if status == "timeout":
        return VimmerseWaitError.timeout(story_id, timeout or 0.0, value.get("progress"))
    if status == "no_video":
        return VimmerseWaitError(message or f"Story {story_id} has no video.", story_id=story_id)
    if status == "not_found":
        return VimmerseNotFoundError(message or f"Story {story_id} does not exist.", status_code=404)
    return VimmerseUnavailableError(
        f"{message or f'Could not read the status of story {story_id}.'} "
        "The story may still be running on the service; it was not cancelled."
    )
