"""
Transport internals shared by the sync and async hooks: what a connection configures, and the
retry policy that never repeats a request that may have been charged.

Pure functions only: the hooks do the I/O and ask this module whether to try again, so both
transports behave identically.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_vimmerse import exceptions as exc

DEFAULT_HOST = "https://api.vimmerse.net"
DEFAULT_CONN_ID = "vimmerse_default"


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
    """

    base_url: str
    api_key: str = field(repr=False)
    timeout: float = 60.0
    connect_timeout: float = 10.0
    verify_ssl: bool = True
    story_url_template: str = ""
    retry: RetryPolicy = RetryPolicy()

    @classmethod
    def from_connection(cls, conn: Any) -> ConnectionSettings:
        """
        Read settings from an Airflow connection.

        :raises VimmerseConfigurationError: on a missing API key or a malformed extra.
        """
        if not conn.password:
            raise exc.VimmerseConfigurationError(
                f"Connection {conn.conn_id!r} has no API key: put it in the 'API Key' (password) field."
            )
        extra = conn.extra_dejson or {}
        return cls(
            base_url=base_url_of(conn.host, conn.schema if conn.schema in ("http", "https") else None, conn.port),
            api_key=conn.password,
            timeout=_extra_number(extra, "timeout", 60.0, minimum=0.001),
            connect_timeout=_extra_number(extra, "connect_timeout", 10.0, minimum=0.001),
            verify_ssl=_extra_bool(extra, "verify_ssl", True),
            story_url_template=str(extra.get("story_url_template") or ""),
            retry=RetryPolicy(
                retry_limit=int(_extra_number(extra, "retry_limit", 3)),
                retry_delay=_extra_number(extra, "retry_delay", 1.0),
                max_retry_delay=_extra_number(extra, "max_retry_delay", 60.0),
            ),
        )

    def is_api_url(self, url: str) -> bool:
        """Whether ``url`` is on the API's own scheme, host and port (the only place the key may go)."""
        return _origin(url) == _origin(self.base_url)


def base_url_of(host: str | None, scheme: str | None = None, port: int | None = None) -> str:
    """The API root from a connection's host (which may already carry a scheme), defaulting to the live API."""
    host = (host or "").strip().rstrip("/")
    if not host:
        return DEFAULT_HOST
    if "://" not in host:
        host = f"{scheme or 'https'}://{host}"
    if port and not urlsplit(host).port:
        host = f"{host}:{port}"
    return host


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default_port


def transport_error(failure: Failure, *, method: str, path: str, charges: bool, cause: str) -> exc.VimmerseError:
    """The error for a request that got no answer after its retries."""
    if charges and failure is not Failure.CONNECT:
        return exc.VimmerseStoryMayExistError(
            f"{method} {path} may have reached the service but no answer came back ({cause}). "
            "A story may have been created and charged; it was not retried. "
            "Check your stories before submitting again."
        )
    return exc.VimmerseTransportError(f"{method} {path} failed: {cause}.")


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
) -> tuple[float, str]:
    """
    After a failed attempt, return ``(seconds to wait, why)`` for the next one, or raise the final error.

    Pass either the error ``status`` (with ``body`` and ``retry_after``) or the transport ``failure``.
    """
    if failure is not None:
        if not policy.should_retry(attempt, charges=charges, failure=failure):
            raise transport_error(failure, method=method, path=path, charges=charges, cause=cause)
        return policy.backoff(attempt), f"{failure.value} error ({cause})"
    assert status is not None
    error = exc.error_for_status(status, body, method=method, path=path, retry_after=retry_after)
    if not policy.should_retry(attempt, charges=charges, status=status):
        raise error
    if error.retry_after is not None and error.retry_after > policy.max_retry_delay:
        raise error
    return policy.backoff(attempt, error.retry_after), f"HTTP {status}"
