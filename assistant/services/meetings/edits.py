"""Correcting a transcript: rename speakers, fix segment text. The AI label stays; the new version is re-signed.

An edited transcript is still machine-produced content that a person corrected: its provenance says so
(``human_reviewed`` with the editor and the time) in a new signed manifest, and the edit is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError
from assistant.provenance import Provenance
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.meetings.transcriptions import get_owned, stored_transcript, transcription_result
from assistant.store import utcnow
from assistant.store.models import Transcription
from transcription import Segment, Transcript

__all__ = ["edit_transcript"]

_MAX_SPEAKER_NAME = 80


def _apply(transcript: Transcript, speakers: dict[str, str], texts: dict[int, str]) -> Transcript:
    count = len(transcript.segments)
    if any(index < 0 or index >= count for index in texts):
        raise InvalidRequestError(f"Numéro de segment inconnu : la transcription en compte {count} (0 à {count - 1}).")
    known = {segment.speaker for segment in transcript.segments if segment.speaker}
    unknown = sorted(set(speakers) - known)
    if unknown:
        raise InvalidRequestError(f"Intervenant(s) inconnu(s) : {', '.join(unknown)}.")
    segments = []
    for index, segment in enumerate(transcript.segments):
        text = texts.get(index, segment.text).strip()
        if not text:
            raise InvalidRequestError(f"Le segment {index} ne peut pas être vide.")
        speaker = speakers.get(segment.speaker, segment.speaker) if segment.speaker else None
        # Corrected text no longer matches the word timings: they are dropped for that segment.
        words = segment.words if index not in texts else ()
        segments.append(Segment(segment.start, segment.end, text, words=words, speaker=speaker))
    return Transcript(
        segments=tuple(segments),
        language=transcript.language,
        duration=transcript.duration,
        model=transcript.model,
        language_probability=transcript.language_probability,
    )


async def edit_transcript(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    transcription_id: uuid.UUID,
    speakers: dict[str, str],
    texts: dict[int, str],
) -> dict[str, Any]:
    """Apply the corrections, re-sign, record, and return the labelled transcript."""
    if not speakers and not texts:
        raise InvalidRequestError(
            "Aucune correction : indiquez des intervenants à renommer ou des segments à corriger."
        )
    if any(not name.strip() or len(name) > _MAX_SPEAKER_NAME for name in speakers.values()):
        raise InvalidRequestError(f"Nom d'intervenant vide ou trop long ({_MAX_SPEAKER_NAME} caractères au plus).")
    row = await get_owned(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    edited = _apply(stored_transcript(row), {old: new.strip() for old, new in speakers.items()}, texts)
    assert row.provenance is not None
    provenance = row.provenance | {
        "human_reviewed": True,
        "reviewed_by": principal.username,
        "reviewed_at": utcnow().isoformat(),
    }
    manifest = runtime.signer.sign(edited.text, Provenance.model_validate(provenance), content_type="text/plain")
    async with runtime.session_factory.begin() as session:
        fresh = await session.get(Transcription, row.id)
        assert fresh is not None
        fresh.transcript = edited.to_dict()
        fresh.provenance = Provenance.model_validate(provenance).model_dump(mode="json")
        fresh.manifest = manifest.model_dump(mode="json", by_alias=True)
    await runtime.audit.record(
        category="audit",
        action="transcription.edit",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="transcription",
        resource_id=str(row.id),
        client=client,
        details={"speakers_renamed": len(speakers), "segments_corrected": len(texts)},
    )
    body, _ = await transcription_result(runtime, owner_id=principal.user_id, transcription_id=row.id)
    return body
