"""Story operators inside real DAG runs against the sandbox, in sync and deferrable mode."""

from __future__ import annotations

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import set_connection
from tests.integration.conftest import add_fault, stats
from tests.integration.dag_runner import run_dag, try_number, xcom

MODES = [pytest.param(False, id="sync"), pytest.param(True, id="deferrable")]


@pytest.fixture(autouse=True)
def _db(airflow_db):
    return airflow_db


@pytest.mark.parametrize("deferrable", MODES)
def test_idea_to_video(sandbox_conn, deferrable, capfd, caplog):
    dag_run = run_dag(
        f"idea_{deferrable}",
        f"""
        with DAG("idea_{deferrable}", schedule=None) as dag:
            VimmerseIdeaToVideoOperator(
                task_id="video", idea="A {{{{ params.animal }}}} learns to surf", title="{{{{ dag.dag_id }}}}",
                scene_count=2, deferrable={deferrable}, params={{"animal": "penguin"}}, **FAST,
            )
        """,
    )
    assert dag_run.state == "success"
    result = xcom(dag_run, "video")
    assert result["status"] == "success" and result["video_url"] and result["progress_percentage"] == 100
    assert result["title"] == f"idea_{deferrable}" and result["used_credits"] > 0
    assert xcom(dag_run, "video", "story_id") == result["story_id"]
    assert xcom(dag_run, "video", "video_url") == result["video_url"]
    assert "penguin" in VimmerseHook().get_story(result["story_id"]).raw["idea"]
    assert stats(sandbox_conn)["stories_created"] == 1
    logged = capfd.readouterr().out + caplog.text
    assert ("running trigger in line" in logged) is deferrable
    assert "Waiting for story" in logged and ("in the triggerer" in logged) is deferrable
    # One fact per line.
    assert f"Story {result['story_id']} finished: success" in logged
    assert f"Video: {result['video_url']}" in logged and "finished: success, video" not in logged
    assert f"Credits used: {result['used_credits']} (estimated: " in logged


@pytest.mark.parametrize("deferrable", MODES)
def test_step_by_step_flow(sandbox_conn, deferrable):
    dag_run = run_dag(
        f"steps_{deferrable}",
        f"""
        with DAG("steps_{deferrable}", schedule=None) as dag:
            board = VimmerseCreateStoryboardOperator(task_id="storyboard", idea="A fox opens a bakery", scene_count=2,
                                                     deferrable={deferrable}, **FAST)
            story_id = "{{{{ ti.xcom_pull('storyboard', key='story_id') }}}}"
            elements = VimmerseCreateElementsOperator(task_id="elements", story_id=story_id, aspect_ratio="16:9",
                                                      storyboard="{{{{ ti.xcom_pull('storyboard')['storyboard'] }}}}",
                                                      deferrable={deferrable}, **FAST)
            scenes = VimmerseCreateScenesOperator(task_id="scenes", story_id=story_id, deferrable={deferrable}, **FAST)
            videos = VimmerseCreateVideosOperator(
                task_id="videos", story_id=story_id, duration=1, deferrable={deferrable}, **FAST
            )
            concat = VimmerseConcatStoryOperator(task_id="concat", story_id=story_id, deferrable={deferrable}, **FAST)
            board >> elements >> scenes >> videos >> concat
        """,
    )
    assert dag_run.state == "success"
    assert xcom(dag_run, "storyboard")["storyboard"]["scenes"]
    assert xcom(dag_run, "videos")["video_url"].endswith("story_v1.mp4")
    assert xcom(dag_run, "concat")["video_url"].endswith("story_v2.mp4")
    assert stats(sandbox_conn)["stories_created"] == 1


HAS_STATE_STORE = Version(Version(airflow_version).base_version) >= Version("3.3.0")


@pytest.mark.parametrize("deferrable", MODES)
def test_retry_reattaches_instead_of_paying_twice(sandbox_conn, deferrable, monkeypatch, capfd, caplog):
    # Try 1 creates the story, then every status read fails until it gives up (3 polls x 2 requests).
    set_connection(monkeypatch, sandbox_conn.url, retry_limit=1)
    add_fault(sandbox_conn, kind="status", status=500, endpoint="GET /v2/story/{story_id}", count=6)
    dag_run = run_dag(
        f"reattach_{deferrable}",
        f"""
        with DAG("reattach_{deferrable}", schedule=None, default_args={{"retries": 1}}) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="A robot bakes bread", scene_count=1,
                                        deferrable={deferrable}, max_poll_errors=2, **FAST)
        """,
    )
    assert dag_run.state == "success" and try_number(dag_run, "video") == 2
    logged = capfd.readouterr().out + caplog.text
    if HAS_STATE_STORE:
        assert stats(sandbox_conn)["stories_created"] == 1
        assert stats(sandbox_conn)["requests"]["POST /v2/story/idea-2-video"] == 1
        assert "Reattaching to story" in logged
    else:  # before Airflow 3.3 there is nowhere to remember the story: warn, and behave as before
        assert stats(sandbox_conn)["stories_created"] == 2
        assert "has no task_state_store" in logged


