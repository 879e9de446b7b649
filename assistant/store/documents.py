"""Queries on documents and their chunks. Functions take the session keyword-only and never commit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import Document, DocumentChunk, DocumentStatus

__all__ = [
    "add_document",
    "count_by_collection",
    "delete_chunks",
    "delete_document",
    "find_by_hash",
    "get_document",
    "insert_chunks",
    "iter_chunks",
    "list_documents",
    "set_document",
]


async def add_document(*, session: AsyncSession, **values: Any) -> Document:
    """Insert a document row (``values`` are :class:`Document` columns)."""
    document = Document(**values)
    session.add(document)
    await session.flush()
    return document


async def get_document(*, session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    """One document."""
    result: Document | None = await session.get(Document, document_id)
    return result


async def find_by_hash(*, session: AsyncSession, collection_id: uuid.UUID, content_hash: str) -> Document | None:
    """The document of ``collection_id`` with these exact bytes, if any."""
    result: Document | None = await session.scalar(
        select(Document).where(Document.collection_id == collection_id, Document.content_hash == content_hash)
    )
    return result


async def list_documents(*, session: AsyncSession, collection_id: uuid.UUID) -> Sequence[Document]:
    """Documents of a collection, newest first."""
    statement = (
        select(Document)
        .where(Document.collection_id == collection_id)
        .order_by(Document.created_at.desc(), Document.filename)
    )
    return (await session.scalars(statement)).all()


async def count_by_collection(
    *, session: AsyncSession, collection_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[DocumentStatus, int]]:
    """How many documents each collection holds, by status (collections without any are absent)."""
    statement = (
        select(Document.collection_id, Document.status, func.count())
        .where(Document.collection_id.in_(list(collection_ids)))
        .group_by(Document.collection_id, Document.status)
    )
    counts: dict[uuid.UUID, dict[DocumentStatus, int]] = {}
    for collection_id, status, count in await session.execute(statement):
        counts.setdefault(collection_id, {})[status] = int(count)
    return counts


async def set_document(*, session: AsyncSession, document_id: uuid.UUID, **values: Any) -> bool:
    """Update columns of a document; False when it no longer exists (deleted meanwhile)."""
    result = await session.execute(
        update(Document).where(Document.id == document_id).values(**values).returning(Document.id)
    )
    return result.first() is not None


async def delete_document(*, session: AsyncSession, document_id: uuid.UUID) -> None:
    """Delete a document and its chunks."""
    await delete_chunks(session=session, document_id=document_id)
    await session.execute(delete(Document).where(Document.id == document_id))


async def delete_chunks(*, session: AsyncSession, document_id: uuid.UUID) -> int:
    """Delete every chunk of a document (before re-inserting them); returns how many there were."""
    result = await session.execute(
        delete(DocumentChunk).where(DocumentChunk.document_id == document_id).returning(DocumentChunk.ordinal)
    )
    return len(result.all())


async def insert_chunks(*, session: AsyncSession, chunks: Sequence[DocumentChunk]) -> None:
    """Insert the chunks of one document."""
    session.add_all(chunks)
    await session.flush()


async def iter_chunks(
    *, session: AsyncSession, collection_id: uuid.UUID, embedding_model: str, batch_size: int = 1000
) -> AsyncIterator[DocumentChunk]:
    """Chunks of the ready documents of a collection embedded with ``embedding_model``, streamed in batches."""
    statement = (
        select(DocumentChunk)
        .join(Document, Document.id == DocumentChunk.document_id)
        .where(
            DocumentChunk.collection_id == collection_id,
            DocumentChunk.embedding_model == embedding_model,
            Document.status == DocumentStatus.READY,
        )
        .order_by(DocumentChunk.document_id, DocumentChunk.ordinal)
        .execution_options(yield_per=batch_size)
    )
    result = await session.stream_scalars(statement)
    async for chunk in result:
        yield chunk
