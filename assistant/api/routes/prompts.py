"""The prompt library: my prompts, those published to my groups, their versions, and filling one in."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, Security, status
from pydantic import BaseModel, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.security import Permission, Principal
from assistant.services.chat import prompts as service
from assistant.services.chat.prompts import MAX_BODY_CHARS, PromptVersionView, PromptView, Surface

__all__ = ["router"]

router = APIRouter(prefix="/api/prompts", tags=["bibliothèque de prompts"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]

_BODY = "Texte du prompt ; {{variable}} marque un champ à remplir au moment de l'utiliser."
_GROUPS = "Publier à ces groupes (référents, permission admin:prompts) ; absent : prompt personnel."
GroupName = Annotated[str, Field(min_length=1, max_length=150)]


class PromptCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=500)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS, description=_BODY)
    groups: list[GroupName] | None = Field(default=None, max_length=100, description=_GROUPS)


class PromptUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY_CHARS, description=_BODY)
    groups: list[GroupName] | None = Field(default=None, max_length=100, description="Groupes d'un prompt publié.")


class PromptFill(BaseModel):
    values: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=20_000)]] = Field(
        default_factory=dict, max_length=50, description="Valeur de chaque variable du prompt."
    )
    surface: Surface = Field(default="api", description="Où le prompt est utilisé (indicateurs).")


class PromptFilled(BaseModel):
    prompt: PromptView
    text: str = Field(description="Le prompt rempli, prêt à envoyer (écrit par un humain : non étiqueté IA).")


@router.get("", response_model=list[PromptView], summary="Mes prompts et ceux publiés à mes groupes")
async def list_prompts(principal: Chatter, runtime: RuntimeDep) -> list[PromptView]:
    return await service.list_prompts(runtime, principal=principal)


@router.post("", response_model=PromptView, status_code=status.HTTP_201_CREATED, summary="Nouveau prompt")
async def create_prompt(body: PromptCreate, principal: Chatter, runtime: RuntimeDep, client: ClientDep) -> PromptView:
    return await service.create_prompt(
        runtime,
        principal=principal,
        client=client,
        title=body.title,
        description=body.description,
        body=body.body,
        groups=body.groups,
    )


@router.get("/{prompt_id}", response_model=PromptView, summary="Un prompt")
async def read_prompt(prompt_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep) -> PromptView:
    return await service.get_prompt(runtime, principal=principal, prompt_id=prompt_id)


@router.patch("/{prompt_id}", response_model=PromptView, summary="Modifier un prompt (nouvelle version)")
async def update_prompt(
    prompt_id: uuid.UUID, body: PromptUpdate, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> PromptView:
    return await service.update_prompt(
        runtime,
        principal=principal,
        client=client,
        prompt_id=prompt_id,
        title=body.title,
        description=body.description,
        body=body.body,
        groups=body.groups,
    )


@router.delete("/{prompt_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Supprimer un prompt")
async def delete_prompt(prompt_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep, client: ClientDep) -> Response:
    await service.delete_prompt(runtime, principal=principal, client=client, prompt_id=prompt_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{prompt_id}/versions", response_model=list[PromptVersionView], summary="Versions d'un prompt")
async def prompt_versions(prompt_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep) -> list[PromptVersionView]:
    return await service.list_versions(runtime, principal=principal, prompt_id=prompt_id)


@router.post(
    "/{prompt_id}/fill", response_model=PromptFilled, summary="Remplir un prompt (compté dans les indicateurs)"
)
async def fill_prompt(prompt_id: uuid.UUID, body: PromptFill, principal: Chatter, runtime: RuntimeDep) -> PromptFilled:
    prompt, text = await service.fill_prompt(
        runtime, principal=principal, prompt_id=prompt_id, values=body.values, surface=body.surface
    )
    return PromptFilled(prompt=prompt, text=text)
