"""Meeting minutes from a transcript: map-reduce with the chat model of the registry, labelled and signed.

The minutes are a draft for the secretariat to check: each decision, action, next meeting and open question
carries the transcript passages and times where it was said (the page shows them side by side), dates are
normalised against the meeting date (the day the recording was uploaded) and owners are the meeting's speakers.

The transcript of a meeting is internal data: a non-sovereign model is refused (and the refusal audited), as
for chat. Tokens spent count against the user's daily quota.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from assistant.audit import ClientInfo
from assistant.errors import NotFoundError
from assistant.llm import ChatRequest, RegisteredModel, SamplingParams
from assistant.provenance import AI_LABEL, Provenance, SourceRef, ai_headers
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.sensitivity import Sensitivity, SovereigntyViolationError, assess, enforce_sovereignty
from assistant.services.gateway.generation import audit_sovereignty_refusal
from assistant.services.gateway.labelling import provenance_for, sign_texts
from assistant.services.gateway.model_access import resolve_model
from assistant.services.gateway.quotas import ensure_tokens_available, record_tokens
from assistant.services.meetings.transcriptions import (
    ExportedFile,
    export_metadata,
    get_owned,
    metadata_for,
    stored_transcript,
)
from assistant.speech import speech_errors
from assistant.store import transcriptions as store
from assistant.store.models import Transcription, TranscriptionMinutes
from transcription import EXPORT_MEDIA_TYPES, Message, Minutes, export_minutes, generate_minutes

__all__ = ["MinutesView", "create_minutes", "export_transcription_minutes", "get_minutes", "minutes_content"]

logger = logging.getLogger(__name__)

MinutesFormat = Literal["json", "md", "docx", "odt"]
# Room left for the prompt template, the JSON answer and the notes of the reduce step.
_CONTEXT_SHARE = 0.4
_DEFAULT_CHUNK_TOKENS = 3000
_MIN_CHUNK_TOKENS = 300
_MAX_ANSWER_TOKENS = 1024


@dataclass(frozen=True)
class MinutesView:
    """The stored minutes of a transcription, with their provenance and signed manifest."""

    transcription_id: uuid.UUID
    minutes: dict[str, Any]
    provenance: dict[str, Any]
    manifest: dict[str, Any]

    @classmethod
    def of(cls, row: TranscriptionMinutes) -> MinutesView:
        return cls(row.transcription_id, row.minutes, row.provenance, row.manifest)


def minutes_content(minutes: dict[str, Any]) -> str:
    """The text a minutes manifest signs: their canonical JSON (what the JSON export and the API carry)."""
    return json.dumps(minutes, ensure_ascii=False, sort_keys=True, indent=2)


def _chunk_tokens(model: RegisteredModel) -> int:
    if model.context_length is None:
        return _DEFAULT_CHUNK_TOKENS
    return max(_MIN_CHUNK_TOKENS, min(_DEFAULT_CHUNK_TOKENS, int(model.context_length * _CONTEXT_SHARE)))


async def _check_sovereignty(
    runtime: Runtime, model: RegisteredModel, row: Transcription, *, principal: Principal, client: ClientInfo
) -> None:
    if model.sovereign:
        return
    assessment = assess([], declared=Sensitivity.INTERNAL)
    try:
        enforce_sovereignty(assessment, model_id=model.id, sovereign=model.sovereign)
    except SovereigntyViolationError:
        details = {"model": model.id, "reason": "compte rendu d'une transcription (donnée interne)"}
        await audit_sovereignty_refusal(
            runtime, principal, client, resource=("transcription", str(row.id)), details=details
        )
        raise


async def create_minutes(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    transcription_id: uuid.UUID,
    model_id: str | None = None,
) -> MinutesView:
    """Write (or rewrite) the minutes of a finished transcription with the chat model."""
    row = await get_owned(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    transcript = stored_transcript(row)
    model = await resolve_model(runtime, model_id, principal=principal)
    await _check_sovereignty(runtime, model, row, principal=principal, client=client)
    await ensure_tokens_available(runtime, principal)
    spent = 0

    async def complete(messages: list[Message]) -> str:
        nonlocal spent
        request = ChatRequest(
            model=model.upstream_name,
            messages=list(messages),
            params=SamplingParams(temperature=0.2, max_tokens=_MAX_ANSWER_TOKENS),
        )
        result = await model.backend.complete(request)
        text = result.choices[0].text if result.choices else ""
        spent += (
            result.usage.total_tokens if result.usage else (sum(len(m["content"]) for m in messages) + len(text)) // 4
        )
        return text

    try:
        with speech_errors():
            minutes: Minutes = await generate_minutes(
                transcript,
                complete=complete,
                max_chunk_tokens=_chunk_tokens(model),
                meeting_date=_meeting_date(row),
            )
    finally:
        await record_tokens(runtime, principal, spent)
    content = minutes.to_dict()
    source = SourceRef(document_id=str(row.id), title=row.title)
    provenance = provenance_for(model, request_id=client.request_id, sources=[source])
    (manifest,) = sign_texts(runtime.signer, provenance, [minutes_content(content)])
    async with runtime.session_factory.begin() as session:
        stored = await store.put_minutes(
            session=session,
            transcription_id=row.id,
            owner_id=principal.user_id,
            minutes=content,
            provenance=provenance.model_dump(mode="json"),
            manifest=manifest.model_dump(mode="json", by_alias=True),
        )
        view = MinutesView.of(stored)
    await runtime.audit.record(
        category="audit",
        action="transcription.minutes",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="transcription",
        resource_id=str(row.id),
        client=client,
        details={"model": model.id, "tokens": spent},
    )
    return view


async def get_minutes(runtime: Runtime, *, owner_id: uuid.UUID, transcription_id: uuid.UUID) -> MinutesView:
    """The stored minutes; "not found" when none were generated (or the transcription is not the caller's)."""
    await get_owned(runtime, owner_id=owner_id, transcription_id=transcription_id)
    async with runtime.session_factory() as session:
        row = await store.get_minutes(session=session, transcription_id=transcription_id)
    if row is None:
        raise NotFoundError("Aucun compte rendu n'a encore été rédigé pour cette transcription.")
    return MinutesView.of(row)


def _meeting_date(row: Transcription) -> date | None:
    """The reference of « vendredi », « le 3 mars »: the day the recording was uploaded, in French time."""
    created = getattr(row, "created_at", None)
    if created is None:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.astimezone(ZoneInfo("Europe/Paris")).date()


def _minutes_value(data: dict[str, Any]) -> Minutes:
    # stored minutes of either version load: the first stored decisions as plain strings and had no times
    return Minutes.from_dict(data)


async def export_transcription_minutes(
    runtime: Runtime, *, owner_id: uuid.UUID, transcription_id: uuid.UUID, fmt: MinutesFormat
) -> ExportedFile:
    """The minutes as Markdown, DOCX or JSON, with the AI label in the body and the metadata."""
    row = await get_owned(runtime, owner_id=owner_id, transcription_id=transcription_id)
    view = await get_minutes(runtime, owner_id=owner_id, transcription_id=transcription_id)
    provenance = Provenance.model_validate(view.provenance)
    metadata = export_metadata(row, provenance, title=f"Compte rendu — {row.title}")
    metadata["manifest_signature"] = view.manifest.get("signature")
    metadata = metadata_for(fmt, metadata)
    with speech_errors():
        content = await asyncio.to_thread(
            export_minutes, _minutes_value(view.minutes), fmt, label=AI_LABEL, metadata=metadata
        )
    return ExportedFile(content, EXPORT_MEDIA_TYPES[fmt], f"compte-rendu-{row.id}.{fmt}", ai_headers(provenance))
