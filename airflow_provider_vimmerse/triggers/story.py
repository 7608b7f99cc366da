"""
The triggers: one waits for a story to finish (deferrable operators and the sensor), by polling
or, when the triggerer listens for Vimmerse webhooks, woken by the story's webhook with a slow
poll as the safety net; the other fires an event for every story that finishes (``AssetWatcher``).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

from airflow_provider_vimmerse import _config as config
from airflow_provider_vimmerse._metrics import gauge, incr
from airflow_provider_vimmerse._polling import (
    DEFAULT_MAX_POLL_ERRORS,
    DEFAULT_POLL_INTERVAL,
    POLL_ERRORS,
    PollState,
    decide,
    error_event,
    event,
    log_progress,
    polling_floor,
)
from airflow_provider_vimmerse._webhooks import WebhookToken
from airflow_provider_vimmerse.exceptions import (
    VimmerseConfigurationError,
    VimmerseError,
    VimmerseInvalidParameterError,
)
from airflow_provider_vimmerse.hooks._transport import DEFAULT_CONN_ID
from airflow_provider_vimmerse.models import VimmerseStory
from airflow_provider_vimmerse.triggers._listener import WebhookSignal, confirmation_slot, listening
from airflow_provider_vimmerse.triggers._relay import relaying

if TYPE_CHECKING:
    from airflow_provider_vimmerse.hooks.vimmerse_async import VimmerseAsyncHook

__all__ = ["VimmerseStoryEventTrigger", "VimmerseStoryTrigger"]


def _async_hook(conn_id: str) -> VimmerseAsyncHook:
    # Imported here, not at the top: an AssetWatcher builds this module's event trigger while its
    # DAG file is parsed, and aiohttp is most of what parsing it would otherwise import.
    from airflow_provider_vimmerse.hooks.vimmerse_async import VimmerseAsyncHook

    return VimmerseAsyncHook(conn_id)


class VimmerseStoryTrigger(BaseTrigger):
    """
    Poll ``GET /story/{id}`` until the wait is over (see :func:`~airflow_provider_vimmerse._polling.decide`).

    Yields exactly one event (see :func:`~airflow_provider_vimmerse._polling.event`). One aiohttp
    session serves every poll, and the connection is looked up asynchronously, so the
    triggerer's event loop never blocks.

    :param story_id: the story to wait for.
    :param end_time: absolute deadline, seconds since the epoch (``None``: no deadline); it survives
        triggerer restarts.
    :param vimmerse_conn_id: the ``vimmerse`` connection.
    :param poll_interval: seconds between polls.
    :param max_poll_errors: consecutive failed polls (each after the hook's own retries) tolerated
        before the wait ends with an ``error`` event.
    :param needs_video: the wait ends in ``success`` only once the story has a ``video_url``.
    :param not_found_grace: seconds during which a 404 is read as the service's lag for a story
        just created (0: a 404 ends the wait with a ``not_found`` event).
    :param webhook_wait_id: the wait id in the ``webhook_url`` the story was created with (its
        secret is derived from the API key, never stored): when this triggerer listens for
        webhooks, the wait sleeps until the webhook arrives, confirms it with one ``GET``, and polls
        only every ``fallback_poll_interval`` seconds in case the webhook is lost.
    :param fallback_poll_interval: the safety-net poll of a wait expecting a webhook (default
        ``[vimmerse] webhook_fallback_poll_interval``, 600 s).

    Every wait reads the story once as soon as it has registered for its webhook, whatever its age:
    a story that finished before the trigger started (a fast story, a triggerer restart or
    failover) sent its webhook to nobody, and must not wait for the fallback poll.
    """

    def __init__(
        self,
        story_id: str,
        end_time: float | None,
        vimmerse_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_errors: int = DEFAULT_MAX_POLL_ERRORS,
        needs_video: bool = False,
        not_found_grace: float = 0.0,
        webhook_wait_id: str | None = None,
        fallback_poll_interval: float | None = None,
    ) -> None:
        super().__init__()
        self.story_id = story_id
        self.end_time = end_time
        self.vimmerse_conn_id = vimmerse_conn_id
        # The operators' floor, wherever a wait is driven: a zero interval would poll without pause.
        self.poll_interval = polling_floor(self.log, "poll_interval", poll_interval)
        self.max_poll_errors = max_poll_errors
        self.needs_video = needs_video
        self.not_found_grace = not_found_grace
        self.webhook_wait_id = webhook_wait_id
        self.fallback_poll_interval = (
            None
            if fallback_poll_interval is None
            else polling_floor(self.log, "fallback_poll_interval", fallback_poll_interval)
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "story_id": self.story_id,
                "end_time": self.end_time,
                "vimmerse_conn_id": self.vimmerse_conn_id,
                "poll_interval": self.poll_interval,
                "max_poll_errors": self.max_poll_errors,
                "needs_video": self.needs_video,
                "not_found_grace": self.not_found_grace,
                "webhook_wait_id": self.webhook_wait_id,
                "fallback_poll_interval": self.fallback_poll_interval,
            },
        )

    @asynccontextmanager
    async def _webhook(self, hook: VimmerseAsyncHook) -> AsyncIterator[WebhookSignal | None]:
        """
        This wait's webhook signal, or None when it polls. A webhook reaches it through this
        triggerer's listener (``webhook_bind``) or, from the api-server's receiver, through the relay
        (``webhook_relay``, on by default).
        """
        if not self.webhook_wait_id:
            yield None
            return
        try:
            bind, relayed = config.webhook_bind(), config.webhook_relay()
        except VimmerseConfigurationError as err:
            self.log.error("%s Polling story %s every %g s instead.", err, self.story_id, self.poll_interval)
            yield None
            return
        if bind is None and not relayed:
            self.log.warning(
                "Story %s expects a webhook, but this triggerer neither listens ([vimmerse] webhook_bind) nor "
                "reads relayed webhooks ([vimmerse] webhook_relay): polling every %g s instead.",
                self.story_id,
                self.poll_interval,
            )
            yield None
            return
        # Not registered with the log masker: nothing in the triggerer logs a wait's secret (the listener
        # logs 8 characters of the wait id), and each registration makes every later log line's
        # redaction slower, which a triggerer with thousands of waits pays on every line.
        token = WebhookToken.for_wait(hook.api_key, self.webhook_wait_id)
        signal = WebhookSignal()
        async with AsyncExitStack() as stack:
            if bind is not None:
                try:
                    listener = await stack.enter_async_context(listening(bind))
                except OSError as err:  # only the listener's start: errors of the wait itself pass through
                    # Webhooks meant for this listener would reach no one: poll, relay or not.
                    self.log.error(
                        "No webhook listener on %s:%d (%s): polling story %s instead.", *bind, err, self.story_id
                    )
                    yield None
                    return
                else:
                    route = listener.register(token, signal.notify)
                    stack.callback(listener.unregister, token, route)
            if relayed:
                reader = await stack.enter_async_context(relaying())
                reader.register(token.wait_id, signal.notify)
                stack.callback(reader.unregister, token.wait_id, signal.notify)
            yield signal

    async def _sleep(self, signal: WebhookSignal | None, pause: float) -> bool:
        """Sleep ``pause`` seconds, or until this wait's webhook; True when the webhook woke it."""
        if signal is None:
            await asyncio.sleep(pause)
            return False
        return await signal.wait(pause)

    def _fallback(self, now: float) -> float:
        fallback = self.fallback_poll_interval or config.webhook_fallback_poll_interval()
        return fallback if self.end_time is None else max(0.0, min(fallback, self.end_time - now))

    def _pause(self, decision: Any, signal: WebhookSignal | None, now: float) -> float:
        """How long to sleep: the decision's pause, or the slow fallback while a webhook is expected."""
        state = decision.state
        if signal is None or state.errors or state.video_wait_started is not None:
            return decision.sleep
        return self._fallback(now)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        state = PollState()
        try:
            # The webhook is registered before the first GET: one that arrives in between still counts.
            async with (
                _async_hook(self.vimmerse_conn_id) as hook,
                self._webhook(hook) as signal,
                _counted("webhook" if signal else "poll"),
            ):
                woken, first = False, True
                while True:
                    result: VimmerseStory | Exception
                    try:
                        async with confirmation_slot() if woken else nullcontext():
                            result = await hook.get_story(self.story_id)
                    except POLL_ERRORS as err:
                        incr("poll_errors")
                        self.log.warning(
                            "Polling story %s failed (%d/%d): %s",
                            self.story_id,
                            state.errors + 1,
                            self.max_poll_errors,
                            err,
                        )
                        result = err
                    now = time.time()
                    decision = decide(
                        result,
                        state,
                        now=now,
                        deadline=self.end_time,
                        poll_interval=self.poll_interval,
                        max_poll_errors=self.max_poll_errors,
                        needs_video=self.needs_video,
                        story_id=self.story_id,
                        not_found_grace=self.not_found_grace,
                    )
                    log_progress(self.log, self.story_id, decision, " (read after its webhook)" if woken else "")
                    if decision.done:
                        if signal is not None and not first:
                            incr("webhook.confirmed" if woken else "webhook.fallback_wakeups")
                        yield TriggerEvent(event(decision, self.story_id))
                        return
                    first = False
                    if woken:
                        incr("webhook.contradicted")
                        self.log.warning(
                            "story %s: a webhook arrived, but the story is %s: waiting on (a webhook is only a hint).",
                            self.story_id,
                            "{} {}%".format(*decision.state.progress) if decision.state.progress else "unreadable",
                        )
                    state = decision.state
                    woken = await self._sleep(signal, self._pause(decision, signal, now))
        except Exception as err:  # a rejected key, an unknown story, a broken connection config
            progress = state.progress[1] if state.progress else None
            yield TriggerEvent(error_event(self.story_id, err, progress))


_waits = {"webhook": 0, "poll": 0}


@asynccontextmanager
async def _counted(mode: str) -> AsyncIterator[None]:
    """Keep the ``vimmerse.waits.<mode>`` gauge: the waits this triggerer holds, by mode."""
    _waits[mode] += 1
    gauge(f"waits.{mode}", _waits[mode])
    try:
        yield
    finally:
        _waits[mode] -= 1
        gauge(f"waits.{mode}", _waits[mode])


#: Statuses a webhook event reports by default: the story is finished.
_FINISHED = ("success", "fail")
_REMEMBERED_STORIES = 10_000
#: An event stream confirms at most this many webhooks a second (one GET each), however many arrive.
_CONFIRMATIONS_PER_SECOND = 10.0
#: Story ids waiting to be confirmed, per stream; beyond it the oldest are dropped.
_MAX_PENDING = 10_000


class _Pending:
    """
    Webhooks waiting to be confirmed, one entry per story, newest first: a real webhook that
    arrives during a flood of made-up ids is confirmed next, not after the flood.
    """

    def __init__(self) -> None:
        self._items: OrderedDict[str, str] = OrderedDict()
        self._ready = asyncio.Event()
        self.last_get = 0.0

    def add(self, payload: dict[str, str]) -> None:
        self._items.pop(payload["batch_id"], None)
        self._items[payload["batch_id"]] = payload["status"]
        if len(self._items) > _MAX_PENDING:
            self._items.popitem(last=False)
        self._ready.set()

    async def next(self) -> tuple[str, str]:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popitem(last=True)


class VimmerseStoryEventTrigger(BaseEventTrigger):
    """
    Fire an event whenever a story finishes whose ``webhook_url`` is this trigger's URL, for
    event-driven scheduling: ``Asset(..., watchers=[AssetWatcher(name=..., trigger=VimmerseStoryEventTrigger())])``.

    The URL is ``VimmerseHook().events_webhook_url(name)``; give it as ``webhook_url`` to stories
    created anywhere (in Airflow or not). Each webhook is confirmed with one ``GET /story/{id}``
    before an event is fired, so a forged call fires nothing, and a burst of webhooks for one story
    fires one event. Needs the triggerer's webhook listener (``[vimmerse] webhook_bind``).

    Each event's payload: ``story_id``, ``status``, ``video_url``, ``title``, ``used_credits``.

    :param name: names this event stream (part of its URL); several watchers may use different names.
    :param vimmerse_conn_id: the ``vimmerse`` connection (its API key confirms webhooks and derives the URL).
    :param statuses: the story statuses that fire an event (default ``success`` and ``fail``).
    :param verify_webhook_url: fire only for a story that the API shows was created with this
        stream's URL (its ``webhook_url``), so a story made for another stream never fires here.
        Set False if your service's story answers do not show ``webhook_url``.

    Confirmations are limited to :data:`_CONFIRMATIONS_PER_SECOND` ``GET`` s a second per stream and
    taken newest first, so a flood of made-up story ids costs a bounded number of requests and
    does not hold back a real webhook. Events are at least once: the stories already fired are
    remembered in memory only, so a webhook replayed after a triggerer restart fires again.
    """

    def __init__(
        self,
        name: str = "default",
        vimmerse_conn_id: str = DEFAULT_CONN_ID,
        statuses: tuple[str, ...] | list[str] = _FINISHED,
        verify_webhook_url: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name):
            raise VimmerseInvalidParameterError("name", name, "1-100 letters, digits, '_', '.' or '-' (it is in a URL)")
        self.name = name
        self.vimmerse_conn_id = vimmerse_conn_id
        self.statuses = tuple(statuses)
        self.verify_webhook_url = verify_webhook_url

    def _sent_here(self, story: VimmerseStory, token: WebhookToken) -> bool:
        """Whether the story was created with this stream's URL, as far as the API shows it."""
        if not self.verify_webhook_url:
            return True
        submitted = story.raw.get("submit_params")
        shown = [story.raw.get("webhook_url"), submitted.get("webhook_url") if isinstance(submitted, dict) else None]
        suffix = f"/{token.wait_id}/{token.secret}"
        if any(isinstance(url, str) and url.rstrip("/").endswith(suffix) for url in shown):
            return True
        self.log.warning(
            "Story %s was not created with event stream %r's webhook_url: no event (verify_webhook_url=True).",
            story.id,
            self.name,
        )
        return False

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "name": self.name,
                "vimmerse_conn_id": self.vimmerse_conn_id,
                "statuses": list(self.statuses),
                "verify_webhook_url": self.verify_webhook_url,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            bind = config.webhook_bind()
        except VimmerseConfigurationError as err:
            self.log.error("VimmerseStoryEventTrigger %r cannot listen: %s", self.name, err)
            return
        if bind is None:
            self.log.error(
                "VimmerseStoryEventTrigger %r needs the webhook listener: set [vimmerse] webhook_bind.", self.name
            )
            return
        pending = _Pending()
        fired: OrderedDict[str, str] = OrderedDict()  # story id -> status an event was fired for
        async with _async_hook(self.vimmerse_conn_id) as hook, listening(bind) as listener:
            token = WebhookToken.for_events(hook.api_key, self.name).masked()
            route = listener.register(token, pending.add)
            try:
                while True:
                    story_id, status = await pending.next()
                    if fired.get(story_id) == status:
                        continue  # a repeated delivery of what already fired: no GET
                    await asyncio.sleep(max(0.0, pending.last_get + 1 / _CONFIRMATIONS_PER_SECOND - time.monotonic()))
                    pending.last_get = time.monotonic()
                    try:
                        story = await hook.get_story(story_id)
                    except VimmerseError as err:
                        self.log.warning("Webhook for story %s not confirmed: %s", story_id, err)
                        continue
                    status = story.status.value
                    if (
                        status not in self.statuses
                        or fired.get(story_id) == status
                        or not self._sent_here(story, token)
                    ):
                        continue
                    fired[story_id] = status
                    if len(fired) > _REMEMBERED_STORIES:
                        fired.popitem(last=False)
                    yield TriggerEvent(
                        {
                            "story_id": story.id,
                            "status": status,
                            "video_url": story.video_url,
                            "title": story.title,
                            "used_credits": story.used_credits,
                        }
                    )
            finally:
                listener.unregister(token, route)
