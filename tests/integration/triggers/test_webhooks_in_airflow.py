"""
Webhooks with real Airflow processes: a deferred task woken in a real ``airflow triggerer`` by the
sandbox's webhook, and a DAG scheduled by a webhook for a story created outside Airflow (real
scheduler, dag-processor and triggerer).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import API_KEY, set_connection
from tests.integration.airflow_processes import executor_airflow, free_port, kill_tree, start, start_dag_test, wait_for
from tests.integration.sandbox_process import SandboxProcess

EXAMPLES = Path(__file__).resolve().parents[3] / "example_dags"
pytestmark = pytest.mark.processes


@pytest.fixture
def airflow_with_webhooks(tmp_path, monkeypatch):
    """An Airflow home whose triggerers listen for webhooks, and a sandbox that may call them on loopback."""
    port = free_port()
    with (
        SandboxProcess(
            tmp_path / "sandbox", api_key=API_KEY, speed=10, extra_args=["--allow-private-fetch"]
        ) as sandbox,
        executor_airflow(tmp_path / "airflow") as env,
    ):
        settings = {
            "AIRFLOW__VIMMERSE__WEBHOOK_BIND": f"127.0.0.1:{port}",
            "AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW_CONN_VIMMERSE_DEFAULT": json.dumps(
                {"conn_type": "vimmerse", "host": sandbox.url, "password": API_KEY}
            ),
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        set_connection(monkeypatch, sandbox.url)
        yield tmp_path / "airflow", {**env, **settings}, sandbox


def _run_dag(home: Path, env: dict, source: str, dag_id: str) -> str:
    dag_file = home / "dags" / f"{dag_id}.py"
    dag_file.write_text(textwrap.dedent(source))
    log_path = home / f"{dag_id}.log"
    runner = start_dag_test(dag_file, env, log_path)
    try:
        wait_for(lambda: "DagRun Finished" in log_path.read_text(), timeout=180, every=0.3)
    finally:
        kill_tree(runner)
    return log_path.read_text()


WAITING_DAG = """
from airflow.sdk import DAG
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

with DAG("{dag_id}", schedule=None) as dag:
    # Polling every 5 minutes: only the webhook (or the fallback poll) can end this wait in time.
    VimmerseIdeaToVideoOperator(task_id="video", idea="A heron waits by the river", scene_count=2,
                                deferrable=True, poll_interval=300)
"""


def test_a_deferred_task_resumes_on_its_webhook_and_the_fallback_poll_covers_a_lost_one(airflow_with_webhooks):
    home, env, sandbox = airflow_with_webhooks
    triggerer = start(["airflow", "triggerer"], env, home / "triggerer.log")
    try:
        slow_fallback = {**env, "AIRFLOW__VIMMERSE__WEBHOOK_FALLBACK_POLL_INTERVAL": "300"}
        output = _run_dag(home, slow_fallback, WAITING_DAG.format(dag_id="pushed"), "pushed")
        assert "state=success" in output.split("DagRun Finished")[-1], output[-3000:]
        task_logs = "".join(p.read_text() for p in home.glob("logs/dag_id=pushed/**/*.log"))
        assert "Woken by its webhook, with a fallback poll every 300 s" in output + task_logs
        stats = sandbox.stats()
        assert stats["webhooks_delivered"] == 1
        # The trigger's look after registering, its one confirmation, and the task's own read when it resumes.
        assert stats["requests"]["GET /v2/story/{story_id}"] == 3

        # Webhooks lost on the way: the fallback poll (here every 3 s) ends the wait.
        sandbox.add_fault(kind="webhook_error", count=None)
        quick_fallback = {**env, "AIRFLOW__VIMMERSE__WEBHOOK_FALLBACK_POLL_INTERVAL": "3"}
        output = _run_dag(home, quick_fallback, WAITING_DAG.format(dag_id="lost"), "lost")
        assert "state=success" in output.split("DagRun Finished")[-1], output[-3000:]
        assert sandbox.stats()["webhooks_delivered"] == 1
    finally:
        kill_tree(triggerer)
    (trigger_log,) = home.glob("logs/dag_id=pushed/**/*.trigger.*.log")
    assert "success 100% (read after its webhook)" in trigger_log.read_text()


def _dag_runs(home: Path, dag_id: str) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "airflow.db") as db:
        return db.execute("SELECT run_id, state FROM dag_run WHERE dag_id = ?", (dag_id,)).fetchall()


def test_a_webhook_schedules_the_event_driven_example_for_a_story_made_outside_airflow(airflow_with_webhooks):
    home, env, sandbox = airflow_with_webhooks
    dag_id = "vimmerse_publish_finished_stories"
    shutil.copy(EXAMPLES / f"{dag_id}.py", home / "dags")
    processes = [
        start(["airflow", name], env, home / f"{name}.log") for name in ("dag-processor", "scheduler", "triggerer")
    ]
    story_id = None
    try:
        assert wait_for(lambda: _unpause(home, env, dag_id), timeout=120, every=2)
        public = env["AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL"]
        assert wait_for(lambda: _answers(public), timeout=120, every=0.5), (
            _db(home, "SELECT dag_id, is_paused FROM dag"),
            _db(home, "SELECT * FROM asset_watcher"),
            (home / "triggerer.log").read_text()[-3000:],
        )
        # A story created outside Airflow, with the event stream's URL as its webhook.
        hook = VimmerseHook()
        story_id = hook.idea_to_video(
            "Made outside Airflow", scene_count=1, webhook_url=hook.events_webhook_url("published")
        ).id
        manifest = Path(f"/tmp/vimmerse-output/published/{story_id}/manifest.json")
        assert wait_for(manifest.exists, timeout=180, every=0.5), (home / "scheduler.log").read_text()[-3000:]
        written = json.loads(manifest.read_text())
        assert written["story_id"] == story_id and written["status"] == "success"
        assert Path(written["path"]).stat().st_size > 1000
        assert sandbox.stats()["webhooks_delivered"] == 1
        # The download's asset event is registered without Airflow's unknown/inactive asset warnings.
        logs = "".join((home / f"{name}.log").read_text() for name in ("api-server", "scheduler", "triggerer"))
        assert "AssetModel" not in logs
        assert [state for _, state in _dag_runs(home, dag_id)] in (["success"], ["running"])
    finally:
        for process in processes:
            kill_tree(process)
        if story_id:
            shutil.rmtree(f"/tmp/vimmerse-output/published/{story_id}", ignore_errors=True)


def _db(home: Path, query: str) -> list:
    with sqlite3.connect(home / "airflow.db") as db:
        return db.execute(query).fetchall()


def _unpause(home: Path, env: dict, dag_id: str) -> bool:
    """Unpause the DAG once the dag-processor has stored it (unpausing an unknown DAG does nothing)."""
    subprocess.run([sys.executable, "-m", "airflow", "dags", "unpause", dag_id], env=env, capture_output=True)
    with sqlite3.connect(home / "airflow.db") as db:
        return db.execute("SELECT is_paused FROM dag WHERE dag_id = ?", (dag_id,)).fetchall() == [(0,)]


def _answers(public_url: str) -> bool:
    try:
        requests.post(f"{public_url}/vimmerse/webhook/x/y", timeout=1)
    except requests.ConnectionError:
        return False
    return True
