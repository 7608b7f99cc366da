"""The connection made with the Airflow CLI, tested with the CLI: reachability and key, nothing charged."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import API_KEY
from tests.integration.conftest import stats


def _airflow(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_connections_add_then_test(sandbox, airflow_db):
    env = {**os.environ, "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    added = _airflow(
        env,
        "connections",
        "add",
        "vimmerse_cli",
        "--conn-type",
        "vimmerse",
        "--conn-password",
        API_KEY,
        "--conn-host",
        sandbox.url,
        "--conn-extra",
        '{"timeout": 5, "retry_limit": 1}',
    )
    assert added.returncode == 0, added.stderr[-2000:]
    tested = _airflow(env, "connections", "test", "vimmerse_cli")
    assert tested.returncode == 0 and "Connection success" in tested.stdout, (
        tested.stdout[-2000:] + tested.stderr[-2000:]
    )
    _airflow(
        env,
        "connections",
        "add",
        "vimmerse_cli_bad",
        "--conn-type",
        "vimmerse",
        "--conn-password",
        "wrong-key-000",
        "--conn-host",
        sandbox.url,
    )
    rejected = _airflow(env, "connections", "test", "vimmerse_cli_bad")
    # Airflow 3.1's CLI exits 0 even when the test fails, so read what it printed.
    assert "Connection failed" in rejected.stdout and "API key was rejected" in rejected.stdout
    assert stats(sandbox)["stories_created"] == 0
    assert API_KEY not in tested.stdout + tested.stderr
