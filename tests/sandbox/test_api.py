"""The sandbox's Story API over real HTTP: endpoints, errors, credits, media, webhooks, restarts."""

from __future__ import annotations

import io
import json

import pytest
import requests
from PIL import Image

from airflow_provider_vimmerse.sandbox.pipeline import SandboxConfig
from airflow_provider_vimmerse.sandbox.server import SandboxServer
from tests.conftest import API_KEY, TEST_SPEED, stats
from tests.recording_server import RecordingServer, Reply
from tests.sandbox.helpers import HEADERS, audio_peak, first_frame_mean, post, probe, wait


def test_health_needs_no_key(sandbox):
    assert requests.get(f"{sandbox.url}/health", timeout=5).json() == {"data": {"status": "ok"}}


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}])
def test_requests_without_the_key_are_refused(sandbox, headers):
    response = requests.get(f"{sandbox.url}/story/whatever", headers=headers, timeout=5)
    assert response.status_code == 401 and response.json()["message"] == "UNAUTHORIZED"


def test_idea_to_video_renders_a_playable_story(sandbox):
    created = post(sandbox, "/story/idea-2-video", {"idea": "Cute animals play musical instruments", "title": "Band"})
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
    assert abs(info["duration"] - 15) <= 1.5  # 3 scenes x 5 s
    assert audio_peak(video) > 2000  # narration and music, not silence


def test_aspect_ratio_duration_and_loop_shape_the_video(sandbox):
    created = post(sandbox, "/story/idea-2-video", {"idea": "A paper boat", "scene_count": 2, "aspect_ratio": "9:16", "duration": 3, "loop": 2})
    story = wait(sandbox, created.json()["data"]["id"])
    info = probe(requests.get(story["video_url"], timeout=30).content)
    assert info["size"] == (360, 640)
    expected = sum(m["duration"] for m in story["medias"])
    assert expected >= 2 * 3  # narration may stretch a scene, never shorten it
    assert abs(info["duration"] - expected) <= 0.1 * expected


def test_scene_clips_differ_and_carry_speech(sandbox):
    story = wait(sandbox, post(sandbox, "/story/idea-2-video", {"idea": "Robots dance", "scene_count": 2}).json()["data"]["id"])
    clips = [requests.get(m["video_url"], timeout=30).content for m in story["medias"]]
    assert first_frame_mean(clips[0]) != first_frame_mean(clips[1])
    narration = requests.get(story["storyboard"]["scenes"][0]["narration_url"], timeout=30).content
    assert audio_peak(narration) > 3000


def test_advanced_steps_fill_the_story(sandbox):
    data = post(sandbox, "/story", {"idea": "A bunny finds honey in the forest", "scene_count": 2, "title": "Honey"}).json()["data"]
    story = wait(sandbox, data["id"])
    assert story["status"] == "success" and len(story["storyboard"]["scenes"]) == 2 and story["video_url"] == ""
    credits = [story["used_credits"]]

    board = story["storyboard"]
    board["characters"][0]["name"] = "Clover"
    assert post(sandbox, f"/story/{data['id']}/elements", {"storyboard": json.dumps(board), "aspect_ratio": "16:9"}).status_code == 200
    story = wait(sandbox, data["id"])
    assert story["storyboard"]["characters"][0]["name"] == "Clover"
    assert all(e["image_url"] for e in story["storyboard"]["characters"])
    credits.append(story["used_credits"])

    assert post(sandbox, f"/story/{data['id']}/scenes", {"narrator": "Brian"}).status_code == 200
    story = wait(sandbox, data["id"])
    assert [s["image_url"] for s in story["scenes"]] == [s["image_url"] for s in story["storyboard"]["scenes"]]
    credits.append(story["used_credits"])

    assert post(sandbox, f"/story/{data['id']}/videos", {"duration": 2, "motion_type": "KlingAI"}).status_code == 200
    story = wait(sandbox, data["id"])
    assert len(story["medias"]) == 2 and story["video_url"].endswith("story_v1.mp4")
    credits.append(story["used_credits"])

    assert post(sandbox, f"/story/{data['id']}/concat").status_code == 200
    story = wait(sandbox, data["id"])
    assert story["video_url"].endswith("story_v2.mp4")
    credits.append(story["used_credits"])
    assert credits == sorted(credits) and len(set(credits)) == 5


