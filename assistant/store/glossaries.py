"""Queries on glossaries and on the glossary each transcription was given. Session keyword-only, never committing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import GlossaryEntry, Group, GroupMember, TranscriptionGlossary

__all__ = [
    "add_entry",
    "delete_entry",
    "delete_owned_entries",
    "get_entry",
    "get_transcription_glossary",
    "group_entries_of_member",
    "list_entries",
    "set_corrections",
    "set_transcription_glossary",
]


async def add_entry(*, session: AsyncSession, entry: GlossaryEntry) -> GlossaryEntry:
    """Stage a new entry and flush it (a duplicate term raises the database's integrity error)."""
    session.add(entry)
    await session.flush()
    return entry


async def get_entry(*, session: AsyncSession, entry_id: uuid.UUID) -> GlossaryEntry | None:
    """The entry with this id, if any."""
    return await session.get(GlossaryEntry, entry_id)


async def list_entries(
    *, session: AsyncSession, owner_id: uuid.UUID | None = None, group_id: uuid.UUID | None = None
) -> list[GlossaryEntry]:
    """One glossary (a user's or a group's), by term."""
    query = select(GlossaryEntry).order_by(GlossaryEntry.term_key)
    if owner_id is not None:
        query = query.where(GlossaryEntry.owner_id == owner_id)
    else:
        query = query.where(GlossaryEntry.group_id == group_id)
    return list((await session.execute(query)).scalars())


async def group_entries_of_member(*, session: AsyncSession, user_id: uuid.UUID) -> list[tuple[str, GlossaryEntry]]:
    """The entries of every group the user belongs to, with the group's name, by group then term."""
    query = (
        select(Group.name, GlossaryEntry)
        .join(GlossaryEntry, GlossaryEntry.group_id == Group.id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user_id)
        .order_by(Group.name, GlossaryEntry.term_key)
    )
    return [(row[0], row[1]) for row in await session.execute(query)]


async def delete_entry(*, session: AsyncSession, entry: GlossaryEntry) -> None:
    """Delete one entry."""
    await session.delete(entry)
    await session.flush()


async def delete_owned_entries(*, session: AsyncSession, owner_id: uuid.UUID) -> int:
    """Delete a user's personal glossary (RGPD erasure); returns how many entries went."""
    result = await session.execute(delete(GlossaryEntry).where(GlossaryEntry.owner_id == owner_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def set_transcription_glossary(
    *, session: AsyncSession, transcription_id: uuid.UUID, terms: Sequence[dict[str, Any]]
) -> None:
    """Freeze the glossary a transcription is given."""
    session.add(TranscriptionGlossary(transcription_id=transcription_id, terms=list(terms)))
    await session.flush()


async def get_transcription_glossary(
    *, session: AsyncSession, transcription_id: uuid.UUID
) -> TranscriptionGlossary | None:
    """The glossary a transcription was given, if it had one."""
    return await session.get(TranscriptionGlossary, transcription_id)


async def set_corrections(*, session: AsyncSession, transcription_id: uuid.UUID, corrections: int) -> None:
    """Record how many replacements the post-correction made on a transcription."""
    row = await session.get(TranscriptionGlossary, transcription_id)
    if row is not None:
        row.corrections = corrections
        await session.flush()
