"""VimmerseDownloadVideoOperator inside real DAG runs: local paths, file:// URIs, assets."""

from __future__ import annotations

import hashlib

import pytest

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.integration.conftest import add_fault, stats
from tests.integration.dag_runner import run_dag, xcom


@pytest.fixture(autouse=True)
def _db(airflow_db):
    return airflow_db


@pytest.fixture
def story_id(sandbox_conn):
    hook = VimmerseHook()
    story = hook.idea_to_video("Clouds shaped like animals", scene_count=1)
    return hook.wait_for_story(story.id, poll_interval=1, timeout=60).id


def test_download_by_story_id_to_a_file_uri(sandbox_conn, story_id, tmp_path):
    dag_run = run_dag(
        "dl_uri",
        f"""
        with DAG("dl_uri", schedule=None) as dag:
            VimmerseDownloadVideoOperator(task_id="dl", story_id="{story_id}",
                                          destination="file://{tmp_path}/{{{{ ds }}}}/story.mp4")
        """,
    )
    assert dag_run.state == "success"
    result = xcom(dag_run, "dl")
    path = next(tmp_path.glob("*/story.mp4"))
    assert result["path"] == str(path) and result["story_id"] == story_id
    assert result["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() and result["bytes"] == path.stat().st_size
    assert stats(sandbox_conn)["file_requests_with_api_key"] == 1
    # The task's video link, and an asset event that names the file this run wrote.
    assert xcom(dag_run, "dl", key="video_url") == VimmerseHook().get_story(story_id).video_url
    events = _asset_events("dl_uri")
    assert [event.extra for event in events] == [result]


def test_download_resumes_after_a_dropped_connection(sandbox_conn, story_id, tmp_path):
    add_fault(sandbox_conn, kind="truncate", endpoint="GET /files/*", fraction=0.5, count=1)
    dag_run = run_dag(
        "dl_resume",
        f"""
        with DAG("dl_resume", schedule=None) as dag:
            VimmerseDownloadVideoOperator(task_id="dl", story_id="{story_id}", destination="{tmp_path}/v.mp4")
        """,
    )
    assert dag_run.state == "success"
    assert xcom(dag_run, "dl")["bytes"] == (tmp_path / "v.mp4").stat().st_size


def test_broken_download_leaves_nothing(sandbox_conn, story_id, tmp_path):
    add_fault(sandbox_conn, kind="truncate", endpoint="GET /files/*", fraction=0.5, count=None)
    dag_run = run_dag(
        "dl_broken",
        f"""
        with DAG("dl_broken", schedule=None) as dag:
            VimmerseDownloadVideoOperator(
                task_id="dl", story_id="{story_id}", destination="{tmp_path}/out/v.mp4", max_resumes=1
            )
        """,
    )
    assert dag_run.state == "failed"
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def _asset_events(dag_id: str) -> list:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(select(AssetEvent).where(AssetEvent.source_dag_id == dag_id)).all()
        session.expunge_all()
        return events
