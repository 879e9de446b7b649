"""Transcription jobs: upload a recording, follow its job, read, export or delete the transcript.

The recording is checked (type, integrity, duration) before anything is queued, so a bad file is refused at
once with a clear message; the worker (``services.transcription_jobs``) does the transcription itself.
Every transcription is private to its owner: anyone else gets "not found".
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from assistant.audit import ClientInfo
from assistant.core.sse import sse_event
from assistant.errors import ConflictError, InvalidRequestError, NotFoundError, PayloadTooLargeError
from assistant.provenance import AI_LABEL, Provenance, ai_headers
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.sensitivity import SovereigntyViolationError
from assistant.services.gateway.generation import audit_sovereignty_refusal
from assistant.services.gateway.quotas import ensure_job_slot
from assistant.services.meetings.glossary import effective_glossary
from assistant.speech import speech_errors
from assistant.store import glossaries as glossary_store
from assistant.store import jobs as job_store
from assistant.store import transcriptions as store
from assistant.store.models import JobStatus, Transcription
from transcription import EXPORT_MEDIA_TYPES, FileCheckpoint, Segment, Transcript, Word, export_transcript

__all__ = [
    "TRANSCRIBE_JOB",
    "ExportedFile",
    "TranscriptionOptions",
    "TranscriptionView",
    "audio_dir",
    "cancel_transcription",
    "checkpoint_path",
    "create_transcription",
    "delete_audio",
    "delete_transcription",
    "export_metadata",
    "export_transcription",
    "get_owned",
    "get_transcription",
    "list_transcriptions",
    "metadata_for",
    "save_upload",
    "scratch_dir",
    "stored_transcript",
    "transcription_events",
    "transcription_result",
]

logger = logging.getLogger(__name__)

TRANSCRIBE_JOB = "transcriptions.transcribe"
TranscriptFormat = Literal["json", "txt", "srt", "vtt", "md", "docx"]
_TERMINAL = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}
_COPY_CHUNK = 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_SPEAKERS = 8


@dataclass(frozen=True)
class TranscriptionOptions:
    """What the user asked for: language (``None``: detect it), speakers, whether to keep the audio."""

    language: str | None = None
    diarize: bool = False
    num_speakers: int | None = None
    keep_audio: bool | None = None
    title: str | None = None
    sensitivity: str | None = None


@dataclass(frozen=True)
class TranscriptionView:
    """A transcription as its owner sees it: the request, where its job stands, what came out."""

    id: uuid.UUID
    title: str
    filename: str
    status: str
    progress: float
    progress_message: str | None
    error: str | None
    language: str | None
    detected_language: str | None
    diarize: bool
    num_speakers: int | None
    keep_audio: bool
    audio_available: bool
    duration_seconds: float | None
    size_bytes: int
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, row: Transcription) -> TranscriptionView:
        job = row.job
        if job is not None:
            status, progress = job.status.value, job.progress
            message, error = job.progress_message, job.error
        else:  # the job record was purged: the transcript tells the outcome
            status = JobStatus.SUCCEEDED.value if row.transcript is not None else JobStatus.FAILED.value
            progress, message, error = (1.0 if row.transcript is not None else 0.0), None, None
        return cls(
            id=row.id,
            title=row.title,
            filename=row.filename,
            status=status,
            progress=progress,
            progress_message=message,
            error=error,
            language=row.language,
            detected_language=row.detected_language,
            diarize=row.diarize,
            num_speakers=row.num_speakers,
            keep_audio=row.keep_audio,
            audio_available=row.audio_path is not None,
            duration_seconds=row.duration_seconds,
            size_bytes=row.size_bytes,
            created_at=row.created_at,
            completed_at=row.completed_at,
        )

    @property
    def finished(self) -> bool:
        return self.status in {status.value for status in _TERMINAL}


@dataclass(frozen=True)
class ExportedFile:
    """A rendered export and how to send it."""

    content: bytes
    media_type: str
    filename: str
    headers: dict[str, str]


def audio_dir(runtime: Runtime) -> Path:
    """Where uploaded recordings wait for their transcription."""
    return runtime.settings.data_dir / "transcriptions" / "audio"


def checkpoint_path(runtime: Runtime, transcription_id: uuid.UUID) -> Path:
    """The windows already transcribed of a running transcription, next to its audio so that every worker sees
    them: a job re-run after a worker crash resumes from there. Named after the transcription, not the audio, so
    that it is found even once the audio is gone."""
    return audio_dir(runtime) / f"{transcription_id}.checkpoint.jsonl"


def _check_options(runtime: Runtime, options: TranscriptionOptions) -> TranscriptionOptions:
    language = (options.language or "auto").strip().lower()
    if language != "auto" and not re.fullmatch(r"[a-z]{2,3}", language):
        raise InvalidRequestError(
            f"Langue « {options.language} » invalide : indiquez « auto » ou un code ISO comme « fr ».", code="language"
        )
    if options.num_speakers is not None and not 1 <= options.num_speakers <= _MAX_SPEAKERS:
        raise InvalidRequestError(f"Le nombre d'intervenants doit être compris entre 1 et {_MAX_SPEAKERS}.")
    if options.num_speakers is not None and not options.diarize:
        raise InvalidRequestError("Le nombre d'intervenants n'a de sens qu'avec l'identification des intervenants.")
    if options.diarize and not runtime.speech.diarization_enabled:
        raise InvalidRequestError(
            "L'identification des intervenants n'est pas disponible sur ce serveur.", code="diarization_unavailable"
        )
    keep = runtime.settings.transcription.keep_audio if options.keep_audio is None else options.keep_audio
    title = (options.title or "").strip()[:200] or None
    return TranscriptionOptions(
        language=None if language == "auto" else language,
        diarize=options.diarize,
        num_speakers=options.num_speakers,
        keep_audio=keep,
        title=title,
    )


async def check_audio_sovereignty(
    runtime: Runtime, *, declared: str | None, principal: Principal, client: ClientInfo
) -> None:
    """Refuse (and audit) a recording for a non-sovereign transcription server unless the user declared it public.

    Audio cannot be scanned for personal data before it is transcribed: only the user's declaration lets it out.
    """
    model = runtime.speech.model
    if model.sovereign or declared == "public":
        return
    details = {"level": "interne", "reasons": ["enregistrement non déclaré « public »"]}
    await audit_sovereignty_refusal(runtime, principal, client, resource=("model", model.model_id), details=details)
    raise SovereigntyViolationError(
        f"Enregistrement refusé : le serveur de transcription « {model.model_id} » n'est pas hébergé sur une "
        "infrastructure souveraine, et un enregistrement n'y est envoyé que déclaré « public » (sensitivity=public) "
        "par l'utilisateur. Déclarez-le public s'il ne contient aucune donnée interne ni personnelle."
    )


def save_upload(source: BinaryIO, target: Path, *, max_bytes: int) -> int:
    """Copy an upload to ``target`` (blocking), refusing it past ``max_bytes``; returns its size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := source.read(_COPY_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLargeError(
                        f"Fichier trop volumineux : la limite est de {_size(max_bytes)}.",
                        code="file_too_large",
                    )
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return size


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.0f} Mo"
    return f"{count / 1024:.0f} Ko"


