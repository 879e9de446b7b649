"""One collection's search cache: FAISS vectors, BM25 and the chunk records needed for citations."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rag._bm25 import BM25Index
from rag._types import Chunk
from rag._vector_index import FLAT_MAX_VECTORS, IndexKind, VectorIndex
from rag.errors import IndexMismatchError, RagIndexError

__all__ = ["CollectionIndex"]

logger = logging.getLogger(__name__)

_FORMAT = 1


class CollectionIndex:
    """Vectors, keywords and chunk records of one collection, kept in sync by chunk id.

    It is a cache of what the database holds (design §12): ``version`` is the database's collection
    version it reflects. Methods are thread-safe (one lock per collection); the BM25 part is rebuilt
    lazily at the first keyword search after a change.

    Example::

        collection = CollectionIndex.build("rh", rows, dim=384, model_id=embedder.model_id, version=3)
        collection.add(chunks, vectors)
        collection.remove_document("doc-42")
    """

    def __init__(
        self,
        collection_id: str,
        *,
        dim: int,
        model_id: str,
        version: int = 0,
        flat_max: int = FLAT_MAX_VECTORS,
    ) -> None:
        self.collection_id = collection_id
        self.dim = dim
        self.model_id = model_id
        self.version = version
        self.flat_max = flat_max
        self._vectors = VectorIndex(dim, kind="flat")
        self._chunks: dict[int, Chunk] = {}
        self._bm25: BM25Index | None = None
        self._lock = threading.RLock()

    @classmethod
    def build(
        cls,
        collection_id: str,
        rows: Iterable[tuple[Chunk, NDArray[Any]]],
        *,
        dim: int,
        model_id: str,
        version: int,
        flat_max: int = FLAT_MAX_VECTORS,
    ) -> CollectionIndex:
        """Rebuild from ``(chunk, vector)`` rows read from the database (the source of truth)."""
        chunks: list[Chunk] = []
        vectors: list[NDArray[Any]] = []
        for chunk, vector in rows:
            chunks.append(chunk)
            vectors.append(np.asarray(vector, dtype=np.float32).reshape(-1))
        collection = cls(collection_id, dim=dim, model_id=model_id, version=version, flat_max=flat_max)
        collection._vectors = VectorIndex.for_size(dim, expected=len(chunks), flat_max=flat_max)
        if chunks:
            collection.add(chunks, np.vstack(vectors))
        logger.info("rebuilt collection %s v%d: %d chunks", collection_id, version, len(chunks))
        return collection

    def __len__(self) -> int:
        return len(self._chunks)

    @property
    def kind(self) -> str:
        """``flat`` or ``hnsw``: the FAISS index kind in use."""
        return self._vectors.kind

    @property
    def document_ids(self) -> frozenset[str]:
        """Documents with at least one chunk in the collection."""
        with self._lock:
            return frozenset(chunk.document_id for chunk in self._chunks.values())

    def chunk(self, chunk_id: int) -> Chunk:
        """The record of ``chunk_id`` (``KeyError`` when absent)."""
        return self._chunks[chunk_id]

    def add(self, chunks: Sequence[Chunk], vectors: NDArray[Any]) -> None:
        """Add chunks with their vectors (row i of ``vectors`` belongs to ``chunks[i]``)."""
        with self._lock:
            self._vectors.add([chunk.id for chunk in chunks], vectors)
            self._chunks.update((chunk.id, chunk) for chunk in chunks)
            self._bm25 = None
            if self._vectors.kind == "flat" and len(self._vectors) > self.flat_max:
                self._vectors = self._converted("hnsw")

    def _converted(self, kind: IndexKind) -> VectorIndex:
        logger.info("collection %s passes %d vectors: now %s", self.collection_id, self.flat_max, kind)
        ids = sorted(self._vectors.ids)
        fresh = VectorIndex(self.dim, kind=kind)
        fresh.add(ids, np.vstack([self._vectors.vector(i) for i in ids]))
        return fresh

    def remove(self, chunk_ids: Iterable[int]) -> int:
        """Remove chunks by id; returns how many were present."""
        with self._lock:
            ids = [i for i in chunk_ids if i in self._chunks]
            for chunk_id in ids:
                del self._chunks[chunk_id]
            self._vectors.remove(ids)
            if ids:
                self._bm25 = None
            return len(ids)

    def remove_document(self, document_id: str) -> list[int]:
        """Remove every chunk of ``document_id``; returns their ids (for the caller's bookkeeping)."""
        with self._lock:
            ids = [chunk.id for chunk in self._chunks.values() if chunk.document_id == document_id]
            self.remove(ids)
            return ids

    def search_vectors(self, query: NDArray[Any], k: int) -> list[tuple[Chunk, float]]:
        """Nearest chunks to ``query`` by cosine."""
        with self._lock:
            return [(self._chunks[i], score) for i, score in self._vectors.search(query, k)]

    def search_keywords(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """Best chunks for ``query`` by BM25."""
        with self._lock:
            if self._bm25 is None:
                ids = list(self._chunks)
                texts = [self._bm25_text(self._chunks[i]) for i in ids]
                self._bm25 = BM25Index(ids, texts)
            return [(self._chunks[i], score) for i, score in self._bm25.search(query, k)]

    @staticmethod
    def _bm25_text(chunk: Chunk) -> str:
        # Headings carry strong keywords ("Passeport", "Congés") that the passage may not repeat.
        return f"{chunk.section or ''}\n{chunk.text}"

    def save(self, directory: Path) -> None:
        """Write the collection into an empty ``directory`` (the store handles atomic replacement)."""
        with self._lock:
            directory.mkdir(parents=True, exist_ok=False)
            self._vectors.save(directory / "vectors.faiss")
            with (directory / "chunks.jsonl").open("w", encoding="utf-8") as stream:
                for chunk in self._chunks.values():
                    stream.write(json.dumps(dataclasses.asdict(chunk), ensure_ascii=False) + "\n")
            meta = {
                "format": _FORMAT,
                "collection_id": self.collection_id,
                "version": self.version,
                "model_id": self.model_id,
                "dim": self.dim,
                "flat_max": self.flat_max,
                "count": len(self._chunks),
                "tombstones": sorted(self._vectors.tombstones),
            }
            (directory / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    @staticmethod
    def read_meta(directory: Path) -> dict[str, Any]:
        """The metadata written by :meth:`save` (raises :class:`RagIndexError` when unreadable)."""
        try:
            meta: dict[str, Any] = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RagIndexError(f"Métadonnées d'index illisibles dans {directory}.") from exc
        return meta

    @classmethod
    def load(cls, directory: Path, *, dim: int, model_id: str) -> CollectionIndex:
        """Read a collection saved by :meth:`save`; refuses one built for another model or dimension."""
        meta = cls.read_meta(directory)
        if meta.get("format") != _FORMAT or meta.get("model_id") != model_id or meta.get("dim") != dim:
            raise IndexMismatchError(
                f"L'index de {directory.name} a été construit avec {meta.get('model_id')} "
                f"(dimension {meta.get('dim')}), pas avec {model_id} : il doit être reconstruit."
            )
        collection = cls(
            str(meta["collection_id"]),
            dim=dim,
            model_id=model_id,
            version=int(meta["version"]),
            flat_max=int(meta["flat_max"]),
        )
        collection._vectors = VectorIndex.load(
            directory / "vectors.faiss", dim=dim, tombstones=meta["tombstones"]
        )
        try:
            with (directory / "chunks.jsonl").open(encoding="utf-8") as stream:
                for line in stream:
                    chunk = Chunk(**json.loads(line))
                    collection._chunks[chunk.id] = chunk
        except (OSError, ValueError, TypeError) as exc:
            raise RagIndexError(f"Passages d'index illisibles dans {directory}.") from exc
        if set(collection._chunks) != set(collection._vectors.ids):
            raise RagIndexError(f"Index incohérent dans {directory} : vecteurs et passages diffèrent.")
        return collection
