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
from tests.conftest import set_connection, stats
from tests.recording_server import RecordingServer, Reply

BOARD = {"scenes": [{"name": "One", "narrator": "Hello."}]}

# (case, call, field named in the error)
CLIENT_SIDE = [
    ("empty idea", lambda h: h.idea_to_video(""), "idea"),
    ("whitespace idea", lambda h: h.idea_to_video(" \t\n "), "idea"),
    ("huge idea", lambda h: h.idea_to_video("x" * 100_000), "idea"),
    ("idea not text", lambda h: h.create_storyboard(["an", "idea"]), "idea"),
    ("scene_count 0", lambda h: h.idea_to_video("x", scene_count=0), "scene_count"),
    ("scene_count negative", lambda h: h.idea_to_video("x", scene_count=-2), "scene_count"),
    ("scene_count not an integer", lambda h: h.idea_to_video("x", scene_count="three"), "scene_count"),
    ("scene_count fractional", lambda h: h.create_storyboard("x", scene_count=2.5), "scene_count"),
    ("duration 0", lambda h: h.idea_to_video("x", duration=0), "duration"),
    ("duration 11", lambda h: h.create_videos("s1", duration=11), "duration"),
    ("loop 0", lambda h: h.idea_to_video("x", loop=0), "loop"),
    ("loop 7", lambda h: h.create_videos("s1", loop=7), "loop"),
    ("unknown aspect ratio", lambda h: h.idea_to_video("x", aspect_ratio="21:9"), "aspect_ratio"),
    ("unknown option", lambda h: h.create_scenes("s1", option="DALL-E-2"), "option"),
    ("option not offered for elements", lambda h: h.create_elements("s1", option="FluxFinetuned"), "option"),
    ("unknown motion type", lambda h: h.idea_to_video("x", motion_type="Sora"), "motion_type"),
    ("unknown narrator", lambda h: h.idea_to_video("x", narrator="HAL 9000"), "narrator"),
    ("visibility 3", lambda h: h.idea_to_video("x", visibility_status="3"), "visibility_status"),
    ("is_transition lower case", lambda h: h.idea_to_video("x", is_transition="yes"), "is_transition"),
    ("sound_effects not yes/no", lambda h: h.create_videos("s1", sound_effects="Loud"), "sound_effects"),
    ("boolean not boolean", lambda h: h.idea_to_video("x", enhance_image="sometimes"), "enhance_image"),
    ("negative seed", lambda h: h.create_scenes("s1", seed=-1), "seed"),
    ("malformed storyboard JSON", lambda h: h.create_scenes("s1", storyboard='{"scenes": [}'), "storyboard"),
    ("storyboard without scenes", lambda h: h.create_scenes("s1", storyboard={"characters": []}), "storyboard.scenes"),
    ("storyboard scenes not objects", lambda h: h.create_elements("s1", storyboard={"scenes": ["one"]}), "storyboard.scenes"),
    ("scenes not a list", lambda h: h.create_videos("s1", scenes='{"image_url": "x"}'), "scenes"),
    ("story id with /", lambda h: h.get_story("abc/def"), "story_id"),
    ("story id with ..", lambda h: h.create_scenes(".."), "story_id"),
    ("story id with ?", lambda h: h.get_story("abc?admin=1"), "story_id"),
    ("story id with #", lambda h: h.concat_story("abc#x"), "story_id"),
    ("empty story id", lambda h: h.create_videos(""), "story_id"),
    ("webhook not http(s)", lambda h: h.idea_to_video("x", webhook_url="ftp://example.com/hook"), "webhook_url"),
    ("webhook relative", lambda h: h.create_videos("s1", webhook_url="/hook"), "webhook_url"),
    ("concat URL not http(s)", lambda h: h.concat_story("s1", concat_video_urls=["file:///etc/passwd"]), "concat_video_urls"),
    ("audio_urls a string", lambda h: h.concat_story("s1", audio_urls="http://a/b.mp3"), "audio_urls"),
    ("extra_params shadowing a field", lambda h: h.idea_to_video("x", extra_params={"duration": 99}), "extra_params"),
]


@pytest.mark.parametrize(("case", "call", "field"), CLIENT_SIDE, ids=[c[0] for c in CLIENT_SIDE])
def test_client_side_cases_send_nothing(sandbox_conn, case, call, field):
    with pytest.raises(exc.VimmerseInvalidParameterError) as err:
        call(VimmerseHook())
    assert err.value.field == field and repr(field) in str(err.value) and "Allowed:" in str(err.value)
    assert stats(sandbox_conn)["requests"] == {}
    assert stats(sandbox_conn)["stories_created"] == 0


def test_the_table_is_large_enough():
    assert len(CLIENT_SIDE) + len(SERVER_SIDE) + 4 >= 30


def test_deliberate_bypass_reaches_the_service_and_its_answer_names_the_field(sandbox_conn):
    with pytest.raises(exc.VimmerseUnprocessableError) as err:
        VimmerseHook(allow_unknown_values=True).idea_to_video("x", narrator="HAL 9000")
    assert err.value.detail[0]["loc"] == ["body", "narrator"] and "narrator" in str(err.value)
    assert stats(sandbox_conn)["stories_created"] == 0


@pytest.mark.parametrize(
    "destination", ["", "   ", "bad\0path.mp4", "nosuchscheme-xyz://bucket/v.mp4"], ids=["empty", "blank", "nul", "unknown-scheme"]
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
    ("non-JSON 200", Reply(body="OK"), exc.VimmerseResponseError, "not JSON"),
    ("HTML error page from a proxy", Reply(status=502, body="<html><h1>Bad Gateway</h1></html>", headers={"Content-Type": "text/html"}), exc.VimmerseServerError, "502"),
    ("HTML 200 page from a captive proxy", Reply(body="<html>Login</html>", headers={"Content-Type": "text/html"}), exc.VimmerseResponseError, "proxy"),
    ("200 without data", Reply(body={"result": {}}), exc.VimmerseResponseError, "'data'"),
    ("data without an id", Reply(body={"data": {"status": "new"}}), exc.VimmerseResponseError, "'id'"),
]


@pytest.mark.parametrize(("case", "reply", "error", "says"), SERVER_SIDE, ids=[c[0] for c in SERVER_SIDE])
def test_malformed_answers(monkeypatch, case, reply, error, says):
    with RecordingServer() as server:
        set_connection(monkeypatch, server.url, retry_limit=0)
        server.default = reply
        with pytest.raises(error, match=says):
            VimmerseHook().get_story("s1")


def test_connection_without_an_api_key(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_NOKEY", json.dumps({"conn_type": "vimmerse", "host": "http://127.0.0.1:9"}))
    with pytest.raises(exc.VimmerseConfigurationError, match="API Key"):
        VimmerseHook("vimmerse_nokey").idea_to_video("x")


def test_unknown_connection_id():
    with pytest.raises(Exception, match="vimmerse_missing_conn"):
        VimmerseHook("vimmerse_missing_conn").idea_to_video("x")
