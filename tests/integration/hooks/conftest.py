"""The hook as the scripted-server tests use it: retries record their waits instead of sleeping."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import SleepRecorder


@pytest.fixture
def hook():
    h = VimmerseHook()
    h._sleep = SleepRecorder()
    yield h
    h.close()
