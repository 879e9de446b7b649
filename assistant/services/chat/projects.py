"""Projects: a user's folders of conversations, each with standing instructions and collections (design §3).

A project is private to its owner (another user gets « introuvable »). Its instructions join the system prompt
of every answer in its conversations, and its collections ground those answers when a message names none; the
caller's read access to them is checked when they are chosen and again at every answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError
from assistant.runtime import Runtime
from assistant.security import Principal, require_owner
from assistant.services.knowledge.collections import readable_versions
from assistant.services.knowledge.grounding import collection_ids_of
from assistant.store import conversations as conversation_store
from assistant.store import projects as store
from assistant.store.models import Project

__all__ = [
    "MAX_INSTRUCTIONS_CHARS",
    "ProjectView",
    "create_project",
    "delete_project",
    "get_project",
    "list_projects",
    "owned_project",
    "update_project",
]

MAX_INSTRUCTIONS_CHARS = 4000
_MAX_COLLECTIONS = 20
_WHAT = "Projet"

DeletePolicy = Literal["delete", "detach"]


class ProjectView(BaseModel):
    """A project as its owner sees it."""

    id: uuid.UUID
    name: str
    instructions: str = Field(description="Consignes permanentes ajoutées à chaque réponse du projet.")
    collection_ids: list[uuid.UUID] = Field(description="Collections consultées quand un message n'en nomme aucune.")
    conversations: int = Field(description="Nombre de conversations rangées dans le projet.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, project: Project, conversations: int) -> ProjectView:
        return cls(
            id=project.id,
            name=project.name,
            instructions=project.instructions,
            collection_ids=[uuid.UUID(value) for value in project.collection_ids],
            conversations=conversations,
            created_at=project.created_at,
            updated_at=project.updated_at,
        )


async def owned_project(session: AsyncSession, project_id: uuid.UUID, principal: Principal) -> Project:
    """The project if the caller owns it; 404 otherwise (existence is not revealed)."""
    project = await store.get_project(session=session, project_id=project_id)
    require_owner(project.owner_id if project else None, principal, what=_WHAT)
    assert project is not None
    return project


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidRequestError("Donnez un nom au projet.")
    if len(cleaned) > 200:
        raise InvalidRequestError("Nom de projet trop long (200 caractères au plus).")
    return cleaned


def _clean_instructions(instructions: str) -> str:
    cleaned = instructions.strip()
    if len(cleaned) > MAX_INSTRUCTIONS_CHARS:
        raise InvalidRequestError(
            f"Consignes trop longues ({len(cleaned)} caractères) : {MAX_INSTRUCTIONS_CHARS} au plus."
        )
    return cleaned


async def _readable_collections(runtime: Runtime, principal: Principal, values: list[str]) -> list[str]:
    """The collection ids as stored, after checking the caller may read each one (404 otherwise)."""
    ids = list(dict.fromkeys(collection_ids_of(values)))
    if len(ids) > _MAX_COLLECTIONS:
        raise InvalidRequestError(f"Trop de collections ({len(ids)}) : {_MAX_COLLECTIONS} au plus par projet.")
    if ids:
        await readable_versions(runtime, principal, ids)
    return [str(value) for value in ids]


async def _audit(
    runtime: Runtime, action: str, principal: Principal, client: ClientInfo, project_id: uuid.UUID, **details: object
) -> None:
    await runtime.audit.record(
        category="audit",
        action=action,
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="project",
        resource_id=str(project_id),
        client=client,
        details=dict(details),
    )


async def create_project(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    name: str,
    instructions: str = "",
    collections: list[str] | None = None,
) -> ProjectView:
    """A new, empty project."""
    name, instructions = _clean_name(name), _clean_instructions(instructions)
    collection_ids = await _readable_collections(runtime, principal, collections or [])
    async with runtime.session_factory.begin() as session:
        project = await store.add_project(
            session=session,
            owner_id=principal.user_id,
            name=name,
            instructions=instructions,
            collection_ids=collection_ids,
        )
    await _audit(runtime, "project.create", principal, client, project.id, collections=len(collection_ids))
    return ProjectView.of(project, 0)


async def list_projects(runtime: Runtime, *, principal: Principal) -> list[ProjectView]:
    """The caller's projects by name, with how many conversations each holds."""
    async with runtime.session_factory() as session:
        projects = await store.list_projects(session=session, owner_id=principal.user_id)
        counts = await store.conversation_counts(session=session, owner_id=principal.user_id)
    return [ProjectView.of(project, counts.get(project.id, 0)) for project in projects]


async def get_project(runtime: Runtime, *, principal: Principal, project_id: uuid.UUID) -> ProjectView:
    """One of the caller's projects."""
    async with runtime.session_factory() as session:
        project = await owned_project(session, project_id, principal)
        ids = await conversation_store.project_conversation_ids(session=session, project_id=project.id)
    return ProjectView.of(project, len(ids))


async def update_project(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    project_id: uuid.UUID,
    name: str | None = None,
    instructions: str | None = None,
    collections: list[str] | None = None,
) -> ProjectView:
    """Rename a project, change its instructions or its collections (what is not given stays)."""
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = _clean_name(name)
    if instructions is not None:
        changes["instructions"] = _clean_instructions(instructions)
    if collections is not None:
        changes["collection_ids"] = await _readable_collections(runtime, principal, collections)
    async with runtime.session_factory.begin() as session:
        project = await owned_project(session, project_id, principal)
        await store.touch_project(session=session, project=project, **changes)
        ids = await conversation_store.project_conversation_ids(session=session, project_id=project.id)
    await _audit(runtime, "project.update", principal, client, project_id, fields=sorted(changes))
    return ProjectView.of(project, len(ids))


async def delete_project(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, project_id: uuid.UUID, conversations: DeletePolicy
) -> int:
    """Delete a project and, with ``delete``, every conversation in it (``detach`` keeps them, unfiled).

    Returns how many conversations were deleted. The choice is explicit: nothing is deleted by default.
    """
    async with runtime.session_factory.begin() as session:
        project = await owned_project(session, project_id, principal)
        ids = await conversation_store.project_conversation_ids(session=session, project_id=project.id)
        if conversations == "delete":
            for conversation_id in ids:
                await conversation_store.delete_conversation(session=session, conversation_id=conversation_id)
        await store.delete_project(session=session, project_id=project.id)
    deleted = len(ids) if conversations == "delete" else 0
    await _audit(runtime, "project.delete", principal, client, project_id, conversations_deleted=deleted)
    return deleted
