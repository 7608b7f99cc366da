"""VimmerseHook over real HTTP: request shapes, error mapping, retries, keep-alive, secrets."""

from __future__ import annotations

import json
import logging
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_vimmerse import exceptions as exc
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.story import VimmerseStoryStatus
from tests.conftest import API_KEY, SleepRecorder, set_connection, stats
from tests.recording_server import RecordingServer, Reply, story_body

STORYBOARD = {
    "characters": [{"name": "Pip", "description": "a bunny"}],
    "environments": [],
    "objects": [],
    "scenes": [{"name": "One", "image_description": "**Pip** waves", "video_description": "camera motion:zoom in", "narrator": "Hello."}],
    "music": {"description": "calm"},
}


@pytest.fixture
def server(monkeypatch):
    with RecordingServer() as srv:
        set_connection(monkeypatch, srv.url, retry_limit=3)
        yield srv


@pytest.fixture
def hook():
    h = VimmerseHook()
    h._sleep = SleepRecorder()
    yield h
    h.close()


def test_idea_to_video_sends_every_documented_default(server, hook):
    story = hook.idea_to_video("Cute animals play instruments")
    request = server.requests[0]
    assert (request.method, request.path) == ("POST", "/story/idea-2-video")
    assert request.headers["X-Api-Key"] == API_KEY
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(request.form) == {
        "idea": "Cute animals play instruments", "title": "", "description": "", "scene_count": "3",
        "option": "FluxKontextPro", "generate_elements": "true", "aspect_ratio": "16:9", "is_transition": "No",
        "visibility_status": "1", "motion_type": "Auto", "duration": "5", "loop": "1", "enhance_image": "true",
        "narrator": "Rachel", "background_music": "true", "sound_effects": "No",
    }
    assert story.id == "story-1" and story.status is VimmerseStoryStatus.NEW


@pytest.mark.parametrize(
    ("call", "method", "path", "form"),
    [
        (lambda h: h.create_storyboard("An idea", scene_count=4, title="T"), "POST", "/story",
         {"idea": "An idea", "scene_count": "4", "title": "T"}),
        (lambda h: h.create_elements("s1", seed=7, storyboard=STORYBOARD), "POST", "/story/s1/elements",
         {"option": "FluxKontextPro", "seed": "7", "aspect_ratio": "9:16", "storyboard": json.dumps(STORYBOARD),
          "enhance_image": "false", "background_music": "true"}),
        (lambda h: h.create_scenes("s1", narrator="Brian", storyboard=json.dumps(STORYBOARD)), "POST", "/story/s1/scenes",
         {"option": "FluxKontextPro", "aspect_ratio": "16:9", "storyboard": json.dumps(STORYBOARD), "enhance_image": "true",
          "generate_elements": "true", "narrator": "Brian", "background_music": "true"}),
        (lambda h: h.create_videos("s1", motion_type="KlingAI", scenes=[{"image_url": "http://x/1.png"}], webhook_url="https://h/cb"),
         "POST", "/story/s1/videos",
         {"title": "", "scenes": json.dumps([{"image_url": "http://x/1.png"}]), "is_transition": "No", "motion_type": "KlingAI",
          "duration": "5", "loop": "1", "sound_effects": "No", "webhook_url": "https://h/cb"}),
        (lambda h: h.get_story("s1"), "GET", "/story/s1", {}),
        (lambda h: h.update_story("s1", title="New", visibility_status=2), "PUT", "/story/s1",
         {"title": "New", "visibility_status": "2"}),
        (lambda h: h.delete_story("s1"), "DELETE", "/story/s1", {}),
        (lambda h: h.health(), "GET", "/health", {}),
    ],
)
def test_endpoint_request_shapes(server, hook, call, method, path, form):
    call(hook)
    request = server.requests[0]
    assert (request.method, request.path) == (method, path)
    assert dict(request.form) == form


