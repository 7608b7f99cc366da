"""The per-task credit cap in real DAG runs: a task whose estimate is over its cap sends nothing."""

from __future__ import annotations

import pytest

from tests.integration.conftest import stats
from tests.integration.dag_runner import run_dag, xcom


@pytest.fixture(autouse=True)
def _db(airflow_db):
    return airflow_db


def test_a_task_over_its_cap_sends_nothing_and_is_not_retried(sandbox_conn):
    dag_run = run_dag(
        "credits_over",
        """
        with DAG("credits_over", schedule=None) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="A fox", scene_count=3, max_credits=100, retries=2,
                                        **FAST)
        """,
    )
    ti = dag_run.get_task_instance("video")
    assert ti.state == "failed" and ti.try_number == 1
    assert stats(sandbox_conn)["requests"] == {} and stats(sandbox_conn)["stories_created"] == 0


def test_a_templated_cap_that_holds_lets_the_story_run_and_returns_the_bill(sandbox_conn):
    dag_run = run_dag(
        "credits_within",
        """
        with DAG("credits_within", schedule=None, params={"cap": 75}) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="A fox", scene_count=3, video_tool="Vidu",
                                        max_credits="{{ params.cap }}", **FAST)
        """,
    )
    assert dag_run.state == "success"
    bill = xcom(dag_run, "video")
    assert bill["estimated_credits"] == 75 and bill["used_credits"] > 0
