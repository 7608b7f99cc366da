"""
The bad-input table: every case fails with a clear error naming the field, before any request
reaches the service (the sandbox counts zero requests), and nothing is left behind.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_vimmerse import exceptions as exc
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from tests.conftest import set_connection
from tests.integration.conftest import stats
from tests.integration.recording_server import RecordingServer, Reply

BOARD = {"scenes": [{"name": "One", "narrator": "Hello."}]}

# (case, call, field named in the error)
CLIENT_SIDE = [
    (
        "older and newer name together",
        lambda h: h.idea_to_video("x", motion_type="KlingAI", video_tool="Auto"),
        "motion_type",
    ),
    ("integer of 5000 digits", lambda h: h.idea_to_video("x", scene_count=10**5000), "scene_count"),
    ("lone surrogate", lambda h: h.idea_to_video("a fox \ud800 runs"), "idea"),
    (
        "storyboard nested 100k deep",
        lambda h: h.create_elements("s1", storyboard="[" * 100_000 + "]" * 100_000),
        "storyboard",
    ),
    (
        "templated extra_params that is not an object",
        lambda h: h.idea_to_video("x", extra_params="[1, 2]"),
        "extra_params",
    ),
    ("v2 with local image files", lambda h: h.create_storyboard("x", image_files=["/etc/hostname"]), "image_files"),
    ("empty idea", lambda h: h.idea_to_video(""), "idea"),
    ("whitespace idea", lambda h: h.idea_to_video(" \t\n "), "idea"),
    ("huge idea", lambda h: h.idea_to_video("x" * 100_000), "idea"),
    ("idea not text", lambda h: h.create_storyboard(["an", "idea"]), "idea"),
    ("scene_count 0", lambda h: h.idea_to_video("x", scene_count=0), "scene_count"),
    ("scene_count negative", lambda h: h.idea_to_video("x", scene_count=-2), "scene_count"),
    ("scene_count not an integer", lambda h: h.idea_to_video("x", scene_count="three"), "scene_count"),
    ("scene_count fractional", lambda h: h.create_storyboard("x", scene_count=2.5), "scene_count"),
    ("scene_duration 7", lambda h: h.idea_to_video("x", scene_duration=7), "scene_duration"),
    ("older duration 7", lambda h: h.url_to_video("https://shop.example/p", duration=7), "scene_duration"),
    ("duration 0", lambda h: h.create_videos("s1", duration=0), "duration"),
    ("duration 11", lambda h: h.create_videos("s1", duration=11), "duration"),
    ("loop 7", lambda h: h.create_videos("s1", loop=7), "loop"),
    ("unknown aspect ratio", lambda h: h.idea_to_video("x", aspect_ratio="21:9"), "aspect_ratio"),
    ("visibility 3", lambda h: h.update_story("s1", visibility_status="3"), "visibility_status"),
    ("is_transition lower case", lambda h: h.idea_to_video("x", is_transition="yes"), "is_transition"),
    ("boolean not boolean", lambda h: h.create_elements("s1", enhance_image="sometimes"), "enhance_image"),
    ("audio_option malformed JSON", lambda h: h.idea_to_video("x", audio_option="{narrator: Aria"), "audio_option"),
    (
        "audio_option not an object",
        lambda h: h.images_to_video(["https://a/1.png"], audio_option=["Aria"]),
        "audio_option",
    ),
    (
        "audio_option flag not boolean",
        lambda h: h.idea_to_video("x", audio_option={"native_audio": "yes"}),
        "audio_option.native_audio",
    ),
    ("elements not an object", lambda h: h.idea_to_video("x", elements="[1, 2]"), "elements"),
    ("url not a URL", lambda h: h.url_to_video("www.example.com"), "url"),
    ("url not http(s)", lambda h: h.url_to_video("file:///etc/passwd"), "url"),
    ("no image URLs", lambda h: h.images_to_video([]), "image_urls"),
    ("image URL not http(s)", lambda h: h.images_to_video(["data:image/png;base64,AAAA"]), "image_urls"),
    ("image_files missing", lambda h: h.create_storyboard("x", image_files=["/nonexistent/cover.png"]), "image_files"),
    ("malformed storyboard JSON", lambda h: h.create_scenes("s1", storyboard='{"scenes": [}'), "storyboard"),
    ("storyboard without scenes", lambda h: h.create_scenes("s1", storyboard={"characters": []}), "storyboard.scenes"),
    (
        "storyboard scenes not objects",
        lambda h: h.create_elements("s1", storyboard={"scenes": ["one"]}),
        "storyboard.scenes",
    ),
    (
        "storyboard with NaN",
        lambda h: h.create_videos("s1", storyboard={"scenes": [{"x": float("nan")}]}),
        "storyboard",
    ),
    ("story id with /", lambda h: h.get_story("abc/def"), "story_id"),
    ("story id with ..", lambda h: h.create_scenes(".."), "story_id"),
    ("story id with ?", lambda h: h.get_story("abc?admin=1"), "story_id"),
    ("story id with #", lambda h: h.concat_story("abc#x"), "story_id"),
    ("empty story id", lambda h: h.create_videos(""), "story_id"),
    ("webhook not http(s)", lambda h: h.idea_to_video("x", webhook_url="ftp://example.com/hook"), "webhook_url"),
    ("webhook relative", lambda h: h.create_videos("s1", webhook_url="/hook"), "webhook_url"),
    (
        "concat URL not http(s)",
        lambda h: h.concat_story("s1", concat_video_urls=["file:///etc/passwd"]),
        "concat_video_urls",
    ),
    ("audio_urls a string", lambda h: h.concat_story("s1", audio_urls="http://a/b.mp3"), "audio_urls"),
    (
        "additional_videos not URLs",
        lambda h: h.update_story("s1", additional_videos=["not a url"]),
        "additional_videos",
    ),
    ("misspelt parameter", lambda h: h.idea_to_video("x", scene_cuont=2), "scene_cuont"),
    (
        "extra_params shadowing a field",
        lambda h: h.idea_to_video("x", extra_params={"scene_count": 99}),
        "extra_params",
    ),
    ("extra_params with NaN", lambda h: h.idea_to_video("x", extra_params={"new": float("nan")}), "extra_params"),
]


@pytest.mark.parametrize(("case", "call", "field"), CLIENT_SIDE, ids=[c[0] for c in CLIENT_SIDE])
def test_client_side_cases_send_nothing(sandbox_conn, case, call, field):
    with pytest.raises(exc.VimmerseInvalidParameterError) as err:
        call(VimmerseHook())
    assert err.value.field == field and repr(field) in str(err.value) and "Allowed:" in str(err.value)
    assert stats(sandbox_conn)["requests"] == {}
    assert stats(sandbox_conn)["stories_created"] == 0


# Names from the service's lists (models, tools, voices, languages) are advisory: they reach the
# service with a warning, and its 422 (which charges nothing) names the field.
ADVISORY = [
    ("unknown image tool", lambda h: h.idea_to_video("x", image_tool="Midjourney"), "image_tool"),
    ("older option name, unknown model", lambda h: h.idea_to_video("x", option="FluxKontextMax"), "image_tool"),
    ("unknown video tool", lambda h: h.images_to_video(["https://a/1.png"], video_tool="Sora"), "video_tool"),
    ("unknown language", lambda h: h.idea_to_video("x", language="Klingon"), "language"),
    ("unknown image model", lambda h: h.create_scenes(FAKE_ID, option="DALL-E-2"), "option"),
    ("unknown motion type", lambda h: h.create_videos(FAKE_ID, motion_type="Kling2"), "motion_type"),
]
FAKE_ID = "11111111-2222-4333-8444-555555555555"


@pytest.mark.parametrize("api_version", ["v2", "legacy"])
@pytest.mark.parametrize(("case", "call", "field"), ADVISORY, ids=[c[0] for c in ADVISORY])
def test_unknown_names_reach_the_service_and_its_422_names_the_field(
    sandbox_conn, monkeypatch, api_version, case, call, field, caplog
):
    set_connection(monkeypatch, sandbox_conn.url, api_version=api_version)
    with pytest.raises(exc.VimmerseApiError) as err:
        call(VimmerseHook())
    assert field in str(err.value)
    if api_version == "legacy":  # FastAPI's detail list; v2 says it in its message, with a code
        assert err.value.detail[0]["loc"][-1] == field
    else:
        assert err.value.code == "VALIDATION_ERROR" and err.value.detail == []
    assert "not in the known list" in caplog.text
    assert stats(sandbox_conn)["stories_created"] == 0


@pytest.mark.parametrize(
    "destination",
    ["", "   ", "bad\0path.mp4", "nosuchscheme-xyz://bucket/v.mp4"],
    ids=["empty", "blank", "nul", "unknown-scheme"],
)
def test_invalid_download_destination(sandbox_conn, destination, tmp_path, monkeypatch):
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    operator = VimmerseDownloadVideoOperator(task_id="d", story_id="s1", destination="/tmp/placeholder.mp4")
    operator.destination = destination
    with pytest.raises(exc.VimmerseInvalidParameterError, match="destination"):
        operator.execute({})
    assert stats(sandbox_conn)["requests"] == {}
    assert list(workdir.iterdir()) == []


SERVER_SIDE = [
    ("non-JSON 200", Reply(body="OK"), exc.VimmerseUnavailableError, "not JSON"),
    (
        "HTML error page from a proxy",
        Reply(status=502, body="<html><h1>Bad Gateway</h1></html>", headers={"Content-Type": "text/html"}),
        exc.VimmerseUnavailableError,
        "502",
    ),
    (
        "HTML 200 page from a captive proxy",
        Reply(body="<html>Login</html>", headers={"Content-Type": "text/html"}),
        exc.VimmerseUnavailableError,
        "proxy",
    ),
    ("200 without a story", Reply(body={"result": {}}), exc.VimmerseUnavailableError, "'id'"),
    ("data without an id", Reply(body={"data": {"status": "new"}}), exc.VimmerseUnavailableError, "'id'"),
]


@pytest.mark.parametrize(("case", "reply", "error", "says"), SERVER_SIDE, ids=[c[0] for c in SERVER_SIDE])
def test_malformed_answers(monkeypatch, case, reply, error, says):
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url, retry_limit=0)
        server.default = reply
        with pytest.raises(error, match=says):
            VimmerseHook().get_story("s1")


def test_connection_without_an_api_key(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIMMERSE_NOKEY", json.dumps({"conn_type": "vimmerse", "host": "http://127.0.0.1:9"})
    )
    with pytest.raises(exc.VimmerseConfigurationError, match="API Key"):
        VimmerseHook("vimmerse_nokey").idea_to_video("x")


def test_unknown_connection_id():
    from airflow.providers.common.compat.sdk import AirflowFailException

    with pytest.raises(exc.VimmerseConfigurationError, match="vimmerse_missing_conn") as err:
        VimmerseHook("vimmerse_missing_conn").idea_to_video("x")
    # Not retried in a task; from a script, the message says how to give the hook its connection.
    assert isinstance(err.value, AirflowFailException) and "AIRFLOW_CONN_VIMMERSE_MISSING_CONN" in str(err.value)
