"""
Webhooks with two triggerers and one public receiver, the api-server's route: the sandbox delivers
each webhook once, and polls and fallback polls are 5 minutes apart, so only a relayed webhook (or
a wait's first read, after a failover) ends a wait in time. Then one triggerer is SIGKILLed while
its waits are deferred.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import requests

from tests.conftest import API_KEY
from tests.integration.airflow_processes import wait_for
from tests.production.conftest import FAILOVER_WAITS, WAITS, World

pytestmark = pytest.mark.timeout(600)


def _log_time(line: str) -> float:
    return datetime.fromisoformat(json.loads(line)["timestamp"].replace("Z", "+00:00")).timestamp()


def _finished_at(world: World, story_id: str) -> float:
    answer = requests.get(f"{world.hooks.url}/v2/story/{story_id}", headers={"X-Api-Key": API_KEY}, timeout=10)
    return datetime.fromisoformat(answer.json()["updated_at"]).timestamp()


def _endings(world: World, dag_id: str, run_id: str, count: int) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Per task: the lines of the trigger log whose wait ended it, and every trigger log of the task."""
    tasks = world.deployment.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    found = {}
    for task in sorted(tasks.glob("task_id=*")):
        logs = [log.read_text().splitlines() for log in sorted(task.glob("*.trigger.*.log"))]
        (ending,) = [lines for lines in logs if any("success 100%" in line for line in lines)]
        found[task.name.removeprefix("task_id=")] = (ending, logs)
    assert len(found) == count, sorted(found)
    return found


def _run(world: World, dag_id: str, count: int, *, while_deferred=None) -> str:
    deployment = world.deployment
    created = world.hooks.stats()["stories_created"]
    run_id = deployment.trigger(dag_id, {})
    if while_deferred is not None:

        def all_deferred() -> bool:
            tasks = deployment.task_instances(dag_id, run_id)
            return [task["state"] for task in tasks] == ["deferred"] * count

        assert wait_for(all_deferred, timeout=120, every=0.5)
        while_deferred()
    runs = deployment.wait_for_runs([dag_id], timeout=400)
    assert not deployment.failures(runs), deployment.failures(runs)
    stats = world.hooks.stats()
    # Every story created once; every webhook delivered at its one attempt.
    assert stats["stories_created"] - created == count
    assert not stats.get("webhooks_failed") and not stats.get("webhooks_refused"), stats
    return run_id


def _story(line: str) -> str:
    return json.loads(line)["event"].split()[1].rstrip(":")


def test_twenty_deferred_stories_resume_within_two_seconds_by_relayed_webhooks(world):
    run_id = _run(world, "production_webhooks", WAITS)
    for task_id, (ending, _) in _endings(world, "production_webhooks", run_id, WAITS).items():
        reads = [line for line in ending if '"event":"story ' in line]
        line = next(line for line in reads if "success 100%" in line)
        finished = _finished_at(world, _story(line))
        assert _log_time(reads[0]) < finished, f"{task_id}: its wait first read the story after it finished"
        assert "(read after its webhook)" in line, (task_id, line)
        assert _log_time(line) - finished < 2.0, (task_id, line, finished)
    assert world.hooks.stats()["webhooks_delivered"] >= WAITS


def _kill_the_busiest_triggerer(world: World) -> None:
    """SIGKILL the triggerer holding the most waits (the ``job`` table names it: deployment.hostname)."""
    sql = "SELECT job.hostname, count(*) FROM trigger JOIN job ON trigger.triggerer_id = job.id GROUP BY job.hostname"
    # Every wait deferred and picked up by a triggerer.
    assert wait_for(lambda: sum(count for _, count in world.query(sql)) == FAILOVER_WAITS, timeout=60, every=0.5)
    name, _ = max(world.query(sql), key=lambda row: row[1])
    world.deployment.kill_triggerer(name)


def test_a_triggerer_killed_while_ten_waits_are_deferred_loses_no_story_and_none_waits_for_the_fallback(world):
    kill = lambda: _kill_the_busiest_triggerer(world)  # noqa: E731
    run_id = _run(world, "production_failover", FAILOVER_WAITS, while_deferred=kill)
    moved = 0
    for task_id, (ending, logs) in _endings(world, "production_failover", run_id, FAILOVER_WAITS).items():
        moved += len(logs) > 1
        line = next(line for line in ending if "success 100%" in line)
        finished = _finished_at(world, _story(line))
        # A wait the killed triggerer held is re-created on the other after its heartbeat is 15 s
        # stale, and reads its story at once; the fallback poll would be 300 s.
        assert _log_time(line) - finished < 60, (task_id, line, finished)
    assert moved, "no wait moved to the surviving triggerer"
