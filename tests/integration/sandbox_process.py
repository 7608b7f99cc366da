"""
The sandbox as the tests meet it: the installed ``vimmerse-sandbox`` program in its own process,
driven over HTTP only, the way a user's CI runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

START_TIMEOUT = 60.0


def sandbox_command() -> list[str]:
    """The installed console script (next to this interpreter, or on PATH)."""
    beside = Path(sys.executable).with_name("vimmerse-sandbox")
    found = str(beside) if beside.exists() else shutil.which("vimmerse-sandbox")
    if not found:
        raise RuntimeError("vimmerse-sandbox is not installed: `pip install ./sandbox` (make test does it).")
    return [found]


class SandboxProcess:
    """
    A running ``vimmerse-sandbox`` on loopback.

    :param data_dir: where its stories live (kept across :meth:`restart`).
    :param api_key: the key it accepts.
    :param speed: its time scale.
    :param port: the port to bind (0: any free one; :meth:`restart` keeps the one it got).
    :param static_dir: served under ``/static/``.
    :param faults: fault specs active from the start.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        api_key: str,
        speed: float = 200.0,
        port: int = 0,
        static_dir: Path | None = None,
        faults: list[dict[str, Any]] | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.api_key = api_key
        self.speed = speed
        self.port = port
        self.static_dir = static_dir
        self.faults = faults or []
        self.extra_args = extra_args or []
        self.url = ""
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-sandbox.log"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SandboxProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the program and return once it listens."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        url_file = self.data_dir.parent / f"{self.data_dir.name}-url"
        url_file.unlink(missing_ok=True)
        command = [
            *sandbox_command(),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--api-key",
            self.api_key,
            "--speed",
            str(self.speed),
            "--data-dir",
            str(self.data_dir),
            "--url-file",
            str(url_file),
            *(["--static-dir", str(self.static_dir)] if self.static_dir else []),
            *[arg for fault in self.faults for arg in ("--fault", json.dumps(fault))],
            *self.extra_args,
        ]
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
        deadline = time.monotonic() + START_TIMEOUT
        while not (url_file.exists() and url_file.read_text()):
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"vimmerse-sandbox exited with {self._process.returncode}: {self.log_path.read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("vimmerse-sandbox did not start listening in time")
            time.sleep(0.02)
        self.url = url_file.read_text().strip()
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        """Stop it (SIGTERM, as a CI job's cleanup would); unfinished stories resume on the next start."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def restart(self, **changes: Any) -> None:
        """Stop, apply ``changes`` (e.g. ``speed``), and start again on the same port and data dir."""
        self.stop()
        for key, value in changes.items():
            setattr(self, key, value)
        self.start()

    # -- admin API -------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/_sandbox/stats", headers=self._admin, timeout=10).json()

    def add_fault(self, **spec: Any) -> None:
        requests.post(f"{self.url}/_sandbox/faults", json=spec, headers=self._admin, timeout=10).raise_for_status()

    def set_credits(self, credits: int) -> None:
        requests.put(
            f"{self.url}/_sandbox/credits", json={"credits": credits}, headers=self._admin, timeout=10
        ).raise_for_status()

    @property
    def _admin(self) -> dict[str, str]:
        return {"X-Api-Key": self.api_key}
