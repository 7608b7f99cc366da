"""
The one place the sandbox reaches into uvicorn's internals.

The ``reset`` and ``truncate`` faults must drop the client's TCP connection, and ASGI gives an
application no handle on its connection. uvicorn's h11 protocol class is subclassed to put the
connection's transport into the request scope; nothing else depends on uvicorn internals, and
the supported uvicorn range is pinned in ``pyproject.toml``.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

_TRANSPORT = "vimmerse.sandbox.transport"


def reset_connection(scope: dict[str, Any]) -> None:
    """Drop the client's connection with a TCP reset (SO_LINGER 0, then abort)."""
    transport = scope.get(_TRANSPORT)
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class TransportProtocol(H11Protocol):
    """uvicorn's h11 protocol, handing the app its connection's transport so faults can reset it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope[_TRANSPORT] = self.transport
            await inner(scope, receive, send)

        self.app = app
