"""
The fault matrix: real DAG runs against the sandbox with faults injected. Every row checks the
outcome, how many stories were created (never more than one per task instance), and that no
partial file exists.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import API_KEY, set_connection
from tests.integration.conftest import TEST_SPEED, add_fault, stats
from tests.integration.dag_runner import run_dag, try_number, xcom
from tests.integration.sandbox_process import SandboxProcess

MODES = [pytest.param(False, id="sync"), pytest.param(True, id="deferrable")]


@pytest.fixture(autouse=True)
def _db(airflow_db):
    return airflow_db


def video_dag(dag_id: str, *, deferrable: bool = False, retries: int = 0, extra: str = "") -> object:
    return run_dag(
        dag_id,
        f"""
        with DAG("{dag_id}", schedule=None, default_args={{"retries": {retries}}}) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="Reliability drill", scene_count=2,
                                        deferrable={deferrable}, max_poll_errors=4, {extra} **FAST)
        """,
    )


def test_5xx_burst_on_create_is_retried_once_safe(sandbox_conn):
    add_fault(sandbox_conn, kind="status", status=503, endpoint="POST /v2/story/idea-2-video", count=2)
    assert video_dag("f_create_503").state == "success"
    assert stats(sandbox_conn)["stories_created"] == 1
    assert stats(sandbox_conn)["requests"]["POST /v2/story/idea-2-video"] == 3


@pytest.mark.parametrize("status", [500, 502, 504])
def test_create_handled_then_answered_5xx_fails_without_paying_again(sandbox_conn, status):
    # The gateway-timeout case: the service made (and charged) the story, the client sees an error.
    add_fault(sandbox_conn, kind="status", status=status, handled=True, endpoint="POST /v2/story/idea-2-video", count=1)
    dag_run = video_dag(f"f_create_handled_{status}", retries=2)
    assert dag_run.state == "failed" and try_number(dag_run, "video") == 1  # no retry: it was charged
    assert stats(sandbox_conn)["stories_created"] == 1
    assert stats(sandbox_conn)["requests"]["POST /v2/story/idea-2-video"] == 1


def test_create_handled_then_cut_off_fails_without_paying_again(sandbox_conn):
    add_fault(sandbox_conn, kind="truncate", fraction=0.5, endpoint="POST /v2/story/idea-2-video", count=1)
    dag_run = video_dag("f_create_truncated", retries=2)
    assert dag_run.state == "failed" and try_number(dag_run, "video") == 1
    assert stats(sandbox_conn)["stories_created"] == 1
    assert stats(sandbox_conn)["requests"]["POST /v2/story/idea-2-video"] == 1


def test_500_before_the_create_is_handled_is_not_guessed_at(sandbox_conn):
    # A 500 cannot say whether the story was made: the task stops rather than risk a second bill.
    add_fault(sandbox_conn, kind="status", status=500, endpoint="POST /v2/story/idea-2-video", count=1)
    dag_run = video_dag("f_create_500", retries=1)
    assert dag_run.state == "failed" and try_number(dag_run, "video") == 1
    assert stats(sandbox_conn)["stories_created"] == 0


@pytest.mark.parametrize("deferrable", MODES)
def test_5xx_burst_while_polling(sandbox_conn, deferrable):
    add_fault(sandbox_conn, kind="status", status=502, endpoint="GET /v2/story/*", count=5)
    assert video_dag(f"f_poll_5xx_{deferrable}", deferrable=deferrable).state == "success"
    assert stats(sandbox_conn)["stories_created"] == 1


def test_429_retry_after_is_honoured(sandbox_conn, capfd, caplog):
    add_fault(sandbox_conn, kind="status", status=429, retry_after="2", endpoint="POST /v2/story/idea-2-video", count=1)
    assert video_dag("f_429").state == "success"
    assert "HTTP 429; retry 1/3 in 2.0s" in capfd.readouterr().out + caplog.text
    assert stats(sandbox_conn)["requests"]["POST /v2/story/idea-2-video"] == 2
    assert stats(sandbox_conn)["stories_created"] == 1


def test_connection_reset_on_create_fails_without_a_second_create(sandbox_conn):
    add_fault(sandbox_conn, kind="reset", endpoint="POST /v2/story/idea-2-video", count=1)
    dag_run = video_dag("f_create_reset", retries=2)
    assert dag_run.state == "failed" and try_number(dag_run, "video") == 1  # no retry: it may have been charged
    assert stats(sandbox_conn)["requests"]["POST /v2/story/idea-2-video"] == 1
    assert stats(sandbox_conn)["stories_created"] <= 1


@pytest.mark.parametrize("deferrable", MODES)
def test_connection_resets_while_polling(sandbox_conn, deferrable):
    add_fault(sandbox_conn, kind="reset", endpoint="GET /v2/story/*", count=3)
    assert video_dag(f"f_poll_reset_{deferrable}", deferrable=deferrable).state == "success"
    assert stats(sandbox_conn)["stories_created"] == 1


def test_create_slower_than_the_timeout_raises_may_exist(sandbox_conn, monkeypatch, capfd, caplog):
    set_connection(monkeypatch, sandbox_conn.url, timeout=0.5)
    add_fault(sandbox_conn, kind="slow", delay=1.5, endpoint="POST /v2/story/idea-2-video", count=1)
    dag_run = video_dag("f_create_slow", retries=2)
    assert dag_run.state == "failed" and try_number(dag_run, "video") == 1
    # The slow request completes on the server after the client gave up.
    deadline = time.monotonic() + 30
    while stats(sandbox_conn)["stories_created"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stats(sandbox_conn)["stories_created"] == 1
    assert stats(sandbox_conn)["requests"]["POST /v2/story/idea-2-video"] == 1
    assert "may have been created" in capfd.readouterr().out + caplog.text


@pytest.mark.parametrize("deferrable", MODES)
def test_poll_slower_than_the_timeout_is_retried(sandbox_conn, monkeypatch, deferrable):
    set_connection(monkeypatch, sandbox_conn.url, timeout=0.5)
    add_fault(sandbox_conn, kind="slow", delay=1.0, endpoint="GET /v2/story/*", count=2)
    assert video_dag(f"f_poll_slow_{deferrable}", deferrable=deferrable).state == "success"
    assert stats(sandbox_conn)["stories_created"] == 1


@pytest.mark.parametrize("deferrable", MODES)
def test_sandbox_restart_mid_story(tmp_path, monkeypatch, deferrable):
    sandbox = SandboxProcess(tmp_path / "data", api_key=API_KEY, speed=10)
    sandbox.start()
    set_connection(monkeypatch, sandbox.url, retry_limit=1)
    restarted = threading.Event()

    def restart() -> None:
        while stats(sandbox)["stories_created"] == 0:
            time.sleep(0.05)
        sandbox.stop()
        time.sleep(1.0)  # down for a second: polls fail meanwhile
        sandbox.restart(speed=TEST_SPEED)
        restarted.set()

    restarter = threading.Thread(target=restart)
    restarter.start()
    try:
        dag_run = run_dag(
            f"f_restart_{deferrable}",
            f"""
            with DAG("f_restart_{deferrable}", schedule=None) as dag:
                VimmerseIdeaToVideoOperator(task_id="video", idea="Restart drill", scene_count=2,
                                            deferrable={deferrable}, poll_interval=1, max_poll_errors=8)
            """,
        )
        restarter.join()
        assert restarted.is_set() and dag_run.state == "success"
        assert stats(sandbox)["stories_created"] == 1
        assert xcom(dag_run, "video")["video_url"]
    finally:
        restarter.join()
        sandbox.stop()


@pytest.mark.parametrize("kind", ["truncate", "reset"])
def test_broken_video_download_resumes(sandbox_conn, tmp_path, kind):
    add_fault(sandbox_conn, kind=kind, endpoint="GET /files/*", count=1, fraction=0.5)
    dag_run = run_dag(
        f"f_download_{kind}",
        f"""
        with DAG("f_download_{kind}", schedule=None) as dag:
            video = VimmerseIdeaToVideoOperator(task_id="video", idea="Download drill", scene_count=1, **FAST)
            VimmerseDownloadVideoOperator(
                task_id="download", story_id=video.output["story_id"], destination="{tmp_path}/out/v.mp4"
            )
        """,
    )
    assert dag_run.state == "success"
    assert xcom(dag_run, "download")["bytes"] == (tmp_path / "out" / "v.mp4").stat().st_size
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["v.mp4"]
    assert stats(sandbox_conn)["stories_created"] == 1


def test_download_that_never_completes_leaves_no_partial_file(sandbox_conn, tmp_path):
    add_fault(sandbox_conn, kind="truncate", endpoint="GET /files/*", count=None, fraction=0.5)
    dag_run = run_dag(
        "f_download_never",
        f"""
        with DAG("f_download_never", schedule=None) as dag:
            video = VimmerseIdeaToVideoOperator(task_id="video", idea="Never", scene_count=1, **FAST)
            VimmerseDownloadVideoOperator(task_id="download", story_id=video.output["story_id"],
                                          destination="{tmp_path}/out/v.mp4", max_resumes=2)
        """,
    )
    assert dag_run.state == "failed"
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("deferrable", MODES)
def test_story_failure_is_a_typed_error_with_the_service_message(sandbox_conn, deferrable, capfd, caplog):
    add_fault(sandbox_conn, kind="story_fail", message="Prompt rejected by moderation")
    dag_run = video_dag(f"f_story_fail_{deferrable}", deferrable=deferrable)
    assert dag_run.state == "failed"
    logged = capfd.readouterr().out + caplog.text
    assert "VimmerseStoryFailedError" in logged and "Prompt rejected by moderation" in logged
    assert stats(sandbox_conn)["stories_created"] == 1


def test_failed_scenes_are_visible_in_the_result_and_logs(sandbox_conn, capfd, caplog):
    add_fault(sandbox_conn, kind="scene_fail", scenes=[1])
    dag_run = video_dag("f_scene_fail")
    assert dag_run.state == "success"
    result = xcom(dag_run, "video")
    assert len(result["failed_medias"]) == 1 and "Scene 1" in result["failed_medias"][0]["message"]
    logged = (capfd.readouterr().out + caplog.text).splitlines()
    lines = [line for line in logged if "A scene failed to animate" in line]
    assert len(lines) == 1 and "Scene 1" in lines[0] and "warning" in lines[0].lower(), lines


def test_webhook_target_down_does_not_stop_the_story(sandbox_conn):
    dag_run = video_dag("f_webhook_down", extra='webhook_url="http://127.0.0.1:9/hook",')
    assert dag_run.state == "success"
    deadline = time.monotonic() + 10
    while stats(sandbox_conn).get("webhooks_failed", 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stats(sandbox_conn)["webhooks_failed"] >= 1
    assert stats(sandbox_conn)["stories_created"] == 1
