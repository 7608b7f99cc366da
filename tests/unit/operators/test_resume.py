"""How a deferred story operator resumes: event validation and typed errors (no story calls needed)."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_vimmerse.exceptions import (
    VimmerseUnavailableError,
    VimmerseWaitError,
)
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator


@pytest.fixture
def operator():
    return VimmerseIdeaToVideoOperator(task_id="t", idea="x", timeout=90)


@pytest.mark.parametrize("event", [None, {}, {"status": "weird", "story_id": "s"}, {"status": "success"}])
def test_malformed_event(operator, event):
    with pytest.raises(VimmerseWaitError):
        operator.execute_complete({}, event)


def test_error_event_is_a_polling_error_not_a_story_failure(operator):
    with pytest.raises(VimmerseUnavailableError, match="may still be running"):
        operator.execute_complete({}, {"status": "error", "story_id": "s1", "message": "HTTP 502"})


def test_timeout_event(operator):
    with pytest.raises(VimmerseWaitError, match=r"s1 did not finish within 90s \(last progress 40%\)"):
        operator.execute_complete({}, {"status": "timeout", "story_id": "s1", "progress": 40})


def test_on_kill_keeps_the_paid_story(operator, caplog, capfd):
    operator._story_id = "s1"
    with caplog.at_level(logging.WARNING):
        operator.on_kill()
    logged = caplog.text + capfd.readouterr().out
    assert "s1 keeps running" in logged and "not deleted" in logged


@pytest.mark.parametrize("destination", ["nosuchscheme-xyz://bucket/v.mp4", "ftp://host/v.mp4", "", "bad\0.mp4"])
def test_a_literal_destination_that_cannot_work_fails_when_the_dag_is_parsed(destination):
    from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError
    from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator

    with pytest.raises(VimmerseInvalidParameterError, match="destination"):
        VimmerseDownloadVideoOperator(task_id="d", story_id="s1", destination=destination)


def test_a_templated_destination_is_checked_when_rendered():
    from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator

    VimmerseDownloadVideoOperator(task_id="d", story_id="s1", destination="{{ params.base }}/v.mp4")
