"""The sandbox's command line, as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import requests


def test_module_entry_point_serves_and_applies_startup_faults(tmp_path):
    url_file = tmp_path / "url"
    fault = json.dumps({"kind": "status", "status": 503, "endpoint": "GET /health", "count": 1})
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vimmerse_sandbox",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "d"),
            "--api-key",
            "cli-key",
            "--speed",
            "50",
            "--credits",
            "77",
            "--url-file",
            str(url_file),
            "--fault",
            fault,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not url_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        url = url_file.read_text()
        for _ in range(200):
            try:
                first = requests.get(f"{url}/health", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert first.status_code == 503
        assert requests.get(f"{url}/health", timeout=2).status_code == 200
        assert (
            requests.get(f"{url}/_sandbox/stats", headers={"X-Api-Key": "cli-key"}, timeout=2).json()["credits"] == 77
        )
        missing = "00000000-0000-4000-8000-000000000000"
        assert requests.get(f"{url}/story/{missing}", headers={"X-Api-Key": "cli-key"}, timeout=2).status_code == 404
    finally:
        process.terminate()
        process.wait(15)


def test_console_script_help():
    result = subprocess.run(
        [sys.executable, "-m", "vimmerse_sandbox", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--host", "--port", "--data-dir", "--api-key", "--speed", "--credits", "--fault"):
        assert option in result.stdout


def test_the_package_imports_neither_airflow_nor_the_provider():
    code = (
        "import sys, vimmerse_sandbox.server, vimmerse_sandbox.__main__; "
        "bad = [m for m in sys.modules if m == 'airflow' or m.startswith(('airflow.', 'airflow_provider_vimmerse'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
