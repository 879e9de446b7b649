from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag import (
    Chunk,
    E5Embedder,
    IndexStore,
    Retriever,
    SearchHit,
    SearchMode,
    chunk_id,
    reciprocal_rank_fusion,
)
from rag.errors import CollectionNotLoadedError


def as_chunks(passages: list[dict[str, str]], prefix: str = "") -> list[Chunk]:
    return [
        Chunk(
            id=chunk_id(prefix + p["id"], 0, p["text"]),
            document_id=prefix + p["id"],
            ordinal=0,
            text=p["text"],
            content_hash="h",
            title=p["title"],
            section=p["title"],
            page=1,
        )
        for p in passages
    ]


@pytest.fixture(scope="module")
def eval_chunks(eval_set: dict[str, Any], e5: E5Embedder) -> tuple[list[Chunk], np.ndarray]:
    chunks = as_chunks(eval_set["passages"])
    return chunks, e5.embed_passages([c.embedding_text for c in chunks])


@pytest.fixture
def store(tmp_path: Path, e5: E5Embedder, eval_chunks: tuple[list[Chunk], np.ndarray]) -> IndexStore:
    chunks, vectors = eval_chunks
    store = IndexStore(tmp_path, dim=e5.dim, model_id=e5.model_id)
    store.open("public", version=1, rows=lambda: zip(chunks, vectors, strict=True))
    return store


def test_hybrid_retrieval_finds_the_right_passage_for_french_questions(
    store: IndexStore, e5: E5Embedder, eval_set: dict[str, Any]
) -> None:
    retriever = Retriever(store=store, embedder=e5)
    found_at: list[int | None] = []
    for item in eval_set["queries"]:
        hits = retriever.search(item["query"], collection_ids=["public"], k=5)
        ids = [hit.document_id for hit in hits]
        found_at.append(ids.index(item["expected"][0]) if item["expected"][0] in ids else None)
    recall_at_5 = sum(rank is not None for rank in found_at) / len(found_at)
    top1 = sum(rank == 0 for rank in found_at) / len(found_at)
    # Measured 0.95 / 0.74 with the defaults (benchmarks/rag_embeddings.py); the margin only absorbs noise.
    assert recall_at_5 >= 0.9
    assert top1 >= 0.65


def test_hits_carry_citation_metadata_and_scores(store: IndexStore, e5: E5Embedder) -> None:
    hit = Retriever(store=store, embedder=e5).search(
        "Quel est le prix d'un passeport pour un enfant ?", collection_ids=["public"], k=3
    )[0]
    assert hit.document_id == "passeport" and hit.page == 1 and hit.section == "Passeport"
    assert "86 euros" in hit.text and hit.collection_id == "public"
    assert hit.vector_score is not None and 0 < hit.vector_score <= 1
    assert hit.bm25_score is not None and hit.score > 0


def test_keyword_mode_handles_unaccented_queries(store: IndexStore, e5: E5Embedder) -> None:
    hits = Retriever(store=store, embedder=e5).search(
        "registre public d'accessibilite", collection_ids=["public"], k=3, mode="keyword"
    )
    assert hits[0].document_id == "accueil_handicap" and hits[0].vector_score is None


def test_forbidden_collection_never_leaks(store: IndexStore, e5: E5Embedder) -> None:
    secret = Chunk(
        id=chunk_id("secret", 0, "x"), document_id="note-confidentielle", ordinal=0,
        text="Le passeport biométrique coûte 86 euros : tarif confidentiel du ministère.",
        content_hash="h", title="Passeport",
    )  # fmt: skip
    vector = e5.embed_passages([secret.embedding_text])
    store.open("confidentiel", version=1, rows=lambda: [(secret, vector[0])])
    retriever = Retriever(store=store, embedder=e5)
    query = "Combien coûte le passeport biométrique ?"
    # Sanity: with access, the secret is among the best matches...
    both = retriever.search(query, collection_ids=["public", "confidentiel"], k=3)
    assert "note-confidentielle" in [h.document_id for h in both]
    # ...without it, no mode and no k ever returns it.
    modes: tuple[SearchMode, ...] = ("hybrid", "vector", "keyword")
    for mode in modes:
        hits = retriever.search(query, collection_ids=["public"], k=100, mode=mode)
        assert hits and all(h.collection_id == "public" for h in hits)
        assert all(h.document_id != "note-confidentielle" for h in hits)
    assert retriever.search(query, collection_ids=[], k=5) == []


def test_unknown_collection_is_an_error(store: IndexStore, e5: E5Embedder) -> None:
    with pytest.raises(CollectionNotLoadedError):
        Retriever(store=store, embedder=e5).search("test", collection_ids=["public", "inconnue"])


def test_reranker_hook_reorders(store: IndexStore, e5: E5Embedder) -> None:
    seen: list[int] = []

    class Reverse:
        def rerank(self, query: str, hits: list[SearchHit]) -> list[SearchHit]:
            seen.append(len(hits))
            return [replace(hit, score=float(i)) for i, hit in enumerate(reversed(hits))]

    plain = Retriever(store=store, embedder=e5).search("passeport", collection_ids=["public"], k=20)
    reranked = Retriever(store=store, embedder=e5, reranker=Reverse(), rerank_candidates=20).search(
        "passeport", collection_ids=["public"], k=3
    )
    assert seen == [20]
    assert [h.chunk.id for h in reranked] == [h.chunk.id for h in reversed(plain)][:3]


def test_embedder_and_store_must_match(tmp_path: Path, e5: E5Embedder) -> None:
    with pytest.raises(ValueError):
        Retriever(store=IndexStore(tmp_path, dim=512, model_id="autre"), embedder=e5)


def test_reciprocal_rank_fusion() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert sorted(fused, key=lambda key: -fused[key]) == ["a", "c", "b"]
    weighted = reciprocal_rank_fusion([["a"], ["b"]], k=0, weights=[1.0, 0.5])
    assert weighted == {"a": 1.0, "b": 0.5}
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])
