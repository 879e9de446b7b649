"""Queries on the prompt library. Session keyword-only, never committing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store._base import utcnow
from assistant.store.models import Group, Prompt, PromptGroup, PromptUse, PromptVersion

__all__ = [
    "PromptUseCount",
    "add_prompt",
    "add_version",
    "anonymise_uses",
    "count_uses",
    "delete_owned_prompts",
    "delete_prompt",
    "get_prompt",
    "group_names_of_prompts",
    "list_versions",
    "purge_uses",
    "record_use",
    "set_prompt_groups",
    "visible_prompts",
]


@dataclass(frozen=True, slots=True)
class PromptUseCount:
    """How often one prompt was used over a window."""

    prompt_id: uuid.UUID
    title: str
    published: bool
    uses: int


async def add_prompt(*, session: AsyncSession, prompt: Prompt, edited_by: str) -> Prompt:
    """Stage a new prompt with its first version."""
    session.add(prompt)
    await session.flush()
    await add_version(session=session, prompt=prompt, edited_by=edited_by)
    return prompt


async def add_version(*, session: AsyncSession, prompt: Prompt, edited_by: str) -> None:
    """Keep the prompt's current text as its version ``prompt.version``."""
    session.add(
        PromptVersion(
            prompt_id=prompt.id,
            version=prompt.version,
            title=prompt.title,
            description=prompt.description,
            body=prompt.body,
            edited_by=edited_by,
            edited_at=utcnow(),
        )
    )
    await session.flush()


async def get_prompt(*, session: AsyncSession, prompt_id: uuid.UUID) -> Prompt | None:
    """The prompt with this id, whoever may see it (the service checks)."""
    return await session.get(Prompt, prompt_id)


async def set_prompt_groups(*, session: AsyncSession, prompt_id: uuid.UUID, group_ids: Iterable[uuid.UUID]) -> None:
    """Make ``group_ids`` exactly the groups a published prompt is offered to."""
    await session.execute(delete(PromptGroup).where(PromptGroup.prompt_id == prompt_id))
    session.add_all(PromptGroup(prompt_id=prompt_id, group_id=group_id) for group_id in set(group_ids))
    await session.flush()


async def group_names_of_prompts(
    *, session: AsyncSession, prompt_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The names of the groups each published prompt is offered to, by name."""
    ids = list(prompt_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(PromptGroup.prompt_id, Group.name)
        .join(Group, Group.id == PromptGroup.group_id)
        .where(PromptGroup.prompt_id.in_(ids))
        .order_by(Group.name)
    )
    names: dict[uuid.UUID, list[str]] = {}
    for prompt_id, name in rows.all():
        names.setdefault(prompt_id, []).append(name)
    return names


async def visible_prompts(
    *, session: AsyncSession, user_id: uuid.UUID, group_names: Iterable[str], every_published: bool
) -> list[Prompt]:
    """The user's own prompts and those published to one of ``group_names`` (every published one for
    ``every_published``), by title."""
    offered = (
        select(PromptGroup.prompt_id)
        .join(Group, Group.id == PromptGroup.group_id)
        .where(Group.name.in_(list(group_names)))
    )
    published = Prompt.owner_id.is_(None) if every_published else Prompt.id.in_(offered)
    rows = await session.scalars(
        select(Prompt).where(or_(Prompt.owner_id == user_id, published)).order_by(Prompt.title, Prompt.id)
    )
    return list(rows)


async def list_versions(*, session: AsyncSession, prompt_id: uuid.UUID) -> list[PromptVersion]:
    """Every version of a prompt, newest first."""
    rows = await session.scalars(
        select(PromptVersion).where(PromptVersion.prompt_id == prompt_id).order_by(PromptVersion.version.desc())
    )
    return list(rows)


async def delete_prompt(*, session: AsyncSession, prompt_id: uuid.UUID) -> None:
    """Delete a prompt with its groups, versions and uses (explicitly: SQLite connections may lack cascades)."""
    for table in (PromptUse, PromptVersion, PromptGroup):
        await session.execute(delete(table).where(table.prompt_id == prompt_id))
    await session.execute(delete(Prompt).where(Prompt.id == prompt_id))


async def delete_owned_prompts(*, session: AsyncSession, owner_id: uuid.UUID) -> int:
    """Delete a user's personal prompts (erasure); returns how many."""
    ids = list(await session.scalars(select(Prompt.id).where(Prompt.owner_id == owner_id)))
    for prompt_id in ids:
        await delete_prompt(session=session, prompt_id=prompt_id)
    return len(ids)


async def record_use(*, session: AsyncSession, prompt: Prompt, user_id: uuid.UUID | None, surface: str) -> None:
    """Count one use of the prompt's current version."""
    session.add(PromptUse(prompt_id=prompt.id, version=prompt.version, user_id=user_id, surface=surface))
    await session.flush()


async def anonymise_uses(*, session: AsyncSession, user_id: uuid.UUID) -> None:
    """Detach a user's uses of published prompts from them (the counts stay for the indicators)."""
    await session.execute(
        update(PromptUse)
        .where(PromptUse.user_id == user_id)
        .values(user_id=None)
        .execution_options(synchronize_session=False)
    )


async def count_uses(*, session: AsyncSession, since: datetime, until: datetime, limit: int) -> list[PromptUseCount]:
    """The most used prompts over ``[since, until)``."""
    uses = func.count(PromptUse.id)
    rows = await session.execute(
        select(Prompt.id, Prompt.title, Prompt.owner_id.is_(None), uses)
        .join(PromptUse, PromptUse.prompt_id == Prompt.id)
        .where(PromptUse.used_at >= since, PromptUse.used_at < until)
        .group_by(Prompt.id, Prompt.title, Prompt.owner_id)
        .order_by(uses.desc(), Prompt.title)
        .limit(limit)
    )
    return [
        PromptUseCount(prompt_id, title, bool(published), int(count)) for prompt_id, title, published, count in rows
    ]


async def purge_uses(*, session: AsyncSession, before: datetime) -> int:
    """Delete the use records older than ``before`` (retention of usage data)."""
    result = await session.execute(
        delete(PromptUse).where(PromptUse.used_at < before).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
