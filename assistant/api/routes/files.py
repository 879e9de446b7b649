"""``/v1/files`` as OpenAI serves it: the official client's ``files.create/list/retrieve/content/delete`` work."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Security, UploadFile
from fastapi.responses import Response

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.protocol.files import FileDeleted, FileList, FileObject
from assistant.security import Permission, Principal
from assistant.services.batch import files as service

__all__ = ["router"]

router = APIRouter(prefix="/v1/files", tags=["Lots (API compatible OpenAI)"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]


@router.post(
    "",
    response_model=FileObject,
    summary="Déposer un fichier JSONL d'entrée de lot (purpose=batch)",
    responses={400: {"description": "Ligne invalide (numéro dans le message)"}, 413: {"description": "Trop gros"}},
)
async def upload_file(
    principal: Chatter,
    runtime: RuntimeDep,
    client: ClientDep,
    file: Annotated[UploadFile, File(description="Une requête par ligne : custom_id, method, url, body.")],
    purpose: Annotated[str, Form(max_length=40, description="« batch »")],
) -> FileObject:
    return await service.upload_file(
        runtime, principal=principal, client=client, source=file.file, filename=file.filename or "", purpose=purpose
    )


@router.get("", response_model=FileList, summary="Mes fichiers")
async def list_files(
    principal: Chatter,
    runtime: RuntimeDep,
    purpose: Annotated[str | None, Query(max_length=40)] = None,
    after: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    order: Literal["asc", "desc"] = "desc",
) -> FileList:
    return await service.list_files(
        runtime, principal=principal, purpose=purpose, after=after, limit=limit, order=order
    )


@router.get("/{file_id}", response_model=FileObject, summary="Un de mes fichiers")
async def get_file(file_id: str, principal: Chatter, runtime: RuntimeDep) -> FileObject:
    return await service.get_file(runtime, principal=principal, public_id=file_id)


@router.get(
    "/{file_id}/content",
    summary="Contenu d'un fichier (la sortie d'un lot est étiquetée « générée par IA »)",
    response_class=Response,
    responses={200: {"content": {"application/jsonl": {}}}},
)
async def file_content(file_id: str, principal: Chatter, runtime: RuntimeDep) -> Response:
    download = await service.download_file(runtime, principal=principal, public_id=file_id)
    headers = {**download.headers, "Content-Disposition": f'attachment; filename="{download.filename}"'}
    return Response(download.content, media_type="application/jsonl", headers=headers)


@router.delete("/{file_id}", response_model=FileDeleted, summary="Supprimer un de mes fichiers")
async def delete_file(file_id: str, principal: Chatter, runtime: RuntimeDep, client: ClientDep) -> FileDeleted:
    return await service.delete_file(runtime, principal=principal, client=client, public_id=file_id)
