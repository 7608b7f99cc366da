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
        [sys.executable, "-m", "airflow_provider_vimmerse.sandbox", "--port", "0", "--data-dir", str(tmp_path / "d"),
         "--api-key", "cli-key", "--speed", "50", "--credits", "77", "--url-file", str(url_file), "--fault", fault],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
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
        assert requests.get(f"{url}/_sandbox/stats", timeout=2).json()["credits"] == 77
        assert requests.get(f"{url}/story/x", headers={"X-Api-Key": "cli-key"}, timeout=2).status_code == 404
    finally:
        process.terminate()
        process.wait(15)


def test_console_script_help():
    result = subprocess.run([sys.executable, "-m", "airflow_provider_vimmerse.sandbox", "--help"], capture_output=True, text=True, check=True)
    for option in ("--host", "--port", "--data-dir", "--api-key", "--speed", "--credits", "--fault"):
        assert option in result.stdout
