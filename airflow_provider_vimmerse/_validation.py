"""
Checks that run on every parameter before any request is sent.

Pure functions, no I/O. Each takes the parameter's name and value, returns the value as it
should travel (an ``int`` for an integer given as a rendered template string, a ``dict`` for JSON
text), and raises :class:`~airflow_provider_vimmerse.exceptions.VimmerseInvalidParameterError`
naming the field and what is allowed. Shapes (types, ranges, required fields, URLs, JSON) are
strict; names from the service's model, voice, tool and language lists are advisory: a name
outside the known list is sent with a warning, since the lists change monthly and the service's
422 costs nothing.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 10_000
#: A storyboard or other JSON value larger or deeper than this is refused before sending.
MAX_JSON_BYTES = 1_000_000
MAX_JSON_DEPTH = 32
STORYBOARD_LIST_KEYS = ("characters", "environments", "objects", "scenes")
_STORY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def _invalid(field: str, value: Any, allowed: str) -> VimmerseInvalidParameterError:
    return VimmerseInvalidParameterError(field, value, allowed)


def choice(field: str, value: Any, allowed: Iterable[Any], *, advisory: bool = False) -> Any:
    """
    Check ``value`` is one of ``allowed``.

    :param advisory: the list is the service's current set of names, not a contract: a non-empty
        name outside it is returned with a warning instead of rejected.
    """
    allowed = tuple(allowed)
    if isinstance(value, str) and value in allowed:
        return value
    if advisory and isinstance(value, str) and value.strip():
        log.warning(
            "Sending %s=%r, which is not in the known list (%s); the service will say if it rejects it.",
            field,
            value,
            ", ".join(map(str, allowed)),
        )
        return value
    raise _invalid(field, value, "one of " + ", ".join(map(str, allowed)))


def integer(field: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check an integer (or a string of one, as templates render) within ``[minimum, maximum]``."""
    if minimum is not None and maximum is not None:
        bounds = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        bounds = f"an integer >= {minimum}"
    else:
        bounds = "an integer"
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(field, value, bounds)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _invalid(field, value, bounds)
    return value


def integer_choice(field: str, value: Any, allowed: Iterable[int]) -> int:
    """Check an integer that must be one of ``allowed`` (e.g. a scene duration of 5 or 10)."""
    allowed = tuple(allowed)
    number = integer(field, value) if not isinstance(value, bool) else None
    if number not in allowed:
        raise _invalid(field, value, "one of " + ", ".join(map(str, allowed)))
    return number


