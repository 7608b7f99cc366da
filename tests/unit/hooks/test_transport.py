"""Retry decisions, backoff, Retry-After, error mapping and connection settings: pure logic."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_vimmerse import exceptions as exc
from airflow_provider_vimmerse.hooks._transport import (
    DEFAULT_HOST,
    ConnectionSettings,
    Failure,
    RetryPolicy,
    next_retry,
)

POLICY = RetryPolicy(retry_limit=3, retry_delay=1.0, max_retry_delay=8.0)


@pytest.mark.parametrize(
    ("charges", "status", "failure", "retry"),
    [
        (False, 500, None, True),
        (False, 502, None, True),
        (False, 429, None, True),
        (False, None, Failure.TIMEOUT, True),
        (False, None, Failure.DISCONNECT, True),
        (True, None, Failure.CONNECT, True),
        (True, 429, None, True),
        (True, 503, None, True),
        (True, 500, None, False),
        (True, 504, None, False),
        (True, None, Failure.TIMEOUT, False),
        (True, None, Failure.DISCONNECT, False),
        (False, 400, None, False),
        (False, 402, None, False),
        (False, 404, None, False),
        (False, 422, None, False),
    ],
)
def test_should_retry(charges, status, failure, retry):
    assert POLICY.should_retry(0, charges=charges, status=status, failure=failure) is retry


def test_retries_stop_at_the_limit():
    assert POLICY.should_retry(2, charges=False, status=500)
    assert not POLICY.should_retry(3, charges=False, status=500)
    assert not RetryPolicy(retry_limit=0).should_retry(0, charges=False, status=500)


def test_backoff_grows_is_capped_and_never_undercuts_retry_after():
    for attempt in range(6):
        delay = POLICY.backoff(attempt)
        ceiling = min(8.0, 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert POLICY.backoff(0, retry_after=5) >= 5


def test_next_retry_raises_the_typed_error_when_no_retry_is_left():
    with pytest.raises(exc.VimmerseUnavailableError):
        next_retry(POLICY, 3, method="GET", path="/story/x", charges=False, status=500, body=b"{}")
    delay, why = next_retry(POLICY, 0, method="GET", path="/story/x", charges=False, status=502, body=b"{}")
    assert 0.5 <= delay <= 1 and "502" in why


def test_a_charged_request_that_may_have_arrived_is_never_retried():
    with pytest.raises(exc.VimmerseStoryMayExistError, match="may have reached"):
        next_retry(POLICY, 0, method="POST", path="/story", charges=True, failure=Failure.TIMEOUT, cause="ReadTimeout")


def test_retry_after_longer_than_the_cap_is_not_waited_for():
    with pytest.raises(exc.VimmerseUnavailableError):
        next_retry(POLICY, 0, method="GET", path="/story/x", charges=False, status=429, body=b"{}", retry_after="600")


def _conn(**kwargs):
    base = {"conn_id": "c", "host": "", "schema": None, "port": None, "password": "k", "extra_dejson": {}}
    return SimpleNamespace(**{**base, **kwargs})


def test_settings_defaults_to_the_live_host():
    settings = ConnectionSettings.from_connection(_conn())
    assert settings.base_url == DEFAULT_HOST and settings.timeout == 60 and settings.retry.retry_limit == 3


@pytest.mark.parametrize(
    ("host", "schema", "port", "url"),
    [
        ("http://127.0.0.1:8765/", None, None, "http://127.0.0.1:8765"),
        ("127.0.0.1", "http", 8765, "http://127.0.0.1:8765"),
        ("api.example.com", None, None, "https://api.example.com"),
        # The port field: stored for the UI's Test button; 0 is Airflow's UI for "empty".
        ("https://api.example.com", None, 443, "https://api.example.com"),
        ("http://127.0.0.1:8765", None, 8765, "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765", None, 0, "http://127.0.0.1:8765"),
        ("http://127.0.0.1/api", None, 8765, "http://127.0.0.1:8765/api"),
        ("", None, 443, DEFAULT_HOST),
    ],
)
def test_settings_build_the_base_url(host, schema, port, url):
    assert ConnectionSettings.from_connection(_conn(host=host, schema=schema, port=port)).base_url == url


def test_a_port_field_that_contradicts_the_url_is_a_configuration_error():
    with pytest.raises(exc.VimmerseConfigurationError, match=r"names port 8765 but the Port field says 9000"):
        ConnectionSettings.from_connection(_conn(host="http://127.0.0.1:8765", port=9000))


def test_settings_read_extras():
    extra = {
        "timeout": "5",
        "retry_limit": 0,
        "max_retry_delay": 2,
        "verify_ssl": "false",
        "story_url_template": "https://v/{story_id}",
    }
    settings = ConnectionSettings.from_connection(_conn(extra_dejson=extra))
    assert settings.timeout == 5 and settings.retry.retry_limit == 0 and settings.retry.max_retry_delay == 2
    assert settings.verify_ssl is False and settings.story_url_template == "https://v/{story_id}"


def test_missing_api_key_and_bad_extras_are_configuration_errors():
    with pytest.raises(exc.VimmerseConfigurationError, match="no API key"):
        ConnectionSettings.from_connection(_conn(password=None))
    with pytest.raises(exc.VimmerseConfigurationError, match="'timeout'"):
        ConnectionSettings.from_connection(_conn(extra_dejson={"timeout": "fast"}))


def test_key_goes_only_to_the_api_origin():
    settings = ConnectionSettings.from_connection(_conn(host="https://api.vimmerse.net"))
    assert settings.is_api_url("https://api.vimmerse.net/files/x.mp4")
    assert settings.is_api_url("https://api.vimmerse.net:443/x")
    assert not settings.is_api_url("https://cdn.vimmerse.net/x.mp4")
    assert not settings.is_api_url("http://api.vimmerse.net/x.mp4")
