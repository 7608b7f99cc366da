"""
Webhooks received by the api-server and relayed to whichever triggerer holds the wait: a real
api-server (with the provider's plugin), two real triggerers that do not listen at all, and the
sandbox delivering each webhook once to the api-server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime

import pytest
import requests

from airflow_provider_vimmerse._webhooks import WebhookToken
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import API_KEY, set_connection
from tests.integration.airflow_processes import executor_airflow, kill_tree, start, start_dag_test, wait_for
from tests.integration.sandbox_process import SandboxProcess

pytestmark = pytest.mark.processes

DAG = """
from airflow.sdk import DAG
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

with DAG("{dag_id}", schedule=None) as dag:
    # Polls and fallback polls every 5 minutes: only a relayed webhook ends these waits in time.
    for n in range(3):
        VimmerseIdeaToVideoOperator(task_id=f"video_{{n}}", idea=f"A heron waits by the river {{n}}",
                                    scene_count=1, deferrable=True, poll_interval=300)
"""


def _log_time(line: str) -> float:
    return datetime.fromisoformat(json.loads(line)["timestamp"].replace("Z", "+00:00")).timestamp()


def test_the_api_server_receives_webhooks_and_any_triggerer_wakes_its_wait(tmp_path, monkeypatch):
    # Stories of ~20 s, so that every wait is registered before its story finishes.
    with SandboxProcess(
        tmp_path / "sandbox", api_key=API_KEY, speed=4, extra_args=["--allow-private-fetch"]
    ) as sandbox:
        fallback = {"AIRFLOW__VIMMERSE__WEBHOOK_FALLBACK_POLL_INTERVAL": "300"}
        with executor_airflow(tmp_path / "airflow", fallback) as env:
            # In the metadata database, as in production: the api-server, the workers and the
            # triggerers all read it there (a triggerer's first read also starts its in-process API).
            port = sandbox.url.rsplit(":", 1)[1]
            add = ["connections", "add", "vimmerse_default", "--conn-type", "vimmerse", "--conn-host", sandbox.url]
            add += ["--conn-port", port, "--conn-password", API_KEY]
            subprocess.run([sys.executable, "-m", "airflow", *add], env=env, check=True, capture_output=True)
            set_connection(monkeypatch, sandbox.url)  # this test's own reads
            _relayed(tmp_path / "airflow", env, sandbox)


def _relayed(home, env, sandbox):
    api = env["AIRFLOW__API__BASE_URL"]
    # The api-server's /vimmerse/webhook route is the public receiver; no triggerer listens.
    env = {**env, "AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL": api}
    # The receiver is up with no wait anywhere, and tells a sender not to retry what cannot succeed.
    assert requests.get(f"{api}/vimmerse/webhook/health", timeout=10).text == "ok"
    stranger = WebhookToken.for_wait("another key", conn_id="vimmerse_default").url(api)
    assert requests.post(stranger, json={"batch_id": "s1", "status": "success"}, timeout=10).status_code == 404
    assert requests.post(f"{api}/vimmerse/webhook/x/y", data=b"not json", timeout=10).status_code == 400

    triggerers = [start(["airflow", "triggerer", "--skip-serve-logs"], env, home / f"triggerer{n}.log") for n in (1, 2)]
    try:
        dag_file = home / "dags" / "relayed.py"
        dag_file.write_text(textwrap.dedent(DAG.format(dag_id="relayed")))
        runner = start_dag_test(dag_file, env, home / "relayed.log")
        try:
            assert wait_for(lambda: "DagRun Finished" in (home / "relayed.log").read_text(), timeout=240, every=0.5)
        finally:
            kill_tree(runner)
    finally:
        for triggerer in triggerers:
            kill_tree(triggerer)
    output = (home / "relayed.log").read_text()
    assert "state=success" in output.split("DagRun Finished")[-1], output[-3000:]
    stats = sandbox.stats()
    # One attempt each: no webhook was refused and retried.
    assert stats["webhooks_delivered"] == 3 and not stats.get("webhooks_failed"), stats
    trigger_logs = list(home.glob("logs/dag_id=relayed/**/*.trigger.*.log"))
    assert len(trigger_logs) == 3
    for trigger_log in trigger_logs:
        lines = trigger_log.read_text().splitlines()
        started = _log_time(next(line for line in lines if '"trigger ' in line and " starting" in line))
        (line,) = [line for line in lines if "(read after its webhook)" in line]
        story_id = json.loads(line)["event"].split()[1].rstrip(":")
        finished = VimmerseHook().get_story(story_id).updated_at
        assert finished is not None
        # The sandbox posts as the story finishes; the wait read it within 2 s of that (or of its
        # own start, for a story that finished first), wherever it ran.
        assert _log_time(line) - max(finished.timestamp(), started) < 2.0, (line, finished)
