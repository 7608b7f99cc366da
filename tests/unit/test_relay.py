"""The webhook relay's records and its writer: pure logic, with a dict standing in for the Variables table."""

from __future__ import annotations

import json

import pytest

from airflow_provider_vimmerse import _relay as relay


def test_append_numbers_entries_and_drops_old_ones_and_the_overflow(monkeypatch):
    log = relay.append({}, "w1", {"status": "success"}, now=1000.0)
    log = relay.append(log, "w2", {"status": "fail"}, now=1000.0 + relay.RETENTION_SECONDS + 1)
    assert [e[2] for e in log["entries"]] == ["w2"] and log["seq"] == 2
    monkeypatch.setattr(relay, "MAX_ENTRIES", 3)
    for n in range(5):
        log = relay.append(log, f"x{n}", {}, now=5000.0)
    assert [e[2] for e in log["entries"]] == ["x2", "x3", "x4"] and log["seq"] == 7


def test_entries_after_skips_seen_and_old_entries_and_junk():
    log = {"entries": [[1, 10.0, "a", {}], [2, 50.0, "b", {"s": "1"}], [3, 60.0, "c", "not a payload"], "junk"]}
    assert relay.entries_after(log, seq=0, since=20.0) == [(2, "b", {"s": "1"})]
    assert relay.entries_after(log, seq=2, since=0.0) == []


@pytest.mark.parametrize("text", [None, "", "not json", "[1, 2]", 42])
def test_unreadable_variables_read_as_empty(text):
    assert relay.load(text) == {}


def test_the_directory_keeps_receivers_seen_within_a_day():
    directory = relay.with_receiver({"old": 0.0, "recent": 90_000.0, "bad": "x"}, "me", now=100_000.0)
    assert directory == {"recent": 90_000.0, "me": 100_000.0}
    assert relay.active_receivers(directory, now=100_000.0) == ["me", "recent"]


class Variables(dict):
    def __init__(self, fail: int = 0):
        super().__init__()
        self.fail, self.writes = fail, 0

    def set(self, key, value):
        if self.fail:
            self.fail -= 1
            raise ConnectionError("database down")
        self.writes += 1
        self[key] = value


def test_the_writer_lists_itself_then_keeps_each_webhook_in_its_own_variable():
    variables = Variables()
    writer = relay.RelayWriter(variables.get, variables.set, name="r1")
    writer.record("conn.w1", {"batch_id": "s1", "status": "success"})
    writer.record("conn.w2", {"batch_id": "s2", "status": "fail"})
    assert json.loads(variables[relay.DIRECTORY_KEY]).keys() == {"r1"}
    entries = relay.entries_after(relay.load(variables[relay.receiver_key("r1")]), 0, 0)
    assert [(seq, wait) for seq, wait, _ in entries] == [(1, "conn.w1"), (2, "conn.w2")]


def test_a_failed_write_keeps_the_webhook_for_the_next_write_and_says_so():
    variables = Variables(fail=1)
    writer = relay.RelayWriter(variables.get, variables.set, name="r1")
    with pytest.raises(ConnectionError):
        writer.record("conn.w1", {"status": "success"})
    writer.record("conn.w2", {"status": "success"})
    entries = relay.entries_after(relay.load(variables[relay.receiver_key("r1")]), 0, 0)
    assert [wait for _, wait, _ in entries] == ["conn.w1", "conn.w2"]
