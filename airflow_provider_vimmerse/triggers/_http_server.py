"""
A deliberately small HTTP/1.1 server for the webhook listener: one request per connection, and
hard limits that anyone who can reach the port cannot exhaust.

- An incomplete request (slow headers, a body that never comes) is closed after
  :data:`REQUEST_TIMEOUT` seconds, whatever it sends in between.
- Request line and headers together are capped at :data:`MAX_HEADER_BYTES` (431 beyond); a body
  must announce its length (``Content-Length``) and fit the caller's limit (413 beyond).
- At most :data:`MAX_CONNECTIONS` connections are open at once: a new one closes the oldest, so
  file descriptors and memory stay bounded, and a real webhook (which completes in milliseconds)
  still gets through while stalled connections hold every place.

aiohttp's server has no header-read timeout and no connection cap, which is why this exists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["MAX_CONNECTIONS", "MAX_HEADER_BYTES", "REQUEST_TIMEOUT", "Request", "SmallHttpServer"]

#: Seconds a client has to send its whole request.
REQUEST_TIMEOUT = 5.0
#: Request line and headers, in bytes.
MAX_HEADER_BYTES = 8192
#: Connections served at once; more are closed at once.
MAX_CONNECTIONS = 256

log = logging.getLogger(__name__)
_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    """What a handler sees: the method, the path (no query string) and the body."""

    method: str
    path: str
    body: bytes


Handler = Callable[[Request], Awaitable[tuple[int, str]]]


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


class SmallHttpServer:
    """
    Serve ``handler`` on ``host:port``.

    :param max_body: the largest body a request may carry, in bytes.
    """

    def __init__(self, host: str, port: int, handler: Handler, *, max_body: int) -> None:
        self.host, self.port, self.handler, self.max_body = host, port, handler, max_body
        self.evicted_connections = 0
        self._server: asyncio.AbstractServer | None = None
        self._clients: dict[asyncio.Task[None], None] = {}  # oldest first

    @property
    def open_connections(self) -> int:
        return len(self._clients)

    async def start(self) -> None:
        """Listen. :raises OSError: when the address cannot be bound."""
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, limit=MAX_HEADER_BYTES, reuse_address=True, backlog=128
        )

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._clients):
            task.cancel()
        self._clients.clear()
        await self._server.wait_closed()
        self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while len(self._clients) >= MAX_CONNECTIONS:
            oldest = next(iter(self._clients))
            del self._clients[oldest]
            oldest.cancel()
            self.evicted_connections += 1
        task = asyncio.current_task()
        assert task is not None  # start_server runs each client in its own task
        self._clients[task] = None
        # One timer for the whole exchange: cheaper than a wait_for (a task) per step.
        deadline = asyncio.get_running_loop().call_later(REQUEST_TIMEOUT, task.cancel)
        try:
            try:
                request = await self._read(reader)
                status, text = await self.handler(request)
            except _Refused as refused:
                status, text = refused.status, refused.text
            await self._answer(writer, status, text)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # an incomplete client: closed below, nothing to answer
        except asyncio.CancelledError:
            writer.transport.abort()  # out of time, evicted for a newer connection, or the server stops
            raise
        finally:
            deadline.cancel()
            self._clients.pop(task, None)
            writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> Request:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise _Refused(431, "request headers too large") from None
        try:
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ")
        except ValueError:
            raise _Refused(400, "malformed request line") from None
        if not version.startswith("HTTP/1."):
            raise _Refused(400, "HTTP/1.x only")
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise _Refused(411, "send Content-Length, not a chunked body")
        length_text = headers.get("content-length", "0")
        if not length_text.isdigit():
            raise _Refused(400 if length_text else 411, "malformed Content-Length")
        length = int(length_text)
        if length > self.max_body:
            raise _Refused(413, f"the body is over {self.max_body} bytes")
        body = await reader.readexactly(length) if length else b""
        return Request(method, target.split("?", 1)[0], body)

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, status: int, text: str) -> None:
        body = text.encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
