"""VimmerseHook over real HTTP: request shapes, error mapping, retries, keep-alive, secrets."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from airflow_provider_vimmerse import exceptions as exc
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.models import VimmerseStoryStatus
from tests.conftest import API_KEY, SleepRecorder, set_connection
from tests.integration.conftest import stats
from tests.integration.recording_server import RecordingServer, Reply, refused_url, story_body

STORYBOARD = {
    "characters": [{"name": "Pip", "description": "a bunny"}],
    "environments": [],
    "objects": [],
    "scenes": [
        {
            "name": "One",
            "image_description": "**Pip** waves",
            "video_description": "camera motion:zoom in",
            "narrator": "Hello.",
        }
    ],
    "music": {"description": "calm"},
}


@pytest.fixture
def server(monkeypatch):
    with RecordingServer() as srv:
        set_connection(monkeypatch, srv.url, retry_limit=3)
        yield srv


def test_older_names_still_work_and_send_the_new_field(server, hook):
    with pytest.warns(DeprecationWarning, match="'option' is deprecated; use 'image_tool'"):
        hook.idea_to_video("x", option="FluxTurbo", motion_type="KlingAI", duration=10)
    sent = server.requests[0].json
    assert (sent["image_tool"], sent["video_tool"], sent["scene_duration"]) == ("FluxTurbo", "KlingAI", 10)
    assert not {"option", "motion_type", "duration"} & set(sent)


def test_create_storyboard_is_multipart_and_uploads_image_files(server, hook, tmp_path, monkeypatch):
    set_connection(monkeypatch, server.url, api_version="legacy")  # uploads are a Legacy feature
    image = tmp_path / "cover.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n fake")
    hook.create_storyboard(
        "An idea", scene_count=4, language="French", audio_option={"has_bg_music": False}, image_files=[str(image)]
    )
    request = server.requests[0]
    assert request.path == "/story" and request.headers["Content-Type"].startswith("multipart/form-data")
    assert request.multipart == [
        ("idea", "An idea"),
        ("scene_count", "4"),
        ("language", "French"),
        ("audio_option", '{"has_bg_music": false}'),
        ("image_files", b"\x89PNG\r\n\x1a\n fake"),
    ]


def test_a_missing_image_file_is_refused_before_sending(server, hook, tmp_path):
    with pytest.raises(exc.VimmerseInvalidParameterError, match="image_files"):
        hook.create_storyboard("An idea", image_files=[str(tmp_path / "nope.png")])
    assert server.requests == []


def test_concat_sends_url_lists_as_repeated_keys_and_accepts_an_empty_answer(server, hook, monkeypatch):
    set_connection(monkeypatch, server.url, api_version="legacy")
    server.replies = [Reply(body={})]
    story = hook.concat_story(
        "s1", concat_video_urls=["http://a/1.mp4", "http://a/2.mp4"], audio_urls=["http://a/m.mp3"]
    )
    assert server.requests[0].form == [
        ("concat_video_urls", "http://a/1.mp4"),
        ("concat_video_urls", "http://a/2.mp4"),
        ("audio_urls", "http://a/m.mp3"),
    ]
    assert story.id == "story-1" and server.requests[1].method == "GET"  # the {} answer is read back


def test_delete_accepts_an_empty_answer(server, hook):
    server.default = Reply(body={})
    hook.delete_story("s1")


def test_extra_params_pass_through(server, hook):
    hook.create_elements("s1", extra_params={"brand_new": "fr"})
    assert server.requests[0].json == {"brand_new": "fr"}
    hook.create_elements("s1", extra_params='{"brand_new": "de"}')  # a templated value renders to JSON text
    assert server.requests[1].json == {"brand_new": "de"}


def test_unknown_model_names_are_sent_with_a_warning(server, hook, caplog):
    with caplog.at_level(logging.WARNING):
        hook.create_videos("s1", motion_type="Sora3")
    assert server.requests[0].json == {"motion_type": "Sora3"}
    assert "Sora3" in caplog.text


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"message": "BAD_REQUEST"}, exc.VimmerseApiError),
        (401, {"message": "UNAUTHORIZED"}, exc.VimmerseApiError),
        (402, {"message": "INSUFFICIENT_CREDIT"}, exc.VimmerseInsufficientCreditError),
        (404, {"message": "NOT_FOUND"}, exc.VimmerseNotFoundError),
        (422, {"detail": [{"loc": ["body", "loop"], "msg": "bad"}]}, exc.VimmerseApiError),
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
    with pytest.raises(exc.VimmerseUnavailableError):
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
    with pytest.raises(exc.VimmerseUnavailableError) as err:
        hook.get_story("s1")
    assert err.value.retry_after == 3600 and len(server.requests) == 1


def test_create_is_retried_on_429_and_503_but_not_500(server, hook):
    server.replies = [Reply(status=503), Reply(status=429, headers={"Retry-After": "1"})]
    hook.create_storyboard("idea")
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500),
        Reply(status=502),
        Reply(status=504),
        Reply(body="<html>ok</html>"),
        Reply(body={"status": "new"}),
    ],
    ids=["500", "502", "504", "2xx-not-json", "2xx-no-data"],
)
def test_a_create_answered_5xx_or_unreadable_may_exist_and_is_not_repeated(server, hook, reply):
    server.replies = [reply]
    with pytest.raises(exc.VimmerseStoryMayExistError, match="may have created and charged") as err:
        hook.create_storyboard("idea")
    assert len(server.requests) == 1
    from airflow.providers.common.compat.sdk import AirflowFailException

    assert isinstance(err.value, AirflowFailException)  # Airflow does not retry it either


def test_a_read_answered_5xx_is_still_retried(server, hook):
    server.replies = [Reply(status=502), Reply(status=504)]
    assert hook.get_story("s1").id == "story-1" and len(server.requests) == 3


@pytest.mark.parametrize("stray", ["\n", " ", "\r\n", "\t"])
def test_a_key_pasted_with_whitespace_is_stripped_and_never_shown(server, monkeypatch, stray):
    set_connection(monkeypatch, server.url, password=API_KEY + stray)
    VimmerseHook().get_story("s1")
    assert server.requests[0].headers["X-Api-Key"] == API_KEY


@pytest.mark.parametrize("bad", ["vmk-TEST key", "vmk-TEST\nkey", "vmk-TÉST", "vmk-\x00"])
def test_a_key_with_whitespace_inside_is_a_configuration_error_without_the_key(server, monkeypatch, bad):
    set_connection(monkeypatch, server.url, password=bad)
    with pytest.raises(exc.VimmerseConfigurationError, match="API key") as err:
        VimmerseHook().get_story("s1")
    assert bad.strip() not in str(err.value) and "vmk" not in str(err.value)
    assert server.requests == []


def test_a_gateway_page_echoing_the_key_is_redacted(server, hook):
    server.default = Reply(status=502, body=f"<html>upstream failed; request headers: X-Api-Key: {API_KEY}</html>")
    with pytest.raises(exc.VimmerseUnavailableError) as err:
        hook.get_story("s1")
    assert API_KEY not in str(err.value) and "***" in str(err.value)


def test_a_401_body_is_not_quoted(server, hook):
    server.default = Reply(status=401, body={"message": f"bad key {API_KEY}"})
    with pytest.raises(exc.VimmerseApiError) as err:
        hook.get_story("s1")
    assert API_KEY not in str(err.value) and "answered HTTP 401" in str(err.value)


def test_a_dribbled_body_cannot_outlast_the_timeout(monkeypatch):
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def dribble():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n")
        while not stop.wait(0.2):  # one byte every 0.2 s: each read is quick, the whole body never is
            try:
                conn.sendall(b" ")
            except OSError:
                return
        conn.close()

    threading.Thread(target=dribble, daemon=True).start()
    set_connection(monkeypatch, f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=1, retry_limit=0)
    hook = VimmerseHook()
    try:
        with pytest.raises(exc.VimmerseUnavailableError, match="no complete answer within 1s"):
            hook.get_story("s1")
    finally:
        stop.set()
        listener.close()


def test_retry_after_never_runs_past_the_waits_deadline(server, hook):
    server.default = Reply(status=429, headers={"Retry-After": "30"})
    import time

    with pytest.raises(exc.VimmerseUnavailableError, match="would pass the wait's deadline"):
        hook.get_story("s1", deadline=time.monotonic() + 5)
    assert hook._sleep.waits == []


def test_a_429_that_is_not_retried_says_why(server, hook):
    server.default = Reply(status=429, headers={"Retry-After": "3600"})
    with pytest.raises(exc.VimmerseUnavailableError, match=r"Retry-After 3600s is longer than .*max_retry_delay"):
        hook.get_story("s1")
    server.default = Reply(status=429, headers={"Retry-After": "0"})
    with pytest.raises(exc.VimmerseUnavailableError, match=r"retry limit \(3\) was reached"):
        hook.get_story("s1")


def test_could_not_connect_names_the_url_and_the_cause_without_a_chain(monkeypatch):
    with refused_url() as url:
        set_connection(monkeypatch, url, retry_limit=0)
        with pytest.raises(exc.VimmerseUnavailableError) as err:
            VimmerseHook().get_story("s1")
    assert str(err.value) == f"Could not connect to {url}/v2/story/s1: connection refused."
    assert err.value.__cause__ is None and err.value.__context__ is None  # no chained traceback


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
    with refused_url() as url:
        set_connection(monkeypatch, url, retry_limit=2)
        hook = VimmerseHook()
        hook._sleep = SleepRecorder()
        with pytest.raises(exc.VimmerseUnavailableError) as err:
            hook.idea_to_video("idea")
    assert not isinstance(err.value, exc.VimmerseStoryMayExistError)
    assert len(hook._sleep.waits) == 2


def test_extras_are_settings_not_headers(server, monkeypatch):
    set_connection(monkeypatch, server.url, timeout=5, story_url_template="https://v/{story_id}", verify_ssl=True)
    VimmerseHook().get_story("s1")
    headers = {key.lower() for key in server.requests[0].headers}
    assert {"timeout", "story_url_template", "verify_ssl", "retry_delay"}.isdisjoint(headers)
    assert "x-api-key" in headers


def test_one_keep_alive_session_per_hook(server, hook):
    for _ in range(5):
        hook.get_story("s1")
    assert len({r.client_port for r in server.requests}) == 1


def test_api_key_never_appears_in_logs_or_errors(server, hook, caplog, capfd):
    server.replies = [Reply(status=503), Reply(status=500)]
    server.default = Reply(status=401, body={"message": "UNAUTHORIZED"})
    with caplog.at_level(logging.DEBUG), pytest.raises(exc.VimmerseApiError) as err:
        hook.get_story("s1")
    printed = capfd.readouterr()
    assert "retry 1/3" in printed.out + printed.err + caplog.text  # the retries were logged...
    assert API_KEY not in caplog.text + printed.out + printed.err  # ...without the key
    assert API_KEY not in str(err.value) and API_KEY not in repr(err.value)
    assert API_KEY not in repr(hook.settings)


def test_uri_form_of_the_connection(server, monkeypatch):
    port = server.url.rsplit(":", 1)[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIMMERSE_URI", f"vimmerse://:{API_KEY}@127.0.0.1:{port}/http?timeout=7&retry_limit=1"
    )
    hook = VimmerseHook("vimmerse_uri")
    assert hook.settings.base_url == server.url and hook.settings.timeout == 7
    hook.get_story("s1")
    assert server.requests[0].headers["X-Api-Key"] == API_KEY


# --------------------------------------------------------------------------- against the sandbox


def test_story_lifecycle_against_the_sandbox(sandbox_conn):
    hook = VimmerseHook()
    story = hook.idea_to_video("A robot learns to paint", scene_count=2)
    assert story.status in (VimmerseStoryStatus.NEW, VimmerseStoryStatus.PROCESSING)
    done = hook.wait_for_story(story.id, poll_interval=1, timeout=120, needs_video=True)
    assert done.status is VimmerseStoryStatus.SUCCESS and done.video_url and done.progress_percentage == 100
    assert len(done.medias) == 2 and done.used_credits > 0
    assert hook.update_story(story.id, title="Renamed").title == "Renamed"
    hook.delete_story(story.id)
    with pytest.raises(exc.VimmerseNotFoundError):
        hook.get_story(story.id)
    assert stats(sandbox_conn)["stories_created"] == 1


def test_test_connection_reports_which_part_failed(sandbox_conn, monkeypatch):
    ok, message = VimmerseHook().test_connection()
    assert ok and "accepted" in message
    assert stats(sandbox_conn)["stories_created"] == 0
    set_connection(monkeypatch, sandbox_conn.url, password="wrong-key-123")
    ok, message = VimmerseHook().test_connection()
    assert not ok and "rejected" in message and "wrong-key-123" not in message
    with refused_url() as closed:
        set_connection(monkeypatch, closed, retry_limit=0)
        ok, message = VimmerseHook().test_connection()
    assert not ok and "not reachable" in message and closed in message


def test_test_connection_reads_400_for_the_probe_as_reached(server, hook):
    server.routes["/health"] = Reply(body={"data": {"status": "ok"}})
    server.default = Reply(status=400, body={"message": "BAD_REQUEST", "detail": "Invalid story ID format"})
    ok, message = hook.test_connection()
    assert ok and "rejected" not in message
    assert server.requests[-1].path == "/v2/story/00000000-0000-4000-8000-000000000000"


def test_test_connection_without_a_key_says_so(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIMMERSE_DEFAULT", json.dumps({"conn_type": "vimmerse", "host": "http://127.0.0.1:9"})
    )
    ok, message = VimmerseHook().test_connection()
    assert not ok and "no API key" in message and "not reachable" not in message


def test_test_connection_with_the_ui_masked_password_says_so_without_a_request(server, monkeypatch):
    # The UI's Test button sends a saved connection's password as Airflow's mask.
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIMMERSE_DEFAULT", json.dumps({"conn_type": "vimmerse", "host": server.url, "password": "***"})
    )
    ok, message = VimmerseHook().test_connection()
    assert not ok and "mask" in message and "airflow connections test" in message
    assert server.requests == []


def test_insufficient_credit_creates_nothing(sandbox_conn):
    sandbox_conn.set_credits(2)
    with pytest.raises(exc.VimmerseInsufficientCreditError):
        VimmerseHook().idea_to_video("Too expensive")
    assert stats(sandbox_conn)["stories_created"] == 0


def test_wait_for_story_times_out_without_cancelling(server, hook):
    server.default = Reply(body=story_body("s1", "processing", progress_percentage=30))
    hook._sleep = lambda seconds: None
    with pytest.raises(exc.VimmerseWaitError, match="last progress 30%"):
        hook.wait_for_story("s1", poll_interval=1, timeout=0.2)
    assert {r.method for r in server.requests} == {"GET"}


def test_wait_for_story_tolerates_then_gives_up_on_poll_errors(server, hook, monkeypatch):
    set_connection(monkeypatch, server.url, retry_limit=0)
    hook = VimmerseHook()
    hook._sleep = SleepRecorder()
    server.replies = [
        Reply(status=502),
        Reply(body=story_body("s1", "processing")),
        Reply(status=502),
        Reply(status=500),
    ]
    server.default = Reply(status=503)
    with pytest.raises(exc.VimmerseUnavailableError, match="may still be running"):
        hook.wait_for_story("s1", poll_interval=1, max_poll_errors=2)
    assert len(server.requests) == 5
    assert hook._sleep.waits == [2, 1, 2, 4]  # backs off while polls fail


def test_wait_for_story_raises_the_failure(server, hook):
    server.default = Reply(body=story_body("s1", "fail", message="Bad prompt", failed_medias=[{"item": "a"}]))
    with pytest.raises(exc.VimmerseStoryFailedError, match="Bad prompt; failed scenes: 1") as err:
        hook.wait_for_story("s1", poll_interval=1)
    assert err.value.story.failed_medias == [{"item": "a"}]


def test_test_connection_answers_without_minutes_of_retries(server, monkeypatch):
    set_connection(monkeypatch, server.url, retry_limit=5, retry_delay=30)
    server.default = Reply(status=503)
    hook = VimmerseHook()
    hook._sleep = SleepRecorder()
    ok, message = hook.test_connection()
    assert not ok and "503" in message
    assert len(server.requests) == 1 and hook._sleep.waits == []
