"""
A daily credit budget shared by two DAG runs at once, for real: each DAG runs through Airflow's
LocalExecutor (every task in its own process, reserving through the Variables of one metadata
database), against one sandbox whose ledger says what was charged.
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timezone

import pytest

from tests.conftest import API_KEY, set_connection
from tests.integration.airflow_processes import executor_airflow, kill_tree, start_dag_test, wait_for
from tests.integration.conftest import TEST_SPEED, stats
from tests.integration.sandbox_process import SandboxProcess

pytestmark = pytest.mark.processes

BUDGET = 100
#: Vidu, one 5-second scene: 25 credits by the published pricing; 6 of them want 150.
DAG = """
from airflow.sdk import DAG
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

with DAG("{dag_id}", schedule=None) as dag:
    for n in range(3):
        VimmerseIdeaToVideoOperator(
            task_id=f"video_{{n}}", idea=f"{dag_id} story {{n}}", video_tool="Vidu", scene_count=1,
            scene_duration=5, daily_budget="shared", daily_budget_credits={budget}, poll_interval=1,
        )
"""


def test_two_dag_runs_drawing_on_one_daily_budget_never_spend_more_than_it(tmp_path, monkeypatch):
    with (
        SandboxProcess(
            tmp_path / "sandbox", api_key=API_KEY, speed=TEST_SPEED, extra_args=["--statistics-include-today"]
        ) as sandbox,
        executor_airflow(tmp_path / "airflow") as env,
    ):
        env = {
            **env,
            "AIRFLOW_CONN_VIMMERSE_DEFAULT": json.dumps(
                {"conn_type": "vimmerse", "host": sandbox.url, "password": API_KEY}
            ),
            "AIRFLOW__VIMMERSE__BUDGET_SETTLE_SECONDS": "0.5",
        }
        runs = []
        for dag_id in ("budget_a", "budget_b"):
            dag_file = tmp_path / "airflow" / "dags" / f"{dag_id}.py"
            dag_file.write_text(textwrap.dedent(DAG.format(dag_id=dag_id, budget=BUDGET)))
            runs.append(start_dag_test(dag_file, env, tmp_path / f"{dag_id}.log"))
        try:
            assert wait_for(lambda: all(run.poll() is not None for run in runs), timeout=600, every=0.5)
        finally:
            for run in runs:
                kill_tree(run)
        logs = "".join((tmp_path / f"{dag_id}.log").read_text() for dag_id in ("budget_a", "budget_b"))

        set_connection(monkeypatch, sandbox.url)
        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        today = datetime.now(timezone.utc).date()
        charged = sum(day["used_credits"] for day in VimmerseHook().customer_statistics(today, today))
        created = stats(sandbox)["stories_created"]
    assert 0 < charged <= BUDGET, logs[-4000:]
    assert 1 <= created <= BUDGET // 25
    assert "daily budget 'shared'" in logs  # the tasks that did not fit say why, and sent nothing
