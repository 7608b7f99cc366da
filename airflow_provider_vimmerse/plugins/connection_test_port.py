"""
Makes the UI's **Test** button work for a ``vimmerse`` connection stored without a port.

Airflow 3.3's connections list builds its Test request with ``port: Number(port)``, so a
connection stored without a port is tested with ``port: 0``. The api-server compares that with
the stored ``NULL``, finds a different destination, and refuses the test ("The host or port to
test differs from the stored connection") before any provider code runs. Port 0 names no TCP
destination (the hook reads it as unset), so for ``vimmerse`` connections this middleware leaves
a zero port out of the request and the stored connection is tested. Every other request, and every
other connection type, passes through untouched.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.providers.common.compat.sdk import AirflowPlugin

from airflow_provider_vimmerse.plugins._asgi import read_body

__all__ = ["VimmerseConnectionTestPlugin", "ZeroPortMiddleware", "without_zero_port"]

CONN_TYPE = "vimmerse"
TEST_PATH = "/api/v2/connections/test"
#: Larger bodies are passed on unread (a Test request for a connection is a few hundred bytes).
MAX_BODY_BYTES = 64 * 1024


def without_zero_port(body: bytes) -> bytes:
    """The Test request's body, without ``"port": 0`` if it tests a ``vimmerse`` connection."""
    try:
        request = json.loads(body)
    except ValueError:  # the api-server answers a malformed body itself
        return body
    if not isinstance(request, dict) or request.get("conn_type") != CONN_TYPE:
        return body
    port = request.get("port")
    if type(port) is not int or port != 0:
        return body
    del request["port"]
    return json.dumps(request).encode()


class ZeroPortMiddleware:
    """An ASGI middleware that rewrites only ``POST .../api/v2/connections/test`` (see the module)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not self._is_test_request(scope):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, MAX_BODY_BYTES)
        if body is None:  # the client went away: nothing to test
            return
        body = without_zero_port(body)
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()  # what the server says next, e.g. a disconnect
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)

    @staticmethod
    def _is_test_request(scope: dict[str, Any]) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(TEST_PATH):
            return False
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        return length.isdigit() and int(length) <= MAX_BODY_BYTES


class VimmerseConnectionTestPlugin(AirflowPlugin):
    """Adds :class:`ZeroPortMiddleware` to the api-server."""

    name = "vimmerse_connection_test"
    fastapi_root_middlewares = [{"middleware": ZeroPortMiddleware, "name": "Vimmerse connection Test port"}]
