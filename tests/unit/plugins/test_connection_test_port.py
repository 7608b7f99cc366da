"""The api-server middleware that lets the UI's Test button test a connection stored without a port."""

from __future__ import annotations

import asyncio
import json
from importlib.metadata import entry_points

import pytest

from airflow_provider_vimmerse.plugins.connection_test_port import (
    VimmerseConnectionTestPlugin,
    ZeroPortMiddleware,
    without_zero_port,
)

UI_BODY = {"conn_type": "vimmerse", "connection_id": "vimmerse_default", "host": "", "password": "***", "port": 0}


def test_a_zero_port_is_left_out_of_a_vimmerse_test_request():
    rewritten = json.loads(without_zero_port(json.dumps(UI_BODY).encode()))
    assert "port" not in rewritten
    assert rewritten == {k: v for k, v in UI_BODY.items() if k != "port"}


@pytest.mark.parametrize(
    "body",
    [
        {**UI_BODY, "port": 443},  # a stored port, tested as stored
        {**UI_BODY, "port": None},
        {**UI_BODY, "port": False},  # not a number the UI sends; the api-server judges it
        {**UI_BODY, "conn_type": "http"},  # other connection types are Airflow's business
        [UI_BODY],
    ],
)
def test_other_bodies_pass_unchanged(body):
    raw = json.dumps(body).encode()
    assert without_zero_port(raw) is raw


def test_a_malformed_body_passes_unchanged():
    assert without_zero_port(b"{not json") == b"{not json"


class RecordingApp:
    def __init__(self):
        self.scope, self.messages = None, []

    async def __call__(self, scope, receive, send):
        self.scope = scope
        while True:
            message = await receive()
            self.messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                return


def _call(path: str, chunks: list[bytes], method: str = "POST", length: int | None = None):
    app = RecordingApp()
    size = sum(map(len, chunks)) if length is None else length
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(size).encode())],
    }
    queue = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]

    async def receive():
        return queue.pop(0)

    asyncio.run(ZeroPortMiddleware(app)(scope, receive, None))
    return app


def test_the_middleware_rewrites_a_test_request_sent_in_chunks_and_fixes_its_length():
    raw = json.dumps(UI_BODY).encode()
    app = _call("/airflow/api/v2/connections/test", [raw[:10], raw[10:]])
    (message,) = app.messages
    assert json.loads(message["body"]) == {k: v for k, v in UI_BODY.items() if k != "port"}
    assert dict(app.scope["headers"])[b"content-length"] == str(len(message["body"])).encode()
    assert dict(app.scope["headers"])[b"content-type"] == b"application/json"


@pytest.mark.parametrize(
    ("path", "method", "length"),
    [
        ("/api/v2/connections", "POST", None),  # adding a connection stores what the user typed
        ("/api/v2/connections/test", "GET", None),
        ("/api/v2/connections/test", "POST", 10**6),  # too large to be the UI's request: not read here
    ],
)
def test_other_requests_reach_the_api_server_as_sent(path, method, length):
    raw = json.dumps(UI_BODY).encode()
    app = _call(path, [raw], method=method, length=length)
    assert app.messages == [{"type": "http.request", "body": raw, "more_body": False}]
    assert dict(app.scope["headers"])[b"content-length"] == str(length or len(raw)).encode()


def test_the_provider_declares_the_plugin_that_adds_the_middleware():
    (entry,) = [e for e in entry_points(group="airflow.plugins") if e.name == "vimmerse_connection_test"]
    assert entry.load() is VimmerseConnectionTestPlugin
    (middleware,) = VimmerseConnectionTestPlugin.fastapi_root_middlewares
    assert middleware["middleware"] is ZeroPortMiddleware
