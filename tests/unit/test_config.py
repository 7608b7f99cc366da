"""The ``[vimmerse]`` configuration section: declared in the provider info, read by operators and the sensor."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse import _config as config
from airflow_provider_vimmerse.exceptions import VimmerseConfigurationError
from airflow_provider_vimmerse.get_provider_info import get_provider_info
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator
from airflow_provider_vimmerse.sensors.story import VimmerseStorySensor


def test_the_section_is_declared_in_the_provider_info():
    options = get_provider_info()["config"]["vimmerse"]["options"]
    assert float(options["poll_interval"]["default"]) == config.DEFAULT_POLL_INTERVAL


def test_operators_and_the_sensor_take_the_configured_poll_interval(monkeypatch):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__POLL_INTERVAL", "7")
    assert VimmerseIdeaToVideoOperator(task_id="idea", idea="a fox").poll_interval == 7
    assert VimmerseStorySensor(task_id="sensor", story_id="s").poke_interval == 7
    # A DAG's own value wins over the deployment's.
    assert VimmerseIdeaToVideoOperator(task_id="own", idea="a fox", poll_interval=3).poll_interval == 3


def test_the_default_applies_when_nothing_is_configured(monkeypatch):
    monkeypatch.delenv("AIRFLOW__VIMMERSE__POLL_INTERVAL", raising=False)
    assert VimmerseIdeaToVideoOperator(task_id="idea", idea="a fox").poll_interval == 30


@pytest.mark.parametrize("value", ["0.5", "soon", "nan"])
def test_a_bad_configured_value_names_the_option(monkeypatch, value):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__POLL_INTERVAL", value)
    with pytest.raises(VimmerseConfigurationError, match=r"\[vimmerse\] poll_interval.*>= 1, e\.g\. 10"):
        VimmerseIdeaToVideoOperator(task_id="idea", idea="a fox")


@pytest.mark.parametrize("value", ["10m", "0", "-5"])
def test_a_bad_fallback_interval_fails_before_anything_is_paid(monkeypatch, value):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_FALLBACK_POLL_INTERVAL", value)
    with pytest.raises(VimmerseConfigurationError, match=r"webhook_fallback_poll_interval.*e\.g\. 600"):
        config.webhook_fallback_poll_interval()


@pytest.mark.parametrize("value", ["8790", "host:", "host:99999", ":80x"])
def test_a_bad_bind_address_names_the_option_and_an_example(monkeypatch, value):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_BIND", value)
    with pytest.raises(VimmerseConfigurationError, match=r"webhook_bind.*e\.g\. 0\.0\.0\.0:8790"):
        config.webhook_bind()
