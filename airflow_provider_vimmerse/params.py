"""
The Story API's parameter vocabulary, and validation that runs before any request is sent.

Everything here is pure: no I/O, so the hook, the operators and the sandbox share one
definition of what is valid, and it is tested without servers. Each check returns the value
as it travels on the wire (form fields are strings).
"""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError

log = logging.getLogger(__name__)

ASPECT_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16")
IMAGE_OPTIONS = (
    "StableDiffusion3.5",
    "Flux1.1Pro",
    "Flux1.1ProUltra",
    "FluxFinetuned",
    "OpenAI-Image-1",
    "FluxKontextMax",
    "FluxKontextPro",
)
# Step 1.5 (elements) documents the same list without FluxFinetuned.
ELEMENT_OPTIONS = tuple(option for option in IMAGE_OPTIONS if option != "FluxFinetuned")
MOTION_TYPES = (
    "Auto",
    "LumaAI",
    "LumaRay2",
    "KlingAI",
    "Kling2",
    "MinimaxHailuo",
    "Seedance",
    "Hunyuan",
    "RunwayML",
    "Wan",
    "Pixverse",
    "Veo",
    "VeoFast",
    "TryOnVideo",
    "Parallax",
)
NARRATORS = (
    "Rachel",
    "Aria",
    "Roger",
    "Sarah",
    "Laura",
    "Charlie",
    "George",
    "Callum",
    "River",
    "Liam",
    "Charlotte",
    "Alice",
    "Matilda",
    "Will",
    "Jessica",
    "Eric",
    "Chris",
    "Brian",
    "Daniel",
    "Lily",
    "Bill",
)
YES_NO = ("Yes", "No")
VISIBILITY_STATUSES = ("0", "1", "2")
DURATION_RANGE = (1, 10)
LOOP_RANGE = (1, 6)
MAX_IDEA_LENGTH = 5000
MAX_TEXT_LENGTH = 5000
STORYBOARD_LIST_KEYS = ("characters", "environments", "objects", "scenes")
_STORY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")

FormItems = list[tuple[str, str]]


def _invalid(field: str, value: Any, allowed: str) -> VimmerseInvalidParameterError:
    return VimmerseInvalidParameterError(field, value, allowed)


def choice(field: str, value: Any, allowed: Iterable[str], *, allow_unknown: bool = False) -> str:
    """
    Check ``value`` is one of ``allowed``.

    :param allow_unknown: accept a value outside the list (the service adds models often); a
        warning is logged so the bypass is never silent.
    """
    allowed = tuple(allowed)
    if isinstance(value, str) and value in allowed:
        return value
    if allow_unknown and isinstance(value, str) and value.strip():
        log.warning("Sending %s=%r, which is not in the documented list %s.", field, value, ", ".join(allowed))
        return value
    raise _invalid(field, value, "one of " + ", ".join(allowed))


