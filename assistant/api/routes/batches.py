"""``/v1/batches`` as OpenAI serves it: the official client's ``batches.create/retrieve/list/cancel`` work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Security

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.protocol.batches import BatchCreateRequest, BatchList, BatchObject
from assistant.security import Permission, Principal
from assistant.services.batch import batches as service

__all__ = ["router"]

router = APIRouter(prefix="/v1/batches", tags=["Lots (API compatible OpenAI)"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]


@router.post(
    "",
    response_model=BatchObject,
    summary="Créer un lot de complétions (traité en tâche de fond, à la priorité la plus basse)",
    responses={400: {"description": "Fichier, ligne ou modèle invalide (numéro de ligne dans le message)"}},
)
async def create_batch(
    body: BatchCreateRequest, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> BatchObject:
    return await service.create_batch(runtime, principal=principal, client=client, body=body)


@router.get("", response_model=BatchList, summary="Mes lots, du plus récent au plus ancien")
async def list_batches(
    principal: Chatter,
    runtime: RuntimeDep,
    after: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BatchList:
    return await service.list_batches(runtime, principal=principal, after=after, limit=limit)


@router.get("/{batch_id}", response_model=BatchObject, summary="Où en est un de mes lots")
async def get_batch(batch_id: str, principal: Chatter, runtime: RuntimeDep) -> BatchObject:
    return await service.get_batch(runtime, principal=principal, public_id=batch_id)


@router.post(
    "/{batch_id}/cancel",
    response_model=BatchObject,
    summary="Annuler un lot (les réponses déjà produites restent disponibles)",
    responses={409: {"description": "Lot déjà terminé"}},
)
async def cancel_batch(batch_id: str, principal: Chatter, runtime: RuntimeDep, client: ClientDep) -> BatchObject:
    return await service.cancel_batch(runtime, principal=principal, client=client, public_id=batch_id)
