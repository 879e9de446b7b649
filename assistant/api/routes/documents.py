"""Documents: multipart upload (several files, each with its own status), list, read, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Response, Security, UploadFile, status

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._rag_models import DocumentOut, UploadOut
from assistant.security import Permission, Principal
from assistant.services.knowledge import documents
from assistant.services.knowledge.documents import UploadedFile

__all__ = ["router"]

router = APIRouter(tags=["documents"])

DocumentUser = Annotated[Principal, Security(RequirePermission(Permission.DOCUMENTS))]


async def _read(upload: UploadFile, limit: int) -> UploadedFile:
    # Never hold more than limit + 1 bytes of one file in memory: one byte more is enough to refuse it.
    data = await upload.read(limit + 1)
    await upload.close()
    return UploadedFile(
        filename=upload.filename or "document",
        content_type=upload.content_type,
        data=data[:limit] if len(data) > limit else data,
        truncated=len(data) > limit,
    )


@router.post(
    "/api/collections/{collection_id}/documents",
    response_model=UploadOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Envoyer des documents (PDF, DOCX, ODT, XLSX, ODS, PPTX, ODP, EML, MSG, HTML, Markdown, texte, images) ; "
    "indexation en arrière-plan",
)
async def upload_documents(
    collection_id: uuid.UUID,
    principal: DocumentUser,
    runtime: RuntimeDep,
    client: ClientDep,
    files: Annotated[list[UploadFile], File(description="Un ou plusieurs fichiers.")],
) -> UploadOut:
    limit = runtime.settings.rag.max_document_bytes
    received = [await _read(upload, limit) for upload in files]
    results = await documents.upload_documents(runtime, principal, collection_id, received, client=client)
    return UploadOut(documents=[DocumentOut.from_document(r.document, duplicate=r.duplicate) for r in results])


@router.get(
    "/api/collections/{collection_id}/documents", response_model=list[DocumentOut], summary="Documents d'une collection"
)
async def list_documents(collection_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep) -> list[DocumentOut]:
    return [DocumentOut.from_document(d) for d in await documents.list_documents(runtime, principal, collection_id)]


@router.get("/api/documents/{document_id}", response_model=DocumentOut, summary="État et progression d'un document")
async def get_document(document_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep) -> DocumentOut:
    return DocumentOut.from_document(await documents.get_document(runtime, principal, document_id))


@router.delete(
    "/api/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Supprimer un document, ses passages et ses vecteurs",
)
async def delete_document(
    document_id: uuid.UUID, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> Response:
    await documents.delete_document(runtime, principal, document_id, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
