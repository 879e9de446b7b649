"""``POST /v1/audio/transcriptions``: synchronous transcription of a short recording, OpenAI style.

The recording lives in a scratch file for the length of the request only. Longer recordings belong to the
job API (``/api/transcriptions``), which reports progress and survives restarts: the limit says so.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from assistant.audit import ClientInfo
from assistant.errors import PayloadTooLargeError
from assistant.protocol.audio import (
    TranscriptionParams,
    TranscriptionResponse,
    TranscriptionSegment,
    TranscriptionUsage,
    TranscriptionVerboseResponse,
    TranscriptionWord,
)
from assistant.provenance import AI_LABEL, Provenance, ai_headers
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.gateway.labelling import speech_provenance
from assistant.services.meetings.transcriptions import check_audio_sovereignty, save_upload, scratch_dir
from transcription import EXPORT_MEDIA_TYPES, Transcript, Word, to_srt, to_vtt

__all__ = ["SyncTranscription", "transcribe_upload"]

logger = logging.getLogger(__name__)


@dataclass
class SyncTranscription:
    """The answer: a JSON model or a text body, its media type, and the labelling headers."""

    media_type: str
    provenance: Provenance
    body: TranscriptionResponse | TranscriptionVerboseResponse | None = None
    text: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return ai_headers(self.provenance)


def _transcribe(runtime: Runtime, path: Path, params: TranscriptionParams) -> Transcript:
    limit = runtime.settings.transcription.sync_max_duration_seconds
    try:
        runtime.speech.probe(path, max_duration_s=limit)
    except PayloadTooLargeError as exc:
        raise PayloadTooLargeError(
            f"{exc.message} Pour les enregistrements longs, utilisez /api/transcriptions (tâche de fond).",
            code=exc.code,
        ) from exc
    return runtime.speech.transcribe(path, language=params.language)


async def transcribe_upload(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    source: BinaryIO,
    filename: str,
    params: TranscriptionParams,
) -> SyncTranscription:
    """Transcribe an uploaded recording now and shape the answer in the requested format."""
    await check_audio_sovereignty(runtime, declared=params.sensitivity, principal=principal, client=client)
    path = scratch_dir(runtime) / f"{uuid.uuid4()}{Path(filename or '').suffix[:10]}"
    try:
        await asyncio.to_thread(save_upload, source, path, max_bytes=runtime.settings.transcription.max_upload_bytes)
        transcript = await asyncio.to_thread(_transcribe, runtime, path, params)
    finally:
        path.unlink(missing_ok=True)
    provenance = speech_provenance(runtime.speech.model, request_id=client.request_id)
    await runtime.audit.record(
        category="audit",
        action="transcription.sync",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="audio",
        client=client,
        details={"duration_seconds": transcript.duration, "format": params.response_format},
    )
    return _shape(runtime, transcript, params, provenance)


def _shape(
    runtime: Runtime, transcript: Transcript, params: TranscriptionParams, provenance: Provenance
) -> SyncTranscription:
    text = transcript.text
    usage = TranscriptionUsage(seconds=max(1, round(transcript.duration)))
    fmt = params.response_format
    if fmt in ("json", "verbose_json"):
        manifest = runtime.signer.sign(text, provenance, content_type="text/plain")
        body: TranscriptionResponse | TranscriptionVerboseResponse
        if fmt == "json":
            body = TranscriptionResponse(text=text, usage=usage, provenance=provenance, provenance_manifest=manifest)
        else:
            words = None
            if "word" in params.timestamp_granularities:
                words = [
                    TranscriptionWord(word=w.text, start=w.start, end=w.end)
                    for s in transcript.segments
                    for w in s.words
                ]
            body = TranscriptionVerboseResponse(
                language=transcript.language or "",
                duration=transcript.duration,
                text=text,
                segments=[
                    TranscriptionSegment(id=i, start=s.start, end=s.end, text=s.text, speaker=s.speaker)
                    for i, s in enumerate(transcript.segments)
                ],
                words=words,
                usage=usage,
                provenance=provenance,
                provenance_manifest=manifest,
            )
        return SyncTranscription("application/json", provenance, body=body)
    if fmt == "srt":
        return SyncTranscription(EXPORT_MEDIA_TYPES["srt"], provenance, text=to_srt(transcript, label=AI_LABEL))
    if fmt == "vtt":
        return SyncTranscription(EXPORT_MEDIA_TYPES["vtt"], provenance, text=to_vtt(transcript, label=AI_LABEL))
    # Plain text stays plain for clients that paste it: the label travels in the headers.
    return SyncTranscription(EXPORT_MEDIA_TYPES["txt"], provenance, text=text + "\n")


def _words(transcript: Transcript) -> list[Word]:
    return [word for segment in transcript.segments for word in segment.words]
