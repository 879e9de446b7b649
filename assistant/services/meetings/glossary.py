"""Glossaries of the administration's vocabulary (sigles, services, people) applied to transcriptions.

Each user has a personal glossary; each group has one. A transcription gets the union of its owner's glossary and
of the glossaries of their groups (personal terms first: they are the most relevant to that user), frozen on the
transcription when it is submitted so that a retry gives the same result.

Who may do what (deny by default): a personal glossary is its owner's alone. A group's glossary is read by the
group's members and by référents (``admin:groups``), and edited by référents only; anyone else is told the group
does not exist (404), a member who is not a référent that the change is not allowed (403).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit import ClientInfo
from assistant.errors import ConflictError, InvalidRequestError, NotFoundError, PermissionDeniedError
from assistant.runtime import Runtime
from assistant.security import Permission, Principal
from assistant.store import glossaries as store
from assistant.store import groups as group_store
from assistant.store.models import GlossaryEntry, Group
from transcription import Glossary, GlossaryTerm

__all__ = [
    "MAX_ENTRIES",
    "MAX_NOTE_CHARS",
    "MAX_TERM_CHARS",
    "MAX_VARIANTS",
    "GlossaryEntryView",
    "GlossaryGroupView",
    "add_entry",
    "applied_glossary",
    "delete_entry",
    "delete_my_glossary",
    "effective_glossary",
    "export_my_glossary",
    "group_glossary",
    "my_glossary",
    "update_entry",
    "visible_groups",
]

MAX_ENTRIES = 500
MAX_TERM_CHARS = 100
MAX_VARIANTS = 20
MAX_NOTE_CHARS = 300
_GROUP_NOT_FOUND = "Groupe introuvable."
_ENTRY_NOT_FOUND = "Terme introuvable dans ce glossaire."


class GlossaryEntryView(BaseModel):
    """One term of a glossary as the API and the page show it."""

    id: uuid.UUID
    term: str = Field(description="Le terme tel qu'il doit être écrit (« SGAMI », « Kerdraon »).")
    variants: list[str] = Field(description="Comment il se prononce ou est mal transcrit (« esse gé ami »).")
    note: str
    group_id: uuid.UUID | None = Field(description="Glossaire d'un groupe ; absent : glossaire personnel.")
    edited_by: str | None
    updated_at: datetime

    @classmethod
    def of(cls, entry: GlossaryEntry) -> GlossaryEntryView:
        return cls(
            id=entry.id,
            term=entry.term,
            variants=list(entry.variants or []),
            note=entry.note,
            group_id=entry.group_id,
            edited_by=entry.edited_by,
            updated_at=entry.updated_at,
        )


class GlossaryGroupView(BaseModel):
    """A group's glossary and whether the caller may edit it."""

    id: uuid.UUID
    name: str
    editable: bool
    entries: list[GlossaryEntryView]


def _key(term: str) -> str:
    # The library's notion of "the same term": accents, case and punctuation aside (« C.S.A. » is « CSA »).
    plain = unicodedata.normalize("NFKD", term.casefold())
    return "".join(ch for ch in plain if ch.isalnum() and not unicodedata.combining(ch))[:MAX_TERM_CHARS]


def _clean(term: str, variants: Sequence[str], note: str) -> tuple[str, list[str], str]:
    """Check and tidy a term, its variants and its note; French messages for the user."""
    term = " ".join(term.split())
    if not term or not any(ch.isalnum() for ch in term):
        raise InvalidRequestError("Indiquez le terme tel qu'il doit être écrit (par exemple « SGAMI »).", code="term")
    if len(term) > MAX_TERM_CHARS:
        raise InvalidRequestError(f"Un terme fait au plus {MAX_TERM_CHARS} caractères.", code="term")
    cleaned: list[str] = []
    for variant in variants:
        variant = " ".join(variant.split())
        if len(variant) > MAX_TERM_CHARS:
            raise InvalidRequestError(f"Une variante fait au plus {MAX_TERM_CHARS} caractères.", code="variants")
        if variant and any(ch.isalnum() for ch in variant) and variant not in cleaned:
            cleaned.append(variant)
    if len(cleaned) > MAX_VARIANTS:
        raise InvalidRequestError(f"Un terme a au plus {MAX_VARIANTS} variantes.", code="variants")
    note = " ".join(note.split())
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidRequestError(f"La note fait au plus {MAX_NOTE_CHARS} caractères.", code="note")
    return term, cleaned, note


