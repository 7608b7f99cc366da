"""
Transport internals shared by the sync and async hooks: what a connection configures, and the
retry policy that never repeats a request that may have been charged.

Pure functions only: the hooks do the I/O and ask this module whether to try again, so both
transports behave identically.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_vimmerse import exceptions as exc
from airflow_provider_vimmerse._config import API_VERSIONS

if TYPE_CHECKING:
    import requests

DEFAULT_HOST = "https://api.vimmerse.net"
DEFAULT_CONN_ID = "vimmerse_default"
#: The most an API answer may hold once decompressed (8 MiB): a story is a few KiB, and a gzip bomb
#: must not fill the worker's or the triggerer's memory.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
_PATH_PREFIXES = {"v2": "/v2", "legacy": ""}


class Failure(str, Enum):
    """How a request failed before any status code arrived."""

    CONNECT = "connect"  # no connection was made: the request provably never reached the service
    TIMEOUT = "timeout"  # sent, but the answer did not come in time
    DISCONNECT = "disconnect"  # the connection broke after the request may have been sent


def _extra_number(extra: dict[str, Any], key: str, default: float, minimum: float = 0) -> float:
    value = extra.get(key)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise exc.VimmerseConfigurationError(f"Connection extra {key!r} must be a number, got {value!r}.") from None
    if number < minimum:
        raise exc.VimmerseConfigurationError(f"Connection extra {key!r} must be >= {minimum:g}, got {value!r}.")
    return number


def _extra_bool(extra: dict[str, Any], key: str, default: bool) -> bool:
    value = extra.get(key)
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("false", "0", "no", "off")


@dataclass(frozen=True)
class RetryPolicy:
    """
    When and how long to wait before trying a request again.

    :param retry_limit: retries after the first attempt (0 disables retrying).
    :param retry_delay: first backoff in seconds; doubles each retry, with jitter.
    :param max_retry_delay: cap of one backoff, and the longest ``Retry-After`` honoured.
    """

    retry_limit: int = 3
    retry_delay: float = 1.0
    max_retry_delay: float = 60.0

    def should_retry(
        self, attempt: int, *, charges: bool, status: int | None = None, failure: Failure | None = None
    ) -> bool:
        """
        Decide whether attempt number ``attempt`` (0-based) may be followed by another.

        Reads are retried on any transient failure. A request that creates or charges is retried
        only when it provably did not reach the service (no connection) or the service said it
        did not take it (429, 503).
        """
        if attempt >= self.retry_limit:
            return False
        if failure is not None:
            return failure is Failure.CONNECT or not charges
        if status in (429, 503):
            return True
        return status is not None and status >= 500 and not charges

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``attempt + 1``: jittered exponential, never less than ``retry_after``."""
        ceiling = min(self.max_retry_delay, self.retry_delay * (2**attempt))
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class ConnectionSettings:
    """
    What a ``vimmerse`` connection configures.

    :param base_url: API root, without a trailing slash.
    :param api_key: value of the ``X-Api-Key`` header.
    :param timeout: read timeout of one request, in seconds.
    :param connect_timeout: connect timeout of one request, in seconds.
    :param verify_ssl: verify TLS certificates.
    :param story_url_template: a URL with ``{story_id}`` for the story-page link, when set.
    :param api_version: ``v2`` (``/v2/story/...``, JSON everywhere) or ``legacy`` (``/story/...``).
    """

    base_url: str
    api_key: str = field(repr=False)
    timeout: float = 60.0
    connect_timeout: float = 10.0
    verify_ssl: bool = True
    story_url_template: str = ""
    retry: RetryPolicy = RetryPolicy()
    api_version: str = API_VERSIONS[0]

    @property
    def story_path_prefix(self) -> str:
        """What goes before ``/story/...`` in this API version (``/v2``, or nothing for Legacy)."""
        return _PATH_PREFIXES[self.api_version]

    @classmethod
    def from_connection(cls, conn: Any) -> ConnectionSettings:
        """
        Read settings from an Airflow connection.

        :raises VimmerseConfigurationError: on a missing API key or a malformed extra.
        """
        extra = conn.extra_dejson or {}
        return cls(
            base_url=base_url_of(
                conn.host, conn.schema if conn.schema in ("http", "https") else None, conn.port, conn.conn_id
            ),
            api_key=api_key_of(conn),
            timeout=_extra_number(extra, "timeout", 60.0, minimum=0.001),
            connect_timeout=_extra_number(extra, "connect_timeout", 10.0, minimum=0.001),
            verify_ssl=_extra_bool(extra, "verify_ssl", True),
            story_url_template=story_url_template_of(conn.conn_id, extra.get("story_url_template")),
            retry=RetryPolicy(
                retry_limit=int(_extra_number(extra, "retry_limit", 3)),
                retry_delay=_extra_number(extra, "retry_delay", 1.0),
                max_retry_delay=_extra_number(extra, "max_retry_delay", 60.0),
            ),
            api_version=api_version_of(conn.conn_id, extra.get("api_version")),
        )

    def is_api_url(self, url: str) -> bool:
        """Whether ``url`` is on the API's own scheme, host and port (the only place the key may go)."""
        return _origin(url) == _origin(self.base_url)


