"""Real share servers on 127.0.0.1 for the source tests: WsgiDAV (PyPI) and Samba's smbd (Debian ``samba``).

Each runs as a child process of the test run in its own session, serves a temporary folder and is killed with
its whole process group at teardown. ``Share`` gives the tests one face for both: the local folder behind a
source's root, and a factory for sources on it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.sources import PathPatterns, SmbSource, Source, WebDavSource, hash_content, plan_sync, resolve_fetched
from rag.sources._sync import SyncChanges, SyncPlan
from rag.sources._types import KnownFile

USER = "alice"
PASSWORD = "Mot-de-passe-très-secret-42"  # searched for in every error message: it must never appear
SMB_USER = "root"  # smbd maps a Samba account to a Unix one; root exists everywhere the tests run as root
START_TIMEOUT_S = 10.0


class ServerUnavailable(Exception):
    """The server cannot run on this machine (the reason names what is missing)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise ServerUnavailable(f"not listening on {port} after {START_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        # smbd forks a child per connection: the group goes, not just the parent.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


class WebDavServer:
    """WsgiDAV serving ``root`` under ``http://127.0.0.1:<port>/dav/``, logging every request it receives."""

    def __init__(self, base: Path) -> None:
        self.root = base / "dav"
        self.root.mkdir()
        self._log = base / "requests.log"
        self._log.touch()
        script = Path(__file__).with_name("_webdav_server.py")
        with (base / "wsgidav.err").open("wb") as stderr:
            self._process = subprocess.Popen(
                [sys.executable, str(script), str(self.root), str(self._log), USER, PASSWORD],
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise ServerUnavailable(f"WsgiDAV did not start: {(base / 'wsgidav.err').read_text(errors='replace')}")
        self.port = int(line)
        self.base_url = f"http://127.0.0.1:{self.port}/dav/"

    def requests(self) -> list[str]:
        """``METHOD /path`` of every request so far (paths decoded by the server)."""
        return self._log.read_text(encoding="utf-8").splitlines()

    def stop(self) -> None:
        _stop(self._process)
        if self._process.stdout is not None:
            self._process.stdout.close()


class SambaServer:
    """smbd on a free port with a throw-away configuration: every state file lives under ``base``."""

    def __init__(self, base: Path) -> None:
        smbd = shutil.which("smbd") or "/usr/sbin/smbd"
        smbpasswd = shutil.which("smbpasswd") or "/usr/bin/smbpasswd"
        if not (os.access(smbd, os.X_OK) and os.access(smbpasswd, os.X_OK)):
            raise ServerUnavailable("smbd/smbpasswd not found: install the Debian package samba (make system-deps)")
        if os.geteuid() != 0:
            raise ServerUnavailable("smbd must run as root here to serve files as the Unix user root")
        self.root = base / "share"
        self.root.mkdir()
        for name in ("private", "lock", "pid", "state", "cache", "ncalrpc"):
            (base / name).mkdir()
        self._log = base / "smbd.log"
        last_error = ""
        for _ in range(3):  # another process may take the free port before smbd binds it
            self.port = free_port()
            conf = self._write_conf(base)
            subprocess.run(
                [smbpasswd, "-c", str(conf), "-a", "-s", SMB_USER],
                input=f"{PASSWORD}\n{PASSWORD}\n".encode(),
                check=True,
                capture_output=True,
                timeout=10,
            )
            with self._log.open("ab") as log:
                self._process = subprocess.Popen(
                    [smbd, "--foreground", "--no-process-group", f"--configfile={conf}", "--debug-stdout", "-d", "1"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            try:
                _wait_for_port(self.port, self._process, self._log)
                return
            except ServerUnavailable as exc:
                last_error = str(exc)
                _stop(self._process)
        raise ServerUnavailable(f"smbd did not start: {last_error}")

    def _write_conf(self, base: Path) -> Path:
        conf = base / "smb.conf"
        conf.write_text(
            f"""[global]
  server role = standalone server
  smb ports = {self.port}
  interfaces = 127.0.0.1
  bind interfaces only = yes
  disable netbios = yes
  private dir = {base}/private
  lock directory = {base}/lock
  pid directory = {base}/pid
  state directory = {base}/state
  cache directory = {base}/cache
  ncalrpc dir = {base}/ncalrpc
  log file = {self._log}
  passdb backend = tdbsam:{base}/private/passdb.tdb
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
  map to guest = never
  server min protocol = SMB2_10
[docs]
  path = {self.root}
  read only = yes
  valid users = {SMB_USER}
""",
            encoding="utf-8",
        )
        return conf

    def stop(self) -> None:
        _stop(self._process)


@dataclass
class Share:
    """A served folder and how to open a source on one of its subfolders."""

    kind: str
    folder: Path  # the local folder that is the sources' root
    make_source: Callable[..., Source]  # keyword overrides: password, timeout, root_path, port...
    server: WebDavServer | SambaServer

    def write(self, path: str, data: bytes, *, mtime: int | None = None) -> None:
        """Create or replace a file; ``mtime`` in whole seconds (WsgiDAV's entity tags use whole seconds)."""
        target = self.folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if mtime is not None:
            os.utime(target, (mtime, mtime))


def webdav_share(server: WebDavServer, folder: str) -> Share:
    (server.root / folder).mkdir()

    def make(**overrides: Any) -> Source:
        args: dict[str, Any] = {
            "base_url": server.base_url,
            "root_path": folder,
            "username": USER,
            "password": PASSWORD,
            "timeout": 3.0,
        }
        return WebDavSource(**(args | overrides))

    return Share("webdav", server.root / folder, make, server)


def smb_share(server: SambaServer, folder: str) -> Share:
    (server.root / folder).mkdir()

    def make(**overrides: Any) -> Source:
        args: dict[str, Any] = {
            "server": "127.0.0.1",
            "port": server.port,
            "share": "docs",
            "root_path": folder,
            "username": SMB_USER,
            "password": PASSWORD,
            "timeout": 3.0,
        }
        return SmbSource(**(args | overrides))

    return Share("smb", server.root / folder, make, server)


def count_reads(source: Source) -> list[str]:
    """Record the paths the source reads from now on (the list fills as ``read`` is called)."""
    reads: list[str] = []
    original = source.read

    async def counting(path: str, *, max_bytes: int) -> bytes:
        reads.append(path)
        return await original(path, max_bytes=max_bytes)

    source.read = counting  # type: ignore[method-assign]
    return reads


async def synchronise(
    source: Source, known: dict[str, KnownFile], patterns: PathPatterns | None = None
) -> tuple[SyncPlan, SyncChanges]:
    """One synchronisation as the service runs it: list, plan, read and hash what changed, resolve."""
    plan = plan_sync(known, await source.list_files(patterns))
    fetched = {f.path: hash_content(await source.read(f.path, max_bytes=1_000_000)) for f in plan.to_fetch}
    return plan, resolve_fetched(plan, fetched)
