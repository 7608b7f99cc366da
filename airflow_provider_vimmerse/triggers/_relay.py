"""
The triggerer's side of the webhook relay (:mod:`airflow_provider_vimmerse._relay`): one reader per
triggerer process, shared by every waiting trigger, reading each receiver's Variable once a second
and waking the waits this triggerer holds. Its cost does not grow with the number of waits.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from airflow_provider_vimmerse import _relay as relay
from airflow_provider_vimmerse._metrics import incr

#: Seconds between two reads of every receiver's Variable.
READ_INTERVAL = 0.5
#: Seconds between two reads of the receivers' directory (a receiver lists itself at its first request).
DIRECTORY_INTERVAL = 2.0
#: Seconds one Variable read may take (a triggerer's first one starts its in-process API: seconds).
READ_TIMEOUT = 60.0
#: At most one warning this often while the metadata database cannot be read.
ERROR_REPORT_SECONDS = 60.0

log = logging.getLogger(__name__)
Callback = Callable[[dict[str, str]], None]


async def _read_variable(key: str) -> str | None:
    """A Variable from the metadata database, through the triggerer's own async channel (no thread)."""
    from airflow.sdk.execution_time.secrets.execution_api import ExecutionAPISecretsBackend

    return await ExecutionAPISecretsBackend().aget_variable(key)


class RelayReader:
    """Reads relayed webhooks for the waits registered with it."""

    def __init__(self, read: Callable[[str], Any] = _read_variable) -> None:
        self._read = read
        self._routes: dict[str, list[Callback]] = {}
        self._seen: dict[str, int] = {}
        self._receivers: list[str] = []
        self._directory_at = float("-inf")
        self._started = relay.now()
        self._last_error = float("-inf")

    def register(self, wait_id: str, callback: Callback) -> None:
        self._routes.setdefault(wait_id, []).append(callback)

    def unregister(self, wait_id: str, callback: Callback) -> None:
        callbacks = self._routes.get(wait_id, [])
        if callback in callbacks:
            callbacks.remove(callback)
        if not callbacks:
            self._routes.pop(wait_id, None)

    async def _get(self, key: str) -> Any:
        # Bounded: a metadata call that never answers must not stop the reader for good.
        return await asyncio.wait_for(self._read(key), READ_TIMEOUT)

    async def read_once(self) -> int:
        """Read the receivers' Variables once; returns how many waits were woken."""
        now = relay.now()
        if now - self._directory_at >= DIRECTORY_INTERVAL:
            self._receivers = relay.active_receivers(relay.load(await self._get(relay.DIRECTORY_KEY)), now)
            self._directory_at = now
        woken = 0
        for receiver in self._receivers:
            entries = relay.load(await self._get(relay.receiver_key(receiver)))
            # Older webhooks are covered by each wait's first read of its story.
            for seq, wait_id, payload in relay.entries_after(entries, self._seen.get(receiver, 0), self._started - 5):
                self._seen[receiver] = max(seq, self._seen.get(receiver, 0))
                for callback in list(self._routes.get(wait_id, ())):
                    callback(payload)
                    woken += 1
        if woken:
            incr("webhook.relayed", woken)
        return woken

    async def run(self) -> None:
        while True:
            try:
                await self.read_once()
            except Exception as err:  # the fallback poll still ends every wait
                incr("webhook.relay_errors")
                now = relay.now()
                if now - self._last_error >= ERROR_REPORT_SECONDS:
                    self._last_error = now
                    log.warning(
                        "Reading relayed Vimmerse webhooks failed (%s); waits rely on their fallback poll.", err
                    )
            await asyncio.sleep(READ_INTERVAL)


_readers: dict[asyncio.AbstractEventLoop, tuple[RelayReader, asyncio.Task[None], int]] = {}
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def relaying() -> AsyncIterator[RelayReader]:
    """The event loop's reader, started by its first user and stopped when the last leaves."""
    loop = asyncio.get_running_loop()
    lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:
        reader, task, users = _readers.get(loop, (None, None, 0))
        if reader is None or task is None:
            reader = RelayReader()
            task = loop.create_task(reader.run())
        _readers[loop] = (reader, task, users + 1)
    try:
        yield reader
    finally:
        async with lock:
            reader, task, users = _readers[loop]
            if users <= 1:
                del _readers[loop]
                task.cancel()
            else:
                _readers[loop] = (reader, task, users - 1)