def _stored_name(transcription_id: uuid.UUID, filename: str) -> str:
    suffix = _SAFE_NAME.sub("", Path(filename).suffix.lower())[:10]
    return f"{transcription_id}{suffix}"


async def create_transcription(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    source: BinaryIO,
    filename: str,
    content_type: str | None,
    options: TranscriptionOptions,
) -> TranscriptionView:
    """Check and store the recording, then queue its transcription; 400/413/415 for a file that cannot be used."""
    await ensure_job_slot(runtime, principal.user_id)
    await check_audio_sovereignty(runtime, declared=options.sensitivity, principal=principal, client=client)
    options = _check_options(runtime, options)
    runtime.job_registry.get(TRANSCRIBE_JOB)  # refuse before storing anything if no handler is registered
    transcription_id = uuid.uuid4()
    filename = Path(filename or "enregistrement").name[:255]
    path = audio_dir(runtime) / _stored_name(transcription_id, filename)
    size = await asyncio.to_thread(save_upload, source, path, max_bytes=runtime.settings.transcription.max_upload_bytes)
    try:
        info = await asyncio.to_thread(runtime.speech.probe, path)
        async with runtime.session_factory.begin() as session:
            job = await job_store.add_job(
                session=session,
                kind=TRANSCRIBE_JOB,
                payload={"transcription_id": str(transcription_id), "request_id": client.request_id},
                owner_id=principal.user_id,
                max_attempts=runtime.settings.job_max_attempts,
            )
            await store.add_transcription(
                session=session,
                id=transcription_id,
                owner_id=principal.user_id,
                job_id=job.id,
                title=options.title or Path(filename).stem or "Transcription",
                filename=filename,
                content_type=(content_type or "")[:100] or None,
                size_bytes=size,
                duration_seconds=round(info.duration, 3),
                audio_path=path.name,
                keep_audio=bool(options.keep_audio),
                language=options.language,
                diarize=options.diarize,
                num_speakers=options.num_speakers,
            )
            # Frozen now: a retry or a re-run uses the glossary as it was when the recording was submitted.
            glossary = await effective_glossary(session, user_id=principal.user_id)
            if glossary:
                await glossary_store.set_transcription_glossary(
                    session=session, transcription_id=transcription_id, terms=glossary.to_dicts()
                )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    try:
        runtime.job_queue.send(job.id)
    except Exception:  # recorded already: the recovery loop re-sends it
        logger.warning("queue unreachable; transcription job %s will be re-sent", job.id)
    await runtime.audit.record(
        category="audit",
        action="transcription.create",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="transcription",
        resource_id=str(transcription_id),
        client=client,
        details={"size_bytes": size, "duration_seconds": round(info.duration, 1), "diarize": options.diarize},
    )
    return await get_transcription(runtime, owner_id=principal.user_id, transcription_id=transcription_id)


