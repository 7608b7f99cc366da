"""
:class:`VimmerseAsyncHook`: the async client a trigger uses, with one aiohttp session for its lifetime.

It shares the connection settings, retry policy and error mapping of
:class:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from airflow_provider_vimmerse import params as p
from airflow_provider_vimmerse.hooks.policy import ConnectionSettings, Failure, next_retry, story_from_body
from airflow_provider_vimmerse.hooks.vimmerse import API_KEY_HEADER, _VimmerseHookBase
from airflow_provider_vimmerse.story import VimmerseStory


def _aiohttp_failure(err: BaseException) -> Failure:
    if isinstance(err, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return Failure.CONNECT
    if isinstance(err, asyncio.TimeoutError):
        return Failure.TIMEOUT
    return Failure.DISCONNECT


class VimmerseAsyncHook(_VimmerseHookBase):
    """
    Async client for the reads a trigger needs, with one aiohttp session for its lifetime.

    Use it as ``async with VimmerseAsyncHook(conn_id) as hook: await hook.get_story(story_id)``.
    The connection is looked up asynchronously, so the triggerer's event loop never blocks.
    """

    def __init__(self, vimmerse_conn_id: str = _VimmerseHookBase.default_conn_name) -> None:
        super().__init__(vimmerse_conn_id)
        self.settings: ConnectionSettings | None = None
        self._session: Any = None

    async def __aenter__(self) -> VimmerseAsyncHook:
        self.settings = ConnectionSettings.from_connection(await self.aget_connection(self.vimmerse_conn_id))
        # One timer per request (total) instead of a per-read timer that is re-armed on every
        # chunk received: a triggerer polling thousands of stories feels the difference.
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=self.settings.connect_timeout + self.settings.timeout, sock_connect=self.settings.connect_timeout
            ),
            connector=aiohttp.TCPConnector(ssl=None if self.settings.verify_ssl else False),
            headers={API_KEY_HEADER: self.settings.api_key, "Accept": "application/json"},
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, *, charges: bool = False) -> bytes:
        if self._session is None or self.settings is None:
            raise RuntimeError("Use VimmerseAsyncHook as 'async with VimmerseAsyncHook(...) as hook'.")
        settings = self.settings
        policy = settings.retry
        attempt = 0
        while True:
            try:
                # The session only ever talks to the API host, so it carries the key header itself.
                async with self._session.request(method, settings.base_url + path, allow_redirects=False) as response:
                    body = await response.read()
                    status, retry_after = response.status, response.headers.get("Retry-After")
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                delay, why = next_retry(
                    policy, attempt, method=method, path=path, charges=charges,
                    failure=_aiohttp_failure(err), cause=type(err).__name__,
                )
            else:
                if status < 300:
                    return body
                delay, why = next_retry(
                    policy, attempt, method=method, path=path, charges=charges,
                    status=status, body=body, retry_after=retry_after,
                )
            self._log_retry(method, path, why, delay, attempt, policy.retry_limit)
            await asyncio.sleep(delay)
            attempt += 1

    async def get_story(self, story_id: str) -> VimmerseStory:
        """Return the story's current state (``GET /story/{id}``)."""
        path = f"/story/{p.story_id(story_id)}"
        return story_from_body(await self._request("GET", path), method="GET", path=path)

    async def health(self) -> bytes:
        """Return the raw body of ``GET /health``."""
        return await self._request("GET", "/health")
