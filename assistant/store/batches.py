"""Queries on uploaded files, batches and their per-line results. Functions never commit: the caller does."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from assistant.store._base import utcnow
from assistant.store.models import Batch, BatchResult, BatchStatus, Job, JobStatus, StoredFile

__all__ = [
    "ACTIVE_STATUSES",
    "add_batch",
    "add_file",
    "add_result",
    "cancel_queued_job",
    "delete_file",
    "delete_owned",
    "done_lines",
    "file_content",
    "get_batch",
    "get_file",
    "list_batches",
    "list_files",
    "list_owned_batches",
    "purge_before",
    "results",
    "set_status",
    "uses_as_input",
]

ACTIVE_STATUSES = (BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS, BatchStatus.FINALIZING, BatchStatus.CANCELLING)
_TERMINAL = (BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.EXPIRED, BatchStatus.CANCELLED)


async def add_file(
    *, session: AsyncSession, owner_id: uuid.UUID, purpose: str, filename: str, content: bytes
) -> StoredFile:
    """Stage a stored file and flush it so that its id is known."""
    row = StoredFile(owner_id=owner_id, purpose=purpose, filename=filename, size_bytes=len(content), content=content)
    session.add(row)
    await session.flush()
    return row


async def get_file(*, session: AsyncSession, file_id: uuid.UUID) -> StoredFile | None:
    """The file's record (without its bytes)."""
    return await session.get(StoredFile, file_id)


async def file_content(*, session: AsyncSession, file_id: uuid.UUID) -> StoredFile | None:
    """The file's record with its bytes loaded."""
    rows = await session.execute(
        select(StoredFile).where(StoredFile.id == file_id).options(undefer(StoredFile.content))
    )
    return rows.scalar_one_or_none()


async def _cursor(session: AsyncSession, model: type[Any], cursor_id: uuid.UUID) -> datetime | None:
    return (await session.execute(select(model.created_at).where(model.id == cursor_id))).scalar_one_or_none()


async def list_files(
    *,
    session: AsyncSession,
    owner_id: uuid.UUID,
    purpose: str | None = None,
    after: uuid.UUID | None = None,
    limit: int = 100,
    newest_first: bool = True,
) -> list[StoredFile]:
    """The owner's files, ``limit`` of them after the file ``after`` in the chosen order."""
    query = select(StoredFile).where(StoredFile.owner_id == owner_id)
    if purpose is not None:
        query = query.where(StoredFile.purpose == purpose)
    order = (
        (StoredFile.created_at.desc(), StoredFile.id.desc()) if newest_first else (StoredFile.created_at, StoredFile.id)
    )
    if after is not None:
        at = await _cursor(session, StoredFile, after)
        if at is not None:
            if newest_first:
                query = query.where(
                    or_(StoredFile.created_at < at, and_(StoredFile.created_at == at, StoredFile.id < after))
                )
            else:
                query = query.where(
                    or_(StoredFile.created_at > at, and_(StoredFile.created_at == at, StoredFile.id > after))
                )
    return list((await session.execute(query.order_by(*order).limit(limit))).scalars())


async def delete_file(*, session: AsyncSession, file_id: uuid.UUID) -> None:
    """Delete the file (its bytes with it)."""
    await session.execute(
        delete(StoredFile).where(StoredFile.id == file_id).execution_options(synchronize_session=False)
    )


async def uses_as_input(*, session: AsyncSession, file_id: uuid.UUID) -> bool:
    """True when a batch still running (or about to) reads this file."""
    rows = await session.execute(
        select(func.count()).select_from(Batch).where(Batch.input_file_id == file_id, Batch.status.in_(ACTIVE_STATUSES))
    )
    return bool(rows.scalar_one())


async def add_batch(*, session: AsyncSession, **fields: Any) -> Batch:
    """Stage a batch and flush it so that its id is known."""
    row = Batch(**fields)
    session.add(row)
    await session.flush()
    return row


async def get_batch(*, session: AsyncSession, batch_id: uuid.UUID) -> Batch | None:
    """The batch, read fresh from the database."""
    return await session.get(Batch, batch_id, populate_existing=True)