def integer(field: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> str:
    """Check an integer (or a string of one, as templates render) within ``[minimum, maximum]``."""
    bounds = (
        f"an integer from {minimum} to {maximum}"
        if minimum is not None and maximum is not None
        else f"an integer >= {minimum}"
        if minimum is not None
        else "an integer"
    )
    if isinstance(value, bool):
        raise _invalid(field, value, bounds)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise _invalid(field, value, bounds)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _invalid(field, value, bounds)
    return str(value)


def boolean(field: str, value: Any) -> str:
    """Check a boolean (``"true"``/``"false"`` strings accepted, as templates render)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower()
    raise _invalid(field, value, "true or false")


def yes_no(field: str, value: Any) -> str:
    """Check a ``"Yes"``/``"No"`` field; a boolean is accepted and converted."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return choice(field, value, YES_NO)


def text(field: str, value: Any, *, required: bool = False, max_length: int = MAX_TEXT_LENGTH) -> str:
    """Check a free-text field; ``required`` refuses empty or whitespace-only text."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _invalid(field, value, "a string")
    if required and not value.strip():
        raise _invalid(field, value, "a non-empty text")
    if len(value) > max_length:
        raise _invalid(field, f"<{len(value)} characters>", f"at most {max_length} characters")
    return value


def idea(value: Any) -> str:
    """Check the story idea: non-empty, at most :data:`MAX_IDEA_LENGTH` characters."""
    return text("idea", value, required=True, max_length=MAX_IDEA_LENGTH)


def story_id(value: Any) -> str:
    """Check a story id is safe to place in a URL path (no ``/``, ``..``, ``?``, ``#``)."""
    if isinstance(value, str) and _STORY_ID.fullmatch(value):
        return value
    raise _invalid("story_id", value, "letters, digits, '-' and '_' (1 to 128 characters)")


def http_url(field: str, value: Any) -> str:
    """Check an absolute http(s) URL with a host."""
    if isinstance(value, str):
        parts = urlsplit(value.strip())
        if parts.scheme in ("http", "https") and parts.hostname:
            return value.strip()
    raise _invalid(field, value, "an absolute http:// or https:// URL")


def url_list(field: str, values: Any) -> list[str]:
    """Check a list of http(s) URLs."""
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise _invalid(field, values, "a list of http(s) URLs")
    return [http_url(field, value) for value in values]


def _parse_structured(value: str | bytes) -> Any:
    """JSON text, or the Python literal Jinja renders for a dict or list (single quotes, True/None)."""
    try:
        return json.loads(value)
    except ValueError as err:
        try:
            return ast.literal_eval(value.decode() if isinstance(value, bytes) else value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise err from None


def storyboard(value: Any, field: str = "storyboard") -> str:
    """
    Check a storyboard (a dict, its JSON text, or the Python literal a Jinja template renders)
    and return it as JSON text.

    It must be an object with a non-empty ``scenes`` list of objects; ``characters``,
    ``environments`` and ``objects``, when present, are lists of objects; ``music``, when
    present, is an object.
    """
    allowed = "a JSON object with a non-empty 'scenes' list (and optional characters, environments, objects, music)"
    if isinstance(value, (str, bytes)):
        try:
            value = _parse_structured(value)
        except ValueError as err:
            raise _invalid(field, f"<malformed JSON: {getattr(err, 'msg', err)}>", allowed) from None
    if not isinstance(value, Mapping):
        raise _invalid(field, value, allowed)
    for key in STORYBOARD_LIST_KEYS:
        items = value.get(key, [])
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise _invalid(f"{field}.{key}", items, "a list of objects")
    if not value.get("scenes"):
        raise _invalid(f"{field}.scenes", value.get("scenes"), "a non-empty list of scene objects")
    if "music" in value and not isinstance(value["music"], Mapping):
        raise _invalid(f"{field}.music", value["music"], "an object")
    return json.dumps(value)


def scenes(value: Any) -> str:
    """Check per-scene inputs for animation (a list of objects, or its JSON text) and return JSON text."""
    if isinstance(value, (str, bytes)):
        try:
            value = _parse_structured(value)
        except ValueError as err:
            raise _invalid("scenes", f"<malformed JSON: {getattr(err, 'msg', err)}>", "a JSON list of scene objects") from None
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise _invalid("scenes", value, "a JSON list of scene objects")
    return json.dumps(value)


def form(fields: Mapping[str, Any], extra_params: Mapping[str, Any] | None = None) -> FormItems:
    """
    Encode checked fields as form items, dropping ``None`` and repeating keys for lists.

    :param extra_params: parameters the reference does not list yet; they are sent as given,
        but may not silently override a documented parameter.
    """
    items: FormItems = []
    merged = dict(fields)
    for key, value in (extra_params or {}).items():
        if key in fields:
            raise _invalid("extra_params", key, "names not already covered by a documented parameter")
        merged[key] = value
    for key, value in merged.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            items.extend((key, str(item)) for item in value)
        elif isinstance(value, bool):
            items.append((key, "true" if value else "false"))
        elif isinstance(value, (dict,)):
            items.append((key, json.dumps(value)))
        else:
            items.append((key, str(value)))
    return items
