"""Request and response bodies of the transcription routes (API schemas, separate from the tables)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.provenance import AI_LABEL
from assistant.services.meetings.minutes import MinutesView
from assistant.services.meetings.transcriptions import TranscriptionView

__all__ = ["MinutesOut", "MinutesRequest", "TranscriptionOut"]


class TranscriptionOut(BaseModel):
    """A transcription job as its owner sees it."""

    id: uuid.UUID
    title: str
    filename: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float = Field(ge=0, le=1)
    progress_message: str | None
    error: str | None
    language: str | None = Field(description="Language asked for; null: detected automatically.")
    detected_language: str | None
    diarize: bool
    num_speakers: int | None
    keep_audio: bool
    audio_available: bool = Field(description="Whether the recording is still stored.")
    duration_seconds: float | None
    size_bytes: int
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, view: TranscriptionView) -> TranscriptionOut:
        return cls.model_validate(view, from_attributes=True)


class MinutesRequest(BaseModel):
    """Which chat model writes the minutes (default: the configured default model)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, max_length=128)


class MinutesOut(BaseModel):
    """Minutes of a meeting, labelled: summary, decisions, actions (owner, due date) and participants."""

    transcription_id: uuid.UUID
    ai_generated: Literal[True] = True
    label: str = AI_LABEL
    minutes: dict[str, Any]
    provenance: dict[str, Any]
    provenance_manifest: dict[str, Any]

    @classmethod
    def of(cls, view: MinutesView) -> MinutesOut:
        return cls(
            transcription_id=view.transcription_id,
            minutes=view.minutes,
            provenance=view.provenance,
            provenance_manifest=view.manifest,
        )
