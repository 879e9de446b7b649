"""The caller's own profile and API keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Security, status

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._access_models import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, Profile, QuotaOut
from assistant.security import Permission, Principal
from assistant.services.api_keys import create_api_key, list_api_keys, revoke_api_key
from assistant.services.quotas import get_quota
from assistant.services.users import get_user

__all__ = ["router"]

router = APIRouter(prefix="/api/me", tags=["mon compte"])

ProfileReader = Annotated[Principal, Security(RequirePermission(Permission.PROFILE))]
KeyOwner = Annotated[Principal, Security(RequirePermission(Permission.OWN_KEYS))]


@router.get("", response_model=Profile, summary="Mon profil")
async def read_profile(principal: ProfileReader, runtime: RuntimeDep) -> Profile:
    return Profile.of(principal, await get_user(runtime, user_id=principal.user_id))


@router.get("/quota", response_model=QuotaOut, summary="Mes quotas")
async def read_own_quota(principal: ProfileReader, runtime: RuntimeDep) -> QuotaOut:
    return QuotaOut.of(await get_quota(runtime, principal.user_id))


@router.get("/keys", response_model=list[ApiKeyOut], summary="Mes clés d'API")
async def list_own_keys(principal: KeyOwner, runtime: RuntimeDep) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(key) for key in await list_api_keys(runtime, owner_id=principal.user_id)]


@router.post(
    "/keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Créer une clé d'API (affichée une seule fois)",
)
async def create_own_key(
    body: ApiKeyCreate, principal: KeyOwner, runtime: RuntimeDep, client: ClientDep
) -> ApiKeyCreated:
    created = await create_api_key(
        runtime,
        owner_id=principal.user_id,
        name=body.name,
        scopes=body.scopes,
        expires_in_days=body.expires_in_days,
        actor=principal,
        client=client,
    )
    return ApiKeyCreated(**ApiKeyOut.of(created.key).model_dump(), key=created.secret)


@router.delete("/keys/{key_id}", response_model=ApiKeyOut, summary="Révoquer une de mes clés")
async def revoke_own_key(key_id: uuid.UUID, principal: KeyOwner, runtime: RuntimeDep, client: ClientDep) -> ApiKeyOut:
    key = await revoke_api_key(runtime, key_id=key_id, actor=principal, own_only=True, client=client)
    return ApiKeyOut.of(key)
