"""A private PostgreSQL server in a temporary directory, on its own port, that a test may stop and start at will.

Restarting the shared cluster would break the other tests running beside us; this one belongs to a single
test. ``initdb`` refuses to run as root, so as root every PostgreSQL command runs as the ``postgres`` account
(which then owns the directory). ``fsync=off``: the data is thrown away, durability is not what is tested.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg

__all__ = ["PrivatePostgres", "postgres_binaries"]

_BIN_ROOT = Path("/usr/lib/postgresql")


def postgres_binaries() -> Path | None:
    """The newest installed PostgreSQL's ``bin`` directory, or None when there is none."""
    found = sorted(
        (p for p in _BIN_ROOT.glob("*/bin") if (p / "initdb").is_file() and (p / "pg_ctl").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivatePostgres:
    """``with PrivatePostgres() as pg: pg.url("db")`` — ``pg.stop()`` / ``pg.start()`` make an outage."""

    def __init__(self) -> None:
        binaries = postgres_binaries()
        if binaries is None:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self._bin = binaries
        self.port = _free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="souverain-pg-"))
        self._as_postgres = os.geteuid() == 0

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self._bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr or result.stdout}")

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", *args)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.directory / "server.log"), "-o", options, "start")

    def stop(self) -> None:
        """Fast shutdown: open sessions are cut, as in a real restart or failover."""
        self._pg_ctl("-m", "fast", "stop")

    def __enter__(self) -> PrivatePostgres:
        if self._as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped by the test
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", timeout=30)
        shutil.rmtree(self.directory, ignore_errors=True)

    async def create_database(self, name: str) -> None:
        connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", timeout=10)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""
