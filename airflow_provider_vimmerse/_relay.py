"""
Webhooks relayed through the metadata database, so that one received by the api-server wakes its
wait whichever triggerer runs it.

A receiver (each api-server process; triggerer listeners do not relay) checks a webhook's secret
with the key of the connection its wait id names, then appends ``[seq, at, wait_id, payload]`` to
its own Variable, ``vimmerse_webhook_relay.<receiver>``; one writer per Variable, so no update is
lost. Receivers list themselves in the directory Variable ``vimmerse_webhook_relay``. Each
triggerer holding webhook waits runs one reader that reads the directory every 2 s and every
receiver's Variable every 0.5 s, and wakes the waits it holds.
Only checked webhooks are written, and no secret is: a Variable opens nothing.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from typing import Any

#: The directory of receivers: ``{receiver: last seen (epoch s)}``.
DIRECTORY_KEY = "vimmerse_webhook_relay"
#: How long a relayed webhook is kept: a reader that missed it for longer relies on its fallback poll.
RETENTION_SECONDS = 600.0
#: Entries kept per receiver, newest last.
MAX_ENTRIES = 2000
#: A receiver not seen for this long is dropped from the directory.
RECEIVER_TTL_SECONDS = 86400.0


def receiver_name() -> str:
    """This process's receiver name: host and pid (one writer per Variable)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{socket.gethostname()}-{os.getpid()}")[:100]


def receiver_key(name: str) -> str:
    return f"{DIRECTORY_KEY}.{name}"


def load(text: Any) -> dict[str, Any]:
    """A Variable's JSON text (or nothing) as a dict; anything unreadable reads as empty."""
    if isinstance(text, dict):
        return text
    try:
        data = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def append(log: dict[str, Any], wait_id: str, payload: dict[str, str], now: float) -> dict[str, Any]:
    """``log`` with one more entry, entries older than the retention or beyond the cap dropped."""
    entries = [
        e for e in log.get("entries", []) if isinstance(e, list) and len(e) == 4 and e[1] >= now - RETENTION_SECONDS
    ]
    seq = int(log.get("seq", 0)) + 1
    entries.append([seq, now, wait_id, payload])
    return {"seq": seq, "entries": entries[-MAX_ENTRIES:]}


def entries_after(log: dict[str, Any], seq: int, since: float) -> list[tuple[int, str, dict[str, str]]]:
    """``(seq, wait_id, payload)`` of the entries after ``seq`` and not older than ``since``."""
    return [
        (e[0], e[2], e[3])
        for e in log.get("entries", [])
        if isinstance(e, list) and len(e) == 4 and e[0] > seq and e[1] >= since and isinstance(e[3], dict)
    ]


def _live(directory: dict[str, Any], now: float) -> dict[str, float]:
    return {k: v for k, v in directory.items() if isinstance(v, (int, float)) and v >= now - RECEIVER_TTL_SECONDS}


def with_receiver(directory: dict[str, Any], name: str, now: float) -> dict[str, Any]:
    """The directory with ``name`` seen now, and receivers unseen for a day dropped."""
    return {**_live(directory, now), name: now}


def active_receivers(directory: dict[str, Any], now: float) -> list[str]:
    return sorted(_live(directory, now))


def now() -> float:
    return time.time()


class RelayWriter:
    """
    One receiver's Variable. Webhooks arriving together are written in one batch: the first
    thread to get the write lock writes everything pending, the others find theirs written.

    :param get: reads a Variable's text (``None`` when unset).
    :param set_: writes a Variable's text.
    """

    #: Seconds between two refreshes of this receiver's directory entry.
    DIRECTORY_REFRESH = 60.0

    def __init__(self, get: Any, set_: Any, name: str | None = None) -> None:
        import threading

        self.name = name or receiver_name()
        self._get, self._set = get, set_
        self._log: dict[str, Any] = {}
        self._pending: list[tuple[int, str, dict[str, str]]] = []
        self._tickets = 0
        self._written = 0
        self._listed_at = float("-inf")
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()

    def list_self(self) -> None:
        """Be in the directory (at the first request, then once a minute), so readers find this receiver early."""
        moment = now()
        if moment - self._listed_at >= self.DIRECTORY_REFRESH:
            with self._write_lock:
                if not self._log:  # readers find this receiver's Variable as soon as its name
                    self._log = {"seq": 0, "entries": []}
                    self._set(receiver_key(self.name), json.dumps(self._log))
                self._set(DIRECTORY_KEY, json.dumps(with_receiver(load(self._get(DIRECTORY_KEY)), self.name, moment)))
                self._listed_at = moment

    def record(self, wait_id: str, payload: dict[str, str]) -> None:
        """Write one checked webhook (with any others pending). :raises Exception: when it could not be written."""
        with self._pending_lock:
            self._tickets += 1
            ticket = self._tickets
            self._pending.append((ticket, wait_id, payload))
        with self._write_lock:
            if self._written >= ticket:
                return
            with self._pending_lock:
                batch, self._pending = self._pending, []
            moment = now()
            log = self._log
            for _, pending_wait, pending_payload in batch:
                log = append(log, pending_wait, pending_payload, moment)
            try:
                self._set(receiver_key(self.name), json.dumps(log))
            except Exception:
                with self._pending_lock:  # kept for the next writer; this caller answers "retry later"
                    self._pending[:0] = batch
                raise
            self._log = log
            self._written = batch[-1][0]
        self.list_self()
