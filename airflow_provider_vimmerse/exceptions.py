"""
Errors raised by the Vimmerse provider.

Every class derives from :class:`VimmerseError` (itself an ``AirflowException``), so a DAG
author can catch all of them at once or exactly the case they mean. Messages never contain
the API key.
"""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException


class VimmerseError(AirflowException):
    """Base class of every error raised by the Vimmerse provider."""


class VimmerseNotRetriedError(VimmerseError, AirflowFailException):
    """
    Base of the errors a retry cannot fix (a rejected key, no credit, an invalid parameter): the
    task fails at once, without spending its retries, and the message says so.
    """

    def __str__(self) -> str:
        return f"{super().__str__()} The task was not retried: a retry cannot fix this."


class VimmerseInvalidParameterError(VimmerseNotRetriedError, ValueError):
    """
    A parameter was rejected on the client, before any request was sent.

    :param field: name of the offending parameter.
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


class VimmerseConfigurationError(VimmerseNotRetriedError):
    """The Airflow connection is missing something the provider needs (for example the API key)."""


class VimmerseApiError(VimmerseError):
    """
    The API answered with an error status.

    :param status_code: the HTTP status.
    :param code: the service's machine-readable error code (v2's ``code``, or Legacy's upper-case
        ``message``), when it sent one; the prose ``message`` is kept in the error's text.
    :param detail: the field-level ``detail`` list of a 422 answer, when present.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        detail: list[Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.detail = detail or []
        self.retry_after = retry_after
        super().__init__(message)


class VimmerseBadRequestError(VimmerseApiError, VimmerseNotRetriedError):
    """HTTP 400: the service refused the request."""


class VimmerseAuthenticationError(VimmerseApiError, VimmerseNotRetriedError):
    """HTTP 401/403: the API key is missing or was not accepted."""


class VimmerseInsufficientCreditError(VimmerseApiError, VimmerseNotRetriedError):
    """HTTP 402: the account does not have enough credits; nothing was created."""


class VimmerseNotFoundError(VimmerseApiError):
    """HTTP 404: no such story."""


class VimmerseStoryNotFoundError(VimmerseNotRetriedError):
    """The story a task was told to watch does not exist (any more)."""


class VimmerseUnprocessableError(VimmerseApiError, VimmerseNotRetriedError):
    """HTTP 422: the service's own validation failed; ``detail`` names the fields."""


class VimmerseRateLimitedError(VimmerseApiError):
    """HTTP 429, still returned after the configured retries."""


class VimmerseServerError(VimmerseApiError):
    """HTTP 5xx, still returned after the configured retries (or on a create that is never retried)."""


class VimmerseTransportError(VimmerseError):
    """The service could not be reached, or the connection broke, after the configured retries."""


class VimmerseStoryMayExistError(VimmerseTransportError, AirflowFailException):
    """
    A request that creates or charges may have reached the service, but no answer came back.

    It is not retried, by the hook or by Airflow (it is an ``AirflowFailException``, so the task
    fails without using its retries), because retrying could create and bill a second story.
    Check the account for the story before running the task again.
    """


class VimmerseResponseError(VimmerseError):
    """The service answered 2xx with a body that cannot be read as the documented story object."""


class VimmerseStoryFailedError(VimmerseError):
    """
    The story reached status ``fail``.

    :param story: the story as last seen, with the service's ``message`` and ``failed_medias``.
    """

    def __init__(self, story: Any) -> None:
        self.story = story
        reason = story.message or "no reason given"
        failed = f"; failed scenes: {len(story.failed_medias)}" if story.failed_medias else ""
        super().__init__(f"Story {story.id} failed: {reason}{failed}")


class VimmerseWaitTimeoutError(VimmerseError):
    """The story did not reach a terminal status before the wait deadline. The story itself is untouched."""

    def __init__(self, story_id: str, timeout: float, progress: int | None = None) -> None:
        self.story_id = story_id
        self.timeout = timeout
        self.progress = progress
        at = f" (last progress {progress}%)" if progress is not None else ""
        super().__init__(
            f"Story {story_id} did not finish within {timeout:g}s{at}. "
            "It may still be running on the service; it was not cancelled."
        )


class VimmerseNoVideoError(VimmerseError):
    """The story reached ``success`` but no ``video_url`` appeared within the grace period."""


class VimmerseDownloadError(VimmerseError):
    """A video download failed; no file was left at the destination."""


class VimmersePollingError(VimmerseError):
    """
    The story's status could not be read (repeated poll errors). The story itself may still be
    running on the service; it was not cancelled.
    """


class VimmerseTriggerEventError(VimmerseError):
    """A deferred task resumed with a missing or malformed trigger event."""


# Errors after which the next status poll may well succeed; anything else (a rejected key, an
# unknown story) ends a wait at once.
TRANSIENT_POLL_ERRORS: tuple[type[VimmerseError], ...] = (
    VimmerseTransportError,
    VimmerseServerError,
    VimmerseRateLimitedError,
    VimmerseResponseError,
)


def parse_retry_after(value: str | None) -> float | None:
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


_STATUS_ERRORS: dict[int, type[VimmerseApiError]] = {
    400: VimmerseBadRequestError,
    401: VimmerseAuthenticationError,
    402: VimmerseInsufficientCreditError,
    403: VimmerseAuthenticationError,
    404: VimmerseNotFoundError,
    422: VimmerseUnprocessableError,
    429: VimmerseRateLimitedError,
}
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


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``***``."""
    return text.replace(secret, "***") if secret else text


def with_note(error: VimmerseApiError, note: str) -> VimmerseApiError:
    """The same error (type, status, code, detail), its message ending with ``note``."""
    message = BaseException.__str__(error).rstrip(".")
    return type(error)(
        f"{message} ({note}).",
        status_code=error.status_code,
        code=error.code,
        detail=error.detail,
        retry_after=error.retry_after,
    )


def error_for_status(
    status: int,
    body: bytes | str,
    *,
    method: str,
    path: str,
    retry_after: str | None = None,
    secret: str | None = None,
) -> VimmerseApiError:
    """
    Build the typed error for an error answer; the body is summarised, never echoed in full.

    :param secret: removed from everything taken from the body (a gateway page may echo the
        request's headers). Bodies of 401 and 403 are not quoted at all: only their machine code
        (an upper-case word such as ``UNAUTHORIZED``) is kept.
    """
    text = redact(body.decode("utf-8", "replace") if isinstance(body, bytes) else body, secret)
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        payload = None
    code, prose, detail = _error_fields(payload)
    if status in (401, 403):
        text, payload, prose, detail = "", {}, "", []
    cls = _STATUS_ERRORS.get(status, VimmerseServerError if status >= 500 else VimmerseApiError)
    reason = _describe_detail(detail) or ": ".join(dict.fromkeys(filter(None, (code, prose))))
    if not reason and payload is None:
        reason = text.strip()[:120]
    message = (
        f"{method} {path} answered HTTP {status}" + (f": {reason}" if reason else "") + "." + _HINTS.get(status, "")
    )
    return cls(message, status_code=status, code=code, detail=detail, retry_after=parse_retry_after(retry_after))


_CODE = re.compile(r"[A-Z][A-Z0-9_]*")


def _error_fields(payload: Any) -> tuple[str | None, str, list[Any]]:
    """
    ``(code, prose, detail)`` of an error body, whatever its style: v2's ``{message, code}``,
    Legacy's ``{message: "CODE"}`` (the upper-case message is the code), FastAPI's ``{detail: [...]}``
    or ``{detail: "text"}``.
    """
    if not isinstance(payload, dict):
        return None, "", []
    message = payload.get("message") if isinstance(payload.get("message"), str) else ""
    code = payload.get("code")
    if not isinstance(code, str) or not code.strip():
        code = message if _CODE.fullmatch(message) else None
    prose = "" if message == code else message.strip()
    detail = payload.get("detail")
    if isinstance(detail, str):
        prose = ": ".join(filter(None, (prose, detail.strip())))
    return code, prose[:300], detail if isinstance(detail, list) else []
