"""Plain data records shared by loaders, chunking, indexes and retrieval."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Chunk", "LoadedDocument", "SearchHit", "Section"]


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text with one location: a page of a PDF, or the body under one heading.

    ``heading`` is the heading path (``"Titre › Sous-titre"``) or ``None`` before the first heading;
    ``page`` is 1-based and only known for paginated formats (PDF, scans).
    """

    text: str
    page: int | None = None
    heading: str | None = None
    ocr: bool = False


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """The text of one document, in reading order, with what citations need.

    ``content_hash`` is the sha256 of the raw bytes: equal hashes mean re-ingestion can be skipped.
    """

    filename: str
    mime: str
    title: str
    sections: tuple[Section, ...]
    content_hash: str
    page_count: int | None = None

    @property
    def text(self) -> str:
        """The whole text, sections separated by blank lines."""
        return "\n\n".join(s.text for s in self.sections)

    @property
    def ocr_pages(self) -> tuple[int, ...]:
        """Pages whose text came from OCR (for the ingestion report)."""
        return tuple(s.page for s in self.sections if s.ocr and s.page is not None)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage ready to embed and cite.

    ``id`` is a positive 63-bit integer derived from the document id, the position and the content,
    so re-chunking identical content yields identical ids (FAISS ``IndexIDMap`` ids are int64).
    ``content_hash`` is the sha256 of ``text``.
    """

    id: int
    document_id: str
    ordinal: int
    text: str
    content_hash: str
    title: str = ""
    section: str | None = None
    page: int | None = None
    token_count: int = 0

    @property
    def embedding_text(self) -> str:
        """Text given to the embedder: title and section give context to short passages."""
        context = " — ".join(part for part in (self.title, self.section) if part)
        return f"{context}\n{self.text}" if context else self.text


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One retrieved passage with its provenance and scores.

    ``score`` is the fused (reciprocal-rank) score, or the reranker's score when one ran;
    ``vector_score`` (cosine) and ``bm25_score`` are ``None`` when that retriever did not return it.
    """

    chunk: Chunk
    collection_id: str
    score: float
    vector_score: float | None = None
    bm25_score: float | None = None

    @property
    def document_id(self) -> str:
        """Id of the document the passage comes from."""
        return self.chunk.document_id

    @property
    def page(self) -> int | None:
        """1-based page of the passage, when known."""
        return self.chunk.page

    @property
    def section(self) -> str | None:
        """Heading path of the passage, when known."""
        return self.chunk.section

    @property
    def text(self) -> str:
        """The passage text."""
        return self.chunk.text
