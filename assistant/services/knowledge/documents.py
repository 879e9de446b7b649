"""Documents of a collection: upload (several files, each with its own fate), status, deletion (design §7).

Uploaded bytes are kept under ``rag_upload_dir`` (default ``data_dir/uploads``) until the document is deleted;
ingestion runs as a background job (``assistant.services.knowledge.ingestion``). The sha256 of the bytes is unique per
collection, so uploading the same file again returns the existing document instead of ingesting it twice.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError, PayloadTooLargeError
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.knowledge.collections import Right, require_right, view_collection
from assistant.services.knowledge.document_files import document_path, remove_file, upload_root, write_file
from assistant.services.operations.jobs import submit_job
from assistant.store import collections as collection_store
from assistant.store import documents as document_store
from assistant.store.models import Document, DocumentStatus

__all__ = [
    "INGEST_JOB_KIND",
    "UploadResult",
    "UploadedFile",
    "delete_document",
    "document_path",
    "get_document",
    "list_documents",
    "remove_document",
    "upload_documents",
]

logger = logging.getLogger(__name__)

INGEST_JOB_KIND = "documents.ingest"


@dataclass(frozen=True)
class UploadedFile:
    """One file of an upload request, already read (``truncated`` when it exceeded the size limit)."""

    filename: str
    content_type: str | None
    data: bytes
    truncated: bool = False


@dataclass(frozen=True)
class UploadResult:
    """What became of one uploaded file: a new or failed document, or the existing copy of the same bytes."""

    document: Document
    duplicate: bool = False


def _clean_filename(name: str) -> str:
    # Only the base name is kept for display; storage never uses it (the document id names the file).
    base = Path(name.replace("\\", "/")).name.strip()
    return base[:255] or "document"


async def upload_documents(
    runtime: Runtime,
    principal: Principal,
    collection_id: uuid.UUID,
    files: list[UploadedFile],
    *,
    client: ClientInfo | None = None,
) -> list[UploadResult]:
    """Store the files and queue their ingestion; a file too large is recorded as failed, the others go on.

    The whole request is refused (413) when it would take the caller over their storage quota.
    """
    settings = runtime.settings
    if not files:
        raise InvalidRequestError("Aucun fichier reçu : envoyez un ou plusieurs champs « files ».")
    if len(files) > settings.rag.max_files_per_upload:
        raise InvalidRequestError(f"Trop de fichiers : {settings.rag.max_files_per_upload} au plus par envoi.")
    await view_collection(runtime, principal, collection_id, needed=Right.WRITE)
    async with runtime.session_factory() as session:
        used = await collection_store.storage_used_by(session=session, owner_id=principal.user_id)
    incoming = sum(len(f.data) for f in files if not f.truncated)
    if used + incoming > settings.rag.storage_quota_bytes:
        raise PayloadTooLargeError(
            f"Quota de stockage dépassé : {used} octets utilisés + {incoming} envoyés > "
            f"{settings.rag.storage_quota_bytes} autorisés. Supprimez des documents ou demandez à votre référent "
            "d'augmenter votre quota.",
            code="storage_quota_exceeded",
        )
    results = [await _accept(runtime, principal, collection_id, upload, client) for upload in files]
    for result in results:
        if not result.duplicate and result.document.status == DocumentStatus.QUEUED:
            job = await submit_job(
                runtime,
                kind=INGEST_JOB_KIND,
                payload={"document_id": str(result.document.id)},
                owner_id=principal.user_id,
            )
            async with runtime.session_factory.begin() as session:
                await document_store.set_document(session=session, document_id=result.document.id, job_id=job.id)
            result.document.job_id = job.id
    return results


async def _accept(
    runtime: Runtime, principal: Principal, collection_id: uuid.UUID, upload: UploadedFile, client: ClientInfo | None
) -> UploadResult:
    filename = _clean_filename(upload.filename)
    digest = hashlib.sha256(upload.data).hexdigest()
    limit = runtime.settings.rag.max_document_bytes
    async with runtime.session_factory.begin() as session:
        existing = await document_store.find_by_hash(session=session, collection_id=collection_id, content_hash=digest)
        if existing is not None and existing.status != DocumentStatus.FAILED:
            return UploadResult(existing, duplicate=True)
        if existing is not None:  # a failed earlier attempt with the same bytes: try again from scratch
            remove_file(document_path(runtime, existing))
            await document_store.delete_document(session=session, document_id=existing.id)
    document_id = uuid.uuid4()
    values: dict[str, object] = {
        "id": document_id,
        "collection_id": collection_id,
        "owner_id": principal.user_id,
        "filename": filename,
        "mime": upload.content_type,
        "size_bytes": len(upload.data),
        "content_hash": digest,
    }
    if upload.truncated or len(upload.data) > limit:
        values |= {
            "status": DocumentStatus.FAILED,
            "error": f"« {filename} » dépasse la taille maximale autorisée ({limit} octets).",
            "size_bytes": 0,
        }
    else:
        values["storage_path"] = f"{collection_id}/{document_id}"
    try:
        async with runtime.session_factory.begin() as session:
            document = await document_store.add_document(session=session, **values)
            if document.storage_path is not None:
                write_file(upload_root(runtime) / document.storage_path, upload.data)
    except IntegrityError:
        # The same bytes were uploaded concurrently: the other request's document wins.
        async with runtime.session_factory() as session:
            winner = await document_store.find_by_hash(
                session=session, collection_id=collection_id, content_hash=digest
            )
        if winner is None:
            raise
        return UploadResult(winner, duplicate=True)
    await runtime.audit.record(
        category="audit",
        action="document.upload",
        outcome="success" if document.status == DocumentStatus.QUEUED else "failure",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="document",
        resource_id=str(document.id),
        client=client,
        details={"collection_id": str(collection_id), "size_bytes": len(upload.data), "sha256": digest},
    )
    return UploadResult(document)


async def _readable_document(
    runtime: Runtime, principal: Principal, document_id: uuid.UUID, *, needed: Right
) -> Document:
    async with runtime.session_factory() as session:
        document = await document_store.get_document(session=session, document_id=document_id)
    if document is None:
        raise NotFoundError("Document introuvable.")
    try:
        view = await view_collection(runtime, principal, document.collection_id, needed=Right.NONE)
    except NotFoundError:
        raise NotFoundError("Document introuvable.") from None
    require_right(view, needed)
    return document


async def list_documents(runtime: Runtime, principal: Principal, collection_id: uuid.UUID) -> list[Document]:
    """Documents of a collection (readers, writers, owner and référents: names and states are metadata)."""
    await view_collection(runtime, principal, collection_id, needed=Right.NONE)
    async with runtime.session_factory() as session:
        return list(await document_store.list_documents(session=session, collection_id=collection_id))


async def get_document(runtime: Runtime, principal: Principal, document_id: uuid.UUID) -> Document:
    """One document, with its ingestion status and progress."""
    return await _readable_document(runtime, principal, document_id, needed=Right.NONE)


async def remove_document(runtime: Runtime, document_id: uuid.UUID) -> Document | None:
    """Delete a document, its chunks, vectors and file, whoever asks (the callers check rights); the collection's
    version moves so every replica forgets it. ``None`` when it was gone already."""
    async with runtime.session_factory() as session:
        document = await document_store.get_document(session=session, document_id=document_id)
    if document is None:
        return None
    async with runtime.session_factory.begin() as session:
        collection = await collection_store.get_collection(
            session=session, collection_id=document.collection_id, for_update=True
        )
        old_version = collection.version if collection is not None else 0
        await document_store.delete_document(session=session, document_id=document_id)
        new_version = await collection_store.bump_version(session=session, collection_id=document.collection_id)
    remove_file(document_path(runtime, document))
    await runtime.rag.apply_change(
        document.collection_id, old_version=old_version, new_version=new_version, remove_document=document_id
    )
    return document


async def delete_document(
    runtime: Runtime, principal: Principal, document_id: uuid.UUID, *, client: ClientInfo | None = None
) -> None:
    """Delete a document, its chunks, vectors and file; the collection's version moves so every replica forgets it."""
    await _readable_document(runtime, principal, document_id, needed=Right.WRITE)
    document = await remove_document(runtime, document_id)
    if document is None:
        raise NotFoundError("Document introuvable.")
    await runtime.audit.record(
        category="audit",
        action="document.delete",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="document",
        resource_id=str(document_id),
        client=client,
        details={"collection_id": str(document.collection_id)},
    )