def _wav(seconds: float = 1.0) -> bytes:
    import wave
    from array import array

    from airflow_provider_vimmerse.sandbox.media import SAMPLE_RATE, tone

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(array("h", tone(seconds, "user music")).tobytes())
    return out.getvalue()


def _own_images_story(sandbox, files, music_url):
    red = io.BytesIO()
    Image.new("RGB", (300, 200), (220, 30, 30)).save(red, format="PNG")
    files.routes["/red.png"] = files.routes["/rex.png"] = Reply(body=red.getvalue(), headers={"Content-Type": "image/png"})
    files.routes["/music.wav"] = Reply(body=_wav(), headers={"Content-Type": "audio/wav"})
    board = {
        "characters": [{"name": "Rex", "description": "a robot", "image_url": f"{files.url}/rex.png"}],
        "scenes": [{"name": "Red room", "image_url": f"{files.url}/red.png", "video_description": "camera motion:pan left", "narrator": "A red room."}],
        "music": {"description": "supplied", "music_url": music_url},
    }
    data = post(sandbox, "/story", {"idea": "Own images"}).json()["data"]
    wait(sandbox, data["id"])
    post(sandbox, f"/story/{data['id']}/scenes", {"storyboard": json.dumps(board)})
    story = wait(sandbox, data["id"])
    assert story["storyboard"]["scenes"][0]["image_url"] == f"{files.url}/red.png"
    assert story["storyboard"]["characters"][0]["image_url"] == f"{files.url}/rex.png"
    post(sandbox, f"/story/{data['id']}/videos", {"duration": 1})
    return wait(sandbox, data["id"])


def test_user_images_and_music_are_used(sandbox):
    with RecordingServer() as files:
        story = _own_images_story(sandbox, files, f"{files.url}/music.wav")
        fetched = {r.path for r in files.requests}
    assert story["status"] == "success"
    assert {"/red.png", "/music.wav"} <= fetched
    assert story["storyboard"]["music"]["music_url"].endswith("/music.wav")
    for url in (story["medias"][0]["video_url"], story["video_url"]):
        r, g, b = first_frame_mean(requests.get(url, timeout=30).content)
        assert r > 180 and g < 70 and b < 70


def test_unreachable_user_asset_fails_the_story_with_a_reason(sandbox):
    with RecordingServer() as files:
        story = _own_images_story(sandbox, files, "http://127.0.0.1:9/never.wav")
    assert story["status"] == "fail" and "never.wav" in story["message"]


def test_concat_honours_video_and_audio_urls(sandbox):
    story = wait(sandbox, post(sandbox, "/story/idea-2-video", {"idea": "Two clips", "scene_count": 2, "duration": 2}).json()["data"]["id"])
    clip_urls = [m["video_url"] for m in story["medias"]]
    music_url = story["storyboard"]["music"]["music_url"]
    response = post(sandbox, f"/story/{story['id']}/concat", [("concat_video_urls", clip_urls[0]), ("concat_video_urls", clip_urls[0]), ("audio_urls", music_url)])
    assert response.status_code == 200
    story = wait(sandbox, story["id"])
    info = probe(requests.get(story["video_url"], timeout=30).content)
    assert abs(info["duration"] - 2 * story["medias"][0]["duration"]) < 0.2