def test_concat_sends_url_lists_as_repeated_keys(server, hook):
    hook.concat_story("s1", concat_video_urls=["http://a/1.mp4", "http://a/2.mp4"], audio_urls=["http://a/m.mp3"])
    assert server.requests[0].form == [
        ("concat_video_urls", "http://a/1.mp4"), ("concat_video_urls", "http://a/2.mp4"), ("audio_urls", "http://a/m.mp3"),
    ]


def test_extra_params_pass_through(server, hook):
    hook.create_storyboard("idea", extra_params={"language": "fr"})
    assert ("language", "fr") in server.requests[0].form


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda h: h.idea_to_video(""), "idea"),
        (lambda h: h.idea_to_video("x", duration=11), "duration"),
        (lambda h: h.idea_to_video("x", loop=0), "loop"),
        (lambda h: h.idea_to_video("x", aspect_ratio="2:1"), "aspect_ratio"),
        (lambda h: h.idea_to_video("x", webhook_url="file:///etc/passwd"), "webhook_url"),
        (lambda h: h.create_scenes("x", storyboard="{oops"), "storyboard"),
        (lambda h: h.get_story("../admin"), "story_id"),
        (lambda h: h.concat_story("s1", concat_video_urls=["javascript:alert(1)"]), "concat_video_urls"),
    ],
)
def test_validation_errors_send_nothing(server, hook, call, field):
    with pytest.raises(exc.VimmerseInvalidParameterError) as err:
        call(hook)
    assert err.value.field == field
    assert server.requests == []


def test_unknown_values_are_sent_when_deliberately_allowed(server, caplog):
    hook = VimmerseHook(allow_unknown_values=True)
    with caplog.at_level(logging.WARNING):
        hook.idea_to_video("x", motion_type="Sora2")
    assert ("motion_type", "Sora2") in server.requests[0].form
    assert "Sora2" in caplog.text


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"message": "BAD_REQUEST"}, exc.VimmerseBadRequestError),
        (401, {"message": "UNAUTHORIZED"}, exc.VimmerseAuthenticationError),
        (402, {"message": "INSUFFICIENT_CREDIT"}, exc.VimmerseInsufficientCreditError),
        (404, {"message": "NOT_FOUND"}, exc.VimmerseNotFoundError),
        (422, {"detail": [{"loc": ["body", "loop"], "msg": "bad"}]}, exc.VimmerseUnprocessableError),
    ],
)
def test_client_errors_are_typed_and_never_retried(server, hook, status, body, cls):
    server.default = Reply(status=status, body=body)
    with pytest.raises(cls):
        hook.get_story("s1")
    assert len(server.requests) == 1


def test_reads_retry_5xx_then_succeed(server, hook):
    server.replies = [Reply(status=500), Reply(status=502)]
    assert hook.get_story("s1").id == "story-1"
    assert len(server.requests) == 3 and len(hook._sleep.waits) == 2


def test_server_errors_surface_after_the_retry_limit(server, hook):
    server.default = Reply(status=500, body={"message": "BOOM"})
    with pytest.raises(exc.VimmerseServerError):
        hook.get_story("s1")
    assert len(server.requests) == 4


@pytest.mark.parametrize("retry_after", ["3", "date"])
def test_retry_after_is_honoured(server, hook, retry_after):
    if retry_after == "date":
        retry_after = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=5), usegmt=True)
    server.replies = [Reply(status=429, headers={"Retry-After": retry_after})]
    hook.get_story("s1")
    assert len(server.requests) == 2
    assert hook._sleep.waits[0] >= (3 if retry_after == "3" else 3.5)


def test_retry_after_longer_than_the_cap_is_raised_not_waited(server, hook):
    server.default = Reply(status=429, headers={"Retry-After": "3600"})
    with pytest.raises(exc.VimmerseRateLimitedError) as err:
        hook.get_story("s1")
    assert err.value.retry_after == 3600 and len(server.requests) == 1


