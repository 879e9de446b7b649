"""The ingestion job: parse, chunk and embed one document, then store its chunks and vectors (design §7, §12).

Idempotent, as every job handler must be: a retried job deletes the document's chunks before inserting them
again in one transaction (the (document, ordinal) key makes a duplicate impossible anyway), and a document that
is already ready with the same content is left alone. Registered through ``runtime._builtin_job_modules()``.
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Any

from assistant.errors import InvalidRequestError, ServiceUnavailableError, UserFacingError
from assistant.jobs import JobContext, JobRegistry
from assistant.knowledge import row_of_chunk
from assistant.runtime import Runtime
from assistant.services.knowledge.document_files import document_path
from assistant.services.knowledge.documents import INGEST_JOB_KIND
from assistant.store import collections as collection_store
from assistant.store import documents as document_store
from assistant.store.models import Document, DocumentStatus

__all__ = ["ingest_document", "register"]

logger = logging.getLogger(__name__)

_EMBED_BATCH = 32


async def _progress(
    runtime: Runtime, context: JobContext, document_id: uuid.UUID, fraction: float, message: str
) -> None:
    await context.report_progress(fraction, message)
    async with runtime.session_factory.begin() as session:
        await document_store.set_document(session=session, document_id=document_id, progress=round(fraction, 3))


async def _fail(runtime: Runtime, document: Document, message: str) -> None:
    path = document_path(runtime, document)
    async with runtime.session_factory.begin() as session:
        # The bytes are useless once refused: they no longer count against the uploader's quota.
        await document_store.set_document(
            session=session,
            document_id=document.id,
            status=DocumentStatus.FAILED,
            error=message,
            progress=1.0,
            storage_path=None,
            size_bytes=0,
        )
    if path is not None:
        path.unlink(missing_ok=True)


async def ingest_document(runtime: Runtime, context: JobContext) -> dict[str, Any]:
    """Handler of ``documents.ingest`` jobs (payload: ``{"document_id": ...}``), bound to the worker's runtime."""
    document_id = uuid.UUID(str(context.payload["document_id"]))
    try:
        return await _ingest(runtime, context, document_id)
    except UserFacingError:
        raise  # the document is already marked failed with the reason
    except ServiceUnavailableError as exc:
        # The job machinery retries it; meanwhile the document says why it waits.
        async with runtime.session_factory.begin() as session:
            await document_store.set_document(
                session=session, document_id=document_id, status=DocumentStatus.QUEUED, error=exc.message
            )
        raise
    except Exception:
        async with runtime.session_factory.begin() as session:
            await document_store.set_document(
                session=session,
                document_id=document_id,
                status=DocumentStatus.FAILED,
                error="Erreur interne pendant l'indexation ; l'incident est journalisé. Renvoyez le fichier.",
            )
        raise


async def _ingest(runtime: Runtime, context: JobContext, document_id: uuid.UUID) -> dict[str, Any]:
    async with runtime.session_factory() as session:
        document = await document_store.get_document(session=session, document_id=document_id)
    if document is None:
        return {"skipped": "document supprimé"}
    model_id = await runtime.rag.model_id()
    if document.status == DocumentStatus.READY and document.embedding_model == model_id:
        return {"skipped": "déjà indexé", "chunks": document.chunk_count}
    path = document_path(runtime, document)
    if path is None or not path.is_file():
        await _fail(runtime, document, f"Le fichier « {document.filename} » n'est plus disponible ; renvoyez-le.")
        raise InvalidRequestError(f"Le fichier « {document.filename} » n'est plus disponible.")
    async with runtime.session_factory.begin() as session:
        await document_store.set_document(
            session=session, document_id=document_id, status=DocumentStatus.PROCESSING, error=None
        )
    await _progress(runtime, context, document_id, 0.05, "Lecture du document")

    from rag.errors import DocumentError

    try:
        loaded = await runtime.rag.load(path.read_bytes(), filename=document.filename, mime=document.mime)
    except DocumentError as exc:
        await _fail(runtime, document, str(exc))
        raise InvalidRequestError(str(exc)) from exc
    await _progress(runtime, context, document_id, 0.3, "Découpage en passages")
    chunks = await runtime.rag.chunk(loaded, document_id=document_id)
    vectors = []
    for start in range(0, len(chunks), _EMBED_BATCH):
        batch = chunks[start : start + _EMBED_BATCH]
        vectors.append(await runtime.rag.embed_passages([chunk.embedding_text for chunk in batch]))
        done = min(start + _EMBED_BATCH, len(chunks))
        await _progress(runtime, context, document_id, 0.3 + 0.6 * done / len(chunks), f"Passages {done}/{len(chunks)}")

    import numpy as np

    matrix = np.concatenate(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)
    async with runtime.session_factory.begin() as session:
        collection = await collection_store.get_collection(
            session=session, collection_id=document.collection_id, for_update=True
        )
        still_there = await document_store.get_document(session=session, document_id=document_id)
        if collection is None or still_there is None:
            return {"skipped": "document supprimé pendant le traitement"}
        old_version = collection.version
        await document_store.delete_chunks(session=session, document_id=document_id)
        await document_store.insert_chunks(
            session=session,
            chunks=[
                row_of_chunk(chunk, vector, collection_id=document.collection_id, model_id=model_id)
                for chunk, vector in zip(chunks, matrix, strict=True)
            ],
        )
        await document_store.set_document(
            session=session,
            document_id=document_id,
            status=DocumentStatus.READY,
            progress=1.0,
            error=None,
            title=loaded.title[:500] if loaded.title else None,
            pages=loaded.page_count,
            chunk_count=len(chunks),
            ocr_pages=len(loaded.ocr_pages),
            embedding_model=model_id,
        )
        new_version = await collection_store.bump_version(session=session, collection_id=document.collection_id)
    await runtime.rag.apply_change(
        document.collection_id,
        old_version=old_version,
        new_version=new_version,
        remove_document=document_id,
        chunks=chunks,
        vectors=matrix,
    )
    await context.report_progress(1.0, "Document prêt")
    logger.info("document %s ingested: %d chunks, collection v%d", document_id, len(chunks), new_version)
    return {"chunks": len(chunks), "pages": loaded.page_count, "collection_version": new_version}


def register(registry: JobRegistry, runtime: Runtime) -> None:
    """Add the ingestion handler (called by the runtime through ``_builtin_job_modules``)."""
    registry.register(INGEST_JOB_KIND, functools.partial(ingest_document, runtime))