def api_key_of(conn: Any) -> str:
    """
    The connection's API key, stripped of the surrounding whitespace a copy-paste brings along.

    :raises VimmerseConfigurationError: when there is no key, or it has whitespace or non-printable
        characters inside; the message never contains the key.
    """
    key = (conn.password or "").strip()
    if not key:
        raise exc.VimmerseConfigurationError(
            f"Connection {conn.conn_id!r} has no API key: put it in the 'API Key' (password) field."
        )
    if not (key.isascii() and key.isprintable()) or any(ch.isspace() for ch in key):
        raise exc.VimmerseConfigurationError(
            f"Connection {conn.conn_id!r}: the API key has spaces, line breaks or non-printable characters "
            "inside. Paste the key alone (it is not shown here)."
        )
    if key != conn.password:
        _mask(key)  # Airflow masked the value as stored; the stripped key must be masked too.
    return key


def _mask(secret: str) -> None:
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - every supported Airflow has it
        return
    mask_secret(secret)


def api_version_of(conn_id: str, value: Any) -> str:
    """
    Check the ``api_version`` extra: ``v2`` (the default when absent) or ``legacy``.

    :raises VimmerseConfigurationError: naming the extra and its choices, before any request.
    """
    if value in (None, ""):
        return API_VERSIONS[0]
    version = value.strip().lower() if isinstance(value, str) else value
    if version not in API_VERSIONS:
        raise exc.VimmerseConfigurationError(
            f"Connection {conn_id!r}: api_version {value!r} is not supported; choose one of "
            + ", ".join(repr(choice) for choice in API_VERSIONS)
            + " (default 'v2' when unset)."
        )
    return version


def story_url_template_of(conn_id: str, value: Any) -> str:
    """
    Check the ``story_url_template`` extra: a URL whose only placeholder is ``{story_id}``.

    :raises VimmerseConfigurationError: naming the problem, when the connection is read (before any story is paid).
    """
    template = str(value or "").strip()
    if not template:
        return ""
    try:
        url = template.format(story_id="STORY")
    except (KeyError, IndexError, ValueError) as err:
        raise exc.VimmerseConfigurationError(
            f"Connection {conn_id!r}: story_url_template {template!r} is not valid ({type(err).__name__}: {err}); "
            "the only placeholder allowed is {story_id}, e.g. https://vimmerse.net/story/{story_id}."
        ) from None
    if urlsplit(url).scheme not in ("http", "https"):
        raise exc.VimmerseConfigurationError(
            f"Connection {conn_id!r}: story_url_template must be an http(s) URL, got {template!r}."
        )
    return template


