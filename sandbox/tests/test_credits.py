"""The sandbox charges by the service's published pricing, keeps a ledger, and answers customer-statistics."""

from __future__ import annotations

import datetime

import pytest
import requests
from sandbox_helpers import API_KEY, HEADERS, TEST_SPEED, stats

from vimmerse_sandbox.pipeline import SandboxConfig
from vimmerse_sandbox.server import SandboxServer


def _create(server, **body) -> requests.Response:
    return requests.post(f"{server.url}/v2/story/idea-2-video", json={"idea": "A fox", **body}, headers=HEADERS)


@pytest.mark.parametrize(
    ("body", "credits"),
    [
        ({"video_tool": "Vidu", "scene_count": 3}, 75),
        ({"video_tool": "Auto", "scene_count": 3}, 150),
        ({"video_tool": "AutoT1", "scene_count": 5, "audio_option": {"native_audio": True}}, 250),
        ({"scene_count": 2, "scene_duration": 10}, 200),
    ],
    ids=["vidu-3x5", "auto-3x5", "autot1-5x5-native", "defaults-2x10"],
)
def test_an_automatic_mode_is_charged_by_the_published_table(sandbox, body, credits):
    before = stats(sandbox)["credits"]
    story = _create(sandbox, **body).json()
    assert story["used_credits"] == credits and before - stats(sandbox)["credits"] == credits


def test_out_of_credit_is_402_and_nothing_is_created_or_charged(sandbox):
    requests.put(f"{sandbox.url}/_sandbox/credits", json={"credits": 100}, headers=HEADERS, timeout=5)
    answer = _create(sandbox, scene_count=3)  # 150 credits
    assert answer.status_code == 402 and answer.json()["code"] == "INSUFFICIENT_CREDIT"
    assert stats(sandbox)["credits"] == 100 and stats(sandbox)["stories_created"] == 0


def test_customer_statistics_come_from_the_ledger(tmp_path):
    config = SandboxConfig(data_dir=tmp_path / "data", api_key=API_KEY, speed=TEST_SPEED, statistics_include_today=True)
    with SandboxServer(config) as server:
        _create(server, video_tool="Vidu", scene_count=3)
        _create(server, scene_count=1)
        today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
        url = f"{server.url}/customer-statistics/{today}/{today}"
        assert requests.get(url, headers=HEADERS, timeout=5).json() == [
            {"date": today, "used_credits": 75 + 50, "stories": 2}
        ]
        assert requests.get(f"{server.url}/customer-statistics/2020-01-01/2020-01-31", headers=HEADERS).json() == []
        assert requests.get(f"{server.url}/customer-statistics/yesterday/today", headers=HEADERS).status_code == 422


def test_today_is_not_available_by_default(sandbox):
    _create(sandbox, scene_count=1)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    answer = requests.get(f"{sandbox.url}/customer-statistics/{today}/{today}", headers=HEADERS, timeout=5)
    assert answer.status_code == 200 and answer.json() == []
