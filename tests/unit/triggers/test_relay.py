"""The triggerer's relay reader: one read per receiver per round, however many waits it holds."""

from __future__ import annotations

import asyncio
import json

from airflow_provider_vimmerse import _relay as relay
from airflow_provider_vimmerse.triggers._relay import RelayReader


def _variables(entries: dict[str, list]) -> dict[str, str]:
    variables = {relay.DIRECTORY_KEY: json.dumps({name: relay.now() for name in entries})}
    for name, items in entries.items():
        variables[relay.receiver_key(name)] = json.dumps({"seq": len(items), "entries": items})
    return variables


def test_a_relayed_webhook_wakes_only_its_own_wait_once_and_reads_do_not_grow_with_waits():
    now = relay.now()
    variables = _variables({"api-1": [[1, now, "c.w1", {"status": "success"}]], "api-2": []})
    reads: list[str] = []

    async def read(key):
        reads.append(key)
        return variables.get(key)

    async def scenario():
        reader = RelayReader(read)
        woken: list[str] = []
        for n in range(500):
            reader.register(f"c.w{n}", lambda payload, n=n: woken.append(f"c.w{n}"))
        assert await reader.read_once() == 1
        assert await reader.read_once() == 0  # already delivered
        return woken

    assert asyncio.run(scenario()) == ["c.w1"]
    # The directory once, then each receiver once per round: 500 waits cost no more reads than one.
    assert reads == [relay.DIRECTORY_KEY, *[relay.receiver_key(r) for r in ("api-1", "api-2")] * 2]


def test_webhooks_relayed_before_the_reader_started_are_left_to_each_wait_s_first_read():
    variables = _variables({"api-1": [[1, relay.now() - 3600, "c.w1", {"status": "success"}]]})

    async def read(key):
        return variables.get(key)

    async def scenario():
        reader = RelayReader(read)
        woken: list[str] = []
        reader.register("c.w1", lambda payload: woken.append("c.w1"))
        await reader.read_once()
        reader.unregister("c.w1", woken.append)  # not its callback: nothing changes
        return woken

    assert asyncio.run(scenario()) == []
