"""Naming the speakers of a transcript: names proposed from the introductions, then confirmed by a person.

The proposals come from what was said (« je m'appelle … »); they change nothing until the owner confirms a mapping
``SPEAKER_1 → Marie Kerdraon``. Confirming renames the labels in the stored transcript through the same correction as
:func:`edit_transcript` (re-signed as reviewed by that person, audited), so the page, every export and the minutes
prompt then carry the names.
"""

from __future__ import annotations

import uuid
from typing import Any

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.meetings.edits import edit_transcript
from assistant.services.meetings.transcriptions import get_owned, stored_transcript
from transcription import propose_speaker_names

__all__ = ["PROPOSAL_LABEL", "set_speaker_names", "speaker_proposals"]

#: Proposals are machine-made guesses: they say so wherever they are shown.
PROPOSAL_LABEL = "Proposition automatique tirée des présentations — à confirmer"


async def speaker_proposals(runtime: Runtime, *, owner_id: uuid.UUID, transcription_id: uuid.UUID) -> dict[str, Any]:
    """Each speaker label of the transcript, with the name heard in the introductions when there is one."""
    row = await get_owned(runtime, owner_id=owner_id, transcription_id=transcription_id)
    transcript = stored_transcript(row)
    proposals = propose_speaker_names(transcript.segments)
    speakers = []
    for label in transcript.speakers:
        turns = [segment for segment in transcript.segments if segment.speaker == label]
        proposal = proposals.get(label)
        speakers.append(
            {
                "label": label,
                "segments": len(turns),
                "first_heard": turns[0].start,
                "proposal": proposal.to_dict() if proposal else None,
            }
        )
    return {
        "transcription_id": str(row.id),
        "ai_generated": True,
        "label": PROPOSAL_LABEL,
        "reviewed": bool((row.provenance or {}).get("human_reviewed")),
        "speakers": speakers,
    }


async def set_speaker_names(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    transcription_id: uuid.UUID,
    names: dict[str, str],
) -> dict[str, Any]:
    """Rename the speakers (label → name), re-sign the transcript as reviewed, and return it labelled.

    A label absent from the transcript is refused (400); a name equal to the label is no change. Two labels may get
    the same name: diarization sometimes splits one person into two clusters.
    """
    row = await get_owned(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    known = set(stored_transcript(row).speakers)
    unknown = sorted(set(names) - known)
    if unknown:
        raise InvalidRequestError(
            f"Intervenant(s) inconnu(s) dans cette transcription : {', '.join(unknown)}.", code="unknown_speaker"
        )
    changes = {label: name.strip() for label, name in names.items() if name.strip() != label}
    if not changes:
        raise InvalidRequestError("Aucun nom modifié : indiquez au moins un nom d'intervenant.", code="no_change")
    return await edit_transcript(
        runtime, principal=principal, client=client, transcription_id=transcription_id, speakers=changes, texts={}
    )
