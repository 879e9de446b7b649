"""The process's retrieval engine: embedder, chunker and per-replica index cache over the ``rag`` library.

The database is the source of truth (design §12): this engine only keeps a cache of each collection's index,
opened at the version the database gives and rebuilt from the database's chunk rows when that version moved.
CPU-bound work (parsing, embedding, FAISS) runs in threads so that the event loop keeps serving requests.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant.errors import ServiceUnavailableError
from assistant.store import documents as document_store
from assistant.store.models import DocumentChunk

__all__ = ["EmbedderConfig", "RagEngine", "chunk_of_row", "row_of_chunk"]

logger = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "vector", "keyword"]


@dataclass(frozen=True)
class EmbedderConfig:
    """Which embedding model to use (built from the settings by the runtime)."""

    kind: Literal["e5", "use", "openai"] = "e5"
    threads: int | None = None
    url: str | None = None
    model: str | None = None
    dim: int | None = None
    api_key: str | None = None
    query_prefix: str = ""
    passage_prefix: str = ""


@functools.cache
def _local_embedder(kind: str, threads: int | None) -> Any:
    # Local weights are read-only and checked once: one copy per process, shared by every runtime of it.
    from rag import E5Embedder, UseEmbedder

    if kind == "use":
        return UseEmbedder(threads=threads or 2)
    return E5Embedder(threads=threads)


def _build_embedder(config: EmbedderConfig) -> Any:
    from rag import OpenAIEmbedder

    if config.kind == "openai":
        assert config.url and config.model and config.dim, "validated by the settings"
        return OpenAIEmbedder(
            base_url=config.url,
            model=config.model,
            dim=config.dim,
            api_key=config.api_key,
            query_prefix=config.query_prefix,
            passage_prefix=config.passage_prefix,
        )
    return _local_embedder(config.kind, config.threads)


@contextmanager
def _rag_errors() -> Iterator[None]:
    """Model and index failures are the service's problem, not the caller's: 503, retried by jobs."""
    from rag.errors import EmbeddingError, RagIndexError

    try:
        yield
    except EmbeddingError as exc:
        raise ServiceUnavailableError(f"Le modèle de plongement est indisponible : {exc}") from exc
    except RagIndexError as exc:
        raise ServiceUnavailableError(f"L'index de recherche est indisponible : {exc}") from exc


def row_of_chunk(chunk: Any, vector: NDArray[Any], *, collection_id: uuid.UUID, model_id: str) -> DocumentChunk:
    """The database row of a ``rag.Chunk`` and its vector."""
    return DocumentChunk(
        document_id=uuid.UUID(chunk.document_id),
        ordinal=chunk.ordinal,
        collection_id=collection_id,
        chunk_id=chunk.id,
        text=chunk.text,
        content_hash=chunk.content_hash,
        title=chunk.title[:500],
        section=chunk.section[:1000] if chunk.section else None,
        page=chunk.page,
        token_count=chunk.token_count,
        embedding_model=model_id,
        embedding=np.asarray(vector, dtype="<f4").tobytes(),
    )


def chunk_of_row(row: DocumentChunk) -> tuple[Any, NDArray[Any]]:
    """The ``rag.Chunk`` and vector stored in a row."""
    from rag import Chunk

    chunk = Chunk(
        id=row.chunk_id,
        document_id=str(row.document_id),
        ordinal=row.ordinal,
        text=row.text,
        content_hash=row.content_hash,
        title=row.title,
        section=row.section,
        page=row.page,
        token_count=row.token_count,
    )
    return chunk, np.frombuffer(row.embedding, dtype="<f4")


class RagEngine:
    """Embeds, chunks, caches indexes and searches; one per process, held by the runtime.

    Example::

        hits = await runtime.rag.search("délai de recours", versions={collection_id: 3}, k=5)
    """

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        index_dir: Path,
        embedder: EmbedderConfig,
        chunk_tokens: int = 256,
        overlap_tokens: int = 32,
        max_document_bytes: int = 50_000_000,
        max_document_pages: int = 1_000,
    ) -> None:
        self._sessions = session_factory
        self._index_dir = index_dir
        self._embedder_config = embedder
        self._chunk_tokens = chunk_tokens
        self._overlap_tokens = overlap_tokens
        self.max_document_bytes = max_document_bytes
        self.max_document_pages = max_document_pages
        self._embedder: Any = None
        self._store: Any = None
        self._retriever: Any = None
        self._chunker: Any = None
        self._setup_lock = threading.Lock()
        # FAISS and BM25 objects are mutated in place by incremental updates: searches wait for them.
        self._index_lock = threading.RLock()

    # ---- lazy resources -------------------------------------------------------------------------------

    def _ready(self) -> None:
        with self._setup_lock:
            if self._embedder is not None:
                return
            from rag import Chunker, IndexStore, Retriever

            with _rag_errors():
                embedder = _build_embedder(self._embedder_config)
            self._store = IndexStore(self._index_dir, dim=embedder.dim, model_id=embedder.model_id)
            self._retriever = Retriever(store=self._store, embedder=embedder)
            self._chunker = Chunker(
                chunk_tokens=self._chunk_tokens, overlap_tokens=self._overlap_tokens, count_tokens=embedder.count_tokens
            )
            self._embedder = embedder

    async def model_id(self) -> str:
        """Id of the embedding model (loads it on first use)."""
        await asyncio.to_thread(self._ready)
        return str(self._embedder.model_id)

    # ---- ingestion ------------------------------------------------------------------------------------

    async def load(self, data: bytes, *, filename: str, mime: str | None) -> Any:
        """Parse a document (OCR included); raises ``rag.errors.DocumentError`` with a French message."""
        from rag import load_document

        return await asyncio.to_thread(
            load_document,
            data,
            filename=filename,
            mime=mime,
            max_bytes=self.max_document_bytes,
            max_pages=self.max_document_pages,
        )

    async def chunk(self, document: Any, *, document_id: uuid.UUID) -> list[Any]:
        """Split a loaded document into chunks whose ids derive from ``document_id``."""
        await asyncio.to_thread(self._ready)
        chunks: list[Any] = await asyncio.to_thread(self._chunker.split, document, document_id=str(document_id))
        return chunks

    async def embed_passages(self, texts: Sequence[str]) -> NDArray[Any]:
        """Vectors of passages, ``(n, dim)`` float32."""
        await asyncio.to_thread(self._ready)

        def run() -> NDArray[Any]:
            with _rag_errors():
                vectors: NDArray[Any] = self._embedder.embed_passages(list(texts))
                return vectors

        return await asyncio.to_thread(run)

    async def embed_queries(self, texts: Sequence[str]) -> tuple[NDArray[Any], int]:
        """Vectors of queries and the tokens they cost (for ``/v1/embeddings``)."""
        await asyncio.to_thread(self._ready)

        def run() -> tuple[NDArray[Any], int]:
            with _rag_errors():
                vectors = np.stack([self._embedder.embed_query(text) for text in texts])
                tokens = sum(int(self._embedder.count_tokens(text)) for text in texts)
                return vectors, tokens

        return await asyncio.to_thread(run)

    # ---- index cache ----------------------------------------------------------------------------------

    async def _rows(self, collection_id: uuid.UUID) -> list[tuple[Any, NDArray[Any]]]:
        model_id = str(self._embedder.model_id)
        async with self._sessions() as session:
            return [
                chunk_of_row(row)
                async for row in document_store.iter_chunks(
                    session=session, collection_id=collection_id, embedding_model=model_id
                )
            ]

    def _row_source(self, collection_id: uuid.UUID, loop: asyncio.AbstractEventLoop) -> Callable[[], Any]:
        # IndexStore asks for rows synchronously, and only when its cache is stale: fetch them on the loop then.
        def rows() -> list[tuple[Any, NDArray[Any]]]:
            logger.info("rebuilding the index of collection %s from the database", collection_id)
            return asyncio.run_coroutine_threadsafe(self._rows(collection_id), loop).result()

        return rows

    async def search(
        self, query: str, *, versions: Mapping[uuid.UUID, int], k: int, mode: SearchMode = "hybrid"
    ) -> list[Any]:
        """The ``k`` best passages of the given collections, each opened at its database version.

        ``versions`` must only hold collections the caller may read: nothing else is opened or searched.
        """
        if not versions or not query.strip():
            return []
        await asyncio.to_thread(self._ready)
        loop = asyncio.get_running_loop()

        def run() -> list[Any]:
            with _rag_errors(), self._index_lock:
                for collection_id, version in versions.items():
                    self._store.open(str(collection_id), version=version, rows=self._row_source(collection_id, loop))
                hits: list[Any] = self._retriever.search(
                    query, collection_ids=[str(cid) for cid in versions], k=k, mode=mode
                )
                return hits

        return await asyncio.to_thread(run)

    async def apply_change(
        self,
        collection_id: uuid.UUID,
        *,
        old_version: int,
        new_version: int,
        remove_document: uuid.UUID,
        chunks: Sequence[Any] = (),
        vectors: NDArray[Any] | None = None,
    ) -> bool:
        """Bring this replica's cache from ``old_version`` to ``new_version`` without a rebuild, when it holds
        exactly ``old_version``; otherwise leave it (the next search rebuilds it from the database). True if applied.
        """
        await asyncio.to_thread(self._ready)

        def run() -> bool:
            with self._index_lock:
                if str(collection_id) not in self._store.loaded:
                    return False
                collection = self._store.get(str(collection_id))
                if collection.version != old_version:
                    return False
                try:
                    collection.remove_document(str(remove_document))
                    if chunks and vectors is not None:
                        collection.add(list(chunks), vectors)
                    collection.version = new_version
                    self._store.save(collection)
                except Exception:  # a cache problem must never fail the change itself: drop the cache instead
                    logger.warning("index cache of %s dropped after a failed update", collection_id, exc_info=True)
                    self._store.drop(str(collection_id))
                    return False
                return True

        return await asyncio.to_thread(run)

    async def drop(self, collection_id: uuid.UUID) -> None:
        """Forget a deleted collection's cache (memory and disk)."""
        await asyncio.to_thread(self._ready)

        def run() -> None:
            with self._index_lock:
                self._store.drop(str(collection_id))

        await asyncio.to_thread(run)

    def close(self) -> None:
        """Release the embedding server's connections (local models stay cached for the process)."""
        close = getattr(self._embedder, "close", None)
        if self._embedder_config.kind == "openai" and callable(close):
            close()
