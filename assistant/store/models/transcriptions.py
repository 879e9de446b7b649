"""Transcription tables: one row per uploaded recording (its job, its result), and the minutes drawn from it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assistant.store._base import Base, TimestampMixin, new_id
from assistant.store.models.jobs import Job

__all__ = ["Transcription", "TranscriptionMinutes"]


class Transcription(TimestampMixin, Base):
    """A recording submitted for transcription and, once its job succeeded, the transcript.

    The job row says where the work stands (status, progress); this row holds what the user asked and got.
    ``audio_path`` is cleared once the audio file is deleted (after transcription, unless ``keep_audio``).
    """

    __tablename__ = "transcriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SET NULL: purging old jobs must not take transcripts with it.
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100), default=None)
    size_bytes: Mapped[int] = mapped_column(default=0)
    duration_seconds: Mapped[float | None] = mapped_column(default=None)
    audio_path: Mapped[str | None] = mapped_column(String(500), default=None)
    keep_audio: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str | None] = mapped_column(String(10), default=None, doc="Asked for; None: detected.")
    diarize: Mapped[bool] = mapped_column(default=False)
    num_speakers: Mapped[int | None] = mapped_column(default=None)
    detected_language: Mapped[str | None] = mapped_column(String(10), default=None)
    transcript: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)

    job: Mapped[Job | None] = relationship(lazy="joined")


class TranscriptionMinutes(TimestampMixin, Base):
    """The minutes (summary, decisions, actions, participants) generated from a transcript, labelled and signed.

    One per transcription: generating them again replaces them.
    """

    __tablename__ = "transcription_minutes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    transcription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("transcriptions.id", ondelete="CASCADE"), unique=True
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    minutes: Mapped[dict[str, Any]] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
