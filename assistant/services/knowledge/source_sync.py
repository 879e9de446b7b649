"""The synchronisation job of a knowledge source: list the share, read only what changed, then add, replace,
move or remove the collection's documents (design §7).

Durable and idempotent like every job: each file's change is one transaction that writes the document *and* the
file's record together, so a worker killed mid-way leaves every file either done or untouched; the retried job
plans again from those records and never indexes a file twice. A sync where nothing changed reads no file: the
planner compares entity tags (WebDAV) or size and modification time (SMB) first. A share that is down or refuses
the credentials fails the run with a French reason and changes nothing already indexed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import mimetypes
import posixpath
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from assistant.jobs import JobContext, JobRegistry
from assistant.runtime import Runtime
from assistant.security import UnreadableSecretError
from assistant.services.knowledge.document_files import upload_root, write_file
from assistant.services.knowledge.documents import INGEST_JOB_KIND, remove_document
from assistant.services.knowledge.sources import SYNC_JOB_KIND, request_sync, secret_box
from assistant.services.operations.jobs import submit_job
from assistant.store import collections as collection_store
from assistant.store import documents as document_store
from assistant.store import sources as store
from assistant.store import utcnow
from assistant.store.models import DocumentStatus, KnowledgeSource, SourceFile
from rag.sources import (
    KnownFile,
    PathPatterns,
    SmbSource,
    Source,
    WebDavSource,
    hash_content,
    plan_sync,
    resolve_fetched,
)
from rag.sources.errors import SourceError, SourceFileTooLargeError, SourceNotFoundError

__all__ = ["register", "sync_schedule", "synchronise"]

logger = logging.getLogger(__name__)

_MAX_FILES = 20_000
_SCHEDULE_SECONDS = 60
_IDLE = ("never", "ok", "failed")


def _reader(runtime: Runtime, source: KnowledgeSource) -> Source:
    password = secret_box(runtime).open(source.secret) if source.secret else ""
    if source.kind == "smb":
        return SmbSource(
            server=source.location,
            share=source.share or "",
            root_path=source.root_path,
            username=source.username,
            password=password,
            port=source.port or 445,
        )
    return WebDavSource(
        base_url=source.location, root_path=source.root_path, username=source.username, password=password
    )


def _known(row: SourceFile) -> KnownFile:
    return KnownFile(row.path, row.size, row.modified, row.etag, row.content_hash)


def _row(source_id: uuid.UUID, record: KnownFile, document_id: uuid.UUID | None) -> SourceFile:
    return SourceFile(
        source_id=source_id,
        path=record.path,
        size=record.size,
        modified=record.modified,
        etag=record.etag,
        content_hash=record.content_hash,
        document_id=document_id,
    )


@contextlib.asynccontextmanager
async def _spool(runtime: Runtime, job_id: uuid.UUID) -> AsyncIterator[Path]:
    """A folder for the bytes read in this run (never held all in memory), removed afterwards."""
    folder = runtime.settings.ensure_data_dir() / "sync" / str(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


async def _add_document(
    runtime: Runtime, source: KnowledgeSource, owner_id: uuid.UUID, record: KnownFile, data: bytes
) -> tuple[uuid.UUID | None, str | None]:
    """A new document for the file, recorded with it in one transaction; (document id, failure reason)."""
    filename = posixpath.basename(record.path)[:255] or "document"
    async with runtime.session_factory.begin() as session:
        same = await document_store.find_by_hash(
            session=session, collection_id=source.collection_id, content_hash=record.content_hash
        )
        if same is not None:
            await store.put_file(session=session, row=_row(source.id, record, None))
            return None, f"contenu identique à « {same.filename} », déjà dans la collection"
        document_id = uuid.uuid4()
        storage_path = f"{source.collection_id}/{document_id}"
        await document_store.add_document(
            session=session,
            id=document_id,
            collection_id=source.collection_id,
            owner_id=owner_id,
            filename=filename,
            mime=mimetypes.guess_type(filename)[0],
            size_bytes=len(data),
            content_hash=record.content_hash,
            storage_path=storage_path,
            synced_at=utcnow(),
        )
        await store.put_file(session=session, row=_row(source.id, record, document_id))
        await asyncio.to_thread(write_file, upload_root(runtime) / storage_path, data)
    return document_id, None


async def _queue_ingestions(runtime: Runtime, source: KnowledgeSource, owner_id: uuid.UUID) -> int:
    """Ingestion jobs for the source's documents still waiting for one (also those a killed run left)."""
    async with runtime.session_factory() as session:
        ids = await store.source_documents(session=session, source_id=source.id)
        waiting = [
            document.id
            for document_id in ids
            if (document := await document_store.get_document(session=session, document_id=document_id)) is not None
            and document.status == DocumentStatus.QUEUED
            and document.job_id is None
        ]
    for document_id in waiting:
        job = await submit_job(
            runtime, kind=INGEST_JOB_KIND, payload={"document_id": str(document_id)}, owner_id=owner_id
        )
        async with runtime.session_factory.begin() as session:
            await document_store.set_document(session=session, document_id=document_id, job_id=job.id)
    return len(waiting)