def test_create_is_retried_on_429_and_503_but_not_500(server, hook):
    server.replies = [Reply(status=503), Reply(status=429, headers={"Retry-After": "1"})]
    hook.create_storyboard("idea")
    assert len(server.requests) == 3
    server.requests.clear()
    server.replies = [Reply(status=500)]
    with pytest.raises(exc.VimmerseServerError):
        hook.create_storyboard("idea")
    assert len(server.requests) == 1


def test_create_read_timeout_raises_may_exist_and_is_not_repeated(server, monkeypatch):
    set_connection(monkeypatch, server.url, timeout=0.3)
    hook = VimmerseHook()
    server.replies = [Reply(delay=1.0)]
    with pytest.raises(exc.VimmerseStoryMayExistError, match="may have been created"):
        hook.idea_to_video("An idea")
    assert len(server.requests) == 1


def test_read_timeout_on_a_read_is_retried(server, monkeypatch):
    set_connection(monkeypatch, server.url, timeout=0.3)
    hook = VimmerseHook()
    hook._sleep = SleepRecorder()
    server.replies = [Reply(delay=1.0)]
    assert hook.get_story("s1").id == "story-1"
    assert len(server.requests) == 2


def test_create_dropped_connection_raises_may_exist(server, hook):
    server.replies = [Reply(drop=True)]
    with pytest.raises(exc.VimmerseStoryMayExistError):
        hook.create_storyboard("idea")
    assert len(server.requests) == 1


def test_connection_refused_is_retried_even_for_creates(monkeypatch):
    with RecordingServer() as srv:
        url = srv.url
    set_connection(monkeypatch, url, retry_limit=2)  # the port is closed now
    hook = VimmerseHook()
    hook._sleep = SleepRecorder()
    with pytest.raises(exc.VimmerseTransportError) as err:
        hook.idea_to_video("idea")
    assert not isinstance(err.value, exc.VimmerseStoryMayExistError)
    assert len(hook._sleep.waits) == 2


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (Reply(body="<html><h1>502 Bad Gateway</h1></html>", headers={"Content-Type": "text/html"}), "not JSON"),
        (Reply(body="not json at all"), "not JSON"),
        (Reply(body={"story": {"id": "x"}}), "'data'"),
    ],
)
def test_malformed_success_answers(server, hook, reply, says):
    server.default = reply
    with pytest.raises(exc.VimmerseResponseError, match=says):
        hook.get_story("s1")


def test_one_keep_alive_session_per_hook(server, hook):
    for _ in range(5):
        hook.get_story("s1")
    assert len({r.client_port for r in server.requests}) == 1


def test_api_key_never_appears_in_logs_or_errors(server, hook, caplog, capfd):
    server.replies = [Reply(status=503), Reply(status=500)]
    server.default = Reply(status=401, body={"message": "UNAUTHORIZED"})
    with caplog.at_level(logging.DEBUG), pytest.raises(exc.VimmerseAuthenticationError) as err:
        hook.get_story("s1")
    printed = capfd.readouterr()
    assert "retry 1/3" in printed.out + printed.err + caplog.text  # the retries were logged...
    assert API_KEY not in caplog.text + printed.out + printed.err  # ...without the key
    assert API_KEY not in str(err.value) and API_KEY not in repr(err.value)
    assert API_KEY not in repr(hook.settings)


