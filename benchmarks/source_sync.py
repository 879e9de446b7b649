"""Synchronising a collection with a shared drive: 2,000 small files, then a sync where nothing changed, then 20
changed files — wall time, files per second and how many files each sync read, on a real WebDAV server (WsgiDAV,
started here on 127.0.0.1) through the service's own synchronisation (``assistant.services.knowledge.source_sync``,
SQLite, documents written and their ingestion queued; ingestion itself is measured by ``rag_embeddings.py``).

Usage: python benchmarks/source_sync.py [--files 2000] [--changed 20] [--smb]

With ``--smb`` the same runs go through Samba's smbd too (needs root and the Debian package samba). The last
lines are ``first sync: X files/s``, ``no-change sync: X s, N files read`` and ``changed sync: X s, N files read``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.core.config import Settings
from assistant.runtime import Runtime, open_runtime
from assistant.security import Principal, permissions_for
from assistant.services.identity.users import create_local_user
from assistant.services.knowledge import source_sync, sources
from assistant.services.knowledge.collections import create_collection
from assistant.store.models import Classification, Role
from tests.rag.sources.servers import PASSWORD, SMB_USER, USER, SambaServer, WebDavServer


@dataclass
class Run:
    kind: str
    step: str
    files: int
    seconds: float
    read: int

    @property
    def rate(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


def _write_files(root: Path, count: int, mtime: int) -> None:
    for index in range(count):
        folder = root / f"service-{index % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"note-{index:04d}.txt"
        path.write_text(f"Note de service numéro {index}. Objet : procédure {index % 37}.\n", encoding="utf-8")
        os.utime(path, (mtime, mtime))


async def _scenario(
    settings: Settings, kind: str, server: WebDavServer | SambaServer, files: int, changed: int
) -> list[Run]:
    folder = f"bench-{uuid.uuid4().hex[:6]}"
    (server.root / folder).mkdir()
    _write_files(server.root / folder, files, mtime=1_700_000_000)
    runs: list[Run] = []
    async with open_runtime(settings, with_worker=False) as runtime:
        principal = await _owner(runtime)
        collection = await create_collection(
            runtime, principal, name=f"Banc {kind}", description="", classification=Classification.INTERNAL
        )
        location = server.base_url if isinstance(server, WebDavServer) else "127.0.0.1"
        source = await sources.create_source(
            runtime,
            principal,
            collection.collection.id,
            name="Banc",
            kind=kind,
            location=location,
            port=server.port if isinstance(server, SambaServer) else None,
            share="docs" if isinstance(server, SambaServer) else None,
            root_path=folder,
            username=USER if isinstance(server, WebDavServer) else SMB_USER,
            password=PASSWORD,
        )
        for step in ("first", "no-change", "changed"):
            if step == "changed":
                for index in range(changed):
                    path = server.root / folder / f"service-{index % 20:02d}" / f"note-{index:04d}.txt"
                    path.write_text(f"Note modifiée {index}.\n", encoding="utf-8")
                    os.utime(path, (1_700_000_900, 1_700_000_900))
            reads = _count_reads()
            started = time.perf_counter()
            result = await source_sync.synchronise(runtime, source.id)
            seconds = time.perf_counter() - started
            assert result["status"] == "ok", result
            runs.append(Run(kind, step, files, seconds, len(reads)))
    return runs


def _count_reads() -> list[str]:
    """Paths every reader reads from now on (the service's readers are built per sync)."""
    reads: list[str] = []
    for cls in (source_sync.WebDavSource, source_sync.SmbSource):
        original = cls.__dict__.get("_bench_original") or cls.read
        cls._bench_original = original  # type: ignore[attr-defined]

        async def counting(self, path: str, *, max_bytes: int, _original=original) -> bytes:  # type: ignore[no-untyped-def]
            reads.append(path)
            return await _original(self, path, max_bytes=max_bytes)

        cls.read = counting  # type: ignore[method-assign]
    return reads


async def _owner(runtime: Runtime) -> Principal:
    user = await create_local_user(runtime, username=f"bench.{uuid.uuid4().hex[:6]}", role=Role.AGENT, password=None)
    return Principal(user.id, user.username, Role.AGENT, "session", permissions_for(Role.AGENT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=20)
    parser.add_argument("--smb", action="store_true", help="also through Samba's smbd (root, Debian package samba)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        settings = Settings(data_dir=base / "data", run_worker_in_process=False)  # type: ignore[call-arg]
        (base / "webdav").mkdir()
        servers: list[tuple[str, WebDavServer | SambaServer]] = [("webdav", WebDavServer(base / "webdav"))]
        if args.smb:
            (base / "samba").mkdir()
            servers.append(("smb", SambaServer(base / "samba")))
        runs: list[Run] = []
        try:
            for kind, server in servers:
                runs += asyncio.run(_scenario(settings, kind, server, args.files, args.changed))
        finally:
            for _, server in servers:
                server.stop()
    print("\n| Partage | Synchronisation | Fichiers | Durée (s) | Fichiers/s | Fichiers lus |")
    print("|---|---|---:|---:|---:|---:|")
    for run in runs:
        print(f"| {run.kind} | {run.step} | {run.files} | {run.seconds:.2f} | {run.rate:.0f} | {run.read} |")
    first, unchanged, changed = (
        next(r for r in runs if r.kind == "webdav" and r.step == s) for s in ("first", "no-change", "changed")
    )
    print(f"\nfirst sync: {first.rate:.0f} files/s")
    print(f"no-change sync: {unchanged.seconds:.2f} s, {unchanged.read} files read")
    print(f"changed sync: {changed.seconds:.2f} s, {changed.read} files read")


if __name__ == "__main__":
    main()
