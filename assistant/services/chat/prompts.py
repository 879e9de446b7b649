"""The prompt library: personal prompts, prompts published by référents to groups, ``{{variables}}`` filled in a
form, versions, and the uses counted for the indicators (design §3).

A personal prompt is its owner's alone; a published one is offered to the members of its groups and managed by
whoever holds ``admin:prompts``. A prompt the caller may not see is « introuvable » (404).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from assistant.runtime import Runtime
from assistant.security import Permission, Principal
from assistant.store import groups as group_store
from assistant.store import prompts as store
from assistant.store.models import Prompt, PromptVersion

__all__ = [
    "PromptVersionView",
    "PromptView",
    "Surface",
    "create_prompt",
    "delete_prompt",
    "fill_prompt",
    "get_prompt",
    "list_prompts",
    "list_versions",
    "prompt_variables",
    "update_prompt",
]

Surface = Literal["chat", "tasks", "api"]
MAX_BODY_CHARS = 20_000
_MAX_VALUE_CHARS = 20_000
_MAX_GROUPS = 100
_WHAT = "Prompt"
# « {{ nom du destinataire }} »: letters (accented too), digits, spaces, ' and -, 1 to 40 characters.
_VARIABLE = re.compile(r"\{\{\s*([^\W_][\w' -]{0,39}?)\s*\}\}")


def prompt_variables(body: str) -> list[str]:
    """The variables of a prompt's text, in order of first appearance."""
    return list(dict.fromkeys(match.group(1) for match in _VARIABLE.finditer(body)))