async def _member_of(session: AsyncSession, principal: Principal) -> set[str]:
    # From the database rather than the principal's cached groups: a removal takes effect at once.
    return set(await group_store.group_names_of(session=session, user_id=principal.user_id))


async def _group(session: AsyncSession, principal: Principal, group_id: uuid.UUID, *, write: bool) -> Group:
    group = await group_store.get_group(session=session, group_id=group_id)
    referent = principal.has(Permission.MANAGE_GROUPS)
    if group is None or not (referent or group.name in await _member_of(session, principal)):
        raise NotFoundError(_GROUP_NOT_FOUND)
    if write and not referent:
        raise PermissionDeniedError(
            f"Seuls les référents peuvent modifier le glossaire du groupe « {group.name} ».", code="group_glossary"
        )
    return group


async def my_glossary(runtime: Runtime, *, principal: Principal) -> list[GlossaryEntryView]:
    """The caller's personal glossary, by term."""
    async with runtime.session_factory() as session:
        entries = await store.list_entries(session=session, owner_id=principal.user_id)
    return [GlossaryEntryView.of(entry) for entry in entries]


async def group_glossary(runtime: Runtime, *, principal: Principal, group_id: uuid.UUID) -> GlossaryGroupView:
    """A group's glossary, for its members and référents."""
    async with runtime.session_factory() as session:
        group = await _group(session, principal, group_id, write=False)
        entries = await store.list_entries(session=session, group_id=group.id)
    return GlossaryGroupView(
        id=group.id,
        name=group.name,
        editable=principal.has(Permission.MANAGE_GROUPS),
        entries=[GlossaryEntryView.of(entry) for entry in entries],
    )


async def visible_groups(runtime: Runtime, *, principal: Principal) -> list[GlossaryGroupView]:
    """The glossaries of the caller's groups (of every group for a référent), by group name."""
    async with runtime.session_factory() as session:
        names = await _member_of(session, principal)
        groups = [
            group
            for group in await group_store.list_groups(session=session)
            if group.name in names or principal.has(Permission.MANAGE_GROUPS)
        ]
    return [await group_glossary(runtime, principal=principal, group_id=group.id) for group in groups]


async def _check_unique(
    session: AsyncSession, *, owner_id: uuid.UUID | None, group_id: uuid.UUID | None, key: str, but: uuid.UUID | None
) -> None:
    entries = await store.list_entries(session=session, owner_id=owner_id, group_id=group_id)
    same = [entry for entry in entries if entry.term_key == key and entry.id != but]
    if same:
        raise ConflictError(f"« {same[0].term} » est déjà dans ce glossaire : modifiez-le.", code="duplicate_term")
    if but is None and len(entries) >= MAX_ENTRIES:
        raise InvalidRequestError(f"Un glossaire compte au plus {MAX_ENTRIES} termes.", code="too_many_terms")


async def _audit(
    runtime: Runtime, principal: Principal, client: ClientInfo, action: str, entry_id: uuid.UUID, group: Group | None
) -> None:
    await runtime.audit.record(
        category="audit",
        action=f"glossary.{action}",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="glossary_entry",
        resource_id=str(entry_id),
        client=client,
        details={"group": group.name} if group is not None else {"scope": "personnel"},
    )


async def add_entry(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    group_id: uuid.UUID | None,
    term: str,
    variants: Sequence[str] = (),
    note: str = "",
) -> GlossaryEntryView:
    """Add a term to the caller's glossary (``group_id=None``) or to a group's; 409 when it is there already."""
    term, cleaned, note = _clean(term, variants, note)
    key = _key(term)
    async with runtime.session_factory.begin() as session:
        group = await _group(session, principal, group_id, write=True) if group_id is not None else None
        owner_id = None if group is not None else principal.user_id
        await _check_unique(session, owner_id=owner_id, group_id=group_id, key=key, but=None)
        entry = await store.add_entry(
            session=session,
            entry=GlossaryEntry(
                owner_id=owner_id,
                group_id=group_id,
                term=term,
                term_key=key,
                variants=cleaned,
                note=note,
                edited_by=principal.username if group is not None else None,
            ),
        )
        view = GlossaryEntryView.of(entry)
    await _audit(runtime, principal, client, "add", view.id, group)
    return view


