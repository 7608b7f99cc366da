"""Estimates against what the sandbox charges by the published pricing, and the daily statistics, over real HTTP."""

from __future__ import annotations

import datetime

import pytest

from airflow_provider_vimmerse.credits import estimate_credits
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import API_KEY, set_connection
from tests.integration.conftest import TEST_SPEED
from tests.integration.sandbox_process import SandboxProcess

NATIVE = {"native_audio": True}
IMAGES = ["https://img.example/1.png", "https://img.example/2.png"]
REQUESTS = [
    ("idea_to_video", {"idea": "A fox", "video_tool": "Vidu", "scene_count": 3}),
    ("idea_to_video", {"idea": "A fox", "video_tool": "Auto", "scene_count": 3}),
    ("idea_to_video", {"idea": "A fox", "video_tool": "AutoT1", "scene_count": 5, "audio_option": NATIVE}),
    ("images_to_video", {"image_urls": IMAGES, "scene_duration": 10}),
]


@pytest.fixture
def hook(tmp_path, monkeypatch):
    with SandboxProcess(
        tmp_path / "sandbox", api_key=API_KEY, speed=TEST_SPEED, extra_args=["--statistics-include-today"]
    ) as sandbox:
        set_connection(monkeypatch, sandbox.url)
        with VimmerseHook() as h:
            yield h


@pytest.mark.parametrize(("step", "arguments"), REQUESTS, ids=["vidu", "auto", "autot1-native", "images"])
def test_the_estimate_is_what_the_service_charges(hook, step, arguments):
    story = getattr(hook, step)(**arguments)
    assert story.used_credits == estimate_credits(step, **arguments)


def test_daily_statistics_show_what_was_charged(hook):
    hook.idea_to_video("A fox", video_tool="Vidu", scene_count=3)
    hook.idea_to_video("A heron", scene_count=1)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    (day,) = hook.customer_statistics(today, today.isoformat())
    assert day["date"] == today.isoformat() and day["used_credits"] == 75 + 50
    assert hook.customer_statistics("2020-01-01", "2020-01-31") == []
    with pytest.raises(VimmerseInvalidParameterError, match="end"):
        hook.customer_statistics(today, today - datetime.timedelta(days=1))
    with pytest.raises(VimmerseInvalidParameterError, match="start"):
        hook.customer_statistics("yesterday", today)
