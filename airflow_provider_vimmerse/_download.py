"""
Streaming, resumable, atomic download of a finished story video.

The file is written to a temporary name beside the destination and renamed into place only
when every byte the server announced has arrived, so a reader never sees a partial video.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError, VimmerseUnavailableError

log = logging.getLogger(__name__)

CHUNK_SIZE = 512 * 1024
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class DownloadResult:
    """Where a video landed: ``path``, its size in ``bytes`` and its ``sha256`` hex digest."""

    path: str
    bytes: int
    sha256: str


class _Progress:
    """
    Bytes received so far and their running SHA-256.

    Hashing runs on a helper thread, one chunk behind, so it overlaps with writing and receiving
    (hashlib and file writes release the GIL): the download keeps pace with the wire.
    """

    def __init__(self, hasher: ThreadPoolExecutor) -> None:
        self._hasher = hasher
        self._pending: Future[None] | None = None
        self.size = 0
        self._digest = hashlib.sha256()

    def add(self, chunk: bytes) -> None:
        self._wait()
        self._pending = self._hasher.submit(self._digest.update, chunk)
        self.size += len(chunk)

    def restart(self) -> None:
        """Forget everything received (the server ignored a Range request)."""
        self._wait()
        self.size = 0
        self._digest = hashlib.sha256()

    def hexdigest(self) -> str:
        self._wait()
        return self._digest.hexdigest()

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None


def _expected_total(response: requests.Response, offset: int) -> int | None:
    """Total size of the file from Content-Range (206) or Content-Length (200); unknown when encoded."""
    if response.headers.get("Content-Encoding", "identity").lower() not in ("identity", ""):
        return None  # the server compressed it anyway: Content-Length counts the compressed bytes
    content_range = response.headers.get("Content-Range", "")
    if response.status_code == 206 and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    length = response.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (offset if response.status_code == 206 else 0)
    return None


def _range_start(response: requests.Response) -> int | None:
    """Where a 206 answer's bytes start (``Content-Range: bytes START-END/TOTAL``)."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _validator(response: requests.Response) -> str | None:
    """What ``If-Range`` can name: a strong ETag, else Last-Modified (a weak ETag cannot be used)."""
    etag = response.headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return response.headers.get("Last-Modified")


def _identity(response: requests.Response) -> tuple[str | None, str | None]:
    """What says which version of the file an answer carries: its ETag and Last-Modified."""
    return response.headers.get("ETag"), response.headers.get("Last-Modified")


def _same_file(first: tuple[str | None, str | None], now: tuple[str | None, str | None]) -> bool:
    """False when a validator both answers carry differs: the file was replaced between them."""
    return all(a is None or b is None or a == b for a, b in zip(first, now))


def safe_url(url: str) -> str:
    """
    Check a URL before anything is sent to it: absolute http(s), no credentials, no spaces,
    control characters or backslashes, and a host every URL parser agrees on.

    :raises VimmerseInvalidParameterError: saying why, without contacting anyone.
    """
    from airflow_provider_vimmerse._validation import http_url

    try:
        return http_url("url", url)
    except VimmerseInvalidParameterError as err:
        # Shown without its query or any credentials in it.
        shown = re.sub(r"//[^/@]*@", "//***@", url.split("?")[0])[:120]
        raise VimmerseInvalidParameterError("url", shown, err.allowed) from None


