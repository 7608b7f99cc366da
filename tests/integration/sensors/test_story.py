"""VimmerseStorySensor in poke, reschedule and deferrable modes, inside real DAG runs."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.integration.conftest import add_fault
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
            VimmerseStorySensor(task_id="wait", story_id="{story.id}", poke_interval=0.1, timeout=120, {extra})
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
            VimmerseStorySensor(task_id="wait", story_id="{story.id}", poke_interval=0.1, timeout=60,
                                soft_fail={soft_fail}, deferrable={deferrable})
        """,
    )
    assert dag_run.get_task_instance("wait").state == state
