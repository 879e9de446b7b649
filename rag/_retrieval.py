"""Hybrid retrieval over the collections a user may read: vectors + BM25, RRF fusion, rerank hook."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Hashable, Sequence
from typing import Literal, Protocol, TypeVar

from rag._embeddings import Embedder
from rag._store import IndexStore
from rag._types import Chunk, SearchHit

__all__ = ["Reranker", "Retriever", "SearchMode", "prefer_query_years", "reciprocal_rank_fusion"]

logger = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "vector", "keyword"]
K = TypeVar("K", bound=Hashable)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


def prefer_query_years(query: str, hits: Sequence[SearchHit], *, penalty: float = 0.5) -> list[SearchHit]:
    """Demote passages dated with another year than the one(s) the query names, then re-sort.

    Administrative corpora hold near-duplicates that differ only by year ("barème 2024" / "barème 2025"):
    their passages embed almost identically, so the fused ranking picks one at random. A passage whose
    title, section or text names a year, none of them asked for, has its score multiplied by ``penalty``;
    passages without any year, and every passage of a query without a year, are left as they are.
    """
    wanted = set(_YEAR.findall(query))
    if not wanted:
        return list(hits)

    def adjusted(hit: SearchHit) -> float:
        years = set(_YEAR.findall(f"{hit.chunk.title}\n{hit.section or ''}\n{hit.text}"))
        return hit.score * penalty if years and not years & wanted else hit.score

    rescored = [dataclasses.replace(hit, score=adjusted(hit)) for hit in hits]
    return sorted(rescored, key=lambda hit: -hit.score)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], *, k: int = 60, weights: Sequence[float] | None = None
) -> dict[K, float]:
    """Fuse rankings (best first) with RRF: ``score(d) = Σ w_i / (k + rank_i(d))``, ranks from 1.

    RRF needs no score calibration between cosine and BM25; ``k = 60`` is the value of the original
    paper (Cormack et al., 2009), which damps the weight of the very first ranks.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return scores


class Reranker(Protocol):
    """Optional second stage (e.g. a cross-encoder) that reorders the fused candidates.

    Example::

        class CrossEncoderReranker:
            def rerank(self, query, hits):
                scores = model.predict([(query, hit.text) for hit in hits])
                return [replace(hit, score=s) for hit, s in sorted(zip(hits, scores), key=lambda p: -p[1])]
    """

    def rerank(self, query: str, hits: list[SearchHit]) -> list[SearchHit]:
        """Return ``hits`` reordered (and rescored) best first; may drop some."""
        ...


class Retriever:
    """Searches only the collections it is given, which the caller has already filtered by ACL.

    Nothing outside ``collection_ids`` is ever read, so the text of a forbidden collection cannot
    reach a prompt. Vector scores are comparable across collections (one embedder), and so, roughly,
    are BM25 scores: each list is merged over all allowed collections, then the two lists are fused.
    ``keyword_weight`` (BM25's weight in the fusion, the vector list weighing 1) defaults to 0.5: on
    the French eval set, full-weight BM25 pulled paraphrased questions down (e5 MRR@10 0.823 vs 0.835
    at 0.5). On that small set vector-only search scores best (0.892); hybrid stays the default because
    exact identifiers (article numbers, acronyms) in large corpora are where small embedders fail and
    BM25 does not. See ``benchmarks/rag_embeddings.py``; ``mode="vector"`` switches per call.
    ``year_aware`` demotes passages dated with a year the query did not ask for
    (:func:`prefer_query_years`; see ``benchmarks/rag_eval.py`` for its effect).

    Example::

        retriever = Retriever(store=store, embedder=embedder)
        hits = retriever.search("Combien coûte un passeport ?", collection_ids=allowed, k=5)
    """

    def __init__(
        self,
        *,
        store: IndexStore,
        embedder: Embedder,
        candidates: int = 50,
        rrf_k: int = 60,
        keyword_weight: float = 0.5,
        reranker: Reranker | None = None,
        rerank_candidates: int = 20,
        year_aware: bool = True,
    ) -> None:
        if embedder.dim != store.dim or embedder.model_id != store.model_id:
            raise ValueError("the embedder and the index store must use the same model")
        self._store = store
        self._embedder = embedder
        self._candidates = candidates
        self._rrf_k = rrf_k
        self._keyword_weight = keyword_weight
        self._reranker = reranker
        self._rerank_candidates = rerank_candidates
        self._year_aware = year_aware

    def search(
        self,
        query: str,
        *,
        collection_ids: Sequence[str],
        k: int = 5,
        mode: SearchMode = "hybrid",
    ) -> list[SearchHit]:
        """The ``k`` best passages for ``query`` among ``collection_ids`` (an empty list finds nothing).

        Raises :class:`rag.errors.CollectionNotLoadedError` for a collection not opened in the store.
        """
        if not query.strip() or not collection_ids or k <= 0:
            return []
        collections = [self._store.get(cid) for cid in dict.fromkeys(collection_ids)]
        vector_hits: list[tuple[str, Chunk, float]] = []
        keyword_hits: list[tuple[str, Chunk, float]] = []
        if mode in ("hybrid", "vector"):
            query_vector = self._embedder.embed_query(query)
            for collection in collections:
                for chunk, score in collection.search_vectors(query_vector, self._candidates):
                    vector_hits.append((collection.collection_id, chunk, score))
        if mode in ("hybrid", "keyword"):
            for collection in collections:
                for chunk, score in collection.search_keywords(query, self._candidates):
                    keyword_hits.append((collection.collection_id, chunk, score))
        vector_hits.sort(key=lambda hit: -hit[2])
        keyword_hits.sort(key=lambda hit: -hit[2])
        vector_hits, keyword_hits = vector_hits[: self._candidates], keyword_hits[: self._candidates]

        chunks = {(cid, chunk.id): chunk for cid, chunk, _ in (*vector_hits, *keyword_hits)}
        vector_scores = {(cid, chunk.id): score for cid, chunk, score in vector_hits}
        keyword_scores = {(cid, chunk.id): score for cid, chunk, score in keyword_hits}
        fused = reciprocal_rank_fusion(
            [[(cid, c.id) for cid, c, _ in vector_hits], [(cid, c.id) for cid, c, _ in keyword_hits]],
            k=self._rrf_k,
            weights=[1.0, self._keyword_weight],
        )
        ranked = sorted(fused.items(), key=lambda item: -item[1])
        hits = [
            SearchHit(
                chunk=chunks[key],
                collection_id=key[0],
                score=score,
                vector_score=vector_scores.get(key),
                bm25_score=keyword_scores.get(key),
            )
            for key, score in ranked
        ]
        if self._year_aware:
            hits = prefer_query_years(query, hits)
        if self._reranker is not None and hits:
            hits = self._reranker.rerank(query, hits[: max(self._rerank_candidates, k)])
        logger.debug("search over %d collections: %d candidates", len(collections), len(hits))
        return hits[:k]