async def list_batches(
    *, session: AsyncSession, owner_id: uuid.UUID, after: uuid.UUID | None = None, limit: int = 20
) -> list[Batch]:
    """The owner's batches, newest first, ``limit`` of them after the batch ``after``."""
    query = select(Batch).where(Batch.owner_id == owner_id)
    if after is not None:
        at = await _cursor(session, Batch, after)
        if at is not None:
            query = query.where(or_(Batch.created_at < at, and_(Batch.created_at == at, Batch.id < after)))
    query = query.order_by(Batch.created_at.desc(), Batch.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def list_owned_batches(*, session: AsyncSession, owner_id: uuid.UUID) -> list[Batch]:
    """Every batch of the owner, oldest first (data export)."""
    rows = await session.execute(select(Batch).where(Batch.owner_id == owner_id).order_by(Batch.created_at))
    return list(rows.scalars())


async def set_status(
    *,
    session: AsyncSession,
    batch_id: uuid.UUID,
    status: BatchStatus,
    when: Iterable[BatchStatus],
    **fields: Any,
) -> bool:
    """Move the batch to ``status`` (with ``fields``) if it is in one of ``when``; True when it moved.

    A single conditional UPDATE, so a cancellation and the worker's progress never overwrite each other.
    """
    result = await session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.status.in_(list(when)))
        .values(status=status, **fields)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def done_lines(*, session: AsyncSession, batch_id: uuid.UUID) -> set[int]:
    """Indexes of the lines that already have a result."""
    rows = await session.execute(select(BatchResult.line_index).where(BatchResult.batch_id == batch_id))
    return set(rows.scalars())


async def add_result(
    *, session: AsyncSession, batch_id: uuid.UUID, line_index: int, custom_id: str, ok: bool, line: dict[str, Any]
) -> None:
    """Record one line's outcome and count it on the batch; the flush fails (IntegrityError) on a line done twice."""
    session.add(BatchResult(batch_id=batch_id, line_index=line_index, custom_id=custom_id, ok=ok, line=line))
    await session.flush()
    counter = Batch.completed if ok else Batch.failed
    await session.execute(
        update(Batch)
        .where(Batch.id == batch_id)
        .values({counter.key: counter + 1})
        .execution_options(synchronize_session=False)
    )


async def results(*, session: AsyncSession, batch_id: uuid.UUID) -> list[BatchResult]:
    """Every line's outcome, in input order."""
    rows = await session.execute(
        select(BatchResult).where(BatchResult.batch_id == batch_id).order_by(BatchResult.line_index)
    )
    return list(rows.scalars())


async def cancel_queued_job(*, session: AsyncSession, job_id: uuid.UUID) -> bool:
    """Cancel the job if no worker took it yet; True when it was still queued."""
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.CANCELLED, error="Lot annulé à la demande de l'utilisateur.", finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def delete_owned(*, session: AsyncSession, owner_id: uuid.UUID) -> tuple[int, int]:
    """Delete every batch (with its results) and every file of the owner; returns (batches, files)."""
    batches = await session.execute(
        delete(Batch).where(Batch.owner_id == owner_id).execution_options(synchronize_session=False)
    )
    files = await session.execute(
        delete(StoredFile).where(StoredFile.owner_id == owner_id).execution_options(synchronize_session=False)
    )
    return int(batches.rowcount), int(files.rowcount)  # type: ignore[attr-defined]


async def purge_before(*, session: AsyncSession, before: datetime) -> tuple[int, int]:
    """Delete finished batches created before ``before``, and files as old that no unfinished batch reads."""
    batches = await session.execute(
        delete(Batch)
        .where(Batch.created_at < before, Batch.status.in_(_TERMINAL))
        .execution_options(synchronize_session=False)
    )
    still_read = select(Batch.input_file_id).where(Batch.status.in_(ACTIVE_STATUSES))
    files = await session.execute(
        delete(StoredFile)
        .where(StoredFile.created_at < before, StoredFile.id.not_in(still_read))
        .execution_options(synchronize_session=False)
    )
    return int(batches.rowcount), int(files.rowcount)  # type: ignore[attr-defined]
