"""
Worker crashes, for real: the DAG runs through Airflow's LocalExecutor and execution API server,
so each task runs in its own process, and the test SIGKILLs that process mid-task. Airflow marks
the try failed and retries it; the retry must reattach to the story the dead try created.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from tests.conftest import API_KEY
from tests.integration.airflow_processes import (
    executor_airflow,
    kill_tree,
    start,
    start_dag_test,
    task_processes,
    wait_for,
)
from tests.integration.conftest import stats
from tests.integration.sandbox_process import SandboxProcess

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(
        Version(Version(airflow_version).base_version) < Version("3.3.0"),
        reason="task_state_store arrived in Airflow 3.3",
    ),
]


@pytest.fixture(scope="module")
def airflow_with_executor(tmp_path_factory):
    """An Airflow home using LocalExecutor, with its execution API server running."""
    home = tmp_path_factory.mktemp("crash-airflow")
    with executor_airflow(home) as env:
        yield home, env


def _run_and_crash(home: Path, env: dict, sandbox, dag_id: str, deferrable: bool, kill_when) -> str:
    dag_file = home / "dags" / f"{dag_id}.py"
    dag_file.write_text(
        textwrap.dedent(f"""
        from datetime import timedelta
        from airflow.sdk import DAG
        from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

        with DAG("{dag_id}", schedule=None, default_args={{"retries": 1, "retry_delay": timedelta(seconds=0)}}) as dag:
            VimmerseIdeaToVideoOperator(task_id="video", idea="A crash drill", scene_count=2,
                                        poll_interval=1, deferrable={deferrable})
    """)
    )
    log_path = home / f"{dag_id}.log"
    run_env = {
        **env,
        "AIRFLOW_CONN_VIMMERSE_DEFAULT": json.dumps(
            {"conn_type": "vimmerse", "host": sandbox.url, "password": API_KEY}
        ),
    }
    triggerer = None
    if deferrable:  # with an executor, dag.test() no longer runs triggers inline: a triggerer does
        triggerer = start(["airflow", "triggerer"], run_env, home / f"{dag_id}.triggerer.log")
    runner = start_dag_test(dag_file, run_env, log_path)
    try:
        killed = kill_when(psutil.Process(runner.pid))
        deadline = time.monotonic() + 180
        while "DagRun Finished" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        kill_tree(runner)  # dag.test may linger while the executor shuts down
        if triggerer is not None:
            kill_tree(triggerer)
    output = log_path.read_text()
    assert killed, output[-3000:]
    return output


def test_killed_while_waiting_in_the_worker(airflow_with_executor, tmp_path):
    home, env = airflow_with_executor
    with SandboxProcess(tmp_path / "sandbox", api_key=API_KEY, speed=5) as sandbox:

        def kill_after_create(root: psutil.Process) -> bool:
            if not wait_for(lambda: stats(sandbox)["stories_created"] == 1):
                return False
            time.sleep(0.5)  # recorded in task_state_store, now polling
            tasks = task_processes(root)
            for task in tasks:
                task.kill()
            return bool(tasks)

        output = _run_and_crash(home, env, sandbox, "crash_sync", False, kill_after_create)
        assert "state=success" in output.split("DagRun Finished")[-1]
        assert "Reattaching to story" in output
        assert stats(sandbox)["stories_created"] == 1
        assert stats(sandbox)["requests"]["POST /v2/story/idea-2-video"] == 1


def test_killed_after_it_deferred(airflow_with_executor, tmp_path):
    home, env = airflow_with_executor
    with SandboxProcess(tmp_path / "sandbox", api_key=API_KEY, speed=5) as sandbox:

        def kill_on_resume(root: psutil.Process) -> bool:
            # The first task process creates the story and defers; the next one resumes it. Kill that one.
            if not wait_for(lambda: task_processes(root), timeout=60):
                return False
            first = {p.pid for p in task_processes(root)}
            resumed: list[psutil.Process] = []
            if not wait_for(
                lambda: resumed.extend(p for p in task_processes(root) if p.pid not in first) or resumed, timeout=60
            ):
                return False
            for task in resumed:
                task.kill()
            return True

        output = _run_and_crash(home, env, sandbox, "crash_deferred", True, kill_on_resume)
        assert "Pausing task as DEFERRED" in output or "deferred" in output.lower()
        assert "state=success" in output.split("DagRun Finished")[-1]
        assert "Reattaching to story" in output
        assert stats(sandbox)["stories_created"] == 1
        assert stats(sandbox)["requests"]["POST /v2/story/idea-2-video"] == 1
