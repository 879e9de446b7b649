"""The caller's own profile and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, Security, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._access_models import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, Profile, QuotaOut
from assistant.security import Permission, Principal
from assistant.services.gateway.quotas import get_quota
from assistant.services.governance import rgpd
from assistant.services.governance.rgpd import ERASE_CONFIRMATION
from assistant.services.identity.api_keys import create_api_key, list_api_keys, revoke_api_key
from assistant.services.identity.users import get_user

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


# --- RGPD: access and portability, rectification, erasure


class ProfileUpdate(BaseModel):
    """Corrections to one's profile; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None


class ErasureRequest(BaseModel):
    """The user's explicit confirmation, typed out."""

    confirmation: str = Field(description=f"Exactement « {ERASE_CONFIRMATION} ».")


class ErasureReceiptOut(BaseModel):
    """Proof of erasure: counts, time and the hash of the audit event that records it."""

    user: str
    erased_at: datetime
    conversations: int
    projects: int
    prompts: int
    comparisons: int
    shares: int = Field(default=0, description="Partages de conversations supprimés.")
    collections: int
    transcriptions: int
    glossary_terms: int = Field(default=0, description="Termes du glossaire personnel supprimés.")
    api_keys_revoked: int
    audit_event_hash: str
    kept: list[str]


@router.patch("", response_model=Profile, summary="Rectifier mon profil (nom affiché, courriel)")
async def update_profile(
    body: ProfileUpdate, principal: ProfileReader, runtime: RuntimeDep, client: ClientDep
) -> Profile:
    await rgpd.rectify_profile(
        runtime,
        principal=principal,
        client=client,
        display_name=body.display_name,
        email=str(body.email) if body.email else None,
    )
    return Profile.of(principal, await get_user(runtime, user_id=principal.user_id))


@router.get(
    "/export",
    summary="Exporter toutes mes données (archive ZIP)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def export_data(principal: ProfileReader, runtime: RuntimeDep, client: ClientDep) -> Response:
    archive = await rgpd.export_my_data(runtime, principal=principal, client=client)
    filename = f"mes-donnees-{principal.username}.zip"
    return Response(
        archive, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.post("/erase", response_model=ErasureReceiptOut, summary="Effacer mes données (avec récépissé)")
async def erase_data(
    body: ErasureRequest, principal: ProfileReader, runtime: RuntimeDep, client: ClientDep
) -> ErasureReceiptOut:
    receipt = await rgpd.erase_my_data(runtime, principal=principal, client=client, confirmation=body.confirmation)
    return ErasureReceiptOut(**{**receipt.__dict__, "kept": list(receipt.kept)})