async def get_owned(runtime: Runtime, *, owner_id: uuid.UUID, transcription_id: uuid.UUID) -> Transcription:
    """The row, if it exists and belongs to ``owner_id``; otherwise "not found" (never "forbidden")."""
    async with runtime.session_factory() as session:
        row = await store.get_transcription(session=session, transcription_id=transcription_id)
    if row is None or row.owner_id != owner_id:
        raise NotFoundError("Transcription introuvable.")
    return row


async def get_transcription(runtime: Runtime, *, owner_id: uuid.UUID, transcription_id: uuid.UUID) -> TranscriptionView:
    """Where one of the owner's transcriptions stands."""
    return TranscriptionView.of(await get_owned(runtime, owner_id=owner_id, transcription_id=transcription_id))


async def list_transcriptions(
    runtime: Runtime, *, owner_id: uuid.UUID, limit: int = 50, offset: int = 0
) -> list[TranscriptionView]:
    """The owner's transcriptions, newest first."""
    async with runtime.session_factory() as session:
        rows = await store.list_transcriptions(session=session, owner_id=owner_id, limit=limit, offset=offset)
    return [TranscriptionView.of(row) for row in rows]


async def transcription_events(
    runtime: Runtime,
    *,
    owner_id: uuid.UUID,
    transcription_id: uuid.UUID,
    poll_seconds: float = 0.5,
    keepalive_seconds: float = 15.0,
) -> AsyncIterator[str]:
    """SSE lines: a ``progress`` event at each change, then one ``done`` event when the job is over.

    Ownership is checked before the first line, so a foreign id fails as "not found" rather than mid-stream.
    """
    first = await get_transcription(runtime, owner_id=owner_id, transcription_id=transcription_id)

    async def stream() -> AsyncIterator[str]:
        view, last, idle = first, None, 0.0
        while True:
            state = (view.status, round(view.progress, 3), view.progress_message)
            if state != last:
                last, idle = state, 0.0
                payload = {"status": view.status, "progress": view.progress, "message": view.progress_message}
                if view.finished:
                    yield sse_event("done", {**payload, "error": view.error})
                    return
                yield sse_event("progress", payload)
            elif idle >= keepalive_seconds:
                idle = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(poll_seconds)
            idle += poll_seconds
            view = await get_transcription(runtime, owner_id=owner_id, transcription_id=transcription_id)

    return stream()


def stored_transcript(row: Transcription) -> Transcript:
    """The transcript of a finished transcription; 409 while it is not ready."""
    data = row.transcript
    if data is None:
        raise ConflictError("La transcription n'est pas terminée : suivez sa progression.", code="not_ready")
    segments = tuple(
        Segment(
            start=float(item["start"]),
            end=float(item["end"]),
            text=str(item["text"]),
            speaker=item.get("speaker"),
            words=tuple(
                Word(float(w["start"]), float(w["end"]), str(w["word"]), w.get("probability"))
                for w in item.get("words", [])
            ),
        )
        for item in data.get("segments", [])
    )
    return Transcript(
        segments=segments,
        language=data.get("language"),
        duration=float(data.get("duration", 0.0)),
        model=str(data.get("model", "")),
        language_probability=data.get("language_probability"),
    )


def _provenance(row: Transcription) -> Provenance:
    assert row.provenance is not None
    return Provenance.model_validate(row.provenance)


async def transcription_result(
    runtime: Runtime, *, owner_id: uuid.UUID, transcription_id: uuid.UUID
) -> tuple[dict[str, Any], Provenance]:
    """The labelled transcript (segments, speakers, words) with its provenance and signed manifest."""
    row = await get_owned(runtime, owner_id=owner_id, transcription_id=transcription_id)
    transcript = stored_transcript(row)
    provenance = _provenance(row)
    body = {
        "id": str(row.id),
        "title": row.title,
        "ai_generated": True,
        "label": AI_LABEL,
        **transcript.to_dict(),
        "provenance": provenance.model_dump(mode="json"),
        "provenance_manifest": row.manifest,
    }
    return body, provenance


