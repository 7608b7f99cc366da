"""The sandbox's Story API over real HTTP, as the published OpenAPI document describes it."""

from __future__ import annotations

import io
import json
import time
import uuid

import pytest
import requests
from PIL import Image
from sandbox_helpers import (
    API_KEY,
    HEADERS,
    TEST_SPEED,
    FileHost,
    Reply,
    audio_peak,
    first_frame_mean,
    post,
    post_json,
    probe,
    stats,
    wait,
)

from vimmerse_sandbox.pipeline import SandboxConfig
from vimmerse_sandbox.server import SandboxServer


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), colour).save(out, format="PNG")
    return out.getvalue()


def test_health_needs_no_key(sandbox):
    assert requests.get(f"{sandbox.url}/health", timeout=5).json() == {"data": {"status": "ok"}}


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}])
def test_requests_without_the_key_are_refused(sandbox, headers):
    response = requests.get(f"{sandbox.url}/story/{uuid.uuid4()}", headers=headers, timeout=5)
    assert response.status_code == 401 and response.json()["message"] == "UNAUTHORIZED"


def test_idea_to_video_renders_a_playable_story(sandbox):
    created = post_json(
        sandbox, "/story/idea-2-video", {"idea": "Cute animals play musical instruments", "title": "Band"}
    )
    assert created.status_code == 200
    data = created.json()["data"]
    assert data["status"] == "new" and data["video_url"] == "" and data["title"] == "Band"
    story = wait(sandbox, data["id"])
    assert story["status"] == "success" and story["progress_percentage"] == 100
    board = story["storyboard"]
    assert len(board["scenes"]) == 3 and board["characters"] and board["music"]["music_url"]
    assert all(s["image_url"] and s["narration_url"] for s in board["scenes"])
    assert len(story["scenes"]) == 3 and len(story["medias"]) == 3 and story["failed_medias"] == []
    assert story["used_credits"] > 0 and story["created_at"].count(" ") == 1
    video = requests.get(story["video_url"], timeout=30).content
    info = probe(video)
    assert (info["video_codec"], info["audio_codec"]) == ("h264", "aac")
    assert info["size"] == (640, 360)
    assert info["duration"] >= 3 * 5 - 1  # 3 scenes x 5 s, narration may stretch a scene
    assert audio_peak(video) > 2000  # narration and music, not silence


@pytest.mark.parametrize("path", ["/story/idea-2-video", "/story/url-2-video", "/story/images-2-video"])
def test_auto_modes_take_json_only(sandbox, path):
    response = post(sandbox, path, {"idea": "x", "image_urls": "http://a/1.png"})
    assert response.status_code == 422
    assert stats(sandbox)["stories_created"] == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/story/idea-2-video", {"idea": "x", "image_tool": "FluxKontextMax"}, "image_tool"),
        ("/story/idea-2-video", {"idea": "x", "video_tool": "Sora"}, "video_tool"),
        ("/story/idea-2-video", {"idea": "x", "scene_duration": 7}, "scene_duration"),
        ("/story/idea-2-video", {"idea": "x", "language": "Klingon"}, "language"),
        ("/story/idea-2-video", {"idea": "x", "scene_count": 0}, "scene_count"),
        ("/story/idea-2-video", {"scene_count": 2}, "idea"),
        ("/story/images-2-video", {"image_urls": []}, "image_urls"),
        ("/story/url-2-video", {"idea": "https://a/p", "aspect_ratio": "2:1"}, "aspect_ratio"),
    ],
)
def test_auto_mode_values_are_checked_like_the_service(sandbox, path, body, field):
    response = post_json(sandbox, path, body)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field


def test_older_form_names_are_not_read(sandbox):
    # The document's auto modes have no narrator, option or duration: like the service, they are ignored.
    data = post_json(
        sandbox, "/story/idea-2-video", {"idea": "A paper boat", "scene_count": 1, "narrator": "HAL", "duration": 99}
    ).json()["data"]
    assert wait(sandbox, data["id"])["status"] == "success"


