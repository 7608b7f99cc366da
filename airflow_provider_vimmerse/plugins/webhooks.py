"""
The api-server's webhook receiver: ``<api-server>/vimmerse/webhook/<wait id>/<secret>``.

The api-server is public in every deployment and up whether or not any wait exists, so pointing
``[vimmerse] webhook_public_url`` at it gives Vimmerse a receiver that is always there. A webhook
is checked with the key of the connection its wait id names, then relayed through the metadata
database to whichever triggerer holds the wait (:mod:`airflow_provider_vimmerse._relay`).

Answers: 202 relayed; 404 for a well-formed webhook no wait here can take (retrying cannot help);
400/405/411/413 for a malformed call; 503 when the metadata database cannot be written (retrying
can help). A bare ASGI app, so loading the plugin imports nothing heavy in any Airflow component.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any

from airflow.providers.common.compat.sdk import AirflowPlugin

from airflow_provider_vimmerse._metrics import incr
from airflow_provider_vimmerse._webhooks import (
    MAX_BODY_BYTES,
    UnknownWebhooks,
    WebhookPayloadError,
    WebhookRefused,
    WebhookToken,
    conn_id_of,
    parse_payload,
    webhook_target,
)
from airflow_provider_vimmerse.plugins._asgi import read_body

__all__ = ["VimmerseWebhookPlugin"]

#: Seconds a connection's key is reused before it is looked up again (a rotated key takes this long).
KEY_CACHE_SECONDS = 60.0
#: Writes of one webhook before the sender is told to retry (a busy database is often free again at once).
WRITE_ATTEMPTS = 3

log = logging.getLogger(__name__)


class _Receiver:
    """Checks webhooks and relays them; the Airflow calls run in threads, off the server's loop."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str | None, float]] = {}
        self._writer: Any = None
        self._unknown = UnknownWebhooks(log, "naming no wait this api-server can check")

    def _key(self, conn_id: str) -> str | None:
        key, at = self._keys.get(conn_id, (None, float("-inf")))
        if time.monotonic() - at < KEY_CACHE_SECONDS:
            return key
        from airflow.models.connection import Connection

        from airflow_provider_vimmerse.hooks._transport import api_key_of

        try:
            key = api_key_of(Connection.get_connection_from_secrets(conn_id))
        except Exception:  # no such connection, or no usable key: nothing here can check the webhook
            key = None
        self._keys[conn_id] = (key, time.monotonic())
        return key

    def accepts(self, wait_id: str, secret: str) -> bool:
        conn_id = conn_id_of(wait_id)
        key = self._key(conn_id) if conn_id else None
        expected = WebhookToken.for_wait(key, wait_id).secret if key else "\0" * 64
        return hmac.compare_digest(expected.encode(), secret.encode()) and key is not None

    @property
    def writer(self) -> Any:
        if self._writer is None:
            from airflow.models.variable import Variable

            from airflow_provider_vimmerse._relay import RelayWriter

            self._writer = RelayWriter(lambda k: Variable.get(k, default_var=None), Variable.set)
        return self._writer

    async def handle(self, method: str, path: str, body: bytes) -> tuple[int, str]:
        try:
            await asyncio.to_thread(self.writer.list_self)
        except Exception as err:  # a database outage: webhooks answer 503 below, the health check says so
            log.warning("Could not list this Vimmerse webhook receiver: %s", err)
            return 503, "the metadata database is not writable"
        try:
            target = webhook_target(method, path)
        except WebhookRefused as refused:
            return refused.status, refused.text
        if target is None:
            return 200, "ok"
        wait_id, secret = target
        try:
            payload = parse_payload(body)
        except WebhookPayloadError as err:
            return 400, str(err)
        if not await asyncio.to_thread(self.accepts, wait_id, secret):
            self._unknown.add()
            return 404, "no such wait"
        incr("webhook.received")  # as the listeners count it: a webhook whose secret checked
        error: Exception | None = None
        for attempt in range(WRITE_ATTEMPTS):
            if attempt:  # a locked or briefly unreachable database is often free again at once
                await asyncio.sleep(0.2 * attempt)
            try:
                await asyncio.to_thread(self.writer.record, wait_id, payload)
                return 202, "relayed"
            except Exception as err:
                error = err
        log.warning("Could not relay a Vimmerse webhook for wait %s...: %s", wait_id[:8], error)
        return 503, "could not store the webhook; retry later"


class WebhookApp:
    """A bare ASGI app: one small request per webhook, bodies capped before they are read."""

    def __init__(self) -> None:
        self.receiver = _Receiver()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        # Mounted at /vimmerse: the path below the mount point (Starlette keeps the full path and
        # sets root_path to the mount point, including any base path of the api-server).
        path, root = scope["path"], scope.get("root_path", "")
        path = "/vimmerse" + (path[len(root) :] if root and path.startswith(root) else path)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit():
            status, text = 411, "send Content-Length"
        elif int(length) > MAX_BODY_BYTES:
            status, text = 413, f"the body is over {MAX_BODY_BYTES} bytes"
        else:
            body = await read_body(receive, MAX_BODY_BYTES)
            if body is None:  # the sender went away: no one to answer
                return
            status, text = await self.receiver.handle(scope["method"], path.split("?", 1)[0], body[:MAX_BODY_BYTES])
        data = text.encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})


class VimmerseWebhookPlugin(AirflowPlugin):
    """Mounts the webhook receiver at ``/vimmerse`` in the api-server."""

    name = "vimmerse_webhooks"
    fastapi_apps = [{"app": WebhookApp(), "url_prefix": "/vimmerse", "name": "Vimmerse webhooks"}]
