"""Every fault kind, observed from a client over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests
from sandbox_helpers import API_KEY, HEADERS, TEST_SPEED, FileHost, Reply, add_fault, post, post_json, stats, wait

from vimmerse_sandbox.pipeline import SandboxConfig
from vimmerse_sandbox.server import SandboxServer

MISSING = "00000000-0000-4000-8000-000000000000"


def _get(server, story_id=MISSING, timeout=10):
    return requests.get(f"{server.url}/story/{story_id}", headers=HEADERS, timeout=timeout)


def test_status_burst_then_recovery(sandbox):
    add_fault(sandbox, kind="status", status=503, endpoint="GET /story/*", count=2)
    assert [_get(sandbox).status_code for _ in range(3)] == [503, 503, 404]


def test_429_carries_retry_after(sandbox):
    add_fault(sandbox, kind="status", status=429, retry_after="7", endpoint="POST /story")
    response = post(sandbox, "/story", files=[("idea", (None, "x"))])
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert stats(sandbox)["stories_created"] == 0


def test_slow_response(sandbox):
    add_fault(sandbox, kind="slow", delay=0.6, endpoint="GET /story/{story_id}")
    assert _get(sandbox).status_code == 404  # handled, only late
    with pytest.raises(requests.ReadTimeout):
        add_fault(sandbox, kind="slow", delay=1.0, endpoint="POST /story")
        post(sandbox, "/story", files=[("idea", (None, "late"))], timeout=0.3)
    deadline = time.monotonic() + 5
    while stats(sandbox)["stories_created"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stats(sandbox)["stories_created"] == 1  # the create was handled although its answer never came
    with pytest.raises(requests.ReadTimeout):
        add_fault(sandbox, kind="slow", delay=1.0, endpoint="GET /story/{story_id}")
        _get(sandbox, timeout=0.3)


def test_connection_reset(sandbox):
    add_fault(sandbox, kind="reset", endpoint="GET /health")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sandbox.url}/health", timeout=5)
    assert requests.get(f"{sandbox.url}/health", timeout=5).status_code == 200


def test_truncated_body(sandbox):
    story = wait(
        sandbox, post_json(sandbox, "/story/idea-2-video", {"idea": "Cut", "scene_count": 1}).json()["data"]["id"]
    )
    add_fault(sandbox, kind="truncate", fraction=0.5, endpoint="GET /files/*")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _ = requests.get(story["video_url"], timeout=10).content


def test_story_failure_with_message(sandbox):
    add_fault(sandbox, kind="story_fail", message="GPU on fire")
    story = wait(
        sandbox, post_json(sandbox, "/story/idea-2-video", {"idea": "Doomed", "scene_count": 1}).json()["data"]["id"]
    )
    assert story["status"] == "fail" and story["message"] == "GPU on fire" and story["video_url"] == ""


def test_scene_failures_land_in_failed_medias(sandbox):
    add_fault(sandbox, kind="scene_fail", scenes=[2])
    story = wait(
        sandbox, post_json(sandbox, "/story/idea-2-video", {"idea": "Partly", "scene_count": 3}).json()["data"]["id"]
    )
    assert story["status"] == "success" and len(story["medias"]) == 2
    assert len(story["failed_medias"]) == 1 and "Scene 2" in story["failed_medias"][0]["message"]


def test_webhook_errors_are_retried(sandbox):
    add_fault(sandbox, kind="webhook_error", count=2)
    with FileHost() as target:
        target.default = Reply(body={})
        created = post_json(
            sandbox, "/story/idea-2-video", {"idea": "Hooked", "scene_count": 1, "webhook_url": f"{target.url}/cb"}
        )
        wait(sandbox, created.json()["data"]["id"])
        deadline = time.monotonic() + 10
        while not target.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(target.requests) == 1
    counters = stats(sandbox)
    assert counters["webhooks_failed"] == 2 and counters["webhooks_delivered"] == 1


def test_probability_and_listing(sandbox):
    add_fault(sandbox, kind="status", status=500, endpoint="GET /health", count=None, probability=0.0)
    assert requests.get(f"{sandbox.url}/health", timeout=5).status_code == 200
    faults = requests.get(f"{sandbox.url}/_sandbox/faults", headers=HEADERS, timeout=5).json()
    assert faults[0]["kind"] == "status" and faults[0]["fired"] == 0
    requests.delete(f"{sandbox.url}/_sandbox/faults", headers=HEADERS, timeout=5)
    assert requests.get(f"{sandbox.url}/_sandbox/faults", headers=HEADERS, timeout=5).json() == []
    bad = requests.post(f"{sandbox.url}/_sandbox/faults", json={"kind": "meteor"}, headers=HEADERS, timeout=5)
    assert bad.status_code == 422


def test_stats_count_requests_per_endpoint(sandbox):
    _get(sandbox, MISSING)
    _get(sandbox, "not-a-uuid")
    post(sandbox, "/story", files=[("idea", (None, "x"))])
    assert stats(sandbox)["requests"] == {"GET /story/{story_id}": 2, "POST /story": 1}


def test_stale_status_answers_a_step_with_the_previous_status(sandbox):
    story = wait(sandbox, post(sandbox, "/story", files=[("idea", (None, "Stale"))]).json()["data"]["id"])
    add_fault(sandbox, kind="stale_status")
    answer = post(sandbox, f"/story/{story['id']}/elements").json()["data"]
    assert answer["status"] == "success"  # what the previous step left
    assert _get(sandbox, story["id"]).json()["data"]["status"] in ("new", "processing", "success")


def test_late_video_says_success_before_the_video_url(sandbox):
    add_fault(sandbox, kind="late_video", delay=0.5)
    story_id = post_json(sandbox, "/story/idea-2-video", {"idea": "Late", "scene_count": 1}).json()["data"]["id"]
    early = wait(sandbox, story_id)
    assert early["status"] == "success" and early["video_url"] == ""
    assert wait(sandbox, story_id, video=True)["video_url"]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_handled_create_can_still_be_answered_with_an_error(sandbox, status):
    add_fault(sandbox, kind="status", status=status, handled=True, endpoint="POST /story/idea-2-video")
    response = post_json(sandbox, "/story/idea-2-video", {"idea": "Billed anyway", "scene_count": 1})
    assert response.status_code == status
    assert stats(sandbox)["stories_created"] == 1  # the story exists and was charged


def test_webhook_retries_zero_delivers_each_webhook_once(tmp_path):
    config = SandboxConfig(data_dir=tmp_path / "once", api_key=API_KEY, speed=TEST_SPEED, webhook_retries=0)
    with SandboxServer(config) as server, FileHost() as target:
        add_fault(server, kind="webhook_error", count=1)
        target.default = Reply(body={})
        created = post_json(
            server, "/story/idea-2-video", {"idea": "Once", "scene_count": 1, "webhook_url": f"{target.url}/cb"}
        )
        wait(server, created.json()["data"]["id"])
        deadline = time.monotonic() + 3
        while stats(server).get("webhooks_failed", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a retry would come within 2**0 / speed seconds
        assert target.requests == []
        counters = stats(server)
    assert counters["webhooks_failed"] == 1 and counters.get("webhooks_delivered", 0) == 0