def base_url_of(host: str | None, scheme: str | None = None, port: int | None = None, conn_id: str = "") -> str:
    """
    The API root from a connection's host (which may carry a scheme and port) and port field.

    An empty host is the live API. A port of 0 is unset (Airflow's UI sends 0 for an empty field).

    :raises VimmerseConfigurationError: when the host and the port field name different ports.
    """
    url = (host or "").strip().rstrip("/") or DEFAULT_HOST
    if "://" not in url:
        url = f"{scheme or 'https'}://{url}"
    if not port:
        return url
    parts = urlsplit(url)
    try:
        stated = parts.port
    except ValueError:
        stated = None  # a malformed port in the host is reported where the URL is checked
    if stated is not None and stated != port:
        raise exc.VimmerseConfigurationError(
            f"Connection {conn_id!r}: the API URL {url!r} names port {stated} but the Port field says {port}; "
            "make them agree (or leave the port out of the URL)."
        )
    if stated is None and port != {"http": 80, "https": 443}.get(parts.scheme):
        url = urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))
    return url


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port as urllib3 reads them: the parser that opens the connection decides."""
    from urllib3.util import parse_url

    try:
        parts = parse_url(url)
    except ValueError:
        return "", "", None
    default_port = {"http": 80, "https": 443}.get(parts.scheme or "")
    return parts.scheme or "", (parts.host or "").strip("[]").lower(), parts.port or default_port


def _causes(err: BaseException) -> list[BaseException]:
    """The error and everything it wraps (requests, urllib3 and aiohttp nest the real cause)."""
    found: list[BaseException] = []
    pending: list[object] = [err]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or any(item is seen for seen in found):
            continue
        found.append(item)
        pending += [item.__cause__, item.__context__, getattr(item, "reason", None), getattr(item, "os_error", None)]
        pending += list(getattr(item, "args", ()))
    return found


def describe_failure(err: BaseException, read_timeout: float | None = None) -> str:
    """Why a request got no answer, in words: refused, DNS, TLS, a timeout, a reset."""
    import socket
    import ssl

    causes = _causes(err)
    names = " ".join(type(cause).__name__ for cause in causes)
    if any(isinstance(cause, ssl.SSLError) for cause in causes) or "Certificate" in names or "SSL" in names:
        return "the TLS handshake failed (certificate or protocol)"
    if any(isinstance(cause, socket.gaierror) for cause in causes) or "NameResolution" in names or "DNS" in names:
        return "the host name could not be resolved"
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "connection refused"
    if "ConnectTimeout" in names or "ConnectionTimeout" in names:
        return "no connection within the connect timeout"
    if "ReadTimeout" in names or isinstance(err, TimeoutError):
        return f"no complete answer within {read_timeout:g}s" if read_timeout else "the answer timed out"
    if any(isinstance(cause, ConnectionResetError) for cause in causes):
        return "the connection was reset"
    return type(err).__name__


def oversized_answer(method: str, path: str, *, charges: bool) -> exc.VimmerseError:
    """The error for a 2xx answer larger than :data:`MAX_ANSWER_BYTES` (it was not read past that)."""
    return exc._oversized_answer(method, path, charges=charges, limit=MAX_ANSWER_BYTES)


def next_retry(
    policy: RetryPolicy,
    attempt: int,
    *,
    method: str,
    path: str,
    charges: bool,
    status: int | None = None,
    body: bytes = b"",
    retry_after: str | None = None,
    failure: Failure | None = None,
    cause: str = "",
    url: str = "",
    secret: str | None = None,
    remaining: float | None = None,
) -> tuple[float, str]:
    """
    After a failed attempt, return ``(seconds to wait, why)`` for the next one, or raise the final error.

    Pass either the error ``status`` (with ``body`` and ``retry_after``) or the transport ``failure``.

    :param secret: removed from any message built from the answer.
    :param remaining: seconds left before the caller's deadline; no wait runs past it.
    """
    if failure is not None:
        delay = policy.backoff(attempt)
        if not policy.should_retry(attempt, charges=charges, failure=failure) or (
            remaining is not None and delay > remaining
        ):
            connected = failure is not Failure.CONNECT
            raise exc._transport_error(
                method=method, path=path, charges=charges, connected=connected, cause=cause, url=url
            )
        return delay, f"{failure.value} error ({cause})"
    assert status is not None
    if charges and status >= 500 and status != 503:
        # 503 says the request was not taken; any other 5xx may come after the story was made.
        raise exc._may_exist_error(method, path, f"answered HTTP {status}")
    error = exc._error_for_status(status, body, method=method, path=path, retry_after=retry_after, secret=secret)
    if not policy.should_retry(attempt, charges=charges, status=status):
        if status == 429:
            raise exc._with_note(error, f"not retried: the retry limit ({policy.retry_limit}) was reached")
        raise error
    wait = getattr(error, "retry_after", None)
    if wait is not None and wait > policy.max_retry_delay:
        raise exc._with_note(
            error,
            f"not retried: Retry-After {wait:g}s is longer than the connection's max_retry_delay "
            f"({policy.max_retry_delay:g}s)",
        )
    delay = policy.backoff(attempt, wait)
    if remaining is not None and delay > remaining:
        raise exc._with_note(error, f"not retried: waiting {delay:g}s would pass the wait's deadline")
    return delay, f"HTTP {status}"


_API_KEY_HEADER = "X-Api-Key"


def _requests_failure(err: Exception) -> Failure:
    from requests.exceptions import ConnectTimeout, ReadTimeout
    from urllib3.exceptions import NewConnectionError, ReadTimeoutError

    if isinstance(err, ConnectTimeout):
        return Failure.CONNECT
    if isinstance(err, (ReadTimeout, ReadTimeoutError)):
        return Failure.TIMEOUT
    reason = getattr(err.args[0], "reason", None) if err.args else None
    if isinstance(reason, (NewConnectionError, ConnectionRefusedError)):
        return Failure.CONNECT
    return Failure.DISCONNECT


def _read_within(response: requests.Response, seconds: float, limit: int = MAX_ANSWER_BYTES) -> tuple[bytes, bool]:
    """
    The body and whether it is complete: reading stops at ``limit`` decompressed bytes (a gzip bomb
    is never buffered), and a server that dribbles its answer a byte at a time cannot hold the
    request past ``seconds`` (each read alone would wait only for the next byte).
    """
    from requests.exceptions import ReadTimeout

    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.raw.read1(64 * 1024, decode_content=True)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], False
        if time.monotonic() > deadline:
            raise ReadTimeout(f"the answer did not complete within {seconds:g}s")


@contextmanager
def _missing_connection(conn_id: str) -> Iterator[None]:
    """A connection that does not exist is a configuration error: no retry can create it."""
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    try:
        yield
    except AirflowNotFoundException:
        env = "AIRFLOW_CONN_" + conn_id.upper()
        if exc._in_task():
            raise exc.VimmerseConfigurationError(
                f"The connection {conn_id!r} is not defined: create it (type 'vimmerse', your API key in the "
                f"'API Key' field), e.g. with `airflow connections add` or {env}."
            ) from None
        raise exc.VimmerseConfigurationError(
            f"The connection {conn_id!r} was not found. Outside a task, Airflow 3 does not read connections "
            f"stored in its metadata database: set {env} in this program's environment (a JSON or URI "
            "connection, see docs/hooks.md), or use the hook inside a task."
        ) from None


class _VimmerseConnection:
    """The connection attributes both hooks share."""

    conn_name_attr = "vimmerse_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "vimmerse"
    hook_name = "Vimmerse"

    def _log_retry(self, method: str, path: str, why: str, delay: float, attempt: int, limit: int) -> None:
        self.log.warning("%s %s: %s; retry %d/%d in %.1fs.", method, path, why, attempt + 1, limit, delay)  # type: ignore[attr-defined]
