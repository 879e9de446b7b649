"""The worker side of transcriptions: the ``transcriptions.transcribe`` job handler.

Registered through ``runtime._builtin_job_modules()``. The handler is idempotent: a transcript already stored
is not redone, and a transcription deleted meanwhile is skipped. Whisper runs in a thread; its progress is
written to the job (0..1, French messages in minutes of audio processed) and a cancellation by the user stops it
at the next segment. Each finished window of audio is checkpointed next to the recording (``checkpoint_path``),
so a job re-run after its worker died resumes at the last finished window instead of starting over; speaker
identification, which comes after the text, is redone in full. The checkpoint is removed with the audio, and as
soon as the transcript is stored or the job ends for good.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import threading
import uuid
from typing import Any

from assistant.errors import InvalidRequestError, OperationCancelledError, UserFacingError
from assistant.jobs import JobContext, JobRegistry
from assistant.runtime import Runtime
from assistant.services.gateway.labelling import speech_provenance
from assistant.services.meetings.transcriptions import TRANSCRIBE_JOB, audio_dir, checkpoint_path, delete_audio
from assistant.store import glossaries as glossary_store
from assistant.store import jobs as job_store
from assistant.store import transcriptions as store
from assistant.store.models import JobStatus, Transcription
from transcription import FileCheckpoint, Glossary, correct_transcript

__all__ = ["register", "transcribe"]

logger = logging.getLogger(__name__)

# Progress is written at most every 2 % (each write is a database update).
_PROGRESS_STEP = 0.02
_CANCEL_POLL_SECONDS = 0.5
_DIARIZATION_FROM = 0.85  # the transcription library's share of text before speaker assignment


# Below this length, progress is told in seconds: « 0 min traitées sur 1 » says nothing.
_MINUTES_FROM_SECONDS = 120.0


def _message(fraction: float, diarize: bool, duration_s: float | None = None) -> str:
    """« 12 min traitées sur 60 » while the text is made, then the share of speaker identification done."""
    if diarize and fraction >= _DIARIZATION_FROM:
        share = (fraction - _DIARIZATION_FROM) / (1 - _DIARIZATION_FROM)
        return f"Identification des intervenants : {int(share * 100)} %"
    text = min(fraction / _DIARIZATION_FROM, 1.0) if diarize else fraction
    if not duration_s:
        return f"Transcription en cours : {int(text * 100)} %"
    if duration_s < _MINUTES_FROM_SECONDS:
        return f"Transcription : {int(text * duration_s)} s traitées sur {math.ceil(duration_s)}"
    return f"Transcription : {int(text * duration_s / 60)} min traitées sur {math.ceil(duration_s / 60)}"


async def _watch_cancellation(runtime: Runtime, job_id: uuid.UUID, cancel: threading.Event) -> None:
    while not cancel.is_set():
        await asyncio.sleep(_CANCEL_POLL_SECONDS)
        async with runtime.session_factory() as session:
            job = await job_store.get_job(session=session, job_id=job_id)
            status = job.status if job is not None else JobStatus.CANCELLED
        if status == JobStatus.CANCELLED:
            cancel.set()


async def _discard_checkpoint(runtime: Runtime, row: Transcription) -> None:
    await asyncio.to_thread(FileCheckpoint(checkpoint_path(runtime, row.id)).clear)


async def _discard_audio(runtime: Runtime, row: Transcription) -> None:
    await _discard_checkpoint(runtime, row)  # kept audio or not, the windows done are of no further use
    if row.keep_audio or not row.audio_path:
        return
    await asyncio.to_thread(delete_audio, runtime, row)
    async with runtime.session_factory.begin() as session:
        await store.clear_audio_path(session=session, transcription_id=row.id)


async def transcribe(runtime: Runtime, context: JobContext) -> dict[str, Any]:
    """Transcribe the recording of the transcription named in the payload and store the labelled result."""
    transcription_id = uuid.UUID(str(context.payload["transcription_id"]))
    async with runtime.session_factory() as session:
        row = await store.get_transcription(session=session, transcription_id=transcription_id)
    if row is None:
        logger.info("transcription %s deleted before its job ran", transcription_id)
        return {"transcription_id": str(transcription_id), "skipped": "supprimée"}
    if row.transcript is not None:  # a retry after the result was stored
        await _discard_audio(runtime, row)
        return {"transcription_id": str(row.id), "segments": len(row.transcript.get("segments", []))}
    path = audio_dir(runtime) / row.audio_path if row.audio_path else None
    if path is None or not path.is_file():
        raise InvalidRequestError("Le fichier audio n'est plus disponible : déposez-le de nouveau.", code="audio_gone")

    loop = asyncio.get_running_loop()
    cancel = threading.Event()
    reported = 0.0

    def on_progress(fraction: float) -> None:
        # Called from the transcription thread: hand the write to the event loop and wait for it, so that
        # reports stay in order and never outlive the job.
        nonlocal reported
        if fraction < 1.0 and fraction - reported < _PROGRESS_STEP:
            return
        reported = fraction
        future = asyncio.run_coroutine_threadsafe(
            context.report_progress(min(fraction, 0.99), _message(fraction, row.diarize, row.duration_seconds)), loop
        )
        try:
            future.result(timeout=10)
        except Exception:  # a timeout or a database hiccup: the next report will catch up
            logger.warning("progress of job %s not recorded", context.job_id, exc_info=True)

    async with runtime.session_factory() as session:
        frozen = await glossary_store.get_transcription_glossary(session=session, transcription_id=row.id)
    glossary = Glossary.from_dicts(frozen.terms) if frozen is not None else None

    checkpoint = FileCheckpoint(checkpoint_path(runtime, row.id))
    resuming = await asyncio.to_thread(checkpoint.path.is_file)
    await context.report_progress(
        0.0, "Reprise de la transcription interrompue…" if resuming else "Chargement du modèle de transcription…"
    )
    watcher = asyncio.create_task(_watch_cancellation(runtime, context.job_id, cancel))
    try:
        transcript = await asyncio.to_thread(
            runtime.speech.transcribe,
            path,
            language=row.language,
            diarize=row.diarize,
            num_speakers=row.num_speakers,
            on_progress=on_progress,
            cancel=cancel,
            glossary=glossary,
            checkpoint=checkpoint,
        )
    except (OperationCancelledError, UserFacingError):
        await _discard_audio(runtime, row)  # a definitive failure: the audio will not be used again
        raise
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    if cancel.is_set():
        await _discard_audio(runtime, row)
        raise OperationCancelledError("La transcription a été annulée.")

    corrections: tuple[object, ...] = ()
    if glossary:
        transcript, corrections = correct_transcript(transcript, glossary)
    provenance = speech_provenance(runtime.speech.model, request_id=context.payload.get("request_id"))
    manifest = runtime.signer.sign(transcript.text, provenance, content_type="text/plain")
    async with runtime.session_factory.begin() as session:
        await store.set_transcript(
            session=session,
            transcription_id=row.id,
            transcript=transcript.to_dict(),
            detected_language=transcript.language,
            duration_seconds=transcript.duration,
            provenance=provenance.model_dump(mode="json"),
            manifest=manifest.model_dump(mode="json", by_alias=True),
        )
        if glossary:
            await glossary_store.set_corrections(session=session, transcription_id=row.id, corrections=len(corrections))
    await _discard_audio(runtime, row)
    await context.report_progress(1.0, "Transcription terminée.")
    logger.info("transcription %s done: %d segments", row.id, len(transcript.segments))
    return {"transcription_id": str(row.id), "segments": len(transcript.segments)}


def register(registry: JobRegistry, runtime: Runtime) -> None:
    """Add the transcription handler to a worker's registry, bound to that worker's runtime."""
    registry.register(TRANSCRIBE_JOB, functools.partial(transcribe, runtime))
