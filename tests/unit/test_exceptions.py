"""Errors built from responses: the right class, the service's code and detail, never the whole body."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from airflow_provider_vimmerse import exceptions as exc
from airflow_provider_vimmerse.exceptions import error_for_status, parse_retry_after


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, exc.VimmerseBadRequestError),
        (401, exc.VimmerseAuthenticationError),
        (402, exc.VimmerseInsufficientCreditError),
        (403, exc.VimmerseAuthenticationError),
        (404, exc.VimmerseNotFoundError),
        (422, exc.VimmerseUnprocessableError),
        (429, exc.VimmerseRateLimitedError),
        (500, exc.VimmerseServerError),
        (503, exc.VimmerseServerError),
        (418, exc.VimmerseApiError),
    ],
)
def test_every_status_maps_to_its_error(status, cls):
    error = error_for_status(status, b'{"message": "CODE"}', method="GET", path="/story/x")
    assert type(error) is cls and error.status_code == status and error.code == "CODE"
    assert "GET /story/x" in str(error) and str(status) in str(error)


def test_422_detail_names_the_field():
    body = b'{"detail": [{"loc": ["body", "duration"], "msg": "Input should be less than or equal to 10"}]}'
    error = error_for_status(422, body, method="POST", path="/story")
    assert error.detail[0]["loc"] == ["body", "duration"]
    assert "duration: Input should be less than or equal to 10" in str(error)


def test_400_keeps_the_code_and_shows_the_explanation():
    error = error_for_status(
        400, b'{"message": "BAD_REQUEST", "detail": "Invalid story ID format"}', method="GET", path="/story/x"
    )
    assert error.code == "BAD_REQUEST"
    assert "Invalid story ID format" in str(error)


def test_402_says_nothing_was_created():
    assert "Nothing was created" in str(
        error_for_status(402, b'{"message": "INSUFFICIENT_CREDIT"}', method="POST", path="/story")
    )


def test_a_long_non_json_body_is_summarised():
    error = error_for_status(502, b"<html>" + b"x" * 5000 + b"</html>", method="GET", path="/story/x")
    assert len(str(error)) < 250


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("7") == 7
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 25 <= parse_retry_after(format_datetime(when, usegmt=True)) <= 31
    assert error_for_status(429, b"{}", method="GET", path="/x", retry_after="3").retry_after == 3
