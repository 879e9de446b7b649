"""Live transcription of a meeting: audio streamed by the browser, partial text back, then a normal transcription.

A session is created (title, language, speakers), then fed over a stream of numbered frames of 16 kHz mono PCM.
Each frame is appended to the session's file in the audio directory and synced to disk before it is
acknowledged (:mod:`.live_audio`), so a dropped connection or a server restart loses nothing the client was told
was received; the client resends what was not acknowledged. Meanwhile a :class:`transcription.LiveTranscriber`
re-decodes the unconfirmed tail in a worker thread and its partial and final text is sent back; a slow decode
only makes updates rarer, never delays storing frames. When the meeting ends (:func:`finish_live_session`) the
recording is assembled into a WAV and handed to :func:`.transcriptions.create_transcription`, so speakers,
corrections, exports and minutes come from the usual flow.

Sessions are private to their owner. Their state lives next to the audio (``live-<id>.json``) and survives a
restart with it; the user's erasure and the retention rule delete both (:func:`delete_live_sessions`).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import struct
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from assistant.audit import ClientInfo
from assistant.errors import ConflictError, InvalidRequestError, NotFoundError
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.meetings.live_audio import BYTES_PER_SECOND, LiveRecording, write_wav
from assistant.services.meetings.transcriptions import (
    TranscriptionOptions,
    _check_options,
    audio_dir,
    check_audio_sovereignty,
    create_transcription,
    scratch_dir,
)
from assistant.speech import speech_errors
from assistant.store import utcnow
from transcription import BaseTranscriber, LiveTranscriber, LiveUpdate, Transcriber, pcm16_to_float

__all__ = [
    "LiveOptions",
    "LiveSessionView",
    "LiveStreamClosed",
    "create_live_session",
    "delete_live_sessions",
    "finish_live_session",
    "get_live_session",
    "purge_live_sessions",
    "run_live_stream",
]

logger = logging.getLogger(__name__)

Status = Literal["open", "finished"]
#: A frame is ``seq`` (uint32, big-endian) followed by its PCM.
_SEQ = struct.Struct(">I")
#: Frames are synced to disk (then acknowledged) at least this often while they keep coming.
_SYNC_INTERVAL_S = 0.3
#: How often the decoder looks for new audio.
_DECODE_POLL_S = 0.25


class LiveStreamClosed(Exception):
    """The stream must end: ``reason`` (French) says why to the client; ``kind`` tells the transport's close code."""

    def __init__(self, kind: Literal["superseded", "finished", "too_long", "too_big", "bad_frame"], reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class LiveOptions:
    """What the user asked for when starting the meeting (the same options as an upload)."""

    title: str | None = None
    language: str | None = None
    diarize: bool = False
    num_speakers: int | None = None
    keep_audio: bool | None = None
    sensitivity: str | None = None


@dataclass(frozen=True)
class LiveSessionView:
    """A live session as its owner sees it, and as it is kept on disk (``live-<id>.json``)."""

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    language: str | None
    diarize: bool
    num_speakers: int | None
    keep_audio: bool
    sensitivity: str | None
    created_at: datetime
    status: Status = "open"
    transcription_id: uuid.UUID | None = None
    seconds: float = 0.0
    last_seq: int = -1

    def to_json(self) -> str:
        data = asdict(self)
        data.update(
            id=str(self.id),
            owner_id=str(self.owner_id),
            created_at=self.created_at.isoformat(),
            transcription_id=str(self.transcription_id) if self.transcription_id else None,
        )
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> LiveSessionView:
        data: dict[str, Any] = json.loads(text)
        data.update(
            id=uuid.UUID(data["id"]),
            owner_id=uuid.UUID(data["owner_id"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            transcription_id=uuid.UUID(data["transcription_id"]) if data.get("transcription_id") else None,
        )
        return cls(**data)


def _meta_path(runtime: Runtime, session_id: uuid.UUID) -> Path:
    return audio_dir(runtime) / f"live-{session_id}.json"


def _frames_path(runtime: Runtime, session_id: uuid.UUID) -> Path:
    return audio_dir(runtime) / f"live-{session_id}.frames"


def _save(runtime: Runtime, view: LiveSessionView) -> None:
    """Replace the state file atomically (a crash leaves the old one or the new one)."""
    path = _meta_path(runtime, view.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(view.to_json(), encoding="utf-8")
    temporary.replace(path)


def _load(runtime: Runtime, session_id: uuid.UUID) -> LiveSessionView | None:
    try:
        return LiveSessionView.from_json(_meta_path(runtime, session_id).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


# ---- One connection per session ------------------------------------------------------------------------------


@dataclass
class _Holder:
    """The connection streaming into a session's file; a newer one supersedes it (the old one is a ghost)."""

    lock: asyncio.Lock
    superseded: asyncio.Event


# Per process, keyed by the frames file: the file handle is a process resource, like the lock guarding it.
_holders: dict[Path, _Holder] = {}


@contextlib.asynccontextmanager
async def _exclusive(path: Path) -> Any:
    """Take the session's file, asking the connection holding it to stop (a client reconnects faster than the
    server notices that the old connection died)."""
    previous = _holders.get(path)
    if previous is not None:
        previous.superseded.set()
        lock = previous.lock
    else:
        lock = asyncio.Lock()
    mine = _Holder(lock=lock, superseded=asyncio.Event())
    _holders[path] = mine
    async with lock:
        if mine.superseded.is_set():
            raise LiveStreamClosed("superseded", "Une connexion plus récente a repris l'enregistrement.")
        try:
            yield mine
        finally:
            if _holders.get(path) is mine:
                del _holders[path]


# ---- Use cases -----------------------------------------------------------------------------------------------


async def create_live_session(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, options: LiveOptions
) -> LiveSessionView:
    """Start a meeting's live transcription; refused like an upload would be (options, sovereignty)."""
    await check_audio_sovereignty(runtime, declared=options.sensitivity, principal=principal, client=client)
    checked = _check_options(
        runtime,
        TranscriptionOptions(
            language=options.language,
            diarize=options.diarize,
            num_speakers=options.num_speakers,
            keep_audio=options.keep_audio,
            title=options.title,
        ),
    )
    view = LiveSessionView(
        id=uuid.uuid4(),
        owner_id=principal.user_id,
        title=checked.title or f"Réunion du {utcnow():%d/%m/%Y %H:%M}",
        language=checked.language,
        diarize=checked.diarize,
        num_speakers=checked.num_speakers,
        keep_audio=bool(checked.keep_audio),
        sensitivity=options.sensitivity,
        created_at=utcnow(),
    )
    await asyncio.to_thread(_save, runtime, view)
    await runtime.audit.record(
        category="audit",
        action="live_transcription.start",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="live_transcription",
        resource_id=str(view.id),
        client=client,
        details={"diarize": view.diarize, "language": view.language},
    )
    return view


async def get_live_session(runtime: Runtime, *, owner_id: uuid.UUID, session_id: uuid.UUID) -> LiveSessionView:
    """One of the owner's sessions, with the audio stored so far; "not found" for anyone else's."""
    view = await asyncio.to_thread(_load, runtime, session_id)
    if view is None or view.owner_id != owner_id:
        raise NotFoundError("Transcription en direct introuvable.")
    if view.status == "open":
        seconds, last_seq = await asyncio.to_thread(_stored, _frames_path(runtime, session_id))
        view = replace(view, seconds=round(seconds, 3), last_seq=last_seq)
    return view


def _stored(path: Path) -> tuple[float, int]:
    if not path.exists():
        return 0.0, -1
    recording = LiveRecording.open(path)
    try:
        return recording.seconds, recording.last_seq
    finally:
        recording.close()


def _live_engine(runtime: Runtime) -> BaseTranscriber:
    """The service's transcriber tuned for the tail: greedy decoding at temperature 0 alone (the final pass keeps
    the beam search and the fallbacks). Measured (``benchmarks/live_transcription.py``): with the temperature
    fallback a doubtful tail is decoded up to six times, which put the partial text 9 s behind the speech (p50)
    instead of 2 s."""
    with speech_errors():
        engine = runtime.speech.transcriber()
    if isinstance(engine, Transcriber):
        engine = copy.copy(engine)  # shares the loaded model
        engine.beam_size = 1
        engine.temperature = 0.0
    return engine


async def run_live_stream(
    runtime: Runtime,
    *,
    owner_id: uuid.UUID,
    session_id: uuid.UUID,
    receive: Callable[[], Awaitable[bytes]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Store the frames ``receive`` gives and ``send`` acknowledgements and text, until the client leaves.

    Messages sent: ``ready`` (what is stored: resend after ``acked``), ``ack`` (every frame up to ``seq`` is on
    disk), ``partial`` (text that may still change) and ``final`` (confirmed segments). Raises
    :class:`LiveStreamClosed` when the stream must stop (limits, session finished, a newer connection), and lets
    the transport's own "disconnected" error through.
    """
    view = await get_live_session(runtime, owner_id=owner_id, session_id=session_id)
    if view.status != "open":
        raise LiveStreamClosed("finished", "Cette réunion est terminée : sa transcription est en cours.")
    settings = runtime.settings.transcription
    path = _frames_path(runtime, session_id)
    async with _exclusive(path) as holder:
        recording = await asyncio.to_thread(LiveRecording.open, path)
        try:
            await send({"type": "ready", "acked": recording.last_seq, "seconds": round(recording.seconds, 3)})
            engine = await asyncio.to_thread(_live_engine, runtime)
            live = LiveTranscriber(
                engine, language=view.language, tail_s=settings.live_tail_seconds, start_s=recording.seconds
            )
            decoder = asyncio.create_task(_decode_loop(live, send))
            try:
                await _receive_loop(runtime, recording, holder, receive, send, live)
            finally:
                decoder.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await decoder
        finally:
            # Not in a thread: a cancelled connection (the client vanished) must still sync and close its file.
            recording.close()


async def _receive_loop(
    runtime: Runtime,
    recording: LiveRecording,
    holder: _Holder,
    receive: Callable[[], Awaitable[bytes]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
    live: LiveTranscriber,
) -> None:
    settings = runtime.settings.transcription
    max_bytes = settings.max_duration_seconds * BYTES_PER_SECOND
    interval = 1.0 / settings.live_max_frames_per_second
    next_allowed = time.monotonic()
    synced_at, acked = time.monotonic(), recording.last_seq
    pending: asyncio.Future[bytes] | None = None

    async def acknowledge() -> None:
        nonlocal synced_at, acked
        if recording.last_seq != acked:
            await asyncio.to_thread(recording.sync)
            acked = recording.last_seq
            await send({"type": "ack", "seq": acked})
        synced_at = time.monotonic()

    try:
        while True:
            pending = pending or asyncio.ensure_future(receive())
            superseded = asyncio.ensure_future(holder.superseded.wait())
            done, _ = await asyncio.wait(
                {pending, superseded}, timeout=_SYNC_INTERVAL_S, return_when=asyncio.FIRST_COMPLETED
            )
            superseded.cancel()
            if holder.superseded.is_set():
                raise LiveStreamClosed("superseded", "Une connexion plus récente a repris l'enregistrement.")
            if pending not in done:  # the client paused: what it sent is synced and acknowledged all the same
                await acknowledge()
                continue
            frame, pending = pending.result(), None
            if len(frame) > settings.live_max_frame_bytes + _SEQ.size:
                raise LiveStreamClosed(
                    "too_big", f"Trame audio trop grande ({settings.live_max_frame_bytes} octets au plus)."
                )
            if len(frame) < _SEQ.size or (len(frame) - _SEQ.size) % 2:
                raise LiveStreamClosed("bad_frame", "Trame audio invalide : numéro puis PCM 16 bits attendus.")
            (seq,) = _SEQ.unpack_from(frame)
            pcm = frame[_SEQ.size :]
            if seq == recording.last_seq + 1 and recording.pcm_bytes + len(pcm) > max_bytes:
                await acknowledge()
                raise LiveStreamClosed("too_long", "Durée maximale atteinte : terminez la réunion.")
            # Written from the event loop: an append to the page cache takes microseconds; fsync goes to a thread.
            if recording.append(seq, pcm):
                live.feed(pcm16_to_float(pcm))
            elif seq > recording.last_seq + 1:
                # A gap (a frame lost on the client's side): not stored; the client resends from the first missing.
                await send({"type": "resend", "from": recording.last_seq + 1})
            elif seq <= acked:
                await send({"type": "ack", "seq": acked})  # a duplicate: confirm it is stored
            now = time.monotonic()
            if now - synced_at >= _SYNC_INTERVAL_S:
                await acknowledge()
            # Bounded rate: a client resending its backlog is slowed down (TCP backpressure), never refused.
            next_allowed = max(next_allowed + interval, now - 1.0)
            if next_allowed > now:
                await asyncio.sleep(next_allowed - now)
    finally:
        if pending is not None:
            pending.cancel()


async def _decode_loop(live: LiveTranscriber, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """Decode the tail whenever there is new audio; a slow decode only makes updates rarer."""
    while True:
        update: LiveUpdate | None = await asyncio.to_thread(live.step)
        if update is None:
            await asyncio.sleep(_DECODE_POLL_S)
            continue
        if update.final:
            segments = [{"start": s.start, "end": s.end, "text": s.text} for s in update.final]
            await send({"type": "final", "segments": segments})
        await send(
            {
                "type": "partial",
                "text": update.partial,
                "audio_end": update.audio_end,
                "decode_seconds": update.decode_seconds,
            }
        )


async def finish_live_session(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, session_id: uuid.UUID
) -> LiveSessionView:
    """End the meeting: stop its stream, assemble the recording and queue its (diarized) transcription."""
    view = await get_live_session(runtime, owner_id=principal.user_id, session_id=session_id)
    if view.status != "open":
        raise ConflictError("Cette réunion est déjà terminée.", code="already_finished")
    path = _frames_path(runtime, session_id)
    async with _exclusive(path):
        if not path.exists() or view.seconds <= 0:
            raise InvalidRequestError("Aucun son n'a été reçu : rien à transcrire.", code="no_audio")
        wav = scratch_dir(runtime) / f"live-{session_id}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        try:
            await asyncio.to_thread(_assemble, path, wav)
            with wav.open("rb") as source:
                created = await create_transcription(
                    runtime,
                    principal=principal,
                    client=client,
                    source=source,
                    filename=f"{view.title}.wav",
                    content_type="audio/wav",
                    options=TranscriptionOptions(
                        language=view.language,
                        diarize=view.diarize,
                        num_speakers=view.num_speakers,
                        keep_audio=view.keep_audio,
                        title=view.title,
                        sensitivity=view.sensitivity,
                    ),
                )
        finally:
            wav.unlink(missing_ok=True)
        finished = replace(view, status="finished", transcription_id=created.id)
        await asyncio.to_thread(_save, runtime, finished)
        # The transcription holds its own copy now (kept or deleted by its own rules).
        path.unlink(missing_ok=True)
    await runtime.audit.record(
        category="audit",
        action="live_transcription.finish",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="live_transcription",
        resource_id=str(session_id),
        client=client,
        details={"transcription_id": str(created.id), "duration_seconds": round(view.seconds, 1)},
    )
    return finished


def _assemble(frames: Path, wav: Path) -> None:
    recording = LiveRecording.open(frames)
    try:
        write_wav(recording.pcm_chunks(), wav)
    finally:
        recording.close()


def _sessions(runtime: Runtime) -> list[LiveSessionView]:
    views = []
    for path in sorted(audio_dir(runtime).glob("live-*.json")):
        try:
            views.append(LiveSessionView.from_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            logger.warning("Unreadable live session file %s", path.name)
    return views


def _delete(runtime: Runtime, view: LiveSessionView) -> None:
    _frames_path(runtime, view.id).unlink(missing_ok=True)
    _meta_path(runtime, view.id).unlink(missing_ok=True)


async def delete_live_sessions(runtime: Runtime, *, owner_id: uuid.UUID) -> int:
    """Erase the user's live sessions and their audio (RGPD erasure); returns how many."""
    views = [view for view in await asyncio.to_thread(_sessions, runtime) if view.owner_id == owner_id]
    for view in views:
        await asyncio.to_thread(_delete, runtime, view)
    return len(views)


async def purge_live_sessions(runtime: Runtime, *, days: int) -> int:
    """Retention: delete sessions older than ``days`` (a finished one is only a pointer to its transcription, an
    abandoned one holds audio nobody transcribed); returns how many."""
    cutoff = utcnow() - timedelta(days=days)
    views = [view for view in await asyncio.to_thread(_sessions, runtime) if view.created_at < cutoff]
    for view in views:
        await asyncio.to_thread(_delete, runtime, view)
    return len(views)
