"""
PostgreSQL and Redis servers from Debian's packages (``tests/production/install-services.sh``
installs them), each started on loopback in a fresh directory and stopped by its PID.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.airflow_processes import free_port


def _postgres_binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]  # the newest installed major version
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run tests/production/install-services.sh")
    return on_path


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


@contextmanager
def postgres() -> Iterator[str]:
    """
    A PostgreSQL server with an ``airflow`` database; yields its SQLAlchemy URL (psycopg2).

    PostgreSQL refuses to run as root, so as root it runs as Debian's ``postgres`` user, in a
    directory of its own outside the tests' (root-only) temporary folders.
    """
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else None
    root = Path(tempfile.mkdtemp(prefix="vimmerse-postgres-"))
    data = root / "data"
    if user is not None:
        account = pwd.getpwnam(user)
        os.chown(root, account.pw_uid, account.pw_gid)
    port = free_port()
    subprocess.run(
        [_postgres_binary("initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        user=user,
    )
    log = open(root / "postgres.log", "w")  # noqa: SIM115 - kept open while the server runs
    settings = ["listen_addresses=127.0.0.1", "fsync=off", "max_connections=200"]
    server = subprocess.Popen(
        [_postgres_binary("postgres"), "-D", str(data), "-p", str(port), "-k", str(root)]
        + [argument for setting in settings for argument in ("-c", setting)],
        stdout=log,
        stderr=subprocess.STDOUT,
        user=user,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(
            [_postgres_binary("pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
        ).returncode:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {(root / 'postgres.log').read_text()[-2000:]}")
            time.sleep(0.2)
        subprocess.run(
            [_postgres_binary("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "airflow"], check=True
        )
        yield f"postgresql+psycopg2://airflow@127.0.0.1:{port}/airflow"
    finally:
        _stop(server, signal.SIGINT)  # PostgreSQL's "fast" shutdown
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis() -> Iterator[str]:
    """A Redis server with nothing persisted; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run tests/production/install-services.sh")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (
            subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip()
            != "PONG"
        ):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Redis did not start")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(server)