async def _rename(runtime: Runtime, source: KnowledgeSource, old: KnownFile, record: KnownFile) -> None:
    async with runtime.session_factory.begin() as session:
        rows = {row.path: row for row in await store.list_files(session=session, source_id=source.id)}
        document_id = rows[old.path].document_id if old.path in rows else None
        await store.delete_file(session=session, source_id=source.id, path=old.path)
        await store.put_file(session=session, row=_row(source.id, record, document_id))
        if document_id is not None:
            filename = posixpath.basename(record.path)[:255] or "document"
            await document_store.set_document(session=session, document_id=document_id, filename=filename)


async def synchronise(runtime: Runtime, source_id: uuid.UUID, context: JobContext | None = None) -> dict[str, Any]:
    """One synchronisation of a source; returns (and stores as ``last_result``) what it did."""
    async with runtime.session_factory.begin() as session:
        source = await store.get_source(session=session, source_id=source_id)
        if source is None:
            return {"status": "gone"}
        collection = await collection_store.get_collection(session=session, collection_id=source.collection_id)
        await store.set_source(session=session, source_id=source.id, status="running", last_sync_at=utcnow())
    if collection is None:
        return {"status": "gone"}
    owner_id = collection.owner_id
    started = utcnow()
    failed: list[dict[str, str]] = []
    counts = {"added": 0, "updated": 0, "renamed": 0, "removed": 0, "unchanged": 0}
    job_id = context.job_id if context is not None else uuid.uuid4()
    limit = runtime.settings.rag.max_document_bytes
    try:
        async with runtime.session_factory() as session:
            rows = await store.list_files(session=session, source_id=source.id)
        documents = {row.path: row.document_id for row in rows}
        async with _reader(runtime, source) as reader, _spool(runtime, job_id) as spool:
            patterns = PathPatterns(include=source.include or ("**",), exclude=source.exclude)
            listing = await reader.list_files(patterns, max_files=_MAX_FILES)
            plan = plan_sync({row.path: _known(row) for row in rows}, listing)
            counts["unchanged"] = len(plan.unchanged)
            fetched: dict[str, str] = {}
            spooled: dict[str, Path] = {}
            for index, remote in enumerate(plan.to_fetch):
                try:
                    data = await reader.read(remote.path, max_bytes=limit)
                except (SourceFileTooLargeError, SourceNotFoundError) as exc:
                    failed.append({"path": remote.path, "reason": str(exc)})
                    continue
                fetched[remote.path] = hash_content(data)
                spooled[remote.path] = spool / hashlib.sha256(remote.path.encode()).hexdigest()
                await asyncio.to_thread(spooled[remote.path].write_bytes, data)
                if context is not None and index % 20 == 0:
                    await context.report_progress(
                        0.5 * (index + 1) / len(plan.to_fetch), f"{index + 1} fichier(s) lu(s) sur {len(plan.to_fetch)}"
                    )
            changes = resolve_fetched(plan, fetched)
            if context is not None:
                await context.report_progress(0.5, "Mise à jour des documents de la collection")
            for gone in changes.removed:
                document_id = documents.get(gone.path)
                if document_id is not None:
                    await remove_document(runtime, document_id)
                async with runtime.session_factory.begin() as session:
                    await store.delete_file(session=session, source_id=source.id, path=gone.path)
                counts["removed"] += 1
            for old, new_path in changes.renamed:
                await _rename(runtime, source, old, changes.state[new_path])
                counts["renamed"] += 1
            for record in changes.unchanged_after_fetch:
                async with runtime.session_factory.begin() as session:
                    await store.put_file(session=session, row=_row(source.id, record, documents.get(record.path)))
                counts["unchanged"] += 1
            for kind, records in (("updated", changes.updated), ("added", changes.added)):
                for record in records:
                    previous = documents.get(record.path)
                    if previous is not None:
                        await remove_document(runtime, previous)
                    data = await asyncio.to_thread(spooled[record.path].read_bytes)
                    _, reason = await _add_document(runtime, source, owner_id, record, data)
                    if reason is not None:
                        failed.append({"path": record.path, "reason": reason})
                    else:
                        counts[kind] += 1
        await _queue_ingestions(runtime, source, owner_id)
        if context is not None:
            await context.report_progress(1.0, "Synchronisation terminée")
    except UnreadableSecretError:
        return await _failed(
            runtime,
            source,
            "Le mot de passe enregistré ne peut plus être lu (clé du service changée) : ressaisissez-le.",
        )
    except SourceError as exc:
        return await _failed(runtime, source, str(exc))
    except Exception:
        # Unexpected: recorded as a failure for the page, then raised so that the job is retried.
        await _failed(runtime, source, "Erreur inattendue pendant la synchronisation : elle sera retentée.")
        raise
    result = {**counts, "failed": len(failed), "failures": failed[:50]}
    async with runtime.session_factory.begin() as session:
        await store.mark_synced(session=session, source_id=source.id, at=started)
        await store.set_source(
            session=session,
            source_id=source.id,
            status="ok",
            last_success_at=started,
            last_result=result,
            last_error=None,
        )
    logger.info("source %s synchronised: %s", source.id, {k: v for k, v in result.items() if k != "failures"})
    return {"status": "ok", **result}


