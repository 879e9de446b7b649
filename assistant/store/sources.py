"""Queries on knowledge sources and the files they last listed. Session keyword-only, never committing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import Document, KnowledgeSource, SourceFile

__all__ = [
    "add_source",
    "delete_file",
    "delete_source",
    "due_sources",
    "get_source",
    "list_files",
    "list_sources",
    "mark_synced",
    "put_file",
    "set_source",
    "source_documents",
]


async def add_source(*, session: AsyncSession, source: KnowledgeSource) -> KnowledgeSource:
    """Stage a new source and flush it so that its id is known."""
    session.add(source)
    await session.flush()
    return source


async def get_source(*, session: AsyncSession, source_id: uuid.UUID) -> KnowledgeSource | None:
    """The source with this id (the service checks the caller's rights on its collection)."""
    return await session.get(KnowledgeSource, source_id)


async def list_sources(*, session: AsyncSession, collection_id: uuid.UUID) -> list[KnowledgeSource]:
    """A collection's sources by name."""
    rows = await session.scalars(
        select(KnowledgeSource)
        .where(KnowledgeSource.collection_id == collection_id)
        .order_by(KnowledgeSource.name, KnowledgeSource.id)
    )
    return list(rows)


async def set_source(*, session: AsyncSession, source_id: uuid.UUID, **values: Any) -> None:
    """Update some columns of a source."""
    await session.execute(update(KnowledgeSource).where(KnowledgeSource.id == source_id).values(**values))


async def due_sources(*, session: AsyncSession, now: datetime, idle_statuses: Sequence[str]) -> list[KnowledgeSource]:
    """Sources with a schedule, not queued or running, whose interval has passed since their last run."""
    rows = await session.scalars(
        select(KnowledgeSource).where(
            KnowledgeSource.interval_minutes.is_not(None), KnowledgeSource.status.in_(list(idle_statuses))
        )
    )
    due = []
    for source in rows:
        assert source.interval_minutes is not None
        last = source.last_sync_at
        if last is None or (now - last).total_seconds() >= source.interval_minutes * 60:
            due.append(source)
    return due


async def delete_source(*, session: AsyncSession, source_id: uuid.UUID) -> None:
    """Delete a source and its file records (explicitly: SQLite connections may lack cascades)."""
    await session.execute(delete(SourceFile).where(SourceFile.source_id == source_id))
    await session.execute(delete(KnowledgeSource).where(KnowledgeSource.id == source_id))


async def list_files(*, session: AsyncSession, source_id: uuid.UUID) -> list[SourceFile]:
    """Every file the source's last synchronisations recorded."""
    return list(await session.scalars(select(SourceFile).where(SourceFile.source_id == source_id)))


async def put_file(*, session: AsyncSession, row: SourceFile) -> None:
    """Record (or replace) what is known of one file of a source."""
    await session.merge(row)
    await session.flush()


async def delete_file(*, session: AsyncSession, source_id: uuid.UUID, path: str) -> None:
    """Forget one file of a source."""
    await session.execute(delete(SourceFile).where(SourceFile.source_id == source_id, SourceFile.path == path))


async def source_documents(*, session: AsyncSession, source_id: uuid.UUID) -> list[uuid.UUID]:
    """The documents a source's files became."""
    rows = await session.scalars(
        select(SourceFile.document_id).where(SourceFile.source_id == source_id, SourceFile.document_id.is_not(None))
    )
    return [document_id for document_id in rows if document_id is not None]


async def mark_synced(*, session: AsyncSession, source_id: uuid.UUID, at: datetime) -> None:
    """Every document of the source is confirmed by the drive as of ``at`` (one statement)."""
    await session.execute(
        update(Document)
        .where(
            Document.id.in_(
                select(SourceFile.document_id).where(
                    SourceFile.source_id == source_id, SourceFile.document_id.is_not(None)
                )
            )
        )
        .values(synced_at=at)
        .execution_options(synchronize_session=False)
    )
