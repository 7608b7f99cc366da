"""The api-server's webhook receiver: what it answers, and what it relays (Airflow calls stubbed)."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_vimmerse._webhooks import WebhookToken
from airflow_provider_vimmerse.plugins.webhooks import VimmerseWebhookPlugin, _Receiver

BODY = b'{"batch_id": "s1", "status": "success"}'


class FakeWriter:
    def __init__(self, fail=False):
        self.fail, self.recorded = fail, []

    def list_self(self):
        pass

    def record(self, wait_id, payload):
        if self.fail:
            raise ConnectionError("database down")
        self.recorded.append((wait_id, payload))


@pytest.fixture
def receiver(monkeypatch):
    receiver = _Receiver()
    receiver._writer = FakeWriter()
    monkeypatch.setattr(receiver, "_key", lambda conn_id: "the-key" if conn_id == "vimmerse_default" else None)
    return receiver


def _post(receiver, token, body=BODY, method="POST"):
    path = token if isinstance(token, str) else token.url("")
    return asyncio.run(receiver.handle(method, path, body))


def test_a_webhook_with_the_right_secret_is_relayed(receiver):
    token = WebhookToken.for_wait("the-key", conn_id="vimmerse_default")
    assert _post(receiver, token) == (202, "relayed")
    assert receiver._writer.recorded == [(token.wait_id, {"batch_id": "s1", "status": "success", "customer_id": ""})]


@pytest.mark.parametrize(
    "token",
    [
        WebhookToken.for_wait("another-key", conn_id="vimmerse_default"),  # a forged secret
        WebhookToken.for_wait("the-key", conn_id="unknown_conn"),  # a connection this Airflow lacks
        WebhookToken.for_wait("the-key"),  # a wait id naming no connection
    ],
)
def test_webhooks_nothing_here_can_check_are_404_and_not_relayed(receiver, token):
    assert _post(receiver, token)[0] == 404
    assert receiver._writer.recorded == []


def test_malformed_calls_and_the_health_route(receiver):
    token = WebhookToken.for_wait("the-key", conn_id="vimmerse_default")
    assert _post(receiver, token, body=b"[]")[0] == 400
    assert _post(receiver, token, method="GET")[0] == 405
    assert _post(receiver, "/vimmerse/webhook/health", method="GET") == (200, "ok")
    assert _post(receiver, "/vimmerse/other", method="GET")[0] == 404


def test_a_database_outage_answers_503_so_the_sender_retries(receiver):
    receiver._writer = FakeWriter(fail=True)
    assert _post(receiver, WebhookToken.for_wait("the-key", conn_id="vimmerse_default"))[0] == 503


def test_the_plugin_mounts_the_receiver_under_vimmerse():
    (app,) = VimmerseWebhookPlugin.fastapi_apps
    assert app["url_prefix"] == "/vimmerse" and callable(app["app"])