async def _entry(
    session: AsyncSession, principal: Principal, entry_id: uuid.UUID, group_id: uuid.UUID | None
) -> tuple[GlossaryEntry, Group | None]:
    group = await _group(session, principal, group_id, write=True) if group_id is not None else None
    entry = await store.get_entry(session=session, entry_id=entry_id)
    mine = entry is not None and (
        entry.group_id == group_id if group is not None else entry.owner_id == principal.user_id
    )
    if entry is None or not mine:
        raise NotFoundError(_ENTRY_NOT_FOUND)
    return entry, group


async def update_entry(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    group_id: uuid.UUID | None,
    entry_id: uuid.UUID,
    term: str | None = None,
    variants: Sequence[str] | None = None,
    note: str | None = None,
) -> GlossaryEntryView:
    """Change a term, its variants or its note (``None``: unchanged)."""
    async with runtime.session_factory.begin() as session:
        entry, group = await _entry(session, principal, entry_id, group_id)
        new_term, cleaned, new_note = _clean(
            entry.term if term is None else term,
            list(entry.variants or []) if variants is None else variants,
            entry.note if note is None else note,
        )
        key = _key(new_term)
        if key != entry.term_key:
            await _check_unique(session, owner_id=entry.owner_id, group_id=entry.group_id, key=key, but=entry.id)
        entry.term, entry.term_key, entry.variants, entry.note = new_term, key, cleaned, new_note
        if group is not None:
            entry.edited_by = principal.username
        await session.flush()
        await session.refresh(entry)
        view = GlossaryEntryView.of(entry)
    await _audit(runtime, principal, client, "update", view.id, group)
    return view


async def delete_entry(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, group_id: uuid.UUID | None, entry_id: uuid.UUID
) -> None:
    """Remove a term from the caller's glossary or from a group's."""
    async with runtime.session_factory.begin() as session:
        entry, group = await _entry(session, principal, entry_id, group_id)
        await store.delete_entry(session=session, entry=entry)
    await _audit(runtime, principal, client, "delete", entry_id, group)


async def effective_glossary(session: AsyncSession, *, user_id: uuid.UUID) -> Glossary:
    """The glossary applied to the user's transcriptions: their own terms first, then their groups'."""
    own = await store.list_entries(session=session, owner_id=user_id)
    groups = await store.group_entries_of_member(session=session, user_id=user_id)
    entries = [*own, *(entry for _, entry in groups)]
    return Glossary.of(GlossaryTerm(entry.term, tuple(entry.variants or ())) for entry in entries)


async def applied_glossary(
    runtime: Runtime, *, transcription_id: uuid.UUID
) -> tuple[list[dict[str, object]], int | None]:
    """The terms a transcription was given, and how many replacements they made (``None``: not yet). The caller
    checks that the transcription is the principal's."""
    async with runtime.session_factory() as session:
        row = await store.get_transcription_glossary(session=session, transcription_id=transcription_id)
    return (list(row.terms), row.corrections) if row is not None else ([], None)


async def export_my_glossary(runtime: Runtime, *, principal: Principal) -> list[dict[str, object]]:
    """The personal glossary for the RGPD archive (group glossaries belong to the groups)."""
    return [
        {"terme": view.term, "variantes": view.variants, "note": view.note, "modifie_le": view.updated_at}
        for view in await my_glossary(runtime, principal=principal)
    ]


async def delete_my_glossary(runtime: Runtime, *, principal: Principal) -> int:
    """Erase the personal glossary (RGPD); returns how many terms went."""
    async with runtime.session_factory.begin() as session:
        return await store.delete_owned_entries(session=session, owner_id=principal.user_id)