class PromptView(BaseModel):
    """A prompt as the library lists it."""

    id: uuid.UUID
    title: str
    description: str
    body: str
    variables: list[str] = Field(description="Champs à remplir avant d'insérer le prompt ({{variable}} du texte).")
    version: int
    personal: bool = Field(description="Prompt personnel (sinon publié par un référent à des groupes).")
    groups: list[str] = Field(description="Groupes auxquels un prompt publié est proposé.")
    published_by: str | None
    editable: bool = Field(description="L'appelant peut le modifier ou le supprimer.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, prompt: Prompt, principal: Principal, groups: Sequence[str] = ()) -> PromptView:
        personal = prompt.owner_id is not None
        return cls(
            id=prompt.id,
            title=prompt.title,
            description=prompt.description,
            body=prompt.body,
            variables=prompt_variables(prompt.body),
            version=prompt.version,
            personal=personal,
            groups=list(groups),
            published_by=prompt.published_by,
            editable=_may_edit(prompt, principal),
            created_at=prompt.created_at,
            updated_at=prompt.updated_at,
        )


class PromptVersionView(BaseModel):
    """One saved version of a prompt."""

    version: int
    title: str
    description: str
    body: str
    edited_by: str | None
    edited_at: datetime

    @classmethod
    def of(cls, version: PromptVersion) -> PromptVersionView:
        return cls(
            version=version.version,
            title=version.title,
            description=version.description,
            body=version.body,
            edited_by=version.edited_by,
            edited_at=version.edited_at,
        )


def _may_edit(prompt: Prompt, principal: Principal) -> bool:
    if prompt.owner_id is not None:
        return prompt.owner_id == principal.user_id
    return principal.has(Permission.PUBLISH_PROMPTS)


async def _visible(session: AsyncSession, prompt_id: uuid.UUID, principal: Principal) -> tuple[Prompt, list[str]]:
    """The prompt and its groups if the caller may see it; 404 otherwise."""
    prompt = await store.get_prompt(session=session, prompt_id=prompt_id)
    if prompt is None:
        raise NotFoundError(f"{_WHAT} introuvable.")
    groups = (await store.group_names_of_prompts(session=session, prompt_ids=[prompt.id])).get(prompt.id, [])
    if prompt.owner_id is not None:
        if prompt.owner_id != principal.user_id:
            raise NotFoundError(f"{_WHAT} introuvable.")
    elif not principal.has(Permission.PUBLISH_PROMPTS) and not set(groups) & set(principal.groups):
        raise NotFoundError(f"{_WHAT} introuvable.")
    return prompt, groups


def _editable(prompt: Prompt, principal: Principal) -> None:
    if not _may_edit(prompt, principal):
        raise PermissionDeniedError("Ce prompt est publié par un référent : vous pouvez l'utiliser, pas le modifier.")


def _clean(title: str, description: str, body: str) -> tuple[str, str, str]:
    title, description, body = " ".join(title.split()), description.strip(), body.strip()
    if not title:
        raise InvalidRequestError("Donnez un titre au prompt.")
    if len(title) > 200:
        raise InvalidRequestError("Titre trop long (200 caractères au plus).")
    if len(description) > 500:
        raise InvalidRequestError("Description trop longue (500 caractères au plus).")
    if not body:
        raise InvalidRequestError("Le texte du prompt est vide.")
    if len(body) > MAX_BODY_CHARS:
        raise InvalidRequestError(f"Texte trop long ({len(body)} caractères) : {MAX_BODY_CHARS} au plus.")
    return title, description, body


async def _group_ids(session: AsyncSession, names: Sequence[str]) -> list[uuid.UUID]:
    wanted = sorted({name.strip() for name in names if name.strip()})
    if not wanted:
        raise InvalidRequestError("Choisissez au moins un groupe à qui publier ce prompt.")
    if len(wanted) > _MAX_GROUPS:
        raise InvalidRequestError(f"Trop de groupes ({len(wanted)}) : {_MAX_GROUPS} au plus.")
    found = {name: await group_store.get_group_by_name(session=session, name=name) for name in wanted}
    missing = [name for name, group in found.items() if group is None]
    if missing:
        raise InvalidRequestError(f"Groupe inconnu : {', '.join(f'« {name} »' for name in missing)}.")
    return [group.id for group in found.values() if group is not None]


async def _audit(
    runtime: Runtime, action: str, principal: Principal, client: ClientInfo, prompt_id: uuid.UUID, **details: object
) -> None:
    await runtime.audit.record(
        category="audit",
        action=action,
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="prompt",
        resource_id=str(prompt_id),
        client=client,
        details=dict(details),
    )


async def list_prompts(runtime: Runtime, *, principal: Principal) -> list[PromptView]:
    """The caller's prompts and those published to their groups (every published one for their managers)."""
    async with runtime.session_factory() as session:
        prompts = await store.visible_prompts(
            session=session,
            user_id=principal.user_id,
            group_names=principal.groups,
            every_published=principal.has(Permission.PUBLISH_PROMPTS),
        )
        groups = await store.group_names_of_prompts(session=session, prompt_ids=[p.id for p in prompts])
    return [PromptView.of(prompt, principal, groups.get(prompt.id, [])) for prompt in prompts]


async def get_prompt(runtime: Runtime, *, principal: Principal, prompt_id: uuid.UUID) -> PromptView:
    async with runtime.session_factory() as session:
        prompt, groups = await _visible(session, prompt_id, principal)
    return PromptView.of(prompt, principal, groups)


async def create_prompt(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    title: str,
    body: str,
    description: str = "",
    groups: Sequence[str] | None = None,
) -> PromptView:
    """A personal prompt, or with ``groups`` one published to them (``admin:prompts`` required)."""
    title, description, body = _clean(title, description, body)
    if groups is not None:
        principal.require(Permission.PUBLISH_PROMPTS)
    async with runtime.session_factory.begin() as session:
        group_ids = await _group_ids(session, groups) if groups is not None else []
        prompt = Prompt(
            owner_id=principal.user_id if groups is None else None,
            published_by=principal.username if groups is not None else None,
            title=title,
            description=description,
            body=body,
        )
        await store.add_prompt(session=session, prompt=prompt, edited_by=principal.username)
        if groups is not None:
            await store.set_prompt_groups(session=session, prompt_id=prompt.id, group_ids=group_ids)
        names = (await store.group_names_of_prompts(session=session, prompt_ids=[prompt.id])).get(prompt.id, [])
    await _audit(runtime, "prompt.create", principal, client, prompt.id, published=groups is not None, groups=names)
    return PromptView.of(prompt, principal, names)


async def update_prompt(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    prompt_id: uuid.UUID,
    title: str | None = None,
    body: str | None = None,
    description: str | None = None,
    groups: Sequence[str] | None = None,
) -> PromptView:
    """Edit a prompt: a changed text is a new version (the previous ones are kept); ``groups`` re-publishes."""
    async with runtime.session_factory.begin() as session:
        prompt, current_groups = await _visible(session, prompt_id, principal)
        _editable(prompt, principal)
        new = _clean(
            title if title is not None else prompt.title,
            description if description is not None else prompt.description,
            body if body is not None else prompt.body,
        )
        changed = new != (prompt.title, prompt.description, prompt.body)
        if changed:
            prompt.title, prompt.description, prompt.body = new
            prompt.version += 1
            await session.flush()
            await store.add_version(session=session, prompt=prompt, edited_by=principal.username)
        if groups is not None:
            if prompt.owner_id is not None:
                raise InvalidRequestError(
                    "Un prompt personnel ne se publie pas : créez un prompt publié pour le proposer à des groupes."
                )
            await store.set_prompt_groups(
                session=session, prompt_id=prompt.id, group_ids=await _group_ids(session, groups)
            )
            current_groups = (await store.group_names_of_prompts(session=session, prompt_ids=[prompt.id])).get(
                prompt.id, []
            )
        await session.refresh(prompt)
    await _audit(runtime, "prompt.update", principal, client, prompt_id, version=prompt.version, groups=current_groups)
    return PromptView.of(prompt, principal, current_groups)


async def delete_prompt(runtime: Runtime, *, principal: Principal, client: ClientInfo, prompt_id: uuid.UUID) -> None:
    """Delete a prompt with its versions (its uses leave the indicators with it)."""
    async with runtime.session_factory.begin() as session:
        prompt, _ = await _visible(session, prompt_id, principal)
        _editable(prompt, principal)
        await store.delete_prompt(session=session, prompt_id=prompt.id)
    await _audit(runtime, "prompt.delete", principal, client, prompt_id, title=prompt.title)


async def list_versions(runtime: Runtime, *, principal: Principal, prompt_id: uuid.UUID) -> list[PromptVersionView]:
    """Every saved version of a prompt the caller may see, newest first."""
    async with runtime.session_factory() as session:
        prompt, _ = await _visible(session, prompt_id, principal)
        versions = await store.list_versions(session=session, prompt_id=prompt.id)
    return [PromptVersionView.of(version) for version in versions]


async def fill_prompt(
    runtime: Runtime,
    *,
    principal: Principal,
    prompt_id: uuid.UUID,
    values: Mapping[str, str],
    surface: Surface,
) -> tuple[PromptView, str]:
    """The prompt's text with its variables replaced by ``values`` (each required), and one use counted."""
    async with runtime.session_factory.begin() as session:
        prompt, groups = await _visible(session, prompt_id, principal)
        variables = prompt_variables(prompt.body)
        missing = [name for name in variables if not (values.get(name) or "").strip()]
        if missing:
            raise InvalidRequestError(f"Remplissez : {', '.join(f'« {name} »' for name in missing)}.")
        too_long = [name for name in variables if len(values[name]) > _MAX_VALUE_CHARS]
        if too_long:
            raise InvalidRequestError(
                f"Valeur trop longue pour « {too_long[0]} » ({_MAX_VALUE_CHARS} caractères au plus)."
            )
        # One pass over the text: a value that itself contains « {{x}} » is inserted as typed, never expanded.
        text = _VARIABLE.sub(lambda match: values[match.group(1)].strip(), prompt.body)
        await store.record_use(session=session, prompt=prompt, user_id=principal.user_id, surface=surface)
    return PromptView.of(prompt, principal, groups), text
