"""Document collections, their access lists, documents and chunks with their embeddings (design §7, §12).

The database is the source of truth for chunks *and* their vectors: each replica's FAISS/BM25 index is a cache
rebuilt from these rows whenever ``Collection.version`` moves, so a lost index is never lost data.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, TimestampMixin, new_id

__all__ = [
    "AccessLevel",
    "Classification",
    "Collection",
    "CollectionAccess",
    "Document",
    "DocumentChunk",
    "DocumentStatus",
]


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native enum type) so that adding a member needs no PostgreSQL ALTER TYPE.
    return Enum(cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Classification(enum.StrEnum):
    """How sensitive a collection's content is; ``internal`` never reaches a non-sovereign model."""

    PUBLIC = "public"
    INTERNAL = "internal"


class AccessLevel(enum.StrEnum):
    """What an access-list entry grants: ``read`` (search, answers) or ``write`` (also upload and delete)."""

    READ = "read"
    WRITE = "write"


class DocumentStatus(enum.StrEnum):
    """Life cycle of an uploaded document: queued → processing → ready | failed."""

    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Collection(TimestampMixin, Base):
    """A set of documents searched together, owned by one user and shared through :class:`CollectionAccess`.

    ``version`` increases with every change of its chunks; replicas compare it with their cached index.
    """

    __tablename__ = "collections"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(String(1000), default="")
    classification: Mapped[Classification] = mapped_column(
        _enum(Classification, "collection_classification"), default=Classification.INTERNAL
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), default=0)


class CollectionAccess(Base):
    """One access-list entry: a user or a group (exactly one of them) may read or write a collection."""

    __tablename__ = "collection_access"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_grantee"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    access: Mapped[AccessLevel] = mapped_column(_enum(AccessLevel, "collection_access_level"))


class Document(TimestampMixin, Base):
    """One uploaded file of a collection. Its bytes live under the data directory until it is deleted.

    ``content_hash`` (sha256 of the bytes) is unique per collection: uploading the same file again is a no-op.
    """

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("collection_id", "content_hash", name="uq_documents_collection_hash"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str | None] = mapped_column(String(150), default=None)
    size_bytes: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[DocumentStatus] = mapped_column(
        _enum(DocumentStatus, "document_status"), default=DocumentStatus.QUEUED
    )
    progress: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    title: Mapped[str | None] = mapped_column(String(500), default=None)
    pages: Mapped[int | None] = mapped_column(default=None)
    chunk_count: Mapped[int] = mapped_column(default=0)
    ocr_pages: Mapped[int] = mapped_column(default=0)
    embedding_model: Mapped[str | None] = mapped_column(String(200), default=None)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), default=None)
    storage_path: Mapped[str | None] = mapped_column(String(500), default=None)
    # Documents kept in sync with a shared drive: when the drive last confirmed this version (shown in citations).
    synced_at: Mapped[datetime | None] = mapped_column(default=None)


class DocumentChunk(Base):
    """A passage of a ready document with its embedding (little-endian float32 bytes).

    The primary key (document, ordinal) makes a retried ingestion replace chunks instead of duplicating them.
    """

    __tablename__ = "document_chunks"
    __table_args__ = (Index("ix_document_chunks_collection_id", "collection_id"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    ordinal: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised so that rebuilding a collection's index reads one table.
    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"))
    chunk_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500), default="")
    section: Mapped[str | None] = mapped_column(String(1000), default=None)
    page: Mapped[int | None] = mapped_column(default=None)
    token_count: Mapped[int] = mapped_column(default=0)
    embedding_model: Mapped[str] = mapped_column(String(200))
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