def test_documented_errors(sandbox):
    assert post(sandbox, "/story/nope/scenes").status_code == 404
    assert post(sandbox, "/story/nope/scenes").json() == {"message": "NOT_FOUND"}
    assert post(sandbox, "/story", {"idea": "   "}).json()["message"] == "BAD_REQUEST"
    invalid = post(sandbox, "/story/idea-2-video", {"idea": "x", "duration": 11})
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"] == ["body", "duration"]
    unknown = post(sandbox, "/story/idea-2-video", {"idea": "x", "narrator": "HAL"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "narrator"]
    data = post(sandbox, "/story", {"idea": "x"}).json()["data"]
    wait(sandbox, data["id"])
    bad_board = post(sandbox, f"/story/{data['id']}/scenes", {"storyboard": "{not json"})
    assert bad_board.status_code == 400 and bad_board.json()["message"] == "BAD_REQUEST"
    assert stats(sandbox)["stories_created"] == 1


def test_402_creates_nothing(sandbox):
    requests.put(f"{sandbox.url}/_sandbox/credits", json={"credits": 5}, timeout=5)
    response = post(sandbox, "/story/idea-2-video", {"idea": "Costly"})
    assert response.status_code == 402 and response.json() == {"message": "INSUFFICIENT_CREDIT"}
    assert stats(sandbox)["stories_created"] == 0 and stats(sandbox)["credits"] == 5


def test_update_and_delete(sandbox):
    data = post(sandbox, "/story", {"idea": "x"}).json()["data"]
    updated = requests.put(f"{sandbox.url}/story/{data['id']}", data={"title": "New", "visibility_status": "2"}, headers=HEADERS, timeout=5)
    assert updated.json()["data"]["title"] == "New" and updated.json()["data"]["visibility_status"] == "2"
    assert requests.delete(f"{sandbox.url}/story/{data['id']}", headers=HEADERS, timeout=5).status_code == 200
    assert requests.get(f"{sandbox.url}/story/{data['id']}", headers=HEADERS, timeout=5).status_code == 404


def test_update_while_processing_is_not_lost(tmp_path):
    config = SandboxConfig(data_dir=tmp_path / "data", api_key=API_KEY, speed=20)
    with SandboxServer(config) as server:
        data = post(server, "/story", {"idea": "Renamed mid-flight", "title": "Old"}).json()["data"]
        requests.put(f"{server.url}/story/{data['id']}", data={"title": "New"}, headers=HEADERS, timeout=5)
        assert wait(server, data["id"])["title"] == "New"


def test_files_support_range_requests(sandbox):
    story = wait(sandbox, post(sandbox, "/story/idea-2-video", {"idea": "Ranges", "scene_count": 1, "duration": 1}).json()["data"]["id"])
    full = requests.get(story["video_url"], timeout=10)
    assert int(full.headers["Content-Length"]) == len(full.content)
    part = requests.get(story["video_url"], headers={"Range": "bytes=100-"}, timeout=10)
    assert part.status_code == 206 and part.content == full.content[100:]


def test_webhook_is_delivered(sandbox):
    with RecordingServer() as hook_target:
        hook_target.default = Reply(body={"ok": True})
        data = post(sandbox, "/story/idea-2-video", {"idea": "Webhooks", "scene_count": 1, "duration": 1, "webhook_url": f"{hook_target.url}/hook"}).json()["data"]
        wait(sandbox, data["id"])
        for _ in range(100):
            if hook_target.requests:
                break
            import time

            time.sleep(0.05)
        body = json.loads(hook_target.requests[0].body)
    assert body == {"customer_id": "sandbox-customer", "batch_id": data["id"], "status": "success"}
    assert stats(sandbox)["webhooks_delivered"] == 1


def test_restart_mid_story_resumes_to_a_terminal_state(tmp_path):
    slow = SandboxConfig(data_dir=tmp_path / "data", api_key=API_KEY, speed=2)
    first = SandboxServer(slow)
    first.start()
    try:
        data = post(first, "/story/idea-2-video", {"idea": "Interrupted", "scene_count": 2, "duration": 1}).json()["data"]
        import time

        time.sleep(0.5)
        assert requests.get(f"{first.url}/story/{data['id']}", headers=HEADERS, timeout=5).json()["data"]["status"] == "processing"
    finally:
        first.stop()
    fast = SandboxConfig(data_dir=tmp_path / "data", api_key=API_KEY, speed=TEST_SPEED)
    with SandboxServer(fast, port=first.port) as second:
        story = wait(second, data["id"])
        assert story["status"] == "success" and story["video_url"]
        assert stats(second)["stories_created"] == 1
