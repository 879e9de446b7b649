"""Queries on projects (folders of conversations). Session keyword-only, never committing."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store._base import utcnow
from assistant.store.models import Conversation, Project

__all__ = [
    "add_project",
    "conversation_counts",
    "delete_project",
    "get_project",
    "list_projects",
    "stale_empty_projects",
    "touch_project",
]


async def add_project(
    *, session: AsyncSession, owner_id: uuid.UUID, name: str, instructions: str, collection_ids: list[str]
) -> Project:
    """Stage a new project and flush it so that its id is known."""
    project = Project(owner_id=owner_id, name=name, instructions=instructions, collection_ids=collection_ids)
    session.add(project)
    await session.flush()
    return project


async def get_project(*, session: AsyncSession, project_id: uuid.UUID) -> Project | None:
    """The project with this id, whoever owns it (the service checks ownership)."""
    return await session.get(Project, project_id)


async def list_projects(*, session: AsyncSession, owner_id: uuid.UUID) -> list[Project]:
    """The owner's projects by name."""
    rows = await session.scalars(select(Project).where(Project.owner_id == owner_id).order_by(Project.name, Project.id))
    return list(rows)


async def conversation_counts(*, session: AsyncSession, owner_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """How many conversations each of the owner's projects holds (projects without any are absent)."""
    rows = await session.execute(
        select(Conversation.project_id, func.count())
        .where(Conversation.owner_id == owner_id, Conversation.project_id.is_not(None))
        .group_by(Conversation.project_id)
    )
    return {project_id: int(count) for project_id, count in rows.all() if project_id is not None}


async def touch_project(*, session: AsyncSession, project: Project, **changes: object) -> None:
    """Apply ``changes`` to a project."""
    for name, value in changes.items():
        setattr(project, name, value)
    project.updated_at = utcnow()
    await session.flush()


async def delete_project(*, session: AsyncSession, project_id: uuid.UUID) -> None:
    """Delete a project; conversations still filed in it leave it (their ``project_id`` becomes null)."""
    await session.execute(
        update(Conversation)
        .where(Conversation.project_id == project_id)
        .values(project_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(delete(Project).where(Project.id == project_id))


async def stale_empty_projects(*, session: AsyncSession, before: datetime, limit: int) -> list[uuid.UUID]:
    """Projects unchanged since ``before`` that hold no conversation any more (retention)."""
    filed = select(Conversation.project_id).where(Conversation.project_id.is_not(None))
    rows = await session.scalars(
        select(Project.id).where(Project.updated_at < before, Project.id.not_in(filed)).limit(limit)
    )
    return list(rows)