def test_aspect_ratio_and_scene_duration_shape_the_video(sandbox):
    body = {
        "idea": "A paper boat",
        "scene_count": 2,
        "aspect_ratio": "9:16",
        "scene_duration": 10,
        "audio_option": {"has_narration": False},
    }
    story = wait(sandbox, post_json(sandbox, "/story/idea-2-video", body).json()["data"]["id"])
    info = probe(requests.get(story["video_url"], timeout=30).content)
    assert info["size"] == (360, 640)
    assert abs(info["duration"] - 20) <= 1


def test_audio_option_switches_narration_and_music_off(sandbox):
    body = {"idea": "A quiet film", "scene_count": 1, "audio_option": {"has_narration": False, "has_bg_music": False}}
    story = wait(sandbox, post_json(sandbox, "/story/idea-2-video", body).json()["data"]["id"])
    assert not story["storyboard"]["scenes"][0].get("narration_url") and not story["storyboard"]["music"].get(
        "music_url"
    )
    assert audio_peak(requests.get(story["video_url"], timeout=30).content) < 50
    native = post_json(sandbox, "/story/idea-2-video", {"idea": "x", "audio_option": {"native_audio": True}}).json()[
        "data"
    ]
    assert native["audio_option"]["has_narration"] is False  # native audio turns narration off, as documented


def test_language_picks_the_voice(sandbox):
    from vimmerse_sandbox.speech import voice_for

    assert voice_for("Rachel", "French")[0].startswith("fr") and voice_for("Rachel", "English")[0].startswith("en")
    story = wait(
        sandbox,
        post_json(sandbox, "/story/idea-2-video", {"idea": "Un chat", "scene_count": 1, "language": "French"}).json()[
            "data"
        ]["id"],
    )
    assert story["language"] == "French" and story["storyboard"]["scenes"][0]["narration_url"]


def test_url_to_video_builds_the_story_from_the_page(sandbox):
    page = """<html><head><title>Acme Rocket Skates</title></head><body>
        <h1>Acme Rocket Skates</h1><p>Go faster than ever. Built for the desert.</p><img src="/hero.png">
        <h2>Safety first</h2><p>Every pair has brakes.</p></body></html>"""
    with FileHost() as host:
        host.routes["/skates"] = Reply(body=page, headers={"Content-Type": "text/html"})
        host.routes["/hero.png"] = Reply(body=_png((20, 200, 40)), headers={"Content-Type": "image/png"})
        body = {"idea": f"{host.url}/skates Make it bold.", "scene_count": 2}
        story = wait(sandbox, post_json(sandbox, "/story/url-2-video", body).json()["data"]["id"])
        fetched = [path for _, path, _ in host.requests]
    assert story["status"] == "success", story["message"]
    scenes = story["storyboard"]["scenes"]
    assert [s["name"] for s in scenes] == ["Scene 1: Acme Rocket Skates", "Scene 2: Safety first"]
    assert scenes[0]["narrator"] == "Go faster than ever." and scenes[0]["image_url"] == f"{host.url}/hero.png"
    assert "/skates" in fetched and "/hero.png" in fetched
    red, green, _ = first_frame_mean(requests.get(story["medias"][0]["video_url"], timeout=30).content)
    assert green > 150 and red < 80


def test_images_to_video_uses_the_images_as_scenes(sandbox):
    with FileHost() as host:
        host.routes["/red.png"] = Reply(body=_png((220, 30, 30)), headers={"Content-Type": "image/png"})
        host.routes["/blue.png"] = Reply(body=_png((30, 30, 220)), headers={"Content-Type": "image/png"})
        urls = [f"{host.url}/red.png", f"{host.url}/blue.png"]
        story = wait(
            sandbox,
            post_json(sandbox, "/story/images-2-video", {"image_urls": urls, "idea": "Red. Then blue."}).json()["data"][
                "id"
            ],
        )
    assert [s["image_url"] for s in story["storyboard"]["scenes"]] == urls
    means = [first_frame_mean(requests.get(m["video_url"], timeout=30).content) for m in story["medias"]]
    assert means[0][0] > 150 and means[1][2] > 150


