"""The recording a user chose to keep with their transcription, to listen to it next to the transcript.

Owner-only like the transcript itself: anyone else, and any transcription whose audio was not kept (or was
deleted since), gets "not found".
"""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import NotFoundError
from assistant.runtime import Runtime
from assistant.services.meetings.transcriptions import audio_dir, get_owned

__all__ = ["KeptAudio", "kept_audio"]

_PLAYABLE = ("audio/", "video/")


@dataclass(frozen=True)
class KeptAudio:
    """Where the recording is on disk, and how to send it (its type, the name it was uploaded under)."""

    path: Path
    media_type: str
    filename: str


def _media_type(content_type: str | None, filename: str) -> str:
    # Clients often upload with a generic type (application/octet-stream): a player needs the real one, which
    # the file name tells as well as anything here (the recording itself was already checked at upload).
    if content_type and content_type.startswith(_PLAYABLE):
        return content_type
    guessed, _ = mimetypes.guess_type(filename)
    return guessed if guessed and guessed.startswith(_PLAYABLE) else "application/octet-stream"


async def kept_audio(runtime: Runtime, *, owner_id: uuid.UUID, transcription_id: uuid.UUID) -> KeptAudio:
    """The stored recording of one of the owner's transcriptions; "not found" when there is none any more."""
    row = await get_owned(runtime, owner_id=owner_id, transcription_id=transcription_id)
    path = audio_dir(runtime) / Path(row.audio_path).name if row.audio_path else None
    if path is None or not path.is_file():
        raise NotFoundError(
            "L'enregistrement n'est pas conservé pour cette transcription (il est supprimé après la transcription, "
            "sauf si vous demandez à le garder).",
            code="audio_not_kept",
        )
    return KeptAudio(path=path, media_type=_media_type(row.content_type, row.filename), filename=row.filename)
