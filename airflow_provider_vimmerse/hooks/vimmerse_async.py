"""
:class:`VimmerseAsyncHook`: the async client a trigger uses, with one aiohttp session for the
trigger's whole life (the connection is looked up once, asynchronously). It shares the connection
rules, the retry policy and the error mapping of
:class:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook`, and owns its session for the same
reason (see that module).

Each request goes straight to the session: a generic retry wrapper around every poll (tenacity,
as ``HttpAsyncHook`` uses) doubled the triggerer's CPU per poll with 1,000 waiting triggers
(docs/performance.md); our retry policy does the retrying instead.
"""

from __future__ import annotations

from typing import Any
from urllib.request import getproxies

import aiohttp
from airflow.sdk import BaseHook

from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse.exceptions import VimmerseConfigurationError
from airflow_provider_vimmerse.hooks._transport import (
    _API_KEY_HEADER,
    MAX_ANSWER_BYTES,
    ConnectionSettings,
    Failure,
    _missing_connection,
    _VimmerseConnection,
    describe_failure,
    next_retry,
    oversized_answer,
)
from airflow_provider_vimmerse.models import VimmerseStory, _story_from_body

__all__ = ["VimmerseAsyncHook"]


def _aiohttp_failure(err: BaseException) -> Failure:
    if isinstance(err, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return Failure.CONNECT
    if isinstance(err, TimeoutError):
        return Failure.TIMEOUT
    return Failure.DISCONNECT


async def _read_capped(response: aiohttp.ClientResponse, limit: int = MAX_ANSWER_BYTES) -> tuple[bytes, bool]:
    """The body (decompressed) and whether it is complete: reading stops past ``limit`` bytes."""
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], False
    return b"".join(chunks), True


class VimmerseAsyncHook(_VimmerseConnection, BaseHook):
    """
    The async client a trigger uses: one aiohttp session for its lifetime.

    Use it as ``async with VimmerseAsyncHook(conn_id) as hook: await hook.get_story(story_id)``.
    The connection is looked up asynchronously, so the triggerer's event loop never blocks.

    :param vimmerse_conn_id: the ``vimmerse`` connection to use.
    """

    def __init__(self, vimmerse_conn_id: str = _VimmerseConnection.default_conn_name) -> None:
        super().__init__()
        self.vimmerse_conn_id = vimmerse_conn_id
        self.settings: ConnectionSettings | None = None
        self._client: aiohttp.ClientSession | None = None

    async def _read_settings(self) -> ConnectionSettings:
        with _missing_connection(self.vimmerse_conn_id):
            try:
                from airflow.providers.common.compat.connection import get_async_connection
            except ImportError:  # pragma: no cover - an older common-compat
                connection = await self.aget_connection(self.vimmerse_conn_id)
            else:
                # Works around Airflow < 3.3.2, whose aget_connection can deadlock the event loop.
                connection = await get_async_connection(self.vimmerse_conn_id, hook=self)
            return ConnectionSettings.from_connection(connection)

    async def __aenter__(self) -> VimmerseAsyncHook:
        settings = self.settings = await self._read_settings()
        # The session only ever talks to the API, so it carries the key and Accept headers itself
        # (set once, not merged into every poll), and one timer per request (total) rather than
        # one re-armed on every chunk read.
        self._client = aiohttp.ClientSession(
            headers={"Accept": "application/json", _API_KEY_HEADER: settings.api_key},
            timeout=aiohttp.ClientTimeout(
                total=settings.connect_timeout + settings.timeout, sock_connect=settings.connect_timeout
            ),
            connector=aiohttp.TCPConnector(ssl=settings.verify_ssl),
            # Proxy variables are read per request when trusted (0.8 ms of CPU per poll in
            # docs/performance.md): only when some are set.
            trust_env=bool(getproxies()),
        )
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def api_key(self) -> str:
        """The connection's API key (inside ``async with``), e.g. to derive webhook secrets."""
        if self.settings is None:
            raise RuntimeError("Use VimmerseAsyncHook as 'async with VimmerseAsyncHook(...) as hook'.")
        return self.settings.api_key

    async def _request(self, method: str, path: str, *, charges: bool = False) -> bytes:
        import asyncio

        if self._client is None or self.settings is None:
            raise RuntimeError("Use VimmerseAsyncHook as 'async with VimmerseAsyncHook(...) as hook'.")
        settings = self.settings
        policy = settings.retry
        url = settings.base_url + path
        attempt = 0
        while True:
            failure = status = retry_after = None
            body, cause = b"", ""
            try:
                async with self._client.request(method, url, allow_redirects=False) as response:
                    body, complete = await _read_capped(response)
                    status, retry_after = response.status, response.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as err:
                failure, cause = _aiohttp_failure(err), describe_failure(err, settings.timeout)
            except ValueError as err:  # aiohttp refuses a header value it cannot send
                raise VimmerseConfigurationError(
                    f"{method} {path} could not be sent ({type(err).__name__}): check the connection's host and key."
                ) from None
            if status is not None and status < 300:
                if not complete:
                    raise oversized_answer(method, path, charges=charges)
                return body
            delay, why = next_retry(
                policy,
                attempt,
                method=method,
                path=path,
                charges=charges,
                status=status,
                body=body,
                retry_after=retry_after,
                failure=failure,
                cause=cause,
                url=url,
                secret=settings.api_key,
            )
            self._log_retry(method, path, why, delay, attempt, policy.retry_limit)
            await asyncio.sleep(delay)
            attempt += 1

    async def get_story(self, story_id: str) -> VimmerseStory:
        """Return the story's current state (``GET /v2/story/{id}``, or ``/story/{id}`` on Legacy)."""
        if self.settings is None:
            raise RuntimeError("Use VimmerseAsyncHook as 'async with VimmerseAsyncHook(...) as hook'.")
        path = f"{self.settings.story_path_prefix}/story/{v.story_id(story_id)}"
        return _story_from_body(await self._request("GET", path), method="GET", path=path)
