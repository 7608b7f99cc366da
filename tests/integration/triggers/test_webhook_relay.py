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
    # Stories of ~55 s: every wait registers before they finish. A triggerer's first metadata read
    # starts its in-process API (10-20 s under CI load), so a wait may first read a finished story.
    with SandboxProcess(
        tmp_path / "sandbox", api_key=API_KEY, speed=1.5, extra_args=["--allow-private-fetch"]
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
    tasks = sorted(home.glob("logs/dag_id=relayed/*/task_id=*"))
    assert len(tasks) == 3
    woken = 0
    for task in tasks:
        # The wait that ended it: a loaded triggerer may miss a heartbeat and see its wait
        # re-created on the other one (another trigger log of the same try).
        (ending,) = [
            log.read_text().splitlines() for log in task.glob("*.trigger.*.log") if "success 100%" in log.read_text()
        ]
        reads = [line for line in ending if '"event":"story ' in line]
        line = next(line for line in reads if "success 100%" in line)
        if line is reads[0]:
            continue  # finished before this wait first read it (its look at the start ended it)
        story_id = json.loads(line)["event"].split()[1].rstrip(":")
        finished = VimmerseHook().get_story(story_id).updated_at
        assert finished is not None and _log_time(reads[0]) < finished.timestamp()
        # Polls and fallback polls are 5 minutes apart: only the relayed webhook can have woken it,
        # within 2 s of the story's finish, wherever the wait ran.
        assert "(read after its webhook)" in line, line
        assert _log_time(line) - finished.timestamp() < 2.0, (line, finished)
        woken += 1
    assert woken >= 1, "no wait was woken by a relayed webhook"
