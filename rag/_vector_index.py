"""FAISS inner-product index keyed by chunk id: exact (flat) for small collections, HNSW above."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from rag.errors import DuplicateChunkError, IndexMismatchError, RagIndexError

__all__ = ["FLAT_MAX_VECTORS", "IndexKind", "VectorIndex"]

logger = logging.getLogger(__name__)

IndexKind = Literal["flat", "hnsw"]

#: Up to this many vectors an exact flat scan is fast enough and needs no tuning. Measured on 2 shared
#: cores with ``benchmarks/rag_embeddings.py`` (384-d, k=10): flat p50 0.5 ms at 10k and 9 ms at 100k;
#: HNSW (M=32) 0.1-0.2 ms with recall@10 0.999, for 18 % more memory and ~9 s of build per 100k.
FLAT_MAX_VECTORS = 50_000
# Fraction of removed-but-still-stored HNSW vectors that triggers a compaction.
_COMPACT_RATIO = 0.2


@contextmanager
def _faiss_errors(action: str) -> Iterator[None]:
    try:
        yield
    except RuntimeError as exc:  # faiss reports every C++ failure as RuntimeError
        raise RagIndexError(f"Erreur de l'index vectoriel pendant l'opération « {action} ».") from exc


class VectorIndex:
    """Cosine search over L2-normalised vectors, addressed by int64 chunk ids.

    ``flat`` wraps ``IndexFlatIP`` in ``IndexIDMap2`` (exact, real removals). ``hnsw`` wraps
    ``IndexHNSWFlat``, which cannot remove vectors: removed ids become tombstones excluded at search
    time with an ``IDSelector``, and the graph is rebuilt from its own stored vectors once tombstones
    pass 20 %.

    Example::

        index = VectorIndex.for_size(384, expected=len(rows))
        index.add([chunk.id for chunk in chunks], vectors)
        hits = index.search(query_vector, k=10)   # [(chunk_id, cosine), ...]
    """

    def __init__(
        self,
        dim: int,
        *,
        kind: IndexKind = "flat",
        hnsw_m: int = 32,
        ef_construction: int = 80,
        ef_search: int = 64,
    ) -> None:
        import faiss

        self.dim = dim
        self.kind: IndexKind = kind
        self._hnsw = (hnsw_m, ef_construction)
        self.ef_search = ef_search
        if kind == "flat":
            base: Any = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            base = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = ef_construction
        else:
            raise ValueError(f"unknown index kind {kind!r}")
        self._index: Any = faiss.IndexIDMap2(base)
        self._ids: set[int] = set()
        self._tombstones: set[int] = set()

    @classmethod
    def for_size(cls, dim: int, *, expected: int, flat_max: int = FLAT_MAX_VECTORS) -> VectorIndex:
        """Flat up to ``flat_max`` vectors, HNSW above."""
        return cls(dim, kind="flat" if expected <= flat_max else "hnsw")

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._ids

    @property
    def ids(self) -> frozenset[int]:
        """Ids of the live (not removed) vectors."""
        return frozenset(self._ids)

    def _as_matrix(self, vectors: NDArray[Any], rows: int | None = None) -> NDArray[np.float32]:
        matrix = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.dim or (rows is not None and matrix.shape[0] != rows):
            raise IndexMismatchError(
                f"Vecteurs de forme {matrix.shape} incompatibles avec l'index (dimension {self.dim})."
            )
        return matrix

    def add(self, ids: Sequence[int], vectors: NDArray[Any]) -> None:
        """Add vectors under ``ids``; an id already present raises :class:`DuplicateChunkError`."""
        id_array = np.asarray(ids, dtype=np.int64)
        matrix = self._as_matrix(vectors, rows=len(id_array))
        new = set(id_array.tolist())
        if len(new) != len(id_array) or new & self._ids:
            raise DuplicateChunkError("Un même identifiant de passage est ajouté deux fois à l'index.")
        if new & self._tombstones:
            # A tombstoned id still sits in the HNSW graph; compact so the new vector is the only one.
            self.compact()
        with _faiss_errors("ajout"):
            self._index.add_with_ids(matrix, id_array)
        self._ids |= new

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ``ids`` (unknown ids are ignored); returns how many were removed."""
        gone = set(ids) & self._ids
        if not gone:
            return 0
        self._ids -= gone
        if self.kind == "flat":
            with _faiss_errors("suppression"):
                self._index.remove_ids(np.fromiter(gone, dtype=np.int64, count=len(gone)))
        else:
            self._tombstones |= gone
            if len(self._tombstones) > _COMPACT_RATIO * max(self._index.ntotal, 1):
                self.compact()
        return len(gone)

    def compact(self) -> None:
        """Rebuild an HNSW graph without its tombstones (no-op for flat indexes or without tombstones)."""
        if not self._tombstones:
            return
        live = np.fromiter(self._ids, dtype=np.int64, count=len(self._ids))
        with _faiss_errors("compactage"):
            vectors = (
                np.vstack([self._index.reconstruct(int(i)) for i in live])
                if len(live)
                else np.zeros((0, self.dim), np.float32)
            )
        logger.info("compacting HNSW index: %d live, %d removed", len(live), len(self._tombstones))
        fresh = VectorIndex(self.dim, kind=self.kind, hnsw_m=self._hnsw[0], ef_construction=self._hnsw[1])
        if len(live):
            with _faiss_errors("compactage"):
                fresh._index.add_with_ids(vectors, live)
        self._index, self._tombstones = fresh._index, set()

    def vector(self, chunk_id: int) -> NDArray[np.float32]:
        """The stored vector of ``chunk_id``."""
        if chunk_id not in self._ids:
            raise KeyError(chunk_id)
        with _faiss_errors("lecture"):
            return np.asarray(self._index.reconstruct(int(chunk_id)), dtype=np.float32)

    def search(self, query: NDArray[Any], k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest ``(chunk_id, cosine)`` pairs to one query vector, best first."""
        import faiss

        if not self._ids or k <= 0:
            return []
        matrix = self._as_matrix(query, rows=1)
        k = min(k, len(self._ids))
        params: Any = None
        if self.kind == "hnsw":
            # The faiss stubs lag the library: SearchParametersHNSW exists since faiss 1.7.4.
            params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, k))  # type: ignore[attr-defined]
            if self._tombstones:
                selector = faiss.IDSelectorBatch(np.fromiter(self._tombstones, dtype=np.int64))
                params.sel = faiss.IDSelectorNot(selector)
        with _faiss_errors("recherche"):
            scores, ids = self._index.search(matrix, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def save(self, path: Path) -> None:
        """Write the FAISS index to ``path``; the caller keeps :attr:`tombstones` in its metadata."""
        import faiss

        with _faiss_errors("écriture"):
            faiss.write_index(self._index, str(path))

    @property
    def tombstones(self) -> frozenset[int]:
        """Removed ids still stored in an HNSW graph."""
        return frozenset(self._tombstones)

    @classmethod
    def load(cls, path: Path, *, dim: int, tombstones: Iterable[int] = ()) -> VectorIndex:
        """Read an index written by :meth:`save`; ``dim`` must match."""
        import faiss

        with _faiss_errors("lecture"):
            raw: Any = faiss.read_index(str(path))
        if raw.d != dim:
            raise IndexMismatchError(f"L'index sur disque a la dimension {raw.d}, {dim} attendue.")
        inner = faiss.downcast_index(raw.index)
        index = cls(dim, kind="hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat")
        # Keep the object read_index returned: it owns the C++ index (a downcast copy would not).
        index._index = raw
        index._tombstones = set(tombstones)
        stored = set(faiss.vector_to_array(index._index.id_map).tolist())
        index._ids = stored - index._tombstones
        return index
