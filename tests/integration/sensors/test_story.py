"""VimmerseStorySensor in poke, reschedule and deferrable modes, inside real DAG runs."""

from __future__ import annotations

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import set_connection
from tests.integration.conftest import add_fault, stats
from tests.integration.dag_runner import run_dag, xcom


@pytest.fixture(autouse=True)
def _db(airflow_db):
    return airflow_db


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_sensor_waits_for_success(sandbox_conn, mode):
    story = VimmerseHook().idea_to_video("A whale sings", scene_count=1)
    extra = "deferrable=True" if mode == "deferrable" else f"mode='{mode}'"
    dag_run = run_dag(
        f"sensor_{mode}",
        f"""
        with DAG("sensor_{mode}", schedule=None) as dag:
            VimmerseStorySensor(task_id="wait", story_id="{story.id}", poke_interval=1, timeout=120, {extra})
        """,
    )
    assert dag_run.state == "success"
    assert xcom(dag_run, "wait")["status"] == "success"


@pytest.mark.parametrize("deferrable", [False, True])
@pytest.mark.parametrize(("soft_fail", "state"), [(False, "failed"), (True, "skipped")])
def test_sensor_on_a_failed_story(sandbox_conn, deferrable, soft_fail, state):
    add_fault(sandbox_conn, kind="story_fail", message="nope")
    story = VimmerseHook().create_storyboard("x")
    dag_id = f"sensor_fail_{deferrable}_{soft_fail}"
    dag_run = run_dag(
        dag_id,
        f"""
        with DAG("{dag_id}", schedule=None) as dag:
            VimmerseStorySensor(task_id="wait", story_id="{story.id}", poke_interval=1, timeout=60,
                                soft_fail={soft_fail}, deferrable={deferrable})
        """,
    )
    assert dag_run.get_task_instance("wait").state == state


HAS_STATE_STORE = Version(Version(airflow_version).base_version) >= Version("3.3.0")


@pytest.mark.parametrize(
    "mode",
    [
        "poke",
        pytest.param(
            "reschedule",
            marks=pytest.mark.skipif(not HAS_STATE_STORE, reason="the count lives in task_state_store (3.3+)"),
        ),
    ],
)
def test_sensor_gives_up_after_max_poll_errors_in_every_mode(sandbox_conn, monkeypatch, mode):
    set_connection(monkeypatch, sandbox_conn.url, retry_limit=0)
    story = VimmerseHook().create_storyboard("x")
    add_fault(sandbox_conn, kind="status", status=502, endpoint="GET /v2/story/*", count=None)
    dag_run = run_dag(
        f"sensor_errors_{mode}",
        f"""
        with DAG("sensor_errors_{mode}", schedule=None) as dag:
            VimmerseStorySensor(task_id="wait", story_id="{story.id}", poke_interval=1, timeout=60,
                                max_poll_errors=2, mode="{mode}")
        """,
    )
    assert dag_run.get_task_instance("wait").state == "failed"
    # Three polls in a row failed (two tolerated), then the sensor stopped: no timeout was waited out.
    assert stats(sandbox_conn)["requests"]["GET /v2/story/{story_id}"] == 3


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_story_that_does_not_exist_fails_the_sensor_without_retries(sandbox_conn, deferrable):
    missing = "00000000-0000-4000-8000-00000000abcd"
    dag_run = run_dag(
        f"sensor_missing_{deferrable}",
        f"""
        with DAG("sensor_missing_{deferrable}", schedule=None, default_args={{"retries": 2}}) as dag:
            VimmerseStorySensor(task_id="wait", story_id="{missing}", poke_interval=1, timeout=60,
                                deferrable={deferrable}, retry_delay=timedelta(seconds=0))
        """,
    )
    ti = dag_run.get_task_instance("wait")
    assert ti.state == "failed" and ti.try_number == 1