def test_advanced_steps_fill_the_story(sandbox):
    data = post(
        sandbox, "/story", files=[("idea", (None, "A bunny finds honey in the forest")), ("scene_count", (None, "2"))]
    ).json()["data"]
    story = wait(sandbox, data["id"])
    assert story["status"] == "success" and len(story["storyboard"]["scenes"]) == 2 and story["video_url"] == ""
    credits = [story["used_credits"]]

    board = story["storyboard"]
    board["characters"][0]["name"] = "Clover"
    assert post(sandbox, f"/story/{data['id']}/elements", {"storyboard": json.dumps(board)}).status_code == 200
    story = wait(sandbox, data["id"])
    assert story["storyboard"]["characters"][0]["name"] == "Clover"
    assert all(e["image_url"] for e in story["storyboard"]["characters"])
    credits.append(story["used_credits"])

    assert (
        post(sandbox, f"/story/{data['id']}/scenes", {"audio_option": json.dumps({"narrator": "Brian"})}).status_code
        == 200
    )
    story = wait(sandbox, data["id"])
    assert [s["image_url"] for s in story["scenes"]] == [s["image_url"] for s in story["storyboard"]["scenes"]]
    credits.append(story["used_credits"])

    assert (
        post(
            sandbox, f"/story/{data['id']}/videos", {"duration": 2, "motion_type": "KlingT4", "is_transition": "true"}
        ).status_code
        == 200
    )
    story = wait(sandbox, data["id"], video=True)
    assert len(story["medias"]) == 2 and story["video_url"].endswith("story_v1.mp4")
    credits.append(story["used_credits"])

    assert post(sandbox, f"/story/{data['id']}/concat").json() == {}
    story = wait(sandbox, data["id"], video=True)
    assert story["video_url"].endswith("story_v2.mp4")
    credits.append(story["used_credits"])
    assert credits == sorted(credits) and len(set(credits)) == 5


def test_step_values_are_checked_like_the_service(sandbox):
    story_id = str(uuid.uuid4())
    for path, form, field in [
        (f"/story/{story_id}/elements", {"option": "FluxKontextMax"}, "option"),
        (f"/story/{story_id}/scenes", {"option": "Flux1.1Pro"}, "option"),
        (f"/story/{story_id}/videos", {"motion_type": "Kling2"}, "motion_type"),
        (f"/story/{story_id}/videos", {"duration": "11"}, "duration"),
        (f"/story/{story_id}/videos", {"is_transition": "Maybe"}, "is_transition"),
    ]:
        response = post(sandbox, path, form)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field, (path, form)


def test_create_storyboard_from_uploaded_images(sandbox):
    files = [
        ("idea", (None, "Two colours")),
        ("image_files", ("red.png", _png((220, 30, 30)), "image/png")),
        ("image_files", ("blue.png", _png((30, 30, 220)), "image/png")),
    ]
    story = wait(sandbox, post(sandbox, "/story", files=files).json()["data"]["id"])
    scenes = story["storyboard"]["scenes"]
    assert len(scenes) == 2 and all("/files/" in s["image_url"] for s in scenes)
    assert requests.get(scenes[0]["image_url"], timeout=10).content == _png((220, 30, 30))


