"""
Real Airflow processes for the tests that need them: an Airflow home with LocalExecutor and its
execution API server, plus triggerer, scheduler and dag-processor programs started on demand.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    import psutil

#: Runs one DAG file with ``dag.test(use_executor=True)``: tasks run in their own processes.
RUNNER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("the_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.dag.test(use_executor=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kill_tree(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(30)


def start(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start ``airflow <command>`` (or any module) in its own process group, output to ``log_path``."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", *command], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def start_dag_test(dag_file: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Run ``dag_file``'s DAG once through the executor (:data:`RUNNER`), output to ``log_path``."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(dag_file)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextmanager
def executor_airflow(home: Path, extra_env: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """
    A migrated Airflow home using LocalExecutor, with its API server running; yields its env.

    :param extra_env: more settings for every process (``AIRFLOW__...`` options).
    """
    (home / "dags").mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": "vimmerse-tests-jwt-secret-0123456789",
        # Their own log-server ports, so deployments started by parallel test workers do not clash.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        **(extra_env or {}),
    }
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    server = start(["airflow", "api-server", "--port", str(port), "--workers", "1"], env, home / "api-server.log")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/v2/version", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.3)
        yield env
    finally:
        kill_tree(server)


def task_processes(root: psutil.Process) -> list[psutil.Process]:
    """The processes under ``root`` running a task's code, not an executor's supervisors."""
    import psutil

    found = []
    for child in root.children(recursive=True):
        try:
            # A process title set with setproctitle reads back as one string or as words.
            title = " ".join(part for part in child.cmdline() if part)
        except psutil.Error:
            continue
        if title.startswith("airflow worker -- ") and "LocalExecutor:" not in title:
            found.append(child)
    return found


def wait_for(condition, timeout: float = 120, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False
