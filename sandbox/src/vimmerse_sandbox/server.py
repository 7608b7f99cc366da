"""
Running the sandbox: :class:`SandboxServer` (in a background thread, or in the foreground for
the CLI), and the HTTP-level fault gate that sits in front of the API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import uvicorn

from vimmerse_sandbox._uvicorn import TransportProtocol, reset_connection
from vimmerse_sandbox.app import SandboxState, create_app
from vimmerse_sandbox.faults import HTTP_KINDS, FaultBook
from vimmerse_sandbox.pipeline import SandboxConfig


def endpoint_of(method: str, path: str) -> str:
    """The route an HTTP request hits, e.g. ``GET /v2/story/{story_id}`` (stats and fault scoping)."""
    parts = path.strip("/").split("/")
    if parts[0] in ("files", "static"):
        return f"{method} /{parts[0]}/{{path}}"
    prefix = parts.pop(0) + "/" if parts[0] == "v2" and len(parts) > 1 else ""
    if parts[0] == "story" and len(parts) >= 2 and parts[1] not in ("idea-2-video", "url-2-video", "images-2-video"):
        parts[1] = "{story_id}"
    return f"{method} /{prefix}" + "/".join(parts)


class RequestLog:
    """ASGI middleware: one log line per request (method, path, status, time); ``--quiet`` silences it."""

    logger = logging.getLogger("vimmerse_sandbox.requests")

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started, answer = time.monotonic(), {"status": "-"}

        async def recording(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            # The path only: the key travels in a header, and no query string is logged.
            self.logger.info(
                "%s %s %s %.0f ms",
                scope["method"],
                scope["path"],
                answer["status"],
                (time.monotonic() - started) * 1000,
            )


class FaultGate:
    """ASGI middleware: counts requests per endpoint and applies HTTP-level faults."""

    def __init__(self, app: Any, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        endpoint = endpoint_of(method, path)
        self.state.stats.request(endpoint)
        if path.startswith("/files/") and any(k.lower() == b"x-api-key" for k, _ in scope["headers"]):
            self.state.stats.event("file_requests_with_api_key")
        fault = self.state.faults.take(HTTP_KINDS, f"{method} {path}", endpoint)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "slow":
            await self.app(scope, receive, _delayed(send, fault.delay))
        elif fault.kind == "reset":
            reset_connection(scope)
        elif fault.kind == "status" and fault.handled:
            await self.app(scope, receive, _replaced(send, fault.status, fault.retry_after, path))
        elif fault.kind == "status":
            await _send_error(send, fault.status, fault.retry_after, path)
        else:
            await self.app(scope, receive, _truncating(send, fault.fraction, scope))


async def _send_error(send: Any, status: int, retry_after: str | None, path: str) -> None:
    code = {429: "TOO_MANY_REQUESTS", 503: "SERVICE_UNAVAILABLE"}.get(status, "INTERNAL_SERVER_ERROR")
    # Each API version's error shape: v2 {message, code}, Legacy {message: CODE}.
    error = {"message": "Injected error", "code": code} if path.startswith("/v2/") else {"message": code}
    body = json.dumps(error).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _replaced(send: Any, status: int, retry_after: str | None, path: str) -> Any:
    """Wrap ``send`` so the app handles the request in full, but the client gets an error answer instead."""
    state = {"sent": False}

    async def wrapped(message: dict[str, Any]) -> None:
        if not state["sent"] and message["type"] == "http.response.start":
            state["sent"] = True
            await _send_error(send, status, retry_after, path)

    return wrapped


def _delayed(send: Any, delay: float) -> Any:
    """Wrap ``send`` so the request is fully handled, but its answer starts ``delay`` seconds late."""

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(delay)
        await send(message)

    return wrapped


def _truncating(send: Any, fraction: float, scope: dict[str, Any]) -> Any:
    """Wrap ``send`` so the body stops after ``fraction`` of its announced length, then reset."""
    state = {"limit": None, "sent": 0, "cut": False}

    async def wrapped(message: dict[str, Any]) -> None:
        if state["cut"]:
            return
        if message["type"] == "http.response.start":
            length = dict(message.get("headers", [])).get(b"content-length")
            state["limit"] = int(int(length) * fraction) if length else None
            await send(message)
            return
        body = message.get("body", b"")
        limit = state["limit"]
        if limit is not None and state["sent"] + len(body) >= limit:
            await send({"type": "http.response.body", "body": body[: limit - state["sent"]], "more_body": True})
            state["cut"] = True
            await asyncio.sleep(0.05)  # let the partial body reach the socket before the reset
            reset_connection(scope)
            return
        state["sent"] += len(body)
        await send(message)

    return wrapped


class SandboxServer:
    """
    A running sandbox on loopback.

    Use as a context manager in tests or CI (``with SandboxServer(config) as sandbox: sandbox.url``),
    or :meth:`serve_forever` from the command line.

    :param config: data dir, API key, speed, credits.
    :param host: interface to bind.
    :param port: port to bind (0 picks a free one).
    :param faults: fault specs active from the start (see :mod:`~vimmerse_sandbox.faults`).
    """

    def __init__(
        self, config: SandboxConfig, host: str = "127.0.0.1", port: int = 0, faults: Iterable[dict[str, Any]] = ()
    ) -> None:
        self.config = config
        self.host = host
        self._socket = socket.create_server((host, port), reuse_port=False)
        self.port = self._socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        if not config.public_url:
            config.public_url = self.url
        fault_book = FaultBook()
        for spec in faults:
            fault_book.add(spec)
        self.state = SandboxState(config, fault_book)
        app = RequestLog(FaultGate(create_app(self.state), self.state))
        self._server = uvicorn.Server(
            uvicorn.Config(app, http=TransportProtocol, log_level="warning", lifespan="off", timeout_keep_alive=30)
        )
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Serve in a background thread; returns once requests are accepted."""
        self._thread = threading.Thread(target=self._serve, name="vimmerse-sandbox", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the sandbox server failed to start")
            self._thread.join(0.02)
        self.state.pipeline.resume()

    def _serve(self) -> None:
        self._server.run(sockets=[self._socket])

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted (the CLI)."""
        self.state.pipeline.resume()
        try:
            self._serve()
        finally:
            self.state.close()

    def stop(self) -> None:
        """Stop serving; unfinished stories stay pending and resume on the next start."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.state.close()
        self._socket.close()
