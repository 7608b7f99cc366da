"""
Vimmerse webhook tokens and payloads: what an operator puts in a ``webhook_url``, and how a
webhook body is read. Light on purpose (operators import it at DAG parse time); the listener that
receives webhooks lives in :mod:`airflow_provider_vimmerse.triggers._listener`.

A webhook URL is ``<webhook_public_url>/vimmerse/webhook/<wait id>/<secret>``. A webhook is a hint,
never a result: the trigger confirms it with one ``GET /story/{id}``, so a forged or replayed call
can end no wait and change no outcome.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass

PATH_PREFIX = "/vimmerse/webhook"
#: ``GET`` here answers 200 while a receiver is up (for a load balancer's health check).
HEALTH_PATH = PATH_PREFIX + "/health"
#: How often a receiver logs the count of webhooks it refused as naming no wait it knows.
UNKNOWN_REPORT_SECONDS = 60.0
#: The service's payload is three short fields; anything much larger is not from it.
MAX_BODY_BYTES = 4096
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


@dataclass(frozen=True)
class WebhookToken:
    """
    The capability in a webhook URL: a public wait id, and a secret compared in constant time.

    The secret is derived from the API key and the wait id, so only the wait id is ever stored
    (in ``task_state_store`` and the trigger's arguments): nothing readable through Airflow's REST
    API or the metadata database opens a webhook.

    :param wait_id: names the registration (not secret; logged shortened).
    :param secret: unguessable without the API key; never logged.
    """

    wait_id: str
    secret: str

    @classmethod
    def for_wait(cls, api_key: str, wait_id: str | None = None, conn_id: str | None = None) -> WebhookToken:
        """
        The token of one wait: ``wait_id`` (a new random one when omitted) and its derived secret.

        :param conn_id: named in a new wait id (``<conn_id>.<random>``), so a receiver that is not
            the wait's triggerer (the api-server's) can check the secret with that connection's key.
        """
        if wait_id is None:
            wait_id = uuid.uuid4().hex
            if conn_id and _ID.match(f"{conn_id}.{wait_id}"):
                wait_id = f"{conn_id}.{wait_id}"
        if not _ID.match(wait_id):
            raise ValueError("a webhook wait id is 1-128 letters, digits, '.', '_' or '-'")
        return cls(wait_id, _derive(api_key, f"vimmerse-wait:{wait_id}"))

    @classmethod
    def for_events(cls, api_key: str, name: str) -> WebhookToken:
        """
        The token of the event trigger ``name``: derived from the API key, so it needs no storage,
        and whoever holds the key can compute the URL (``VimmerseHook.events_webhook_url``).
        """
        return cls(f"events-{name}", _derive(api_key, f"vimmerse-events:{name}"))

    def url(self, public_url: str) -> str:
        """The webhook URL Vimmerse is given."""
        return f"{public_url.rstrip('/')}{PATH_PREFIX}/{self.wait_id}/{self.secret}"

    def masked(self) -> WebhookToken:
        """This token, its secret registered with Airflow's log masker (so no log line shows it)."""
        try:
            from airflow.sdk.log import mask_secret
        except ImportError:  # pragma: no cover - every supported Airflow has it
            return self
        mask_secret(self.secret)
        return self

    def __repr__(self) -> str:  # the secret stays out of logs and tracebacks
        return f"WebhookToken({self.wait_id!r}, ...)"


def conn_id_of(wait_id: str) -> str | None:
    """The connection a wait id names (``<conn_id>.<random>``), or None for an id that names none."""
    conn_id, dot, _ = wait_id.rpartition(".")
    return conn_id if dot and conn_id else None


def _derive(api_key: str, purpose: str) -> str:
    return hmac.new(api_key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


class WebhookPayloadError(ValueError):
    """A webhook body that is not the service's ``{customer_id, batch_id, status}``."""


def parse_payload(body: bytes) -> dict[str, str]:
    """
    Read a webhook body strictly: a JSON object with a string ``batch_id`` (the story id) and
    ``status``; ``customer_id`` optional. v2's payload is not documented: ``story_id`` or ``id``
    are read as the story id when ``batch_id`` is absent.

    :raises WebhookPayloadError: naming what is wrong.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookPayloadError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookPayloadError("the body is not a JSON object")
    story_id = next((data[key] for key in ("batch_id", "story_id", "id") if data.get(key) is not None), None)
    status = data.get("status")
    if not isinstance(story_id, str) or not _ID.match(story_id):
        raise WebhookPayloadError("batch_id must be a story id")
    if not isinstance(status, str) or not 0 < len(status) <= 32:
        raise WebhookPayloadError("status must be a short string")
    customer = data.get("customer_id")
    return {"batch_id": story_id, "status": status, "customer_id": "" if customer is None else str(customer)[:128]}


class WebhookRefused(Exception):
    """A request a webhook receiver answers without looking further: ``status`` and ``text``."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def webhook_target(method: str, path: str) -> tuple[str, str] | None:
    """
    The ``(wait id, secret)`` a webhook request names, by the rules every receiver shares; None for
    a health check (answer 200).

    :raises WebhookRefused: 404 for any other path, 405 for a wrong method.
    """
    if path == HEALTH_PATH:
        if method in ("GET", "HEAD"):
            return None
        raise WebhookRefused(405, "GET only")
    wait_id, _, secret = path.removeprefix(PATH_PREFIX + "/").partition("/")
    if not path.startswith(PATH_PREFIX + "/") or not wait_id or not secret or "/" in secret:
        raise WebhookRefused(404, "not found")
    if method != "POST":
        raise WebhookRefused(405, "POST only")
    return wait_id, secret


class UnknownWebhooks:
    """
    Counts webhooks refused as naming no known wait, in the ``vimmerse.webhook.unknown`` metric and
    in one log line per :data:`UNKNOWN_REPORT_SECONDS` (a flood must not flood the log).

    :param what: how the log line names them.
    """

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._log, self._what = logger, what
        self._count = 0
        self._since = time.monotonic()

    def add(self) -> None:
        from airflow_provider_vimmerse._metrics import incr

        incr("webhook.unknown")
        self._count += 1
        self.report()

    def report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._count and (force or now - self._since >= UNKNOWN_REPORT_SECONDS):
            self._log.warning(
                "%d webhook(s) %s answered 404 in the last %.0f s.", self._count, self._what, now - self._since
            )
            self._count, self._since = 0, now
