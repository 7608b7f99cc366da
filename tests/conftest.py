"""Shared by both tiers: an isolated AIRFLOW_HOME, the test API key, connection helpers."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="vimmerse-tests-airflow-"))
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_AIRFLOW_HOME / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
# Sandbox stories take a second or two: poll like the demo does (the operators' floor).
os.environ.setdefault("AIRFLOW__VIMMERSE__POLL_INTERVAL", "1")
# Daily budgets read their reservations back after this long (2 s in production).
os.environ.setdefault("AIRFLOW__VIMMERSE__BUDGET_SETTLE_SECONDS", "0.2")
(_AIRFLOW_HOME / "dags").mkdir()

# Distinctive, so a leak is found by searching for it.
API_KEY = "vmk-TEST-7f3c9a1e5d2b4c6a"
AIRFLOW_HOME = _AIRFLOW_HOME


def set_connection(monkeypatch: pytest.MonkeyPatch, url: str, conn_id: str = "vimmerse_default", **extra: Any) -> None:
    """Point an Airflow connection (through its environment variable) at ``url``."""
    conn = {
        "conn_type": "vimmerse",
        "host": url,
        "password": extra.pop("password", API_KEY),
        "extra": {"retry_delay": 0.01, **extra},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


class SleepRecorder:
    """Stands in for ``time.sleep`` in retry tests: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """
    Under pytest-xdist, the tests of a module that starts whole Airflow deployments run on one
    worker, one at a time (they share the module's deployment); two such modules may run at once.
    """
    for item in items:
        if item.get_closest_marker("processes"):
            item.add_marker(pytest.mark.xdist_group(f"airflow-deployment-{item.module.__name__}"))
