"""Batches (OpenAI's Batch API): uploaded JSONL files, the batches that run them, and each line's result.

File contents live in the database rather than under the data directory: the API replica that receives an
upload and the worker that runs its batch are different pods in production, and they share nothing but PostgreSQL
(design §12). The size limit (``SOUVERAIN_BATCH_MAX_FILE_BYTES``) keeps each row within what the database serves
comfortably, and a file goes with its owner's account like every other row.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from assistant.store._base import Base, new_id, utcnow

__all__ = ["Batch", "BatchResult", "BatchStatus", "StoredFile"]


class StoredFile(Base):
    """A file uploaded through ``/v1/files`` (purpose ``batch``) or written by a batch (``batch_output``)."""

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_owner_created", "owner_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column()
    # Deferred: listings and batch views never load the bytes.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BatchStatus(enum.StrEnum):
    """OpenAI's batch life cycle: validating → in_progress → finalizing → completed (or failed, expired, and
    cancelling → cancelled on the user's request)."""

    VALIDATING = "validating"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    FINALIZING = "finalizing"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """True once the batch will not change any more."""
        return self in {BatchStatus.FAILED, BatchStatus.COMPLETED, BatchStatus.EXPIRED, BatchStatus.CANCELLED}


class Batch(Base):
    """One batch of chat completions, run line by line by the ``batches.run`` job.

    The file ids are plain columns, not foreign keys: as at OpenAI, a batch keeps naming a file its owner deleted
    (the download then answers 404). Counts are updated in the same transaction as each line's result, so they
    never disagree with :class:`BatchResult`.
    """

    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_owner_created", "owner_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The key the batch was created with: its lines run with that key's scopes and count against its quota.
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), default=None)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), default=None)
    # Plain strings in the database (no native enum type), like the other enums of the service.
    status: Mapped[BatchStatus] = mapped_column(
        Enum(
            BatchStatus,
            name="batch_status",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=BatchStatus.VALIDATING,
    )
    endpoint: Mapped[str] = mapped_column(String(100))
    completion_window: Mapped[str] = mapped_column(String(10))
    input_file_id: Mapped[uuid.UUID] = mapped_column()
    output_file_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    error_file_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    total: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    user_metadata: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    request_id: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    in_progress_at: Mapped[datetime | None] = mapped_column(default=None)
    finalizing_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
    expired_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelling_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class BatchResult(Base):
    """The outcome of one input line: the output line as written to the output or the error file.

    The primary key (batch, line) is what makes a resumed job skip the lines already done and never write one
    twice, even when a worker that lost its lease is still finishing a line.
    """

    __tablename__ = "batch_results"

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True)
    line_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    custom_id: Mapped[str] = mapped_column(String(512))
    ok: Mapped[bool] = mapped_column()
    line: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
