"""
The webhook listener inside the triggerer: one small HTTP server per triggerer process
(``[vimmerse] webhook_bind``), started by the first trigger that needs it and stopped when the
last one leaves. Each waiting trigger registers its token; a webhook wakes only the triggers that
registered it.

The server (:mod:`~airflow_provider_vimmerse.triggers._http_server`) closes incomplete requests
within seconds and caps header bytes and connections, so whoever reaches the port cannot
exhaust it. Handlers do no I/O and no blocking work: they check the token in constant time,
parse a small body strictly, and set an event or queue an item. Requests for unknown or finished
waits are counted and logged once a minute, not one line each.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import unquote

from airflow_provider_vimmerse._metrics import incr
from airflow_provider_vimmerse._webhooks import (
    MAX_BODY_BYTES,
    UnknownWebhooks,
    WebhookPayloadError,
    WebhookRefused,
    WebhookToken,
    parse_payload,
    webhook_target,
)
from airflow_provider_vimmerse.triggers._http_server import Request, SmallHttpServer

#: Webhooks that arrive for one wait within this window are answered by one confirming GET.
BURST_WINDOW = 0.1
#: At most one confirming GET per wait this often, however many webhooks arrive.
MIN_CONFIRM_SPACING = 1.0

#: Confirming GETs in flight at once per triggerer: a burst of webhooks is confirmed in waves, so
#: the event loop never runs a thousand requests' callbacks in one turn.
CONFIRMATIONS_AT_ONCE = 50

log = logging.getLogger(__name__)


class _Route:
    """One registration: the secret its webhooks must carry, and what they wake."""

    __slots__ = ("callback", "secret")

    def __init__(self, secret: bytes, callback: Callable[[dict[str, str]], None]) -> None:
        self.secret, self.callback = secret, callback


_UNKNOWN = _Route(b"\0" * 64, lambda payload: None)


class WebhookSignal:
    """What a waiting trigger holds: set by its webhooks, awaited with a timeout (the fallback poll)."""

    def __init__(self) -> None:
        self._pending = False
        self._waiter: asyncio.Future[bool] | None = None
        self._last_confirm = 0.0

    def notify(self, payload: dict[str, str]) -> None:
        self._pending = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)

    async def wait(self, timeout: float) -> bool:
        """
        Sleep until a webhook arrives or ``timeout`` passes; True when a webhook woke it. Webhooks
        within :data:`BURST_WINDOW` of each other, or closer than :data:`MIN_CONFIRM_SPACING` to the
        last confirmation, are answered by one confirmation.
        """
        if not self._pending:
            # A bare future and one timer: thousands of triggers sleep here at once.
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(timeout, _settle, waiter)
            try:
                if not await waiter:
                    return False
            finally:
                timer.cancel()
                self._waiter = None
        # A short pause gathers a burst (retried deliveries, a forger's flood) into one confirmation.
        await asyncio.sleep(max(BURST_WINDOW, self._last_confirm + MIN_CONFIRM_SPACING - time.monotonic()))
        self._pending = False
        self._last_confirm = time.monotonic()
        return True


def _settle(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class WebhookListener:
    """One small HTTP server; routes each webhook to the registrations its token names."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._routes: dict[str, list[_Route]] = {}
        self._server = SmallHttpServer(host, port, self._handle, max_body=MAX_BODY_BYTES)
        self._unknown = UnknownWebhooks(log, "for unknown or finished waits")

    async def start(self) -> None:
        await self._server.start()
        log.info("Vimmerse webhook listener on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        await self._server.stop()
        self._unknown.report(force=True)
        log.info("Vimmerse webhook listener on %s:%d stopped", self.host, self.port)

    def register(self, token: WebhookToken, callback: Callable[[dict[str, str]], None]) -> _Route:
        """
        Route ``token``'s webhooks to ``callback``, beside any other registration of the same token
        (a retry reattached while the previous try's wait still runs, two watchers of one stream).
        """
        route = _Route(token.secret.encode(), callback)
        self._routes.setdefault(token.wait_id, []).append(route)
        return route

    def unregister(self, token: WebhookToken, route: _Route) -> None:
        """Remove this registration only; the token's other registrations keep their route."""
        routes = self._routes.get(token.wait_id, [])
        if route in routes:
            routes.remove(route)
        if not routes:
            self._routes.pop(token.wait_id, None)

    async def _handle(self, request: Request) -> tuple[int, str]:
        try:
            target = webhook_target(request.method, request.path)
        except WebhookRefused as refused:
            return refused.status, refused.text
        if target is None:
            return 200, "ok"
        wait_id, secret = target
        given = unquote(secret).encode()
        # compare_digest runs in constant time for the secret; an unknown id costs the same work.
        # One wait id may carry several secrets (two connections' event streams of the same name).
        routes = [r for r in self._routes.get(wait_id) or [_UNKNOWN] if hmac.compare_digest(r.secret, given)]
        if not routes or routes[0] is _UNKNOWN:
            self._unknown.add()
            return 404, "no such wait"
        try:
            payload = parse_payload(request.body)
        except WebhookPayloadError as err:
            log.warning("Malformed webhook for wait %s...: %s", wait_id[:8], err)
            return 400, str(err)
        incr("webhook.received")
        for route in routes:
            route.callback(payload)
        return 204, ""


_listeners: dict[tuple[str, int], tuple[WebhookListener, int]] = {}
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _the_lock() -> asyncio.Lock:
    """The lock of the running event loop (a lock used across loops would raise)."""
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def confirmation_slot() -> asyncio.Semaphore:
    """The running event loop's limit on confirming GETs (:data:`CONFIRMATIONS_AT_ONCE`)."""
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(CONFIRMATIONS_AT_ONCE)
    return slots


@asynccontextmanager
async def listening(bind: tuple[str, int]) -> AsyncIterator[WebhookListener]:
    """
    The process's listener on ``bind``, started by its first user and stopped when the last leaves.

    :raises OSError: when the address cannot be bound (the caller falls back to polling).
    """
    lock = _the_lock()
    async with lock:
        listener, users = _listeners.get(bind, (None, 0))
        if listener is None:
            listener = WebhookListener(*bind)
            await listener.start()
        _listeners[bind] = (listener, users + 1)
    try:
        yield listener
    finally:
        async with lock:
            listener, users = _listeners[bind]
            if users <= 1:
                del _listeners[bind]
                await listener.stop()
            else:
                _listeners[bind] = (listener, users - 1)
