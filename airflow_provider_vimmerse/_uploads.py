"""
Local image files for Legacy's ``POST /story`` upload (``image_files``), read before anything is
sent, and only if they are what they claim to be.

``image_files`` is a template field, so its value may come from ``dag_run.conf``: an entry must
not be able to make the worker upload its own environment (``/proc/self/environ``), read a device
until memory runs out, hang on a FIFO, or fetch an internal URL. So an entry is a regular file
(symlinks resolved first; nothing under ``/proc``, ``/sys`` or ``/dev``) or an object in a store an
installed Airflow provider registers (``s3://``, ``gs://``, ... through ``ObjectStoragePath``; never
``http(s)://``, which is what ``image_urls`` is for), of at most :data:`MAX_IMAGE_BYTES`, whose
content starts like a PNG, JPEG, WebP or GIF image.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError

__all__ = ["MAX_IMAGE_BYTES", "image_file_list", "read_image_files"]

#: The largest image file uploaded (20 MiB).
MAX_IMAGE_BYTES = 20 * 1024 * 1024
FIELD = "image_files"
_FORBIDDEN_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_LOCAL_SCHEMES = ("file", "local")
_WEB_SCHEMES = ("http", "https")


def image_file_list(field: str, value: Any) -> list[Any]:
    """
    The shape of ``image_files`` (no I/O): a path, an ``ObjectStoragePath``, or a list of them; a
    templated list (its JSON text, or the Python literal Jinja renders) is read like ``image_urls``.

    :raises VimmerseInvalidParameterError: for anything else, or an ``http(s)://`` entry.
    """
    allowed = "local image paths or object storage URIs (a list, or one of them)"
    if isinstance(value, str) and value.lstrip().startswith("["):
        value = v.parse_structured(field, value, allowed)
    entries = list(value) if isinstance(value, (list, tuple)) else [value]
    if not entries:
        raise VimmerseInvalidParameterError(field, value, allowed)
    for entry in entries:
        text = _entry_text(entry)
        if text is None or not text.strip() or "\0" in text:
            raise VimmerseInvalidParameterError(field, entry, allowed)
        scheme = _SCHEME.match(text.strip())
        if scheme and scheme.group(1).lower() in _WEB_SCHEMES:
            raise VimmerseInvalidParameterError(
                field, entry, "files, not web URLs: pass http(s) URLs as image_urls, which the service fetches"
            )
    return entries


def read_image_files(value: Any) -> list[tuple[str, bytes]]:
    """
    ``(file name, content)`` of every entry, read now (before any request is sent).

    :raises VimmerseInvalidParameterError: naming the entry and what is allowed.
    """
    return [_read(entry) for entry in image_file_list(FIELD, value)]


def _entry_text(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, os.PathLike) or hasattr(entry, "protocol"):
        return str(entry)
    return None


def _read(entry: Any) -> tuple[str, bytes]:
    text = str(entry).strip()
    scheme = _SCHEME.match(text)
    protocol = getattr(entry, "protocol", None) or (scheme.group(1).lower() if scheme else "")
    if isinstance(protocol, (tuple, list)):
        protocol = protocol[0]
    if protocol and protocol not in _LOCAL_SCHEMES:
        return _read_stored(entry, protocol)
    local = text[len(scheme.group(0)) :] if scheme else text
    if scheme and protocol in _LOCAL_SCHEMES and hasattr(entry, "path"):
        local = entry.path
    return _read_local(entry, Path(local))


def _refuse(entry: Any, why: str) -> VimmerseInvalidParameterError:
    return VimmerseInvalidParameterError(FIELD, str(entry), why)


def _read_local(entry: Any, path: Path) -> tuple[str, bytes]:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise _refuse(entry, "an existing, readable image file") from None
    if any(real == root or root in real.parents for root in _FORBIDDEN_ROOTS):
        raise _refuse(entry, "a regular image file (not under /proc, /sys or /dev)")
    not_regular = "a regular image file (not a device, FIFO, socket or folder)"
    if not real.is_file():
        raise _refuse(entry, not_regular)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then says what was opened.
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        raise _refuse(entry, "an existing, readable image file") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):  # swapped since the check above
            raise _refuse(entry, not_regular)
        if info.st_size > MAX_IMAGE_BYTES:
            raise _refuse(entry, f"an image of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
        content = handle.read(MAX_IMAGE_BYTES + 1)
    return _checked(entry, real.name, content)


def _read_stored(entry: Any, protocol: str) -> tuple[str, bytes]:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_vimmerse._storage import STORAGE_SCHEMES_HINT, is_storage_scheme

    if not is_storage_scheme(protocol):
        raise _refuse(
            entry,
            "a local path, or a URI whose scheme an installed provider registers as a filesystem "
            f"({STORAGE_SCHEMES_HINT})",
        )
    try:
        path = entry if isinstance(entry, ObjectStoragePath) else ObjectStoragePath(str(entry).strip())
        if not path.is_file():
            raise _refuse(entry, "an existing image file in the store")
        with path.open("rb") as handle:  # at most one byte over the cap is read
            content = handle.read(MAX_IMAGE_BYTES + 1)
    except VimmerseInvalidParameterError:
        raise
    except Exception as err:  # an unknown bucket, a store that refused: all before sending
        raise _refuse(entry, f"a readable image file in the store ({type(err).__name__})") from None
    return _checked(entry, path.name, content)


def _checked(entry: Any, name: str, content: bytes) -> tuple[str, bytes]:
    if len(content) > MAX_IMAGE_BYTES:
        raise _refuse(entry, f"an image of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
    if not _is_image(content):
        raise _refuse(entry, "a PNG, JPEG, WebP or GIF image (its content is not one)")
    return name or "image", content


def _is_image(content: bytes) -> bool:
    return (
        content.startswith(b"\x89PNG\r\n\x1a\n")
        or content.startswith(b"\xff\xd8\xff")
        or content[:6] in (b"GIF87a", b"GIF89a")
        or (content[:4] == b"RIFF" and content[8:12] == b"WEBP")
    )
