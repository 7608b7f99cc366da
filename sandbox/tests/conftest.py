"""The sandbox's own tests: a server in this process, clients over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import API_KEY, TEST_SPEED

from vimmerse_sandbox.pipeline import SandboxConfig
from vimmerse_sandbox.server import SandboxServer


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(data_dir=tmp_path / "sandbox", api_key=API_KEY, speed=TEST_SPEED)) as server:
        yield server
