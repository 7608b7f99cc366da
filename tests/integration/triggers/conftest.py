"""Fixtures of the webhook tests: a listening triggerer configuration, and a sandbox that calls webhooks."""

from __future__ import annotations

import pytest

from tests.conftest import API_KEY, set_connection
from tests.integration.airflow_processes import free_port
from tests.integration.sandbox_process import SandboxProcess


@pytest.fixture
def public_url(monkeypatch) -> str:
    """The triggerer listens for webhooks on a free loopback port (as configured in airflow.cfg)."""
    port = free_port()
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_BIND", f"127.0.0.1:{port}")
    monkeypatch.setenv("AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL", f"http://127.0.0.1:{port}")
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def webhook_sandbox(tmp_path, monkeypatch):
    """A sandbox allowed to call webhooks on loopback, at a speed where a story takes a few seconds."""
    with SandboxProcess(tmp_path / "sandbox", api_key=API_KEY, speed=20, extra_args=["--allow-private-fetch"]) as sb:
        set_connection(monkeypatch, sb.url)
        yield sb