def _open(
    session: requests.Session,
    url: str,
    offset: int,
    headers_for: Callable[[str], dict[str, str]],
    timeout: tuple[float, float],
    validator: str | None,
) -> requests.Response:
    """GET ``url`` from ``offset``, following redirects by hand so each hop is checked and gets only its own headers."""
    for _ in range(MAX_REDIRECTS + 1):
        url = safe_url(url)
        # Identity: a compressed answer would not match the length announced for the file.
        headers = {**headers_for(url), "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if validator:
                headers["If-Range"] = validator  # a changed file comes back whole, never spliced
        response = session.get(url, headers=headers, stream=True, timeout=timeout, allow_redirects=False)
        if response.is_redirect and response.headers.get("Location"):
            url = urljoin(url, response.headers["Location"])
            response.close()
            continue
        return response
    raise VimmerseUnavailableError(f"Too many redirects while downloading {url.split('?')[0]}")


def _remove_leftovers(target: Path) -> None:
    """Partial files a killed try left beside the destination: never left forever."""
    for leftover in target.parent.glob(f".{target.name}.*.part"):
        log.info("Removing %s, left by an earlier download that did not finish.", leftover.name)
        leftover.unlink(missing_ok=True)


def download(
    session: requests.Session,
    url: str,
    destination: str | os.PathLike[str],
    *,
    headers_for: Callable[[str], dict[str, str]] = lambda _url: {},
    timeout: tuple[float, float] = (10.0, 60.0),
    max_resumes: int = 3,
    chunk_size: int = CHUNK_SIZE,
) -> DownloadResult:
    """
    Download ``url`` to the local file ``destination``.

    Reads in chunks (constant memory). After a dropped connection it resumes with an HTTP
    ``Range`` request and ``If-Range``, up to ``max_resumes`` times; an answer from another
    offset, or for a file that changed, restarts from zero, so bytes of two files are never
    spliced. The length is checked against what the server announced.

    :param headers_for: headers for a given URL; the caller decides which hosts get credentials.
    :return: the path, size and SHA-256 of the file.
    :raises VimmerseUnavailableError: when the download fails; nothing is left at ``destination``.
    """
    target = Path(destination)
    if target.is_dir():
        raise VimmerseInvalidParameterError("destination", str(target), "a file path, not an existing directory")
    safe_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    hasher = ThreadPoolExecutor(1, thread_name_prefix="vimmerse-sha256")
    progress = _Progress(hasher)
    expected: int | None = None
    validator: str | None = None
    identity: tuple[str | None, str | None] = (None, None)
    resumes = 0
    safe = url.split("?")[0]
    try:
        with open(partial, "wb") as out:

            def restart(why: str) -> None:
                nonlocal validator, expected, identity
                log.warning("Restarting the download of %s from the start: %s.", safe, why)
                out.seek(0)
                out.truncate()
                progress.restart()
                validator = expected = None
                identity = (None, None)

            while True:
                try:
                    with _open(session, url, progress.size, headers_for, timeout, validator) as response:
                        if response.status_code == 206 and _range_start(response) != progress.size:
                            if resumes >= max_resumes:
                                raise VimmerseUnavailableError(f"GET {safe} kept answering from the wrong offset.")
                            resumes += 1
                            restart(f"the server answered from byte {_range_start(response)}, not {progress.size}")
                            continue
                        if response.status_code == 206 and not _same_file(identity, _identity(response)):
                            # A server that ignores If-Range sends the rest of another file: never splice.
                            if resumes >= max_resumes:
                                raise VimmerseUnavailableError(f"GET {safe} kept changing between resumes.")
                            resumes += 1
                            restart("the file changed since the first bytes (its ETag or Last-Modified differs)")
                            continue
                        if response.status_code == 200 and progress.size:
                            restart("the server sent the whole file again (it ignored Range, or the file changed)")
                        elif response.status_code not in (200, 206):
                            raise VimmerseUnavailableError(f"GET {safe} answered HTTP {response.status_code}.")
                        if not progress.size:
                            validator, identity = _validator(response), _identity(response)
                        expected = _expected_total(response, progress.size) or expected
                        for chunk in response.iter_content(chunk_size):
                            progress.add(chunk)
                            out.write(chunk)
                except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
                    if resumes >= max_resumes:
                        raise VimmerseUnavailableError(
                            f"Download of {safe} kept failing after {resumes} resumes: {type(err).__name__}."
                        ) from None
                    resumes += 1
                    log.warning(
                        "Download of %s broke at %d bytes (%s); resuming (%d/%d).",
                        safe,
                        progress.size,
                        type(err).__name__,
                        resumes,
                        max_resumes,
                    )
                    continue
                if expected is not None and progress.size < expected and resumes < max_resumes:
                    resumes += 1
                    log.warning(
                        "Download of %s ended short at %d of %d bytes; resuming.", safe, progress.size, expected
                    )
                    continue
                break
        if expected is not None and progress.size != expected:
            raise VimmerseUnavailableError(
                f"Download of {safe} got {progress.size} bytes but the server announced {expected}."
            )
        digest = progress.hexdigest()
        # The rename is what makes the file appear, whole, at the destination. Like curl and pip,
        # we leave flushing it to disk to the filesystem.
        os.replace(partial, target)
    finally:
        hasher.shutdown(wait=True)
        partial.unlink(missing_ok=True)
    return DownloadResult(path=str(target), bytes=progress.size, sha256=digest)