def boolean(field: str, value: Any) -> bool:
    """Check a boolean (``"true"``/``"false"`` strings accepted, as templates render)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _invalid(field, value, "true or false")


def text(field: str, value: Any, *, required: bool = False, max_length: int = MAX_TEXT_LENGTH) -> str:
    """Check a free-text field; ``required`` refuses empty or whitespace-only text."""
    if not isinstance(value, str):
        raise _invalid(field, value, "a string")
    if required and not value.strip():
        raise _invalid(field, value, "a non-empty text")
    if len(value) > max_length:
        raise _invalid(field, f"<{len(value)} characters>", f"at most {max_length} characters")
    return value


def story_id(value: Any) -> str:
    """Check a story id is safe to place in a URL path (no ``/``, ``..``, ``?``, ``#``)."""
    if isinstance(value, str) and _STORY_ID.fullmatch(value):
        return value
    raise _invalid("story_id", value, "letters, digits, '-' and '_' (1 to 128 characters)")


def http_url(field: str, value: Any) -> str:
    """
    Check an absolute http(s) URL with a host, and nothing that lets URL parsers disagree about
    where it goes: no credentials, no spaces, control characters or backslashes, and the same
    host and port for the standard library and urllib3 (which opens the connection).
    """
    allowed = "an absolute http:// or https:// URL without credentials, spaces, control characters or backslashes"
    if not isinstance(value, str):
        raise _invalid(field, value, allowed)
    url = value.strip()
    if any(ord(ch) < 33 or ord(ch) == 127 or ch == "\\" for ch in url):
        raise _invalid(field, value, allowed)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid(field, value, allowed) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise _invalid(field, value, allowed)
    from urllib3.util import parse_url

    try:
        connects_to = parse_url(url)
    except ValueError:
        raise _invalid(field, value, allowed) from None
    if (connects_to.host or "").strip("[]").lower() != parts.hostname.lower() or connects_to.port != port:
        raise _invalid(field, value, allowed + " (its host is read differently by different URL parsers)")
    return url


def url_list(field: str, values: Any, *, min_items: int = 0) -> list[str]:
    """Check a list of http(s) URLs (JSON text of a list is accepted, as templates render)."""
    if isinstance(values, str) and values.lstrip().startswith("["):
        values = parse_structured(field, values, "a list of http(s) URLs")
    if isinstance(values, str) or not isinstance(values, (list, tuple)) or len(values) < min_items:
        allowed = "a list of http(s) URLs" + (f" with at least {min_items} item(s)" if min_items else "")
        raise _invalid(field, values, allowed)
    return [http_url(field, value) for value in values]


def parse_structured(field: str, value: str | bytes, allowed: str) -> Any:
    """JSON text, or the Python literal Jinja renders for a dict or list (single quotes, True/None)."""
    try:
        return json.loads(value)
    except RecursionError:
        raise _invalid(field, "<nested too deeply>", f"JSON at most {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as err:
        try:
            return ast.literal_eval(value.decode() if isinstance(value, bytes) else value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise _invalid(field, f"<malformed JSON: {getattr(err, 'msg', err)}>", allowed) from None


def _check_values(field: str, value: Any) -> None:
    """
    Walk ``value`` without recursion: depth at most :data:`MAX_JSON_DEPTH`, text encodable as UTF-8
    (no lone surrogates), integers JSON can write, finite numbers.
    """
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (Mapping, list, tuple)):
            if depth >= MAX_JSON_DEPTH:
                raise _invalid(
                    field, f"<nested deeper than {MAX_JSON_DEPTH} levels>", f"JSON at most {MAX_JSON_DEPTH} levels deep"
                )
            children = list(item.items()) if isinstance(item, Mapping) else [(None, child) for child in item]
            for key, child in children:
                if key is not None:
                    pending.append((key, depth + 1))
                pending.append((child, depth + 1))
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise _invalid(field, "<text with a lone surrogate>", "text that is valid Unicode") from None
        elif isinstance(item, int) and not isinstance(item, bool) and item.bit_length() > 10_000:
            raise _invalid(field, "<an integer of thousands of digits>", "numbers JSON can carry")
        elif isinstance(item, float) and not math.isfinite(item):
            raise _invalid(field, item, "finite numbers (no NaN or infinity)")


def wire_safe(field: str, value: Any) -> Any:
    """
    Check that ``value`` can be sent at all (JSON or form), and return it: no text with lone
    surrogates, no integer too long to write, no NaN, no nesting deeper than :data:`MAX_JSON_DEPTH`,
    at most :data:`MAX_JSON_BYTES` of JSON.

    :raises VimmerseInvalidParameterError: naming ``field``, before anything is sent.
    """
    _check_values(field, value)
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as err:
        raise _invalid(field, f"<not JSON-serialisable: {err}>", "JSON values (no NaN, no objects)") from None
    if size > MAX_JSON_BYTES:
        raise _invalid(field, f"<{size} bytes of JSON>", f"at most {MAX_JSON_BYTES} bytes of JSON")
    return value


def json_object(field: str, value: Any) -> dict[str, Any]:
    """Check a JSON object (a mapping, or its JSON text) and return it as a dict."""
    if isinstance(value, (str, bytes)):
        value = parse_structured(field, value, "a JSON object")
    if not isinstance(value, Mapping):
        raise _invalid(field, value, "a JSON object")
    value = dict(value)
    wire_safe(field, value)
    return value


AUDIO_OPTION_FLAGS = ("has_bg_music", "has_narration", "native_audio")


def audio_option(field: str, value: Any, narrators: Iterable[str] = ()) -> dict[str, Any]:
    """
    Check an ``audio_option`` object: ``has_bg_music``, ``has_narration``, ``native_audio``
    (booleans) and ``narrator`` (a voice name, advisory).
    """
    option = json_object(field, value)
    for key in AUDIO_OPTION_FLAGS:
        if key in option:
            option[key] = boolean(f"{field}.{key}", option[key])
    if "narrator" in option:
        option["narrator"] = choice(f"{field}.narrator", option["narrator"], narrators, advisory=True)
    return option


def storyboard(field: str, value: Any) -> dict[str, Any]:
    """
    Check a storyboard (a dict, its JSON text, or the Python literal a Jinja template renders).

    It must be an object with a non-empty ``scenes`` list of objects; ``characters``,
    ``environments`` and ``objects``, when present, are lists of objects; ``music``, when
    present, is an object. The result has all four lists (missing ones as empty lists), as the
    service requires of a step's storyboard.
    """
    board = json_object(field, value)
    for key in STORYBOARD_LIST_KEYS:
        items = board.setdefault(key, [])
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise _invalid(f"{field}.{key}", items, "a list of objects")
    if not board.get("scenes"):
        raise _invalid(f"{field}.scenes", board.get("scenes"), "a non-empty list of scene objects")
    if "music" in board and not isinstance(board["music"], Mapping):
        raise _invalid(f"{field}.music", board["music"], "an object")
    return board


def number(field: str, value: Any, *, minimum: float | None = None, exclusive: bool = False) -> float:
    """Check a finite number (a ``timedelta`` counts as its seconds) above ``minimum``."""
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else value
    if isinstance(seconds, str):
        try:
            seconds = float(seconds)
        except ValueError:
            pass
    allowed = "a number" + (f" {'>' if exclusive else '>='} {minimum:g}" if minimum is not None else "")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise _invalid(field, value, allowed)
    if minimum is not None and (seconds <= minimum if exclusive else seconds < minimum):
        raise _invalid(field, value, allowed)
    return float(seconds)


_PLAIN = (str, int, float, bool, type(None), list, tuple, dict, os.PathLike)


def is_templated(value: Any) -> bool:
    """
    Whether ``value`` is known only when the task runs: Jinja text (anywhere inside it), another
    task's output, or any object that is not plain data. Such a value is checked after rendering.
    """
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(is_templated(item) for pair in value.items() for item in pair)
    if isinstance(value, (list, tuple)):
        return any(is_templated(item) for item in value)
    return not isinstance(value, _PLAIN)


def iso_day(name: str, value: Any) -> str:
    """A day as ``YYYY-MM-DD`` from a ``date``/``datetime`` or its ISO text."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise _invalid(name, value, "a date, or YYYY-MM-DD text") from None
