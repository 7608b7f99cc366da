"""
One production-shaped deployment for the whole tier (tests/production/deployment.py), with the
sandboxes it talks to: the examples' (fast), one whose stories last long enough to kill a worker
mid-wait, and one that delivers each webhook once, to the api-server's receiver.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from tests.conftest import API_KEY
from tests.integration.airflow_processes import free_port
from tests.integration.sandbox_process import SandboxProcess
from tests.production.deployment import CeleryDeployment
from tests.production.services import postgres, redis

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
#: The examples a person or a schedule starts (the seventh is started by finished stories' events).
RUNNABLE = [
    "vimmerse_idea_to_video",
    "vimmerse_story_step_by_step",
    "vimmerse_data_to_video",
    "vimmerse_story_from_images",
    "vimmerse_url_to_video",
    "vimmerse_images_to_video",
]


def _deferred_stories(dag_id: str, count: int, idea: str) -> str:
    """A DAG of ``count`` deferred one-scene stories that poll only every 5 minutes."""
    return f"""
        with DAG("{dag_id}", schedule=None, start_date=START, max_active_tasks={count}):
            for n in range({count}):
                VimmerseIdeaToVideoOperator(task_id=f"video_{{n:02d}}", idea=f"{idea} {{n}}",
                                            scene_count=1, deferrable=True, poll_interval=300,
                                            vimmerse_conn_id="vimmerse_hooks")
    """


WAITS = 20  #: the webhook drill's deferred stories
FAILOVER_WAITS = 10  #: deferred while a triggerer is killed
DAGS = {
    "production_worker_crash": """
        with DAG("production_worker_crash", schedule=None, start_date=START,
                 default_args={"retries": 1, "retry_delay": timedelta(seconds=0)}):
            VimmerseIdeaToVideoOperator(task_id="video", idea="A crash drill", scene_count=2, poll_interval=1,
                                        deferrable=False, vimmerse_conn_id="vimmerse_slow")
    """,
    # Polls and fallback polls 5 minutes apart: only webhooks end these waits in time.
    "production_webhooks": _deferred_stories("production_webhooks", WAITS, "A heron waits by the river"),
    "production_failover": _deferred_stories("production_failover", FAILOVER_WAITS, "A lark sings at dawn"),
}
HEADER = """
from datetime import timedelta

import pendulum
from airflow.sdk import DAG
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
"""


@dataclass
class World:
    deployment: CeleryDeployment
    sandbox: SandboxProcess  #: the examples' (fast)
    slow: SandboxProcess  #: stories of ~20 s, for the worker crash
    hooks: SandboxProcess  #: stories of ~30 s, each webhook delivered once
    output: Path

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows from the deployment's PostgreSQL metadata database."""
        url = self.deployment.database_url.replace("postgresql+psycopg2", "postgresql")
        with psycopg2.connect(url) as db, db.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()


def _connection(sandbox: SandboxProcess) -> str:
    return json.dumps({"conn_type": "vimmerse", "host": sandbox.url, "password": API_KEY})


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("production")
    dags = root / "dags"
    dags.mkdir()
    for path in EXAMPLES.iterdir():  # the examples as shipped, plus the drills' DAGs
        (dags / path.name).symlink_to(path)
    for dag_id, body in DAGS.items():
        (dags / f"{dag_id}.py").write_text(HEADER + textwrap.dedent(body))
    output = root / "output"
    private = ["--allow-private-fetch"]  # webhooks to the api-server on loopback
    api_port = free_port()
    with (
        postgres() as database_url,
        redis() as broker_url,
        SandboxProcess(
            root / "sandbox", api_key=API_KEY, speed=100, static_dir=EXAMPLES / "data", extra_args=private
        ) as sandbox,
        SandboxProcess(root / "slow", api_key=API_KEY, speed=3) as slow,
        SandboxProcess(
            root / "hooks", api_key=API_KEY, speed=2, extra_args=[*private, "--webhook-retries", "0", "--workers", "4"]
        ) as hooks,
    ):
        settings = {
            "AIRFLOW_CONN_VIMMERSE_DEFAULT": _connection(sandbox),
            "AIRFLOW_CONN_VIMMERSE_SLOW": _connection(slow),
            "AIRFLOW_CONN_VIMMERSE_HOOKS": _connection(hooks),
            "AIRFLOW__VIMMERSE__POLL_INTERVAL": "1",
            "AIRFLOW__VIMMERSE__OUTPUT_BASE": f"file://{output}",
            # Webhooks as docs/webhooks.md recommends: the api-server receives them and relays them
            # to whichever triggerer holds the wait; no triggerer listens.
            "AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__VIMMERSE__WEBHOOK_FALLBACK_POLL_INTERVAL": "300",
        }
        with CeleryDeployment(root / "airflow", database_url, broker_url, dags, settings, api_port) as deployment:
            print(f"\nProduction tier: CeleryExecutor, metadata database {database_url}, broker {broker_url}")
            deployment.wait_for_dags([*RUNNABLE, *DAGS])
            yield World(deployment, sandbox, slow, hooks, output)
