"""
:class:`VimmerseAsyncHook`: the async client a trigger uses, an ``HttpAsyncHook`` whose
``session()`` serves the trigger's whole life. It shares the connection rules, the retry policy
and the error mapping of :class:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook`.

``HttpAsyncHook.session()`` looks the connection up once and opens the one aiohttp session; the
requests then go straight to that session. ``AsyncHttpSession.run`` would wrap each one in a
tenacity retry loop (even at ``retry_limit=1``), which doubled the triggerer's CPU per poll with
1,000 waiting triggers (docs/performance.md); our retry policy does the retrying instead.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from airflow.providers.http.hooks.http import HttpAsyncHook, SessionConfig

from airflow_provider_vimmerse import validation as v
from airflow_provider_vimmerse.exceptions import VimmerseConfigurationError
from airflow_provider_vimmerse.hooks._transport import (
    MAX_ANSWER_BYTES,
    ConnectionSettings,
    Failure,
    describe_failure,
    next_retry,
    oversized_answer,
)
from airflow_provider_vimmerse.hooks.vimmerse import API_KEY_HEADER, _missing_connection, _VimmerseConnection
from airflow_provider_vimmerse.models import VimmerseStory, story_from_body


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


class VimmerseAsyncHook(_VimmerseConnection, HttpAsyncHook):
    """
    The async client a trigger uses: one aiohttp session for its lifetime, through ``HttpAsyncHook.session()``.

    Use it as ``async with VimmerseAsyncHook(conn_id) as hook: await hook.get_story(story_id)``.
    The connection is looked up asynchronously, so the triggerer's event loop never blocks.
    """

    def __init__(self, vimmerse_conn_id: str = _VimmerseConnection.default_conn_name) -> None:
        # retry_limit=1: one attempt per call; our retry policy decides about the next.
        super().__init__(method="GET", http_conn_id=vimmerse_conn_id, retry_limit=1)
        self.vimmerse_conn_id = vimmerse_conn_id
        self.settings: ConnectionSettings | None = None
        self._session_cm: Any = None
        self._client: aiohttp.ClientSession | None = None
        self._headers: dict[str, str] = {}
        self._options: dict[str, Any] = {}

    async def config(self) -> SessionConfig:
        """The session's configuration from the connection: base URL, timeouts, TLS; no extras as headers."""
        if self._config is None:
            with _missing_connection(self.vimmerse_conn_id):
                settings = ConnectionSettings.from_connection(await self.aget_connection(self.vimmerse_conn_id))
            self.settings = settings
            options: dict[str, Any] = {
                # One timer per request (total) rather than one re-armed on every chunk read.
                "timeout": aiohttp.ClientTimeout(
                    total=settings.connect_timeout + settings.timeout, sock_connect=settings.connect_timeout
                ),
                "allow_redirects": False,
                "check_response": False,
            }
            if not settings.verify_ssl:
                options["ssl"] = False
            self._config = SessionConfig(
                base_url=settings.base_url, headers={"Accept": "application/json"}, extra_options=options
            )
        return self._config

    def _get_request_func(self, session: aiohttp.ClientSession, method: str | None = None) -> Any:
        # HttpAsyncHook.session() hands over the aiohttp session it opened: keep it for our requests.
        # It only ever talks to the API, so it carries the key and Accept headers itself (set once,
        # not merged into every poll).
        session.headers.update(self._headers)
        self._client = session
        return super()._get_request_func(session=session, method=method)

    async def __aenter__(self) -> VimmerseAsyncHook:
        config = await self.config()
        # What every request of this hook's life sends, built once: polls are the hot path.
        self._headers = {**(config.headers or {}), API_KEY_HEADER: self.settings.api_key}
        self._options = {key: value for key, value in (config.extra_options or {}).items() if key != "check_response"}
        self._session_cm = self.session()
        await self._session_cm.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._session_cm is not None:
            await self._session_cm.__aexit__(*exc_info)
            self._session_cm = self._client = None

    @property
    def api_key(self) -> str:
        """The connection's API key (inside ``async with``), e.g. to derive webhook secrets."""
        if self.settings is None:
            raise RuntimeError("Use VimmerseAsyncHook as 'async with VimmerseAsyncHook(...) as hook'.")
        return self.settings.api_key

    async def _request(self, method: str, path: str, *, charges: bool = False) -> bytes:
        import asyncio

        if self._client is None or self.settings is None or self._config is None:
            raise RuntimeError("Use VimmerseAsyncHook as 'async with VimmerseAsyncHook(...) as hook'.")
        settings = self.settings
        policy = settings.retry
        options = self._options
        url = self._config.base_url + path
        attempt = 0
        while True:
            failure = status = retry_after = None
            body, cause = b"", ""
            try:
                async with self._client.request(method, url, **options) as response:
                    body, complete = await _read_capped(response)
                    status, retry_after = response.status, response.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as err:
                failure, cause = _aiohttp_failure(err), describe_failure(err, settings.timeout)
            except ValueError as err:  # aiohttp refuses a header value it cannot send
                raise VimmerseConfigurationError(
                    f"{method} {path} could not be sent ({type(err).__name__}): check the connection's host and key."
                ) from None
            if failure is None and status < 300:
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
        return story_from_body(await self._request("GET", path), method="GET", path=path)
