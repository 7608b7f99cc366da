"""Run a DAG for real with ``dag.test()``: scheduler loop, retries, and inline triggers."""

from __future__ import annotations

import importlib.util
import os
import textwrap
from pathlib import Path
from typing import Any

HEADER = """
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task  # noqa: F401

from airflow_provider_vimmerse.operators.story import *  # noqa: F401,F403
from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator  # noqa: F401
from airflow_provider_vimmerse.sensors.story import VimmerseStorySensor  # noqa: F401

FAST = {"poll_interval": 1, "retry_delay": timedelta(seconds=0)}
"""


def run_dag(dag_id: str, body: str) -> Any:
    """
    Write ``body`` (which defines ``dag``) as a DAG file in the dags folder, load it, run ``dag.test()``.

    :return: the finished DagRun.
    """
    path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / f"{dag_id}.py"
    path.write_text(HEADER + textwrap.dedent(body))
    spec = importlib.util.spec_from_file_location(dag_id, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag.test()


def xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    ti = dag_run.get_task_instance(task_id)
    return ti.xcom_pull(task_ids=task_id, key=key)


def try_number(dag_run: Any, task_id: str) -> int:
    return dag_run.get_task_instance(task_id).try_number


def example_conf(output: Path, sandbox: Any) -> dict[str, str]:
    """The run conf that points the example DAGs' params at ``output`` and the sandbox's sample inputs."""
    return {
        "output_base": f"file://{output}",
        "image_base_url": f"{sandbox.url}/static/images",
        "page_url": f"{sandbox.url}/static/page/index.html",
    }


def dags_test(env: dict[str, str], dag_id: str, conf: dict[str, Any], *, check: bool = True) -> str:
    """``airflow dags test`` in a subprocess; with ``check``, the run must succeed. Returns the output."""
    import json
    import subprocess
    import sys

    command = [sys.executable, "-m", "airflow", "dags", "test", dag_id, "--conf", json.dumps(conf)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    if check:
        assert result.returncode == 0, log[-4000:]
        assert f"dag_id={dag_id}" in log and "state=success" in log, log[-4000:]
    return log


def example_dags_environment(home: Path, output: Path, sandbox: Any, api_key: str) -> dict[str, str]:
    """
    Environment for ``airflow`` subprocesses that run the example DAGs against ``sandbox``, with a
    freshly migrated metadata database in ``home``.
    """
    import json
    import subprocess
    import sys

    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).resolve().parents[2] / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__VIMMERSE__POLL_INTERVAL": "1",
        # With the [openlineage] extra installed, every task's lineage events land in this file.
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(home / "openlineage.jsonl"), "append": True}
        ),
        "AIRFLOW_CONN_VIMMERSE_DEFAULT": json.dumps(
            {"conn_type": "vimmerse", "host": sandbox.url, "password": api_key}
        ),
    }
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    return env
