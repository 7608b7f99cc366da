"""Errors built from responses: the right class, the service's code and detail, never the whole body."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from airflow_provider_vimmerse import exceptions as exc
from airflow_provider_vimmerse.exceptions import _error_for_status, _parse_retry_after


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, exc.VimmerseApiError),
        (401, exc.VimmerseApiError),
        (402, exc.VimmerseInsufficientCreditError),
        (403, exc.VimmerseApiError),
        (404, exc.VimmerseNotFoundError),
        (422, exc.VimmerseApiError),
        (429, exc.VimmerseUnavailableError),
        (500, exc.VimmerseUnavailableError),
        (503, exc.VimmerseUnavailableError),
        (418, exc.VimmerseApiError),
    ],
)
def test_every_status_maps_to_its_error(status, cls):
    error = _error_for_status(status, b'{"message": "CODE"}', method="GET", path="/story/x")
    assert type(error) is cls and error.status_code == status
    assert error.code == "CODE"  # of 401/403 bodies, only the machine code is read
    assert "GET /story/x" in str(error) and str(status) in str(error)


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        (
            b'{"message": "Not enough credits to create this story", "code": "INSUFFICIENT_CREDIT"}',
            "INSUFFICIENT_CREDIT",
            "Not enough credits",
        ),
        (b'{"message": "INSUFFICIENT_CREDIT"}', "INSUFFICIENT_CREDIT", "INSUFFICIENT_CREDIT"),
        (b'{"message": "You are out of credits"}', None, "You are out of credits"),
        (b'{"detail": "Payment required"}', None, "Payment required"),
    ],
    ids=["v2", "legacy", "prose-only", "detail-text"],
)
def test_the_machine_code_and_the_prose_are_both_kept(body, code, says):
    error = _error_for_status(402, body, method="POST", path="/v2/story/idea-2-video")
    assert type(error) is exc.VimmerseInsufficientCreditError
    assert error.code == code and says in str(error)


def test_a_v2_validation_error_keeps_its_code():
    body = b'{"message": "scene_duration: Input should be 5 or 10", "code": "VALIDATION_ERROR"}'
    error = _error_for_status(422, body, method="POST", path="/v2/story/idea-2-video")
    assert type(error) is exc.VimmerseApiError
    assert error.code == "VALIDATION_ERROR" and "scene_duration: Input should be 5 or 10" in str(error)


@pytest.mark.parametrize(
    ("status", "retried"),
    [(400, False), (401, False), (402, False), (403, False), (404, False), (422, False), (429, True), (500, True)],
)
def test_errors_a_retry_cannot_fix_fail_the_task_at_once(status, retried, monkeypatch):
    from airflow.providers.common.compat.sdk import AirflowFailException

    monkeypatch.setattr(exc, "_in_task", lambda: True)
    error = _error_for_status(status, b"{}", method="GET", path="/story/x")
    assert isinstance(error, AirflowFailException) is not retried
    assert ("not retried" in str(error)) is not retried


def test_the_key_is_redacted_from_what_the_answer_says():
    echoed = b"<html>Bad gateway. Your request headers: X-Api-Key: vmk-SECRET-1</html>"
    error = _error_for_status(502, echoed, method="GET", path="/story/x", secret="vmk-SECRET-1")
    assert "vmk-SECRET-1" not in str(error) and "***" in str(error)
    detail = b'{"detail": [{"loc": ["header", "x-api-key"], "msg": "bad key vmk-SECRET-1"}]}'
    error = _error_for_status(422, detail, method="GET", path="/story/x", secret="vmk-SECRET-1")
    assert "vmk-SECRET-1" not in str(error) + str(error.detail)


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_bodies_are_not_quoted(status):
    error = _error_for_status(status, b'{"message": "denied for key vmk-SECRET-2"}', method="GET", path="/story/x")
    assert "vmk" not in str(error) and "Check the connection's API key" in str(error) and error.code is None
    body = b'{"message": "Invalid API key vmk-SECRET-2", "code": "UNAUTHORIZED"}'
    error = _error_for_status(status, body, method="GET", path="/v2/story/x", secret="vmk-SECRET-2")
    assert error.code == "UNAUTHORIZED" and "vmk" not in str(error) and "Invalid API key" not in str(error)


def test_422_detail_names_the_field():
    body = b'{"detail": [{"loc": ["body", "duration"], "msg": "Input should be less than or equal to 10"}]}'
    error = _error_for_status(422, body, method="POST", path="/story")
    assert error.detail[0]["loc"] == ["body", "duration"]
    assert "duration: Input should be less than or equal to 10" in str(error)


def test_400_keeps_the_code_and_shows_the_explanation():
    error = _error_for_status(
        400, b'{"message": "BAD_REQUEST", "detail": "Invalid story ID format"}', method="GET", path="/story/x"
    )
    assert error.code == "BAD_REQUEST"
    assert "Invalid story ID format" in str(error)


def test_402_says_nothing_was_created():
    assert "Nothing was created" in str(
        _error_for_status(402, b'{"message": "INSUFFICIENT_CREDIT"}', method="POST", path="/story")
    )


def test_a_long_non_json_body_is_summarised():
    error = _error_for_status(502, b"<html>" + b"x" * 5000 + b"</html>", method="GET", path="/story/x")
    assert len(str(error)) < 250


def test_retry_after_seconds_and_http_date():
    assert _parse_retry_after("7") == 7
    assert _parse_retry_after(None) is None and _parse_retry_after("soon") is None
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 25 <= _parse_retry_after(format_datetime(when, usegmt=True)) <= 31
    assert _error_for_status(429, b"{}", method="GET", path="/x", retry_after="3").retry_after == 3


def _error_classes() -> list[type]:
    return [
        value
        for name, value in vars(exc).items()
        if isinstance(value, type) and issubclass(value, exc.VimmerseError) and value.__module__ == exc.__name__
    ]


def test_a_few_classes_each_with_one_retry_rule():
    from airflow.providers.common.compat.sdk import AirflowFailException

    classes = _error_classes()
    assert len(classes) <= 10
    retried = {cls.__name__ for cls in classes if not issubclass(cls, AirflowFailException)}
    assert retried == {"VimmerseError", "VimmerseUnavailableError", "VimmerseStoryFailedError", "VimmerseWaitError"}
    for cls in classes:
        rule = "Not retried" if issubclass(cls, AirflowFailException) else "Retried"
        assert cls is exc.VimmerseError or rule in (cls.__doc__ or ""), cls


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("VimmerseAuthenticationError", exc.VimmerseApiError),
        ("VimmerseServerError", exc.VimmerseUnavailableError),
        ("VimmerseWaitTimeoutError", exc.VimmerseWaitError),
        ("VimmerseStoryNotFoundError", exc.VimmerseNotFoundError),
    ],
)
def test_the_older_names_still_import_with_a_warning(old, new):
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated"):
        assert getattr(exc, old) is new


def test_a_not_retried_error_says_so_in_a_task_and_a_retried_one_does_not(monkeypatch):
    refused = exc.VimmerseApiError("GET /x answered HTTP 400.", status_code=400)
    assert "retried" not in str(refused)  # a plain script: there is no task to retry
    monkeypatch.setattr(exc, "_in_task", lambda: True)
    assert str(refused).endswith("The task was not retried: a retry cannot fix this.")
    assert "retry" not in str(exc.VimmerseUnavailableError("GET /x answered HTTP 503.", status_code=503))


def test_a_timed_out_wait_is_marked_as_such():
    error = exc.VimmerseWaitError.timeout("s1", 30, progress=40)
    assert error.timed_out and error.story_id == "s1" and "within 30s (last progress 40%)" in str(error)


def test_outside_a_task_a_missing_connection_says_what_works(monkeypatch):
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

    monkeypatch.delenv("AIRFLOW_CONN_NOPE", raising=False)
    with pytest.raises(exc.VimmerseConfigurationError) as missing:
        VimmerseHook("nope").get_story("00000000-0000-4000-8000-000000000000")
    said = str(missing.value)
    assert "AIRFLOW_CONN_NOPE" in said and "inside a task" in said and "not retried" not in said
