"""Projects of the signed-in user: folders of conversations with standing instructions and collections."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Security, status
from pydantic import BaseModel, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.security import Permission, Principal
from assistant.services.chat import projects as service
from assistant.services.chat.projects import MAX_INSTRUCTIONS_CHARS, DeletePolicy, ProjectView

__all__ = ["router"]

router = APIRouter(prefix="/api/projects", tags=["projets"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]

_INSTRUCTIONS = (
    "Consignes permanentes appliquées à chaque réponse des conversations du projet "
    "(« tu rédiges pour des usagers, en langage clair »)."
)
_COLLECTIONS = "Collections consultées quand un message du projet n'en nomme aucune (droit de lecture vérifié)."


class ProjectCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    instructions: str = Field(default="", max_length=MAX_INSTRUCTIONS_CHARS, description=_INSTRUCTIONS)
    collections: list[str] = Field(default_factory=list, max_length=20, description=_COLLECTIONS)


class ProjectUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    instructions: str | None = Field(default=None, max_length=MAX_INSTRUCTIONS_CHARS, description=_INSTRUCTIONS)
    collections: list[str] | None = Field(default=None, max_length=20, description=_COLLECTIONS)


class ProjectDeleted(BaseModel):
    deleted_conversations: int = Field(description="Conversations supprimées avec le projet.")


@router.get("", response_model=list[ProjectView], summary="Mes projets")
async def list_projects(principal: Chatter, runtime: RuntimeDep) -> list[ProjectView]:
    return await service.list_projects(runtime, principal=principal)


@router.post("", response_model=ProjectView, status_code=status.HTTP_201_CREATED, summary="Nouveau projet")
async def create_project(
    body: ProjectCreate, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> ProjectView:
    return await service.create_project(
        runtime,
        principal=principal,
        client=client,
        name=body.name,
        instructions=body.instructions,
        collections=body.collections,
    )


@router.get("/{project_id}", response_model=ProjectView, summary="Un projet")
async def read_project(project_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep) -> ProjectView:
    return await service.get_project(runtime, principal=principal, project_id=project_id)


@router.patch("/{project_id}", response_model=ProjectView, summary="Renommer, changer les consignes ou les collections")
async def update_project(
    project_id: uuid.UUID, body: ProjectUpdate, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> ProjectView:
    return await service.update_project(
        runtime,
        principal=principal,
        client=client,
        project_id=project_id,
        name=body.name,
        instructions=body.instructions,
        collections=body.collections,
    )


@router.delete(
    "/{project_id}",
    response_model=ProjectDeleted,
    summary="Supprimer un projet, avec ses conversations (delete) ou en les gardant hors projet (detach)",
)
async def delete_project(
    project_id: uuid.UUID,
    principal: Chatter,
    runtime: RuntimeDep,
    client: ClientDep,
    conversations: Annotated[
        DeletePolicy, Query(description="delete : supprimer aussi ses conversations ; detach : les garder.")
    ],
) -> ProjectDeleted:
    deleted = await service.delete_project(
        runtime, principal=principal, client=client, project_id=project_id, conversations=conversations
    )
    return ProjectDeleted(deleted_conversations=deleted)
