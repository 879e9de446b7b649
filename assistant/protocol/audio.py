"""Audio transcription protocol models: ``POST /v1/audio/transcriptions``.

Reference: https://platform.openai.com/docs/api-reference/audio/createTranscription. The request is multipart
form data (a file and plain fields), so it has no body model: :class:`TranscriptionParams` gathers the fields
once parsed. Answers mirror the ``json`` and ``verbose_json`` objects; our extensions are fenced below.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from assistant.protocol._base import OpenAIBaseModel
from assistant.provenance import Manifest, Provenance

__all__ = [
    "ResponseFormat",
    "TranscriptionParams",
    "TranscriptionResponse",
    "TranscriptionSegment",
    "TranscriptionUsage",
    "TranscriptionVerboseResponse",
    "TranscriptionWord",
]

ResponseFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]
Granularity = Literal["word", "segment"]


class TranscriptionParams(OpenAIBaseModel):
    """The form fields of a transcription request, in the order of the OpenAI documentation."""

    model: str = Field(description="Accepted for compatibility; the server's speech model is used.")
    language: str | None = Field(default=None, description="ISO-639-1 code, e.g. 'fr'; detected when absent.")
    prompt: str | None = Field(default=None, description="Accepted, not used by the embedded engine.")
    response_format: ResponseFormat = "json"
    temperature: float | None = Field(default=None, ge=0, le=1, description="Accepted, not used.")
    timestamp_granularities: list[Granularity] = Field(default_factory=lambda: list[Granularity](["segment"]))
    sensitivity: Literal["public", "internal", "sensitive"] | None = Field(
        default=None, description="« public » to let a non-sovereign transcription server hear the recording."
    )


class TranscriptionUsage(OpenAIBaseModel):
    """Billing unit of audio models: seconds of input audio."""

    type: Literal["duration"] = "duration"
    seconds: int


class TranscriptionWord(OpenAIBaseModel):
    word: str
    start: float
    end: float


class TranscriptionSegment(OpenAIBaseModel):
    id: int
    seek: int = 0
    start: float
    end: float
    text: str
    tokens: list[int] = Field(default_factory=list)
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0

    # -- Souverain extensions
    speaker: str | None = Field(default=None, description="Speaker label when diarization ran (never here).")


class TranscriptionResponse(OpenAIBaseModel):
    """``response_format=json``."""

    text: str
    usage: TranscriptionUsage | None = None

    # -- Souverain extensions: the mandatory AI label (design §4)
    ai_generated: Literal[True] = Field(default=True, description="Always true: this text was produced by a model.")
    provenance: Provenance = Field(description="Model, version, backend, sovereignty, time, request id.")
    provenance_manifest: Manifest | None = Field(default=None, description="Signed statement over the text.")


class TranscriptionVerboseResponse(OpenAIBaseModel):
    """``response_format=verbose_json``: language, duration, segments and (if asked) words."""

    task: Literal["transcribe"] = "transcribe"
    language: str
    duration: float
    text: str
    segments: list[TranscriptionSegment] | None = None
    words: list[TranscriptionWord] | None = None
    usage: TranscriptionUsage | None = None

    # -- Souverain extensions: the mandatory AI label (design §4)
    ai_generated: Literal[True] = Field(default=True, description="Always true: this text was produced by a model.")
    provenance: Provenance = Field(description="Model, version, backend, sovereignty, time, request id.")
    provenance_manifest: Manifest | None = Field(default=None, description="Signed statement over the text.")
