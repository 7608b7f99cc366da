"""Integration fixtures: the sandbox as a separate program on loopback, and a migrated Airflow database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AIRFLOW_HOME, API_KEY, set_connection
from tests.integration.sandbox_process import SandboxProcess

TEST_SPEED = 200.0
EXAMPLE_DATA = Path(__file__).resolve().parents[2] / "example_dags" / "data"


def stats(server: SandboxProcess) -> dict[str, Any]:
    """The sandbox's admin counters, read over HTTP."""
    return server.stats()


def add_fault(server: SandboxProcess, **spec: Any) -> None:
    server.add_fault(**spec)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database in the tests' own AIRFLOW_HOME (for DAG runs)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=os.environ.copy()
    )
    return AIRFLOW_HOME


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    """A sandbox at test speed with its own data dir."""
    with SandboxProcess(tmp_path / "sandbox", api_key=API_KEY, speed=TEST_SPEED) as server:
        yield server


@pytest.fixture
def sandbox_conn(sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> SandboxProcess:
    """The sandbox, with ``vimmerse_default`` pointing at it."""
    set_connection(monkeypatch, sandbox.url)
    return sandbox


@pytest.fixture
def static_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    """A sandbox that also serves the example DAGs' data (images, a web page) under ``/static/``."""
    with SandboxProcess(tmp_path / "sandbox", api_key=API_KEY, speed=TEST_SPEED, static_dir=EXAMPLE_DATA) as server:
        yield server
