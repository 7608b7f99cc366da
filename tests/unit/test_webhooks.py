"""Webhook tokens and payloads, and the webhook settings: pure logic."""

from __future__ import annotations

import json

import pytest

from airflow_provider_vimmerse import _config as config
from airflow_provider_vimmerse._webhooks import WebhookPayloadError, WebhookToken, parse_payload
from airflow_provider_vimmerse.exceptions import VimmerseConfigurationError, VimmerseInvalidParameterError


def test_wait_tokens_are_unguessable_without_the_key_and_derivable_with_it():
    first, second = WebhookToken.for_wait("key"), WebhookToken.for_wait("key")
    assert first != second and len(first.secret) >= 32
    assert WebhookToken.for_wait("key", first.wait_id) == first  # only the wait id needs storing
    assert WebhookToken.for_wait("other key", first.wait_id).secret != first.secret
    assert first.secret not in repr(first) and first.wait_id not in first.secret
    assert (
        first.url("https://h.example.com/") == f"https://h.example.com/vimmerse/webhook/{first.wait_id}/{first.secret}"
    )


def test_event_tokens_are_derived_from_the_key_and_the_name():
    assert WebhookToken.for_events("key", "a") == WebhookToken.for_events("key", "a")
    assert WebhookToken.for_events("key", "a").secret != WebhookToken.for_events("other", "a").secret
    assert WebhookToken.for_events("key", "a").secret != WebhookToken.for_events("key", "b").secret


@pytest.mark.parametrize("wait_id", ["bad id", "a/b", "x" * 129])
def test_malformed_wait_ids_are_refused(wait_id):
    with pytest.raises(ValueError):
        WebhookToken.for_wait("key", wait_id)


def test_the_services_payload_is_read():
    body = json.dumps({"customer_id": 42, "batch_id": "6f0c-1", "status": "success"}).encode()
    assert parse_payload(body) == {"batch_id": "6f0c-1", "status": "success", "customer_id": "42"}


@pytest.mark.parametrize("key", ["story_id", "id"])
def test_a_v2_payload_naming_the_story_otherwise_is_read_too(key):
    body = json.dumps({key: "6f0c-1", "status": "success"}).encode()
    assert parse_payload(body)["batch_id"] == "6f0c-1"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"status": "success"}',
        b'{"batch_id": 7, "status": "success"}',
        b'{"batch_id": "a/b", "status": "success"}',
        b'{"batch_id": "s1"}',
        b'{"batch_id": "s1", "status": ""}',
        b"\xff\xfe",
    ],
)
def test_anything_else_is_refused(body):
    with pytest.raises(WebhookPayloadError):
        parse_payload(body)


def test_webhook_settings(monkeypatch):
    monkeypatch.delenv("AIRFLOW__VIMMERSE__WEBHOOK_BIND", raising=False)
    monkeypatch.delenv("AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL", raising=False)
    assert config.webhook_bind() is None and config.webhook_public_url() == ""
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_BIND", "0.0.0.0:8790")
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL", "https://hooks.example.com/")
    assert config.webhook_bind() == ("0.0.0.0", 8790)
    assert config.webhook_public_url() == "https://hooks.example.com"
    assert config.webhook_fallback_poll_interval() == 600


@pytest.mark.parametrize("value", ["8790", "host:", "host:http", "host:70000"])
def test_a_bad_bind_names_the_option(monkeypatch, value):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_BIND", value)
    with pytest.raises(VimmerseConfigurationError, match="webhook_bind"):
        config.webhook_bind()


def test_a_bad_public_url_names_the_option(monkeypatch):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL", "hooks.example.com")
    with pytest.raises(VimmerseInvalidParameterError, match="webhook_public_url"):
        config.webhook_public_url()


def test_a_new_wait_id_names_its_connection_so_any_receiver_can_check_the_secret():
    from airflow_provider_vimmerse._webhooks import conn_id_of

    token = WebhookToken.for_wait("key", conn_id="vimmerse_prod")
    assert conn_id_of(token.wait_id) == "vimmerse_prod"
    assert WebhookToken.for_wait("key", token.wait_id) == token
    assert conn_id_of(WebhookToken.for_wait("key", conn_id="has space").wait_id) is None  # not in a URL path
    assert conn_id_of(WebhookToken.for_wait("key").wait_id) is None
