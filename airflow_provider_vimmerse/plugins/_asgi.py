"""What both api-server plugins need of ASGI: a request's body."""

from __future__ import annotations

from typing import Any


async def read_body(receive: Any, limit: int) -> bytes | None:
    """
    The request's body, read until it ends or passes ``limit`` bytes (the caller can tell it is
    over); None when the client went away before sending it all.
    """
    body, more = b"", True
    while more and len(body) <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body
