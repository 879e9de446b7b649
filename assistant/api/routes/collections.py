"""Collections: create, list, read, update, delete, share (access lists)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, Security, status

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._rag_models import (
    AccessListIn,
    AccessListOut,
    CollectionCreate,
    CollectionOut,
    CollectionUpdate,
)
from assistant.security import Permission, Principal
from assistant.services.knowledge import collections

__all__ = ["router"]

router = APIRouter(prefix="/api/collections", tags=["collections"])

DocumentUser = Annotated[Principal, Security(RequirePermission(Permission.DOCUMENTS))]


@router.post("", response_model=CollectionOut, status_code=status.HTTP_201_CREATED, summary="Créer une collection")
async def create_collection(
    body: CollectionCreate, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> CollectionOut:
    view = await collections.create_collection(
        runtime,
        principal,
        name=body.name,
        description=body.description,
        classification=body.classification,
        client=client,
    )
    return CollectionOut.from_view(view)


@router.get("", response_model=list[CollectionOut], summary="Collections possédées ou partagées avec vous")
async def list_collections(principal: DocumentUser, runtime: RuntimeDep) -> list[CollectionOut]:
    return [CollectionOut.from_view(view) for view in await collections.list_collections(runtime, principal)]


@router.get("/{collection_id}", response_model=CollectionOut, summary="Lire une collection")
async def get_collection(collection_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep) -> CollectionOut:
    return CollectionOut.from_view(await collections.get_collection(runtime, principal, collection_id))


@router.patch("/{collection_id}", response_model=CollectionOut, summary="Renommer, décrire ou reclasser")
async def update_collection(
    collection_id: uuid.UUID, body: CollectionUpdate, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> CollectionOut:
    view = await collections.update_collection(
        runtime,
        principal,
        collection_id,
        name=body.name,
        description=body.description,
        classification=body.classification,
        client=client,
    )
    return CollectionOut.from_view(view)


@router.delete(
    "/{collection_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Supprimer une collection, ses documents et ses index",
)
async def delete_collection(
    collection_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> Response:
    await collections.delete_collection(runtime, principal, collection_id, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{collection_id}/access", response_model=AccessListOut, summary="Qui peut lire ou écrire")
async def get_access(collection_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep) -> AccessListOut:
    return AccessListOut.from_service(await collections.get_access_list(runtime, principal, collection_id))


@router.put("/{collection_id}/access", response_model=AccessListOut, summary="Partager : remplacer la liste d'accès")
async def set_access(
    collection_id: uuid.UUID, body: AccessListIn, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> AccessListOut:
    access = await collections.set_access_list(
        runtime, principal, collection_id, users=body.users, groups=body.groups, client=client
    )
    return AccessListOut.from_service(access)
