"""Extra links: resolved by the worker after the task, from the task's XComs."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.links.story import VimmerseStoryLink, VimmerseVideoLink
from tests.conftest import set_connection
from tests.integration.dag_runner import run_dag, xcom


@pytest.fixture(autouse=True)
def _db(airflow_db):
    return airflow_db


def test_video_and_story_links(sandbox_conn, monkeypatch):
    set_connection(monkeypatch, sandbox_conn.url, story_url_template="https://vimmerse.example/story/{story_id}")
    dag_run = run_dag(
        "links",
        """
        with DAG("links", schedule=None) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="Links", scene_count=1, **FAST)
        """,
    )
    result = xcom(dag_run, "video")
    assert xcom(dag_run, "video", VimmerseVideoLink().xcom_key) == result["video_url"]
    assert (
        xcom(dag_run, "video", VimmerseStoryLink().xcom_key) == f"https://vimmerse.example/story/{result['story_id']}"
    )


def test_story_link_is_empty_without_a_template(sandbox_conn):
    dag_run = run_dag(
        "nolink",
        """
        with DAG("nolink", schedule=None) as dag:
            VimmerseCreateStoryboardOperator(task_id="board", idea="No link", **FAST)
        """,
    )
    assert xcom(dag_run, "board", VimmerseStoryLink().xcom_key) == ""
    assert xcom(dag_run, "board", VimmerseVideoLink().xcom_key) == ""
