"""Administration for référents: accounts, groups, any user's API keys, quotas."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Security, status

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._access_models import (
    ApiKeyOut,
    GroupCreate,
    GroupDetail,
    GroupOut,
    QuotaOut,
    QuotaUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)
from assistant.security import Permission, Principal
from assistant.services.gateway.quotas import get_quota
from assistant.services.governance import admin
from assistant.services.identity.api_keys import list_api_keys, revoke_api_key
from assistant.services.identity.users import create_local_user, get_user
from assistant.store.models import Role

__all__ = ["router"]

router = APIRouter(prefix="/api/admin", tags=["administration"])

UserManager = Annotated[Principal, Security(RequirePermission(Permission.MANAGE_USERS))]
GroupManager = Annotated[Principal, Security(RequirePermission(Permission.MANAGE_GROUPS))]
KeyManager = Annotated[Principal, Security(RequirePermission(Permission.MANAGE_KEYS))]
QuotaManager = Annotated[Principal, Security(RequirePermission(Permission.MANAGE_QUOTAS))]


@router.get("/users", response_model=list[UserOut], summary="Lister les comptes")
async def list_users(
    _: UserManager, runtime: RuntimeDep, role: Role | None = None, active: bool | None = None
) -> list[UserOut]:
    return [UserOut.model_validate(user) for user in await admin.list_users(runtime, role=role, active=active)]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED, summary="Créer un compte local")
async def create_user(body: UserCreate, actor: UserManager, runtime: RuntimeDep, client: ClientDep) -> UserOut:
    user = await create_local_user(
        runtime,
        username=body.username,
        role=body.role,
        password=body.password,
        display_name=body.display_name,
        email=body.email,
        actor=actor,
        client=client,
    )
    return UserOut.model_validate(user)


@router.get("/users/{user_id}", response_model=UserOut, summary="Un compte")
async def read_user(user_id: uuid.UUID, _: UserManager, runtime: RuntimeDep) -> UserOut:
    return UserOut.model_validate(await get_user(runtime, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserOut, summary="Changer le rôle, désactiver ou réactiver")
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, actor: UserManager, runtime: RuntimeDep, client: ClientDep
) -> UserOut:
    user = await admin.update_user(
        runtime, user_id=user_id, actor=actor, role=body.role, is_active=body.is_active, client=client
    )
    return UserOut.model_validate(user)


@router.get("/groups", response_model=list[GroupOut], summary="Lister les groupes")
async def list_groups(_: GroupManager, runtime: RuntimeDep) -> list[GroupOut]:
    return [GroupOut.of(group) for group in await admin.list_groups(runtime)]


@router.post("/groups", response_model=GroupOut, status_code=status.HTTP_201_CREATED, summary="Créer un groupe")
async def create_group(body: GroupCreate, actor: GroupManager, runtime: RuntimeDep, client: ClientDep) -> GroupOut:
    group = await admin.create_group(runtime, name=body.name, description=body.description, actor=actor, client=client)
    return GroupOut.of(group)


@router.get("/groups/{group_id}", response_model=GroupDetail, summary="Un groupe et ses membres")
async def read_group(group_id: uuid.UUID, _: GroupManager, runtime: RuntimeDep) -> GroupDetail:
    group, members = await admin.group_members(runtime, group_id=group_id)
    return GroupDetail(**GroupOut.of(group).model_dump(), members=[UserOut.model_validate(user) for user in members])


@router.put("/groups/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Ajouter un membre")
async def add_member(
    group_id: uuid.UUID, user_id: uuid.UUID, actor: GroupManager, runtime: RuntimeDep, client: ClientDep
) -> None:
    await admin.add_group_member(runtime, group_id=group_id, user_id=user_id, actor=actor, client=client)


@router.delete(
    "/groups/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Retirer un membre"
)
async def remove_member(
    group_id: uuid.UUID, user_id: uuid.UUID, actor: GroupManager, runtime: RuntimeDep, client: ClientDep
) -> None:
    await admin.remove_group_member(runtime, group_id=group_id, user_id=user_id, actor=actor, client=client)


@router.get("/keys", response_model=list[ApiKeyOut], summary="Lister les clés d'API (toutes ou d'un compte)")
async def list_keys(
    _: KeyManager, runtime: RuntimeDep, user_id: Annotated[uuid.UUID | None, Query()] = None
) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(key) for key in await list_api_keys(runtime, owner_id=user_id)]


@router.delete("/keys/{key_id}", response_model=ApiKeyOut, summary="Révoquer une clé d'API")
async def revoke_key(key_id: uuid.UUID, actor: KeyManager, runtime: RuntimeDep, client: ClientDep) -> ApiKeyOut:
    return ApiKeyOut.of(await revoke_api_key(runtime, key_id=key_id, actor=actor, own_only=False, client=client))


@router.get("/users/{user_id}/quota", response_model=QuotaOut, summary="Quotas d'un compte")
async def read_quota(user_id: uuid.UUID, _: QuotaManager, runtime: RuntimeDep) -> QuotaOut:
    await get_user(runtime, user_id=user_id)
    return QuotaOut.of(await get_quota(runtime, user_id))


@router.put("/users/{user_id}/quota", response_model=QuotaOut, summary="Fixer les quotas d'un compte")
async def set_quota(
    user_id: uuid.UUID, body: QuotaUpdate, actor: QuotaManager, runtime: RuntimeDep, client: ClientDep
) -> QuotaOut:
    quota = await admin.set_quota(
        runtime,
        user_id=user_id,
        requests_per_minute=body.requests_per_minute,
        tokens_per_day=body.tokens_per_day,
        concurrent_jobs=body.concurrent_jobs,
        actor=actor,
        client=client,
    )
    return QuotaOut.of(quota)
