"""Knowledge sources: shared drives (WebDAV, SMB) a collection is kept in sync with, and the files last seen there.

The password is stored encrypted (``secret``: a Fernet token whose key lives outside the database, see
``assistant.security.secrets``); it never appears in clear in a row, a log or an export.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, TimestampMixin, new_id

__all__ = ["KnowledgeSource", "SourceFile"]


class KnowledgeSource(TimestampMixin, Base):
    """A folder of a share attached to a collection, synchronised now and then or on demand.

    ``status``: ``never`` (not synchronised yet), ``queued``, ``running``, ``ok`` or ``failed`` (``last_error`` says
    why, in French). ``last_result`` counts the last run's files added, updated, renamed, removed and failed.
    """

    __tablename__ = "knowledge_sources"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    name: Mapped[str] = mapped_column(String(150))
    kind: Mapped[str] = mapped_column(String(10))
    # WebDAV: the server's base URL; SMB: the server's host name or address.
    location: Mapped[str] = mapped_column(String(1000))
    port: Mapped[int | None] = mapped_column(default=None)
    share: Mapped[str | None] = mapped_column(String(200), default=None)
    root_path: Mapped[str] = mapped_column(String(1000), default="")
    username: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str | None] = mapped_column(Text, default=None)
    include: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclude: Mapped[list[str]] = mapped_column(JSON, default=list)
    interval_minutes: Mapped[int | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default="never")
    last_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    last_result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), default=None)


class SourceFile(Base):
    """A file of a source as the last synchronisation saw it, and the document it became."""

    __tablename__ = "source_files"

    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_sources.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    modified: Mapped[datetime]
    etag: Mapped[str | None] = mapped_column(String(300), default=None)
    content_hash: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True, default=None
    )
