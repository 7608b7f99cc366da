"""The trigger's serialised form: plain JSON values that rebuild the same trigger."""

from __future__ import annotations

import importlib
import json

from airflow_provider_vimmerse.triggers.story import VimmerseStoryTrigger


def test_serialize_round_trips_through_json():
    trigger = VimmerseStoryTrigger(
        "s1", end_time=1234.5, vimmerse_conn_id="c", poll_interval=2, max_poll_errors=1, needs_video=True
    )
    path, kwargs = trigger.serialize()
    module, _, name = path.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
    assert rebuilt.serialize() == (path, kwargs)
    assert kwargs["needs_video"] is True and kwargs["end_time"] == 1234.5
