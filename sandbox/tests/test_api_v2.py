"""
The sandbox's Story v2 API over real HTTP, as the service's v2 reference describes it: ``/v2``
paths, JSON for every request (a form is a 422), the story object itself on success, and
``{"message", "code"}`` for every error.
"""

from __future__ import annotations

import pytest
import requests
from sandbox_helpers import API_KEY, HEADERS, TEST_SPEED, post, stats

from vimmerse_sandbox.pipeline import SandboxConfig
from vimmerse_sandbox.server import SandboxServer

MISSING = "00000000-0000-4000-8000-000000000000"


def v2(server, method: str, path: str, body=None, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}/v2{path}", json=body, headers=HEADERS, timeout=30, **kwargs)


def wait_v2(server, story_id: str, *, video: bool = False) -> dict:
    import time

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        story = v2(server, "GET", f"/story/{story_id}").json()
        if story["status"] == "fail" or (story["status"] == "success" and (story["video_url"] or not video)):
            return story
        time.sleep(0.05)
    raise AssertionError(f"story {story_id} did not finish")


def test_an_automatic_mode_answers_the_story_itself(sandbox):
    answer = v2(sandbox, "POST", "/story/idea-2-video", {"idea": "A fox bakes bread", "scene_count": 1})
    assert answer.status_code == 200
    story = answer.json()
    assert "data" not in story and story["status"] == "new" and story["id"]
    done = wait_v2(sandbox, story["id"], video=True)
    assert done["video_url"] and done["used_credits"] > 0


def test_every_step_takes_json_and_answers_flat(sandbox):
    created = v2(sandbox, "POST", "/story", {"idea": "A heron opens a tea house", "scene_count": 1}).json()
    board = wait_v2(sandbox, created["id"])["storyboard"]
    assert set(board) >= {"characters", "environments", "objects", "scenes"}
    for step, body in (
        ("elements", {"storyboard": board, "aspect_ratio": "1:1"}),
        ("scenes", {"audio_option": {"narrator": "Aria"}}),
        ("videos", {"duration": 1, "title": "Tea"}),
        ("concat", {}),
    ):
        answer = v2(sandbox, "POST", f"/story/{created['id']}/{step}", body)
        assert answer.status_code == 200 and answer.json()["id"] == created["id"], (step, answer.text)
        wait_v2(sandbox, created["id"], video=step in ("videos", "concat"))
    updated = v2(sandbox, "PUT", f"/story/{created['id']}", {"title": "T", "additional_videos": ["https://v/1.mp4"]})
    assert updated.json()["title"] == "T" and updated.json()["additional_videos"] == ["https://v/1.mp4"]
    assert v2(sandbox, "DELETE", f"/story/{created['id']}").status_code == 200
    assert v2(sandbox, "GET", f"/story/{created['id']}").status_code == 404


@pytest.mark.parametrize(
    "path", ["/story/idea-2-video", "/story", f"/story/{MISSING}/elements", f"/story/{MISSING}/videos"]
)
def test_a_form_is_refused_with_422_in_v2s_error_shape(sandbox, path):
    answer = requests.post(f"{sandbox.url}/v2{path}", data={"idea": "x"}, headers=HEADERS, timeout=10)
    assert answer.status_code == 422
    assert set(answer.json()) == {"message", "code"} and answer.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (lambda s: v2(s, "GET", f"/story/{MISSING}"), 404, "NOT_FOUND"),
        (lambda s: v2(s, "GET", "/story/not-a-uuid"), 400, "BAD_REQUEST"),
        (lambda s: requests.get(f"{s.url}/v2/story/{MISSING}", headers={"X-Api-Key": "wrong"}, timeout=5), 401,
         "UNAUTHORIZED"),
        (lambda s: v2(s, "POST", "/story/idea-2-video", {"idea": "x", "scene_duration": 7}), 422, "VALIDATION_ERROR"),
        (lambda s: v2(s, "POST", f"/story/{MISSING}/elements", {"storyboard": {"scenes": [{"name": "a"}]}}), 404,
         "NOT_FOUND"),
    ],
    ids=["404", "400", "401", "422", "step-404"],
)  # fmt: skip
def test_errors_are_message_and_code(sandbox, call, status, code):
    answer = call(sandbox)
    assert answer.status_code == status
    body = answer.json()
    assert set(body) == {"message", "code"} and body["code"] == code and body["message"]


def test_a_step_storyboard_must_carry_all_four_lists(sandbox):
    created = v2(sandbox, "POST", "/story", {"idea": "A girl and her dog explore a cave", "scene_count": 1}).json()
    board = wait_v2(sandbox, created["id"])["storyboard"]
    partial = {"scenes": board["scenes"]}
    answer = v2(sandbox, "POST", f"/story/{created['id']}/elements", {"storyboard": partial})
    assert answer.status_code == 400 and "characters" in answer.json()["message"]


def test_legacy_answers_are_still_wrapped(sandbox):
    story = v2(sandbox, "POST", "/story/idea-2-video", {"idea": "A whale sings", "scene_count": 1}).json()
    legacy = requests.get(f"{sandbox.url}/story/{story['id']}", headers=HEADERS, timeout=5).json()
    assert legacy["data"]["id"] == story["id"]
    assert requests.get(f"{sandbox.url}/story/{MISSING}", headers=HEADERS, timeout=5).json() == {"message": "NOT_FOUND"}


@pytest.mark.parametrize(("served", "refused"), [(("v2",), ""), (("legacy",), "/v2")])
def test_only_the_named_versions_are_served(tmp_path, served, refused):
    config = SandboxConfig(data_dir=tmp_path / "data", api_key=API_KEY, speed=TEST_SPEED, api_versions=served)
    with SandboxServer(config) as server:
        kept = "/v2" if refused == "" else ""
        assert requests.get(f"{server.url}{kept}/story/{MISSING}", headers=HEADERS, timeout=5).status_code == 404
        gone = requests.post(f"{server.url}{refused}/story/idea-2-video", json={"idea": "x"}, headers=HEADERS)
        assert gone.status_code in (404, 405) and stats(server)["stories_created"] == 0


def test_requests_are_counted_by_version(sandbox):
    v2(sandbox, "GET", f"/story/{MISSING}")
    post(sandbox, f"/story/{MISSING}/elements", {})
    counted = stats(sandbox)["requests"]
    assert counted["GET /v2/story/{story_id}"] == 1 and counted["POST /story/{story_id}/elements"] == 1
