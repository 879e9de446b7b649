"""Queries on transcriptions and their minutes. Functions take the session keyword-only and never commit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store._base import utcnow
from assistant.store.models import Job, JobStatus, Transcription, TranscriptionMinutes

__all__ = [
    "add_transcription",
    "cancel_job",
    "clear_audio_path",
    "delete_transcription",
    "get_minutes",
    "get_transcription",
    "list_transcriptions",
    "put_minutes",
    "set_transcript",
]


async def add_transcription(*, session: AsyncSession, **values: Any) -> Transcription:
    """Stage a transcription and flush it so that its id is known."""
    transcription = Transcription(**values)
    session.add(transcription)
    await session.flush()
    return transcription


async def get_transcription(*, session: AsyncSession, transcription_id: uuid.UUID) -> Transcription | None:
    """The transcription with this id (and its job), if any."""
    return await session.get(Transcription, transcription_id)


async def list_transcriptions(
    *, session: AsyncSession, owner_id: uuid.UUID, limit: int = 50, offset: int = 0
) -> list[Transcription]:
    """The owner's transcriptions, newest first."""
    rows = await session.execute(
        select(Transcription)
        .where(Transcription.owner_id == owner_id)
        .order_by(Transcription.created_at.desc(), Transcription.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars().unique())


async def set_transcript(
    *,
    session: AsyncSession,
    transcription_id: uuid.UUID,
    transcript: dict[str, Any],
    detected_language: str | None,
    duration_seconds: float,
    provenance: dict[str, Any],
    manifest: dict[str, Any],
    completed_at: datetime | None = None,
) -> None:
    """Record the result of a transcription."""
    await session.execute(
        update(Transcription)
        .where(Transcription.id == transcription_id)
        .values(
            transcript=transcript,
            detected_language=detected_language,
            duration_seconds=duration_seconds,
            provenance=provenance,
            manifest=manifest,
            completed_at=completed_at or utcnow(),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


async def clear_audio_path(*, session: AsyncSession, transcription_id: uuid.UUID) -> None:
    """Forget the audio file (once it is deleted)."""
    await session.execute(
        update(Transcription)
        .where(Transcription.id == transcription_id)
        .values(audio_path=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def cancel_job(*, session: AsyncSession, job_id: uuid.UUID) -> bool:
    """Mark a queued or running job cancelled; True when it was still active.

    A queued job is then never claimed; a running one sees the status, stops, and its outcome is discarded by
    the runner (which only closes jobs still ``running``).
    """
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        .values(
            status=JobStatus.CANCELLED,
            error="Transcription annulée à la demande de l'utilisateur.",
            finished_at=now,
            lease_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def delete_transcription(*, session: AsyncSession, transcription: Transcription) -> None:
    """Delete the transcription, its minutes (cascade) and its job record."""
    job_id = transcription.job_id
    await session.execute(delete(TranscriptionMinutes).where(TranscriptionMinutes.transcription_id == transcription.id))
    await session.execute(delete(Transcription).where(Transcription.id == transcription.id))
    if job_id is not None:
        await session.execute(delete(Job).where(Job.id == job_id))


async def get_minutes(*, session: AsyncSession, transcription_id: uuid.UUID) -> TranscriptionMinutes | None:
    """The minutes of a transcription, if generated."""
    rows = await session.execute(
        select(TranscriptionMinutes).where(TranscriptionMinutes.transcription_id == transcription_id)
    )
    return rows.scalar_one_or_none()


async def put_minutes(
    *,
    session: AsyncSession,
    transcription_id: uuid.UUID,
    owner_id: uuid.UUID,
    minutes: dict[str, Any],
    provenance: dict[str, Any],
    manifest: dict[str, Any],
) -> TranscriptionMinutes:
    """Store the minutes of a transcription, replacing earlier ones."""
    row = await get_minutes(session=session, transcription_id=transcription_id)
    if row is None:
        row = TranscriptionMinutes(transcription_id=transcription_id, owner_id=owner_id)
        session.add(row)
    row.minutes, row.provenance, row.manifest = minutes, provenance, manifest
    await session.flush()
    return row