@pytest.mark.parametrize("deferrable", MODES)
def test_retry_after_a_failed_story_creates_a_new_one(sandbox_conn, deferrable):
    add_fault(sandbox_conn, kind="story_fail", message="Render farm exploded", count=1)
    dag_run = run_dag(
        f"refail_{deferrable}",
        f"""
        with DAG("refail_{deferrable}", schedule=None, default_args={{"retries": 1}}) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="A robot bakes bread", scene_count=1,
                                        deferrable={deferrable}, **FAST)
        """,
    )
    assert dag_run.state == "success" and try_number(dag_run, "video") == 2
    assert stats(sandbox_conn)["stories_created"] == 2


def test_opting_out_of_reattach_pays_for_a_fresh_story(sandbox_conn, monkeypatch):
    set_connection(monkeypatch, sandbox_conn.url, retry_limit=1)
    add_fault(sandbox_conn, kind="status", status=500, endpoint="GET /v2/story/{story_id}", count=6)
    dag_run = run_dag(
        "fresh",
        """
        with DAG("fresh", schedule=None, default_args={"retries": 1}) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="x y z", scene_count=1, max_poll_errors=2,
                                        reattach_on_retry=False, **FAST)
        """,
    )
    assert dag_run.state == "success"
    assert stats(sandbox_conn)["stories_created"] == 2


def test_story_failure_fails_the_task_with_the_message(sandbox_conn):
    add_fault(sandbox_conn, kind="story_fail", message="Unsafe content", count=None)
    dag_run = run_dag(
        "failing",
        """
        with DAG("failing", schedule=None) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="x", scene_count=1, deferrable=True, **FAST)
        """,
    )
    assert dag_run.state == "failed"


def test_no_wait_returns_at_once(sandbox_conn):
    dag_run = run_dag(
        "nowait",
        """
        with DAG("nowait", schedule=None) as dag:
            VimmerseCreateStoryboardOperator(task_id="board", idea="x", wait_for_completion=False, **FAST)
        """,
    )
    assert dag_run.state == "success"
    assert xcom(dag_run, "board")["status"] in ("new", "processing")


def test_invalid_templated_value_fails_before_any_request(sandbox_conn):
    dag_run = run_dag(
        "invalid",
        """
        with DAG("invalid", schedule=None, params={"n": 0}) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="x", scene_count="{{ params.n }}", **FAST)
        """,
    )
    assert dag_run.state == "failed"
    assert stats(sandbox_conn)["requests"] == {}


def test_idea_from_a_template_file(sandbox_conn, airflow_db):
    (airflow_db / "dags" / "idea.md").write_text("A story about {{ params.topic }}")
    dag_run = run_dag(
        "idea_file",
        """
        with DAG("idea_file", schedule=None, params={"topic": "lighthouses"}) as dag:
            VimmerseCreateStoryboardOperator(task_id="board", idea="idea.md", **FAST)
        """,
    )
    assert dag_run.state == "success"
    assert VimmerseHook().get_story(xcom(dag_run, "board")["story_id"]).raw["idea"] == "A story about lighthouses"


def test_url_and_images_to_video(static_sandbox, monkeypatch):
    set_connection(monkeypatch, static_sandbox.url)
    page = f"{static_sandbox.url}/static/page/index.html"
    images = [f"{static_sandbox.url}/static/images/{name}.png" for name in ("harbor", "captain")]
    dag_run = run_dag(
        "auto_modes",
        f"""
        with DAG("auto_modes", schedule=None) as dag:
            VimmerseUrlToVideoOperator(task_id="page", url="{page}", scene_count=2, **FAST)
            VimmerseImagesToVideoOperator(task_id="images", image_urls={images!r}, idea="A day at the harbor.", **FAST)
        """,
    )
    assert dag_run.state == "success"
    page_story = VimmerseHook().get_story(xcom(dag_run, "page")["story_id"])
    assert page_story.video_url and page_story.storyboard["scenes"][0]["name"].endswith("Harbor Light Lantern")
    assert page_story.storyboard["scenes"][0]["image_url"].endswith("/static/images/lighthouse.png")
    image_story = VimmerseHook().get_story(xcom(dag_run, "images")["story_id"])
    assert [scene["image_url"] for scene in image_story.storyboard["scenes"]] == images
    assert image_story.video_url


@pytest.mark.parametrize("deferrable", MODES)
def test_a_step_never_takes_the_previous_steps_success_as_its_own(sandbox_conn, deferrable):
    hook = VimmerseHook()
    story = hook.wait_for_story(hook.create_storyboard("A fox opens a bakery", scene_count=1).id, poll_interval=1)
    add_fault(sandbox_conn, kind="stale_status", count=1)
    dag_run = run_dag(
        f"stale_{deferrable}",
        f"""
        with DAG("stale_{deferrable}", schedule=None) as dag:
            VimmerseCreateElementsOperator(task_id="elements", story_id="{story.id}", deferrable={deferrable}, **FAST)
        """,
    )
    assert dag_run.state == "success"
    # It polled until the elements existed, rather than trusting the stale 'success' in the POST's answer.
    elements = xcom(dag_run, "elements")["storyboard"]["characters"]
    assert elements and all(item.get("image_url") for item in elements)
