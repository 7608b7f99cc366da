"""
The example DAGs as a platform team runs them: through the scheduler, on CeleryExecutor with one
worker, PostgreSQL as the metadata database, Redis as the broker, two triggerers; the sandbox is
the Story API. Then a Celery worker SIGKILLed while a task waits on its story: the retry, on a new
worker, reattaches to that story instead of paying for another.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from tests.conftest import API_KEY
from tests.integration.airflow_processes import wait_for
from tests.integration.dag_runner import example_conf
from tests.integration.sandbox_process import SandboxProcess
from tests.production.deployment import CeleryDeployment
from tests.production.services import postgres, redis

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
#: The examples a person or a schedule starts (the seventh is started by finished stories' events).
RUNNABLE = [
    "vimmerse_idea_to_video",
    "vimmerse_story_step_by_step",
    "vimmerse_data_to_video",
    "vimmerse_story_from_images",
    "vimmerse_url_to_video",
    "vimmerse_images_to_video",
]
CRASH_DAG = """
from datetime import timedelta

import pendulum
from airflow.sdk import DAG
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

with DAG("production_worker_crash", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={"retries": 1, "retry_delay": timedelta(seconds=0)}):
    VimmerseIdeaToVideoOperator(task_id="video", idea="A crash drill", scene_count=2, poll_interval=1,
                                deferrable=False, vimmerse_conn_id="vimmerse_slow")
"""


def _connection(sandbox: SandboxProcess) -> str:
    return json.dumps({"conn_type": "vimmerse", "host": sandbox.url, "password": API_KEY})


pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[tuple[CeleryDeployment, SandboxProcess, SandboxProcess, Path]]:
    root = tmp_path_factory.mktemp("production")
    dags = root / "dags"
    dags.mkdir()
    for path in EXAMPLES.iterdir():  # the examples as shipped, plus one DAG for the crash drill
        (dags / path.name).symlink_to(path)
    (dags / "production_worker_crash.py").write_text(textwrap.dedent(CRASH_DAG))
    output = root / "output"
    with (
        postgres() as database_url,
        redis() as broker_url,
        SandboxProcess(root / "sandbox", api_key=API_KEY, speed=100, static_dir=EXAMPLES / "data") as sandbox,
        SandboxProcess(root / "slow-sandbox", api_key=API_KEY, speed=3) as slow,
    ):
        settings = {
            "AIRFLOW_CONN_VIMMERSE_DEFAULT": _connection(sandbox),
            "AIRFLOW_CONN_VIMMERSE_SLOW": _connection(slow),
            "AIRFLOW__VIMMERSE__POLL_INTERVAL": "1",
            "AIRFLOW__VIMMERSE__OUTPUT_BASE": f"file://{output}",
        }
        with CeleryDeployment(root / "airflow", database_url, broker_url, dags, settings) as deployment:
            print(f"\nProduction tier: CeleryExecutor, metadata database {database_url}, broker {broker_url}")
            deployment.wait_for_dags([*RUNNABLE, "production_worker_crash"])
            yield deployment, sandbox, slow, output


def _query(deployment: CeleryDeployment, sql: str) -> list[tuple[Any, ...]]:
    url = deployment.database_url.replace("postgresql+psycopg2", "postgresql")
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _failures(deployment: CeleryDeployment, runs: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for dag_id, found in runs.items():
        for run in found:
            if run["state"] != "success":
                tasks = deployment.task_instances(dag_id, run["dag_run_id"])
                states = {task["task_id"]: task["state"] for task in tasks}
                lines.append(f"{dag_id} {run['dag_run_id']} {run['state']}: {states}")
    return "\n".join(lines)


def test_the_example_dags_run_through_the_scheduler_on_celery_and_postgres(world):
    deployment, sandbox, _, output = world
    conf = example_conf(output, sandbox)
    manual = {dag_id: deployment.trigger(dag_id, conf) for dag_id in RUNNABLE}
    runs = deployment.wait_for_runs(RUNNABLE, timeout=480)
    assert not _failures(deployment, runs), _failures(deployment, runs)
    for dag_id, run_id in manual.items():
        assert run_id in {run["dag_run_id"] for run in runs[dag_id]}
    # Unpausing the two scheduled examples also started their latest scheduled run.
    assert {dag_id for dag_id, found in runs.items() if len(found) > 1} == {
        "vimmerse_idea_to_video",
        "vimmerse_data_to_video",
    }
    # The tasks ran on the Celery worker, whose log names each task it was handed.
    worker_log = deployment.log("worker").read_text()
    assert "celery@" in worker_log and "execute_workload" in worker_log, worker_log[-3000:]

    # Every story the sandbox created is recorded in PostgreSQL's task_state_store (the step-by-step
    # example's steps share theirs): none created twice, none created and then forgotten.
    rows = _query(deployment, "SELECT value FROM task_state_store")
    recorded = {json.loads(value).get("story_id") for (value,) in rows} - {None}
    assert recorded and sandbox.stats()["stories_created"] == len(recorded), rows
    videos = list(output.glob("*/*/story.mp4"))
    assert videos and all(video.stat().st_size > 10_000 for video in videos)


def test_a_celery_worker_killed_mid_wait_is_replaced_and_the_retry_reattaches(world):
    deployment, _, slow, _ = world
    run_id = deployment.trigger("production_worker_crash", {})
    assert wait_for(lambda: slow.stats()["stories_created"] == 1, timeout=180)
    assert wait_for(lambda: deployment.task_processes(), timeout=30)
    time.sleep(1.5)  # the story is recorded in task_state_store; the task is polling it
    deployment.kill_worker()
    deployment.start_worker()
    runs = deployment.wait_for_runs(["production_worker_crash"], timeout=240)
    (run,) = runs["production_worker_crash"]
    assert run["dag_run_id"] == run_id and run["state"] == "success", _failures(deployment, runs)
    (task,) = deployment.task_instances("production_worker_crash", run_id)
    assert task["try_number"] == 2
    assert slow.stats()["stories_created"] == 1
    assert slow.stats()["requests"]["POST /v2/story/idea-2-video"] == 1
    logs = deployment.home / "logs" / "dag_id=production_worker_crash"
    second_try = "".join(path.read_text() for path in logs.rglob("attempt=2*"))
    assert "Reattaching to story" in second_try
