"""The sandbox's command line, as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
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
    for option in ("--host", "--port", "--data-dir", "--api-key", "--speed", "--credits", "--fault", "--api-versions"):
        assert option in result.stdout


@pytest.mark.parametrize("value", ["v3", "", "v2,v1"])
def test_an_unknown_api_version_is_refused_at_start(value):
    result = subprocess.run(
        [sys.executable, "-m", "vimmerse_sandbox", "--port", "0", "--api-versions", value],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0 and "--api-versions takes a comma-separated list of v2, legacy" in result.stderr


def test_the_package_imports_neither_airflow_nor_the_provider():
    code = (
        "import sys, vimmerse_sandbox.server, vimmerse_sandbox.__main__; "
        "bad = [m for m in sys.modules if m == 'airflow' or m.startswith(('airflow.', 'airflow_provider_vimmerse'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _run_briefly(tmp_path, *options: str) -> tuple[str, str]:
    """Start the CLI with a home of its own, make two requests, stop it with SIGTERM; return its output and URL."""
    home, url_file = tmp_path / "home", tmp_path / "url"
    home.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "vimmerse_sandbox", "--port", "0", "--url-file", str(url_file), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
    )
    try:
        deadline = time.monotonic() + 30
        while not url_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        url = url_file.read_text()
        assert requests.get(f"{url}/health", timeout=5).status_code == 200
        assert (
            requests.get(f"{url}/story/not-a-uuid", headers={"X-Api-Key": "sandbox-key"}, timeout=5).status_code == 400
        )
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert list(home.iterdir()) == [], "the sandbox wrote under the user's home"
    return output, url


def test_one_log_line_per_request_and_the_default_data_dir_is_removed_on_exit(tmp_path):
    output, _ = _run_briefly(tmp_path)
    assert "GET /health 200" in output and "GET /story/not-a-uuid 400" in output
    data_dir = output.split("(data dir ", 1)[1].split(",", 1)[0]
    assert data_dir.startswith(tempfile.gettempdir()) and not Path(data_dir).exists()


def test_quiet_logs_no_requests_and_a_given_data_dir_is_kept(tmp_path):
    output, url = _run_briefly(tmp_path, "--quiet", "--data-dir", str(tmp_path / "data"))
    assert "listening on" in output and "GET /health" not in output
    assert f"Story pages: {url}/stories/{{story_id}}" in output  # the story_url_template to use
    port = url.rsplit(":", 1)[1]
    assert f"--conn-host {url} --conn-port {port} --conn-password sandbox-key" in output
    assert (tmp_path / "data").is_dir()
