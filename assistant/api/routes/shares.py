"""Conversations shared inside the administration: share, list, revoke, read what was shared with me, continue
a copy. A share the caller may not see is « introuvable » (404)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Security, status
from pydantic import BaseModel, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.security import Permission, Principal
from assistant.services.chat import sharing as service
from assistant.services.chat.sharing import ReceivedShareView, SharedConversationView, ShareView
from assistant.services.chat.views import ConversationDetail
from assistant.store.models import ShareMode

__all__ = ["router"]

router = APIRouter(tags=["partages"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]


class ShareCreate(BaseModel):
    mode: ShareMode = Field(
        default=ShareMode.SNAPSHOT,
        description="snapshot : lecture seule ; copy : chaque destinataire peut en poursuivre une copie à lui.",
    )
    users: list[str] = Field(default_factory=list, max_length=50, description="Identifiants des agents destinataires.")
    groups: list[str] = Field(default_factory=list, max_length=50, description="Noms des groupes destinataires.")


@router.post(
    "/api/conversations/{conversation_id}/shares",
    response_model=ShareView,
    status_code=status.HTTP_201_CREATED,
    summary="Partager une de mes conversations",
)
async def share_conversation(
    conversation_id: uuid.UUID, body: ShareCreate, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> ShareView:
    return await service.share_conversation(
        runtime,
        principal=principal,
        client=client,
        conversation_id=conversation_id,
        mode=body.mode,
        usernames=body.users,
        group_names=body.groups,
    )


@router.get(
    "/api/conversations/{conversation_id}/shares",
    response_model=list[ShareView],
    summary="Les partages d'une de mes conversations",
)
async def list_conversation_shares(
    conversation_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep
) -> list[ShareView]:
    return await service.list_conversation_shares(runtime, principal=principal, conversation_id=conversation_id)


@router.get("/api/shares/received", response_model=list[ReceivedShareView], summary="Conversations partagées avec moi")
async def list_received_shares(principal: Chatter, runtime: RuntimeDep) -> list[ReceivedShareView]:
    return await service.list_received_shares(runtime, principal=principal)


@router.get(
    "/api/shares/{share_id}",
    response_model=SharedConversationView,
    response_model_by_alias=True,  # a manifest's « schema » field: only the aliased form verifies
    summary="Lire une conversation partagée avec moi",
)
async def read_share(
    share_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> SharedConversationView:
    return await service.read_share(runtime, principal=principal, client=client, share_id=share_id)


@router.delete("/api/shares/{share_id}", response_model=ShareView, summary="Révoquer un de mes partages")
async def revoke_share(share_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep, client: ClientDep) -> ShareView:
    return await service.revoke_share(runtime, principal=principal, client=client, share_id=share_id)


@router.post(
    "/api/shares/{share_id}/copy",
    response_model=ConversationDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Poursuivre une copie d'une conversation partagée avec moi",
)
async def continue_copy(
    share_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> ConversationDetail:
    return await service.continue_copy(runtime, principal=principal, client=client, share_id=share_id)
