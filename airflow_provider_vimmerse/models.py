"""The story object every Story endpoint returns, its status, and parsing of response bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any

import pendulum
from pendulum import DateTime

from airflow_provider_vimmerse.exceptions import VimmerseUnavailableError

__all__ = ["VimmerseStory", "VimmerseStoryStatus"]


class VimmerseStoryStatus(str, Enum):
    """Status of a story. ``UNKNOWN`` stands for any value the service adds later."""

    NEW = "new"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAIL = "fail"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: Any) -> VimmerseStoryStatus:
        """Map a wire value to a status; unrecognised values become ``UNKNOWN`` (not terminal)."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_terminal(self) -> bool:
        """Whether the story will not change any more by itself."""
        return self in (VimmerseStoryStatus.SUCCESS, VimmerseStoryStatus.FAIL)


def _parse_time(value: Any) -> DateTime | None:
    if not value:
        return None
    try:
        parsed = pendulum.parse(str(value))
    except (ValueError, TypeError):
        return None
    return parsed if isinstance(parsed, DateTime) else None


def _parse_bool(value: Any) -> bool | None:
    """``is_transition`` is a boolean in newer responses and "Yes"/"No" in older ones."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in ("yes", "true", "1"):
        return True
    if text in ("no", "false", "0"):
        return False
    return None


def _as_int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


@dataclass(frozen=True)
class VimmerseStory:
    """
    A story as the service reported it.

    Fields the service adds later are kept in :attr:`raw`; documented fields that are missing
    get neutral defaults instead of breaking the caller.
    """

    id: str
    status: VimmerseStoryStatus
    progress_percentage: int = 0
    video_url: str = ""
    used_credits: int | None = None
    title: str = ""
    message: str = ""
    storyboard: dict[str, Any] | None = None
    scenes: list[Any] = field(default_factory=list)
    medias: list[Any] = field(default_factory=list)
    failed_medias: list[Any] = field(default_factory=list)
    is_transition: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def reported_status(self) -> str:
        """The status as the service wrote it: a known status, or the raw text of one this provider does not know."""
        if self.status is VimmerseStoryStatus.UNKNOWN:
            return " ".join(str(self.raw.get("status")).split())[:64]
        return self.status.value

    # Parsed on first use: most polls never look at the timestamps.
    @cached_property
    def created_at(self) -> DateTime | None:
        """When the story was created (the service sends ``2025-09-02 17:20:48.587526+00:00``)."""
        return _parse_time(self.raw.get("created_at"))

    @cached_property
    def updated_at(self) -> DateTime | None:
        """When the story last changed."""
        return _parse_time(self.raw.get("updated_at"))

    @classmethod
    def from_api(cls, data: Any) -> VimmerseStory:
        """
        Build a story from the story object of a response (flat, or Legacy's ``data`` member).

        :raises VimmerseUnavailableError: when ``data`` is not an object with an ``id``.
        """
        if not isinstance(data, dict) or not data.get("id"):
            raise VimmerseUnavailableError("The answer is not a story object with an 'id'.")
        storyboard = data.get("storyboard")
        return cls(
            id=str(data["id"]),
            status=VimmerseStoryStatus.parse(data.get("status")),
            progress_percentage=_as_int(data.get("progress_percentage"), 0) or 0,
            video_url=str(data.get("video_url") or ""),
            used_credits=_as_int(data.get("used_credits")),
            title=str(data.get("title") or ""),
            message=str(data.get("message") or ""),
            storyboard=storyboard if isinstance(storyboard, dict) else None,
            scenes=_as_list(data.get("scenes")),
            medias=_as_list(data.get("medias")),
            failed_medias=_as_list(data.get("failed_medias")),
            is_transition=_parse_bool(data.get("is_transition")),
            raw=dict(data),
        )

    def summary(self) -> dict[str, Any]:
        """What a story step returns (its XCom ``return_value``): JSON only, the same in every mode."""
        summary: dict[str, Any] = {
            "story_id": self.id,
            "status": self.status.value,
            "progress_percentage": self.progress_percentage,
            "video_url": self.video_url,
            "used_credits": self.used_credits,
            "title": self.title,
            "message": self.message,
            "failed_medias": self.failed_medias,
        }
        if self.storyboard is not None:
            summary["storyboard"] = self.storyboard
        return summary


def _data_from_body(body: bytes | str, *, method: str, path: str) -> Any:
    """
    Return the object a 2xx JSON body carries: the ``data`` member of Legacy's ``{"data": {...}}``,
    or the body itself when it is flat (v2, and the OpenAPI's declared schemas); ``None`` for the
    ``{}`` some operations answer.

    :raises VimmerseUnavailableError: for a body that is not JSON (e.g. a proxy's HTML page) or not an object.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        snippet = " ".join(text.split())[:60]
        raise VimmerseUnavailableError(
            f"{method} {path} answered 2xx with a body that is not JSON (starts {snippet!r}); is a proxy in the way?"
        ) from None
    if payload == {}:
        return None
    if not isinstance(payload, dict):
        raise VimmerseUnavailableError(f"{method} {path} answered 2xx with JSON that is not an object.")
    wrapped = payload.get("data")
    if isinstance(wrapped, dict) and "id" not in payload:
        return wrapped or None
    return payload


def _story_from_body(body: bytes | str, *, method: str, path: str) -> VimmerseStory:
    """
    Parse a 2xx body as a story, wrapped in ``data`` or flat.

    :raises VimmerseUnavailableError: for non-JSON bodies, or an answer that is not a story.
    """
    data = _data_from_body(body, method=method, path=path)
    try:
        return VimmerseStory.from_api(data)
    except VimmerseUnavailableError as err:
        raise VimmerseUnavailableError(f"{method} {path}: {err}") from None
