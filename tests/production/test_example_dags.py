"""
The example DAGs as a platform team runs them: through the scheduler, on CeleryExecutor with one
worker, PostgreSQL as the metadata database, Redis as the broker, two triggerers; the sandbox is
the Story API. Then a Celery worker SIGKILLed while a task waits on its story: the retry, on a new
worker, reattaches to that story instead of paying for another.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.airflow_processes import wait_for
from tests.integration.dag_runner import example_conf
from tests.production.conftest import RUNNABLE

pytestmark = pytest.mark.timeout(900)


def test_the_example_dags_run_through_the_scheduler_on_celery_and_postgres(world):
    deployment, sandbox, output = world.deployment, world.sandbox, world.output
    conf = example_conf(output, sandbox)
    manual = {dag_id: deployment.trigger(dag_id, conf) for dag_id in RUNNABLE}
    runs = deployment.wait_for_runs(RUNNABLE, timeout=480)
    assert not deployment.failures(runs), deployment.failures(runs)
    assert {dag_id: [run["dag_run_id"] for run in found] for dag_id, found in runs.items()} == {
        dag_id: [run_id] for dag_id, run_id in manual.items()
    }
    # The tasks ran on the Celery worker, whose log names each task it was handed.
    worker_log = deployment.log("worker").read_text()
    assert "celery@" in worker_log and "execute_workload" in worker_log, worker_log[-3000:]

    # Every story the sandbox created is recorded in PostgreSQL's task_state_store (the step-by-step
    # example's steps share theirs): none created twice, none created and then forgotten.
    rows = world.query("SELECT value FROM task_state_store")
    recorded = {json.loads(value).get("story_id") for (value,) in rows} - {None}
    assert recorded and sandbox.stats()["stories_created"] == len(recorded), rows
    videos = list(output.glob("*/*/story.mp4"))
    assert videos and all(video.stat().st_size > 10_000 for video in videos)


def test_a_celery_worker_killed_mid_wait_is_replaced_and_the_retry_reattaches(world):
    deployment, slow = world.deployment, world.slow
    run_id = deployment.trigger("production_worker_crash", {})
    assert wait_for(lambda: slow.stats()["stories_created"] == 1, timeout=180)
    assert wait_for(lambda: deployment.task_processes(), timeout=30)
    time.sleep(1.5)  # the story is recorded in task_state_store; the task is polling it
    deployment.kill_worker()
    deployment.start_worker()
    runs = deployment.wait_for_runs(["production_worker_crash"], timeout=240)
    (run,) = runs["production_worker_crash"]
    assert run["dag_run_id"] == run_id and run["state"] == "success", deployment.failures(runs)
    (task,) = deployment.task_instances("production_worker_crash", run_id)
    assert task["try_number"] == 2
    assert slow.stats()["stories_created"] == 1
    assert slow.stats()["requests"]["POST /v2/story/idea-2-video"] == 1
    logs = deployment.home / "logs" / "dag_id=production_worker_crash"
    second_try = "".join(path.read_text() for path in logs.rglob("attempt=2*"))
    assert "Reattaching to story" in second_try
