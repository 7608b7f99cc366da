"""
A production-shaped Airflow on one machine: PostgreSQL as the metadata database, Redis as the
Celery broker, CeleryExecutor with one worker, and an api-server, a scheduler, a dag-processor and
two triggerers, each a process of its own. Each process gets its own log-server port, as two
triggerers on one host must (docs/production.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import requests

from tests.integration.airflow_processes import free_port, kill_tree, start, task_processes

TERMINAL_RUN_STATES = {"success", "failed"}


def hostname() -> str:
    """
    ``[core] hostname_callable`` of the triggerers: their name in this deployment (``triggerer-1``),
    so the ``job`` table tells which triggerer holds which trigger.
    """
    return os.environ["VIMMERSE_TEST_PROCESS_NAME"]


class CeleryDeployment:
    """
    Airflow's components over one PostgreSQL database and one Redis broker.

    :param home: the AIRFLOW_HOME (logs of every process land here too).
    :param database_url: the metadata database's SQLAlchemy URL.
    :param broker_url: the Celery broker's URL.
    :param dags_folder: the folder the dag-processor parses.
    :param extra_env: more settings for every process.
    :param api_port: the api-server's port (default: a free one).
    """

    def __init__(
        self,
        home: Path,
        database_url: str,
        broker_url: str,
        dags_folder: Path,
        extra_env: dict[str, str],
        api_port: int | None = None,
    ) -> None:
        self.home = home
        self.database_url = database_url
        port = api_port or free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self._api_port = port
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database_url.replace("+psycopg2", ""),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "8",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API_AUTH__JWT_SECRET": "vimmerse-production-tier-jwt-secret-0123",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            # Only the runs a test triggers: unpausing a scheduled example would also start its latest
            # scheduled run, work that proves nothing more here.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            # A killed worker's task is found within seconds, not the default five minutes.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "15",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
            # A killed triggerer's waits move to the other one after 15 s instead of 30.
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            **extra_env,
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.session = requests.Session()

    def __enter__(self) -> CeleryDeployment:
        migrated = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=self.env, capture_output=True, text=True
        )
        assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
        try:
            self._start("api-server", ["api-server", "--port", str(self._api_port), "--workers", "1"])
            for name in ("scheduler", "dag-processor"):
                self._start(name, [name])
            self.start_worker()
            for number in (1, 2):  # two triggerers on one host: each its own log-server port
                name = f"triggerer-{number}"
                own = {
                    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                    "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.hostname",
                    "VIMMERSE_TEST_PROCESS_NAME": name,
                }
                self._start(name, ["triggerer"], own)
            self._wait_for_api()
        except BaseException:
            self.stop()
            raise
        token = self.session.get(f"{self.base_url}/auth/token", timeout=30).json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def _start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        self.processes[name] = start(["airflow", *command], {**self.env, **(env or {})}, self.log(name))

    def log(self, name: str) -> Path:
        return self.home / f"{name}.log"

    def _wait_for_api(self) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base_url}/api/v2/version", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            if self.processes["api-server"].poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError(f"The api-server did not start: {self.log('api-server').read_text()[-3000:]}")

    def start_worker(self) -> None:
        """Start (or restart) the Celery worker."""
        self._start("worker", ["celery", "worker", "--concurrency", "8"])

    def kill_worker(self) -> None:
        """SIGKILL the Celery worker and every process under it (its pool and the tasks running there)."""
        kill_tree(self.processes.pop("worker"))

    def kill_triggerer(self, name: str) -> None:
        """SIGKILL one triggerer (``triggerer-1`` or ``triggerer-2``) and everything under it."""
        kill_tree(self.processes.pop(name))

    def stop(self) -> None:
        """Stop every process this deployment started, by PID (its process group)."""
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5  # then SIGKILL: nothing of a test deployment needs a slow shutdown
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                kill_tree(process)
        self.processes.clear()

    def task_processes(self) -> list[psutil.Process]:
        """The processes running task code under the Celery worker (not its pool's supervisors)."""
        return task_processes(psutil.Process(self.processes["worker"].pid))

    # The REST API, as a DAG author's tooling would use it.

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            listed = self.session.get(f"{self.base_url}/api/v2/dags", params={"limit": 100}, timeout=30).json()
            if set(dag_ids) <= {dag["dag_id"] for dag in listed.get("dags", [])}:
                return
            time.sleep(1)
        errors = self.session.get(f"{self.base_url}/api/v2/importErrors", timeout=30).json()
        raise AssertionError(f"DAGs not parsed in {timeout} s: {errors}")

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        """Unpause ``dag_id`` and trigger a run of it with ``conf``; returns the run id."""
        unpaused = self.session.patch(f"{self.base_url}/api/v2/dags/{dag_id}", json={"is_paused": False}, timeout=30)
        assert unpaused.ok, unpaused.text
        run = self.session.post(
            f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}, timeout=30
        )
        assert run.ok, run.text
        return run.json()["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        answer = self.session.get(f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns", timeout=30)
        assert answer.ok, answer.text
        return answer.json()["dag_runs"]

    def wait_for_runs(self, dag_ids: list[str], timeout: float) -> dict[str, list[dict[str, Any]]]:
        """Every run of ``dag_ids`` once all have ended (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while True:
            runs = {dag_id: self.runs(dag_id) for dag_id in dag_ids}
            finished = all(run["state"] in TERMINAL_RUN_STATES for found in runs.values() for run in found)
            if finished or time.monotonic() > deadline:
                return runs
            time.sleep(2)

    def failures(self, runs: dict[str, list[dict[str, Any]]]) -> str:
        """The runs among ``runs`` that did not succeed, with their tasks' states (empty: none)."""
        lines = []
        for dag_id, found in runs.items():
            for run in found:
                if run["state"] != "success":
                    tasks = self.task_instances(dag_id, run["dag_run_id"])
                    states = {task["task_id"]: task["state"] for task in tasks}
                    lines.append(f"{dag_id} {run['dag_run_id']} {run['state']}: {states}")
        return "\n".join(lines)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.session.get(f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", timeout=30)
        assert answer.ok, answer.text
        return answer.json()["task_instances"]
