"""
Operators and the sensor speak the connection's API version, in every mode: each run here goes
to a sandbox that serves only that version, so a request on the other version's paths would fail
the run (and the sandbox's counters show which paths were used).
"""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import API_KEY, set_connection
from tests.integration.conftest import TEST_SPEED, stats
from tests.integration.dag_runner import run_dag, xcom
from tests.integration.sandbox_process import SandboxProcess

PREFIX = {"v2": "/v2", "legacy": ""}


@pytest.fixture(autouse=True)
def _db(airflow_db):
    return airflow_db


@pytest.fixture(params=["v2", "legacy"])
def one_version(request, tmp_path, monkeypatch):
    """A sandbox serving one API version, and ``vimmerse_default`` configured for it."""
    with SandboxProcess(
        tmp_path / "sandbox", api_key=API_KEY, speed=TEST_SPEED, extra_args=["--api-versions", request.param]
    ) as server:
        server.api_version = request.param
        set_connection(monkeypatch, server.url, api_version=request.param)
        yield server


def _paths_used(server) -> set[str]:
    return {endpoint.split(" ", 1)[1] for endpoint in stats(server)["requests"] if "/story" in endpoint}


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_story_steps_use_the_connections_version(one_version, deferrable):
    version = one_version.api_version
    dag_id = f"versions_{version}_{deferrable}"
    dag_run = run_dag(
        dag_id,
        f"""
        with DAG("{dag_id}", schedule=None) as dag:
            idea = VimmerseIdeaToVideoOperator(task_id="idea", idea="A heron learns to fish", scene_count=1,
                                               deferrable={deferrable}, **FAST)
            board = VimmerseCreateStoryboardOperator(task_id="storyboard", idea="A fox opens a bakery", scene_count=1,
                                                     deferrable={deferrable}, **FAST)
            story_id = "{{{{ ti.xcom_pull('storyboard', key='story_id') }}}}"
            elements = VimmerseCreateElementsOperator(task_id="elements", story_id=story_id,
                                                      storyboard="{{{{ ti.xcom_pull('storyboard')['storyboard'] }}}}",
                                                      deferrable={deferrable}, **FAST)
            scenes = VimmerseCreateScenesOperator(task_id="scenes", story_id=story_id, deferrable={deferrable}, **FAST)
            videos = VimmerseCreateVideosOperator(task_id="videos", story_id=story_id, duration=1,
                                                  deferrable={deferrable}, **FAST)
            concat = VimmerseConcatStoryOperator(task_id="concat", story_id=story_id, deferrable={deferrable}, **FAST)
            board >> elements >> scenes >> videos >> concat
        """,
    )
    assert dag_run.state == "success"
    assert xcom(dag_run, "idea")["video_url"] and xcom(dag_run, "concat")["video_url"].endswith("story_v2.mp4")
    used = _paths_used(one_version)
    assert used and all(path.startswith(f"{PREFIX[version]}/story") for path in used), used
    assert "/story/{story_id}/concat" in {path.removeprefix(PREFIX[version]) for path in used}
    assert stats(one_version)["stories_created"] == 2


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_the_sensor_uses_the_connections_version(one_version, deferrable):
    version = one_version.api_version
    story = VimmerseHook().idea_to_video("A whale sings", scene_count=1)
    dag_id = f"sensor_versions_{version}_{deferrable}"
    dag_run = run_dag(
        dag_id,
        f"""
        with DAG("{dag_id}", schedule=None) as dag:
            VimmerseStorySensor(task_id="wait", story_id="{story.id}", poke_interval=1, timeout=120,
                                deferrable={deferrable})
        """,
    )
    assert dag_run.state == "success" and xcom(dag_run, "wait")["status"] == "success"
    assert stats(one_version)["requests"][f"GET {PREFIX[version]}/story/{{story_id}}"] >= 1


def test_an_unknown_api_version_fails_the_task_before_any_request(one_version, monkeypatch):
    set_connection(monkeypatch, one_version.url, api_version="v3")
    dag_run = run_dag(
        "versions_unknown",
        """
        with DAG("versions_unknown", schedule=None) as dag:
            VimmerseIdeaToVideoOperator(task_id="idea", idea="x", retries=2, **FAST)
        """,
    )
    ti = dag_run.get_task_instance("idea")
    assert ti.state == "failed" and ti.try_number == 1  # not retried: a retry cannot fix a connection
    assert _paths_used(one_version) == set()