def test_user_images_and_music_are_used(sandbox):
    from test_storyboard import wav_bytes

    with FileHost() as files:
        files.routes["/red.png"] = files.routes["/rex.png"] = Reply(
            body=_png((220, 30, 30)), headers={"Content-Type": "image/png"}
        )
        files.routes["/music.wav"] = Reply(body=wav_bytes(), headers={"Content-Type": "audio/wav"})
        board = {
            "characters": [{"name": "Rex", "description": "a robot", "image_url": f"{files.url}/rex.png"}],
            "environments": [],
            "objects": [],
            "scenes": [
                {
                    "name": "Red room",
                    "image_url": f"{files.url}/red.png",
                    "video_description": "camera motion:pan left",
                    "narrator": "A red room.",
                }
            ],
            "music": {"description": "supplied", "music_url": f"{files.url}/music.wav"},
        }
        data = post(sandbox, "/story", files=[("idea", (None, "Own images"))]).json()["data"]
        wait(sandbox, data["id"])
        post(sandbox, f"/story/{data['id']}/scenes", {"storyboard": json.dumps(board)})
        wait(sandbox, data["id"])
        post(sandbox, f"/story/{data['id']}/videos", {"duration": 1})
        story = wait(sandbox, data["id"], video=True)
        fetched = {path for _, path, _ in files.requests}
    assert story["status"] == "success"
    assert {"/red.png", "/music.wav"} <= fetched
    for url in (story["medias"][0]["video_url"], story["video_url"]):
        red, green, blue = first_frame_mean(requests.get(url, timeout=30).content)
        assert red > 180 and green < 70 and blue < 70


def test_concat_honours_video_and_audio_urls(sandbox):
    story = wait(
        sandbox, post_json(sandbox, "/story/idea-2-video", {"idea": "Two clips", "scene_count": 2}).json()["data"]["id"]
    )
    clip_urls = [m["video_url"] for m in story["medias"]]
    music_url = story["storyboard"]["music"]["music_url"]
    response = post(
        sandbox,
        f"/story/{story['id']}/concat",
        [("concat_video_urls", clip_urls[0]), ("concat_video_urls", clip_urls[0]), ("audio_urls", music_url)],
    )
    assert response.status_code == 200 and response.json() == {}
    story = wait(sandbox, story["id"], video=True)
    info = probe(requests.get(story["video_url"], timeout=30).content)
    assert abs(info["duration"] - 2 * story["medias"][0]["duration"]) < 0.3


def test_documented_errors(sandbox):
    assert requests.get(f"{sandbox.url}/story/not-a-uuid", headers=HEADERS, timeout=5).json() == {
        "message": "BAD_REQUEST",
        "detail": "Invalid story ID format",
    }
    missing = post(sandbox, f"/story/{uuid.uuid4()}/scenes")
    assert missing.status_code == 404 and missing.json() == {"message": "NOT_FOUND"}
    assert post(sandbox, "/story", files=[("idea", (None, "   "))]).json()["message"] == "BAD_REQUEST"
    data = post(sandbox, "/story", files=[("idea", (None, "x"))]).json()["data"]
    wait(sandbox, data["id"])
    bad_board = post(sandbox, f"/story/{data['id']}/scenes", {"storyboard": "{not json"})
    assert bad_board.status_code == 400 and bad_board.json()["message"] == "BAD_REQUEST"
    assert stats(sandbox)["stories_created"] == 1


def test_402_creates_nothing(sandbox):
    requests.put(f"{sandbox.url}/_sandbox/credits", json={"credits": 5}, headers=HEADERS, timeout=5)
    response = post_json(sandbox, "/story/idea-2-video", {"idea": "Costly"})
    assert response.status_code == 402 and response.json() == {"message": "INSUFFICIENT_CREDIT"}
    assert stats(sandbox)["stories_created"] == 0 and stats(sandbox)["credits"] == 5


def test_update_and_delete(sandbox):
    data = post(sandbox, "/story", files=[("idea", (None, "x"))]).json()["data"]
    form = {"title": "New", "visibility_status": "2", "additional_videos": json.dumps(["https://v.example/1.mp4"])}
    updated = requests.put(f"{sandbox.url}/story/{data['id']}", data=form, headers=HEADERS, timeout=5).json()["data"]
    assert (updated["title"], updated["visibility_status"], updated["additional_videos"]) == (
        "New",
        "2",
        ["https://v.example/1.mp4"],
    )
    bad = requests.put(f"{sandbox.url}/story/{data['id']}", data={"visibility_status": "3"}, headers=HEADERS, timeout=5)
    assert bad.status_code == 422
    deleted = requests.delete(f"{sandbox.url}/story/{data['id']}", headers=HEADERS, timeout=5)
    assert deleted.status_code == 200 and deleted.json() == {}
    assert requests.get(f"{sandbox.url}/story/{data['id']}", headers=HEADERS, timeout=5).status_code == 404


