"""Shared fixtures: a real sandbox on loopback, and Airflow connections pointing at it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="vimmerse-tests-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_AIRFLOW_HOME / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
(_AIRFLOW_HOME / "dags").mkdir()

from airflow_provider_vimmerse.sandbox.pipeline import SandboxConfig  # noqa: E402
from airflow_provider_vimmerse.sandbox.server import SandboxServer  # noqa: E402

# Distinctive, so a leak is found by searching for it.
API_KEY = "vmk-TEST-7f3c9a1e5d2b4c6a"
TEST_SPEED = 200.0


def set_connection(monkeypatch: pytest.MonkeyPatch, url: str, conn_id: str = "vimmerse_default", **extra: Any) -> None:
    """Point an Airflow connection (through its environment variable) at ``url``."""
    conn = {"conn_type": "vimmerse", "host": url, "password": extra.pop("password", API_KEY), "extra": {"retry_delay": 0.01, **extra}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def stats(server: SandboxServer) -> dict[str, Any]:
    """The sandbox's admin counters, read over HTTP."""
    return requests.get(f"{server.url}/_sandbox/stats", timeout=5).json()


def add_fault(server: SandboxServer, **spec: Any) -> None:
    requests.post(f"{server.url}/_sandbox/faults", json=spec, timeout=5).raise_for_status()


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database in the tests' own AIRFLOW_HOME (for DAG runs)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
    return _AIRFLOW_HOME


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox at test speed with its own data dir."""
    with SandboxServer(SandboxConfig(data_dir=tmp_path / "sandbox", api_key=API_KEY, speed=TEST_SPEED)) as server:
        yield server


@pytest.fixture
def sandbox_conn(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The sandbox, with ``vimmerse_default`` pointing at it."""
    set_connection(monkeypatch, sandbox.url)
    return sandbox


class SleepRecorder:
    """Stands in for ``time.sleep`` in retry tests: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