def export_metadata(row: Transcription, provenance: Provenance, **extra: str) -> dict[str, str | bool | None]:
    """Document metadata of an export: what it is, where it comes from, that it is AI-generated."""
    return {
        "title": row.title,
        "source": row.filename,
        "ai_generated": True,
        "model": provenance.model_id,
        "model_version": provenance.model_version,
        "backend": provenance.backend,
        "sovereign": provenance.sovereign,
        "generated_at": provenance.created_at.isoformat(),
        "transcription_id": str(row.id),
        **extra,
    }


def metadata_for(fmt: str, metadata: dict[str, str | bool | None]) -> dict[str, str | bool | None]:
    """The metadata an export can hold: DOCX core properties are capped at 255 characters, label included,
    so a DOCX gets the short form (its body still states the label and the model)."""
    if fmt != "docx":
        return metadata
    return {
        "title": str(metadata.get("title") or "")[:60],
        "ai_generated": True,
        "model": str(metadata.get("model") or "")[:60],
        "generated_at": str(metadata.get("generated_at") or "")[:10],
    }


async def export_transcription(
    runtime: Runtime, *, owner_id: uuid.UUID, transcription_id: uuid.UUID, fmt: TranscriptFormat
) -> ExportedFile:
    """The transcript as a file, with the AI label in its body and its metadata."""
    row = await get_owned(runtime, owner_id=owner_id, transcription_id=transcription_id)
    transcript = stored_transcript(row)
    provenance = _provenance(row)
    metadata = metadata_for(fmt, export_metadata(row, provenance))
    with speech_errors():
        content = await asyncio.to_thread(export_transcript, transcript, fmt, label=AI_LABEL, metadata=metadata)
    stem = _SAFE_NAME.sub("_", row.title).strip("_")[:80] or "transcription"
    return ExportedFile(content, EXPORT_MEDIA_TYPES[fmt], f"{stem}.{fmt}", ai_headers(provenance))


def delete_audio(runtime: Runtime, row: Transcription) -> None:
    """Remove the recording's file and its transcription checkpoint (blocking; missing files are fine)."""
    if row.audio_path:
        (audio_dir(runtime) / Path(row.audio_path).name).unlink(missing_ok=True)
    # The checkpoint holds transcribed text: it goes with the audio (cancel, delete, retention, erasure).
    FileCheckpoint(checkpoint_path(runtime, row.id)).clear()


async def cancel_transcription(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, transcription_id: uuid.UUID
) -> TranscriptionView:
    """Stop a queued or running transcription; 409 when it is already over."""
    row = await get_owned(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    async with runtime.session_factory.begin() as session:
        cancelled = row.job_id is not None and await store.cancel_job(session=session, job_id=row.job_id)
    if not cancelled:
        raise ConflictError("Cette transcription est déjà terminée.", code="already_finished")
    # A cancelled job is not resumed: its checkpoint goes now (the worker removes one it writes meanwhile).
    await asyncio.to_thread(FileCheckpoint(checkpoint_path(runtime, row.id)).clear)
    if not row.keep_audio:
        # A running worker may still read the file: it stops at its next segment and has the audio open already.
        await asyncio.to_thread(delete_audio, runtime, row)
        async with runtime.session_factory.begin() as session:
            await store.clear_audio_path(session=session, transcription_id=row.id)
    await runtime.audit.record(
        category="audit",
        action="transcription.cancel",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="transcription",
        resource_id=str(row.id),
        client=client,
    )
    return await get_transcription(runtime, owner_id=principal.user_id, transcription_id=transcription_id)


async def delete_transcription(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, transcription_id: uuid.UUID
) -> None:
    """Delete a transcription with its audio, transcript, minutes and job (stopping the job if it runs)."""
    row = await get_owned(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    async with runtime.session_factory.begin() as session:
        if row.job_id is not None:
            await store.cancel_job(session=session, job_id=row.job_id)
    await asyncio.to_thread(delete_audio, runtime, row)
    async with runtime.session_factory.begin() as session:
        fresh = await store.get_transcription(session=session, transcription_id=row.id)
        if fresh is not None:
            await store.delete_transcription(session=session, transcription=fresh)
    await runtime.audit.record(
        category="audit",
        action="transcription.delete",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="transcription",
        resource_id=str(row.id),
        client=client,
    )


def scratch_dir(runtime: Runtime) -> Path:
    """Temporary files of synchronous transcriptions (deleted after each request)."""
    return runtime.settings.data_dir / "transcriptions" / "tmp"