def test_update_while_processing_is_not_lost(tmp_path):
    with SandboxServer(SandboxConfig(data_dir=tmp_path / "data", api_key=API_KEY, speed=20)) as server:
        data = post(server, "/story", files=[("idea", (None, "Renamed mid-flight"))]).json()["data"]
        requests.put(f"{server.url}/story/{data['id']}", data={"title": "New"}, headers=HEADERS, timeout=5)
        assert wait(server, data["id"])["title"] == "New"


def test_files_support_range_requests(sandbox):
    story = wait(
        sandbox, post_json(sandbox, "/story/idea-2-video", {"idea": "Ranges", "scene_count": 1}).json()["data"]["id"]
    )
    full = requests.get(story["video_url"], timeout=10)
    assert int(full.headers["Content-Length"]) == len(full.content)
    part = requests.get(story["video_url"], headers={"Range": "bytes=100-"}, timeout=10)
    assert part.status_code == 206 and part.content == full.content[100:]
    head = requests.head(story["video_url"], timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) == len(full.content) and head.headers["Content-Type"] == "video/mp4"


def test_step_order_is_as_lenient_as_documented(sandbox):
    """docs/sandbox.md: videos straight after the storyboard is accepted, and videos twice is a new version."""
    story_id = post(sandbox, "/story", files=[("idea", (None, "A fox opens a bakery"))]).json()["data"]["id"]
    wait(sandbox, story_id)
    assert post(sandbox, f"/story/{story_id}/videos", {"duration": 1}).status_code == 200
    first = wait(sandbox, story_id, video=True)
    assert post(sandbox, f"/story/{story_id}/videos", {"duration": 1}).status_code == 200
    second = wait(sandbox, story_id, video=True)
    assert first["video_url"].endswith("story_v1.mp4") and second["video_url"].endswith("story_v2.mp4")
    assert second["used_credits"] > first["used_credits"]


def _delivered(target: FileHost, timeout: float = 10) -> list:
    deadline = time.monotonic() + timeout
    while not target.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    return target.requests


def test_webhook_is_delivered(sandbox):
    with FileHost() as target:
        target.default = Reply(body={"ok": True})
        data = post_json(
            sandbox, "/story/idea-2-video", {"idea": "Webhooks", "scene_count": 1, "webhook_url": f"{target.url}/hook"}
        ).json()["data"]
        wait(sandbox, data["id"])
        (_, path, body), *_ = _delivered(target)
    assert path == "/hook"
    assert json.loads(body) == {"customer_id": "sandbox-customer", "batch_id": data["id"], "status": "success"}
    assert stats(sandbox)["webhooks_delivered"] == 1


def test_restart_mid_story_resumes_to_a_terminal_state(tmp_path):
    first = SandboxServer(SandboxConfig(data_dir=tmp_path / "data", api_key=API_KEY, speed=2))
    first.start()
    try:
        data = post_json(first, "/story/idea-2-video", {"idea": "Interrupted", "scene_count": 2}).json()["data"]
        deadline = time.monotonic() + 10
        while wait_status(first, data["id"]) != "processing" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert wait_status(first, data["id"]) == "processing"
    finally:
        first.stop()
    with SandboxServer(
        SandboxConfig(data_dir=tmp_path / "data", api_key=API_KEY, speed=TEST_SPEED), port=first.port
    ) as second:
        story = wait(second, data["id"], video=True)
        assert story["status"] == "success" and story["video_url"]
        assert stats(second)["stories_created"] == 1


def wait_status(server, story_id: str) -> str:
    return requests.get(f"{server.url}/story/{story_id}", headers=HEADERS, timeout=5).json()["data"]["status"]