def test_missing_and_unknown_connections_fail_clearly(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_NOKEY", json.dumps({"conn_type": "vimmerse", "host": "http://127.0.0.1:9"}))
    with pytest.raises(exc.VimmerseConfigurationError, match="no API key"):
        VimmerseHook("vimmerse_nokey").get_story("s1")
    with pytest.raises(Exception, match="vimmerse_does_not_exist"):
        VimmerseHook("vimmerse_does_not_exist").get_story("s1")


def test_uri_form_of_the_connection(server, monkeypatch):
    port = server.url.rsplit(":", 1)[1]
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_URI", f"vimmerse://:{API_KEY}@127.0.0.1:{port}/http?timeout=7&retry_limit=1")
    hook = VimmerseHook("vimmerse_uri")
    assert hook.settings.base_url == server.url and hook.settings.timeout == 7
    hook.get_story("s1")
    assert server.requests[0].headers["X-Api-Key"] == API_KEY


# --------------------------------------------------------------------------- against the sandbox


def test_story_lifecycle_against_the_sandbox(sandbox_conn):
    hook = VimmerseHook()
    story = hook.idea_to_video("A robot learns to paint", scene_count=2, duration=2)
    assert story.status in (VimmerseStoryStatus.NEW, VimmerseStoryStatus.PROCESSING)
    done = hook.wait_for_story(story.id, poll_interval=0.1, timeout=120)
    assert done.status is VimmerseStoryStatus.SUCCESS and done.video_url and done.progress_percentage == 100
    assert len(done.medias) == 2 and done.used_credits > 0
    assert hook.update_story(story.id, title="Renamed").title == "Renamed"
    hook.delete_story(story.id)
    with pytest.raises(exc.VimmerseNotFoundError):
        hook.get_story(story.id)
    assert stats(sandbox_conn)["stories_created"] == 1


def test_validation_errors_reach_no_sandbox_endpoint(sandbox_conn):
    hook = VimmerseHook()
    for call in (lambda: hook.idea_to_video("  "), lambda: hook.idea_to_video("x", scene_count=0), lambda: hook.get_story("a/b")):
        with pytest.raises(exc.VimmerseInvalidParameterError):
            call()
    assert stats(sandbox_conn)["requests"] == {}


def test_test_connection_reports_which_part_failed(sandbox_conn, monkeypatch):
    ok, message = VimmerseHook().test_connection()
    assert ok and "accepted" in message
    assert stats(sandbox_conn)["stories_created"] == 0
    set_connection(monkeypatch, sandbox_conn.url, password="wrong-key-123")
    ok, message = VimmerseHook().test_connection()
    assert not ok and "rejected" in message and "wrong-key-123" not in message
    with RecordingServer() as srv:
        closed = srv.url
    set_connection(monkeypatch, closed, retry_limit=0)
    ok, message = VimmerseHook().test_connection()
    assert not ok and "not reachable" in message


def test_insufficient_credit_creates_nothing(sandbox_conn):
    import requests

    requests.put(f"{sandbox_conn.url}/_sandbox/credits", json={"credits": 2}, timeout=5).raise_for_status()
    with pytest.raises(exc.VimmerseInsufficientCreditError):
        VimmerseHook().idea_to_video("Too expensive")
    assert stats(sandbox_conn)["stories_created"] == 0


def test_wait_for_story_times_out_without_cancelling(server, hook):
    server.default = Reply(body=story_body("s1", "processing", progress_percentage=30))
    hook._sleep = lambda seconds: None
    with pytest.raises(exc.VimmerseWaitTimeoutError, match="last progress 30%"):
        hook.wait_for_story("s1", poll_interval=0.01, timeout=0.2)
    assert {r.method for r in server.requests} == {"GET"}


def test_wait_for_story_tolerates_then_gives_up_on_poll_errors(server, hook, monkeypatch):
    set_connection(monkeypatch, server.url, retry_limit=0)
    hook = VimmerseHook()
    hook._sleep = SleepRecorder()
    server.replies = [Reply(status=502), Reply(body=story_body("s1", "processing")), Reply(status=502), Reply(status=500)]
    server.default = Reply(status=503)
    with pytest.raises(exc.VimmersePollingError, match="may still be running"):
        hook.wait_for_story("s1", poll_interval=1, max_poll_errors=2)
    assert len(server.requests) == 5
    assert hook._sleep.waits == [2, 1, 2, 4]  # backs off while polls fail


def test_wait_for_story_raises_the_failure(server, hook):
    server.default = Reply(body=story_body("s1", "fail", message="Bad prompt", failed_medias=[{"item": "a"}]))
    with pytest.raises(exc.VimmerseStoryFailedError, match="Bad prompt; failed scenes: 1") as err:
        hook.wait_for_story("s1", poll_interval=0.01)
    assert err.value.story.failed_medias == [{"item": "a"}]