async def _failed(runtime: Runtime, source: KnowledgeSource, message: str) -> dict[str, Any]:
    """The run failed as a whole: the reason is shown, nothing indexed before is touched."""
    async with runtime.session_factory.begin() as session:
        await store.set_source(session=session, source_id=source.id, status="failed", last_error=message)
    logger.warning("source %s: synchronisation failed: %s", source.id, message)
    return {"status": "failed", "error": message}


async def _run_job(runtime: Runtime, context: JobContext) -> dict[str, Any]:
    return await synchronise(runtime, uuid.UUID(str(context.payload["source_id"])), context)


def register(registry: JobRegistry, runtime: Runtime) -> None:
    """Add the synchronisation handler (called by the runtime through ``_builtin_job_modules``)."""
    registry.register(SYNC_JOB_KIND, functools.partial(_run_job, runtime))


async def _schedule_loop(runtime: Runtime, stop: asyncio.Event) -> None:
    # The first pass waits one tick: a process that starts and stops at once (tests, CLI) queues nothing.
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=_SCHEDULE_SECONDS)
        if stop.is_set():
            return
        try:
            async with runtime.session_factory() as session:
                due = await store.due_sources(session=session, now=utcnow(), idle_statuses=_IDLE)
            for source in due:
                await request_sync(runtime, source.id)
        except Exception:  # a failed pass is retried at the next tick; the worker keeps working
            logger.exception("source schedule pass failed")


@contextlib.asynccontextmanager
async def sync_schedule(runtime: Runtime) -> AsyncIterator[None]:
    """Queue the scheduled synchronisations in the background for the duration of the block (worker processes);
    at the end the pass under way finishes (never cancelled in the middle of a query)."""
    stop = asyncio.Event()
    task = asyncio.create_task(_schedule_loop(runtime, stop), name="source-schedule")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=30)
        except TimeoutError:
            logger.warning("source schedule pass still running at shutdown: cancelled")
