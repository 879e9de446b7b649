from __future__ import annotations

import hashlib
import itertools

import pytest

from rag import Chunker, E5Embedder, LoadedDocument, Section, approximate_token_count, chunk_id

PARAGRAPH = (
    "Le budget primitif de la commune doit être voté avant le 15 avril de l'exercice. "
    "Il est présenté en deux sections, fonctionnement et investissement, votées en équilibre réel. "
)


def document(sections: list[Section]) -> LoadedDocument:
    return LoadedDocument(
        filename="budget.pdf", mime="application/pdf", title="Guide budgétaire", sections=tuple(sections),
        content_hash="0" * 64, page_count=len(sections),
    )  # fmt: skip


def test_chunks_fit_the_token_budget_of_the_real_tokenizer(e5: E5Embedder) -> None:
    chunker = Chunker(chunk_tokens=64, overlap_tokens=16, count_tokens=e5.count_tokens)
    parts = chunker.split_text(PARAGRAPH * 10)
    assert len(parts) > 5
    assert all(e5.count_tokens(part) <= 64 for part in parts)
    # Nothing is lost: every sentence of the input shows up in some chunk.
    assert all("équilibre réel" in part or "15 avril" in part for part in parts)


def test_chunks_keep_title_section_and_page() -> None:
    doc = document(
        [
            Section(text=PARAGRAPH * 6, page=1, heading="Budget › Calendrier"),
            Section(text="Le compte administratif est voté avant le 30 juin.", page=2, heading="Comptes"),
        ]
    )
    chunks = Chunker(chunk_tokens=60, overlap_tokens=10).split(doc, document_id="doc-1")
    assert len(chunks) >= 3
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert {c.page for c in chunks} == {1, 2}
    last = chunks[-1]
    assert (last.page, last.section, last.title) == (2, "Comptes", "Guide budgétaire")
    assert last.content_hash == hashlib.sha256(last.text.encode()).hexdigest()
    assert last.embedding_text.startswith("Guide budgétaire — Comptes\n")
    # A chunk never spans two sections (citations point at one page).
    assert all("30 juin" not in c.text for c in chunks if c.page == 1)


def test_chunk_ids_are_stable_and_distinct() -> None:
    doc = document([Section(text=PARAGRAPH * 4, page=1)])
    chunker = Chunker(chunk_tokens=50, overlap_tokens=0)
    first = chunker.split(doc, document_id="doc-1")
    again = chunker.split(doc, document_id="doc-1")
    other = chunker.split(doc, document_id="doc-2")
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first} | {c.id for c in other}) == 2 * len(first)
    assert all(0 <= c.id < 2**63 for c in first)
    assert chunk_id("d", 0, "a") != chunk_id("d", 1, "a")


def test_overlap_repeats_context() -> None:
    text = " ".join(f"phrase{i}." for i in range(200))
    parts = Chunker(chunk_tokens=40, overlap_tokens=15).split_text(text)
    assert any(set(a.split()[-3:]) & set(b.split()[:8]) for a, b in itertools.pairwise(parts))


def test_invalid_settings() -> None:
    with pytest.raises(ValueError):
        Chunker(chunk_tokens=10, overlap_tokens=10)


def test_approximate_token_count() -> None:
    assert approximate_token_count("") == 1
    assert approximate_token_count("a" * 30) == 10
