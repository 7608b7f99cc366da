"""
Fault injection: what goes wrong, where, and how often.

A fault is scoped to an endpoint pattern (``"POST /story/idea-2-video"``, ``"GET /story/*"``,
``"GET /files/*"``; shell-style, matched against both the concrete path and the route
template) and fires ``count`` times (``None``: always) with ``probability``.

Kinds, and what a client sees:

- ``status``: an error answer (``status``, default 500), with ``Retry-After`` when ``retry_after`` is set.
  With ``handled: true`` the request is handled first (a create creates and charges), and only
  the answer is replaced: the gateway-timeout case that must never bill twice.
- ``slow``: the request is handled, but its answer starts ``delay`` seconds late.
- ``reset``: the TCP connection is reset before any answer.
- ``truncate``: the body stops after ``fraction`` of it and the connection is dropped.
- ``story_fail``: the next story to run fails with ``message``.
- ``scene_fail``: scenes numbered in ``scenes`` (1-based) fail into ``failed_medias``.
- ``webhook_error``: the next webhook deliveries fail as if the target were down.
- ``stale_status``: the answer to a step on an existing story still shows the previous step's status.
- ``late_video``: a finished story says ``success`` ``delay`` seconds before its ``video_url`` appears.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = (
    "status",
    "slow",
    "reset",
    "truncate",
    "story_fail",
    "scene_fail",
    "webhook_error",
    "stale_status",
    "late_video",
)
HTTP_KINDS = ("status", "slow", "reset", "truncate")


@dataclass
class Fault:
    """One injected fault; see the module docstring for the kinds."""

    kind: str
    endpoint: str = "*"
    count: int | None = 1
    probability: float = 1.0
    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0
    fraction: float = 0.5
    message: str = "Injected failure"
    scenes: list[int] = field(default_factory=list)
    handled: bool = False
    id: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if not 0 <= self.probability <= 1:
            raise ValueError("probability must be between 0 and 1")

    def matches(self, *names: str) -> bool:
        return any(fnmatch.fnmatchcase(name, self.endpoint) for name in names)


class FaultBook:
    """The active faults; thread-safe, since HTTP handlers and render workers both consult it."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._random = random.Random(seed)

    def add(self, spec: dict[str, Any]) -> Fault:
        fault = Fault(**{k: v for k, v in spec.items() if k not in ("id", "fired")})
        with self._lock:
            fault.id = next(self._ids)
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    def take(self, kinds: tuple[str, ...], *names: str) -> Fault | None:
        """Fire the first matching fault of one of ``kinds``, if its count and probability allow."""
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or not fault.matches(*names):
                    continue
                if fault.count is not None and fault.fired >= fault.count:
                    continue
                if fault.probability < 1 and self._random.random() >= fault.probability:
                    continue
                fault.fired += 1
                return fault
        return None
