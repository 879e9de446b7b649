"""Glossaries for transcriptions: mine, my groups' (edited by référents), and the one a transcription was given."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, Security, status
from pydantic import BaseModel, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.security import Permission, Principal
from assistant.services.meetings import glossary as service
from assistant.services.meetings.glossary import (
    MAX_NOTE_CHARS,
    MAX_TERM_CHARS,
    MAX_VARIANTS,
    GlossaryEntryView,
    GlossaryGroupView,
)
from assistant.services.meetings.transcriptions import get_owned

__all__ = ["router"]

router = APIRouter(tags=["glossaires"])

Transcriber = Annotated[Principal, Security(RequirePermission(Permission.TRANSCRIPTIONS))]
Variant = Annotated[str, Field(max_length=MAX_TERM_CHARS)]
_TERM = "Le terme tel qu'il doit être écrit : sigle (« SGAMI »), service, nom de personne (« Kerdraon »)."
_VARIANTS = "Comment il se prononce ou est mal transcrit (« esse gé ami ») : remplacé par le terme après transcription."


class EntryCreate(BaseModel):
    term: str = Field(min_length=1, max_length=MAX_TERM_CHARS, description=_TERM)
    variants: list[Variant] = Field(default_factory=list, max_length=MAX_VARIANTS, description=_VARIANTS)
    note: str = Field(default="", max_length=MAX_NOTE_CHARS, description="Pour mémoire (non transmis au modèle).")


class EntryUpdate(BaseModel):
    term: str | None = Field(default=None, min_length=1, max_length=MAX_TERM_CHARS, description=_TERM)
    variants: list[Variant] | None = Field(default=None, max_length=MAX_VARIANTS, description=_VARIANTS)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)


class AppliedGlossary(BaseModel):
    terms: list[dict[str, object]] = Field(description="Les termes et variantes donnés à la transcription, figés.")
    corrections: int | None = Field(description="Remplacements faits après transcription (absent : pas encore).")


@router.get("/api/glossary", response_model=list[GlossaryEntryView], summary="Mon glossaire")
async def my_glossary(principal: Transcriber, runtime: RuntimeDep) -> list[GlossaryEntryView]:
    return await service.my_glossary(runtime, principal=principal)


@router.post(
    "/api/glossary", response_model=GlossaryEntryView, status_code=status.HTTP_201_CREATED, summary="Ajouter un terme"
)
async def add_my_entry(
    body: EntryCreate, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> GlossaryEntryView:
    return await service.add_entry(
        runtime, principal=principal, client=client, group_id=None, term=body.term, variants=body.variants,
        note=body.note,
    )  # fmt: skip


@router.patch("/api/glossary/{entry_id}", response_model=GlossaryEntryView, summary="Modifier un terme")
async def update_my_entry(
    entry_id: uuid.UUID, body: EntryUpdate, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> GlossaryEntryView:
    return await service.update_entry(
        runtime, principal=principal, client=client, group_id=None, entry_id=entry_id, term=body.term,
        variants=body.variants, note=body.note,
    )  # fmt: skip


@router.delete("/api/glossary/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Retirer un terme")
async def delete_my_entry(
    entry_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> Response:
    await service.delete_entry(runtime, principal=principal, client=client, group_id=None, entry_id=entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/groups/{group_id}/glossary", response_model=GlossaryGroupView, summary="Glossaire d'un groupe")
async def group_glossary(group_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep) -> GlossaryGroupView:
    return await service.group_glossary(runtime, principal=principal, group_id=group_id)


@router.post(
    "/api/groups/{group_id}/glossary",
    response_model=GlossaryEntryView,
    status_code=status.HTTP_201_CREATED,
    summary="Ajouter un terme au glossaire d'un groupe (référents)",
)
async def add_group_entry(
    group_id: uuid.UUID, body: EntryCreate, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> GlossaryEntryView:
    return await service.add_entry(
        runtime, principal=principal, client=client, group_id=group_id, term=body.term, variants=body.variants,
        note=body.note,
    )  # fmt: skip


@router.patch(
    "/api/groups/{group_id}/glossary/{entry_id}",
    response_model=GlossaryEntryView,
    summary="Modifier un terme du glossaire d'un groupe (référents)",
)
async def update_group_entry(
    group_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: EntryUpdate,
    principal: Transcriber,
    runtime: RuntimeDep,
    client: ClientDep,
) -> GlossaryEntryView:
    return await service.update_entry(
        runtime, principal=principal, client=client, group_id=group_id, entry_id=entry_id, term=body.term,
        variants=body.variants, note=body.note,
    )  # fmt: skip


@router.delete(
    "/api/groups/{group_id}/glossary/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Retirer un terme du glossaire d'un groupe (référents)",
)
async def delete_group_entry(
    group_id: uuid.UUID, entry_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep, client: ClientDep
) -> Response:
    await service.delete_entry(runtime, principal=principal, client=client, group_id=group_id, entry_id=entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/api/transcriptions/{transcription_id}/glossary",
    response_model=AppliedGlossary,
    summary="Le glossaire appliqué à une transcription",
)
async def applied_glossary(transcription_id: uuid.UUID, principal: Transcriber, runtime: RuntimeDep) -> AppliedGlossary:
    await get_owned(runtime, owner_id=principal.user_id, transcription_id=transcription_id)
    terms, corrections = await service.applied_glossary(runtime, transcription_id=transcription_id)
    return AppliedGlossary(terms=terms, corrections=corrections)
