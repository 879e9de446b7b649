"""Token-aware chunking with langchain's recursive splitter, keeping title, heading and page per chunk."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable

from rag._types import Chunk, LoadedDocument

__all__ = ["Chunker", "approximate_token_count", "chunk_id"]

logger = logging.getLogger(__name__)

# Paragraphs, then lines, then sentences, then clauses, then words: a chunk ends at the strongest
# boundary that keeps it under the token budget.
_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]
_ID_MASK = (1 << 63) - 1


def approximate_token_count(text: str) -> int:
    """Token estimate without a tokenizer: SentencePiece models average ~3 characters per French token."""
    return max(1, math.ceil(len(text) / 3))


def chunk_id(document_id: str, ordinal: int, text: str) -> int:
    """Stable positive 63-bit id of a chunk: same document, position and text give the same id.

    63 bits keep ids positive in FAISS (int64, -1 means "no result"); collisions are negligible
    (about 5e-8 for a million chunks).
    """
    digest = hashlib.sha256(f"{document_id}\x00{ordinal}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & _ID_MASK


class Chunker:
    """Split a :class:`LoadedDocument` into :class:`Chunk` records for embedding and citation.

    Sections never merge: a chunk belongs to one page and one heading, so citations stay exact.
    ``count_tokens`` should be the embedder's tokenizer (``embedder.count_tokens``) so chunks fit its
    context; the default is an estimate.

    Example::

        chunker = Chunker(chunk_tokens=256, overlap_tokens=32, count_tokens=embedder.count_tokens)
        chunks = chunker.split(document, document_id="doc-42")
    """

    def __init__(
        self,
        *,
        chunk_tokens: int = 256,
        overlap_tokens: int = 32,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        if chunk_tokens <= 0 or not 0 <= overlap_tokens < chunk_tokens:
            raise ValueError("chunk_tokens must be > 0 and 0 <= overlap_tokens < chunk_tokens")
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self._count = count_tokens or approximate_token_count
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_tokens,
            chunk_overlap=overlap_tokens,
            length_function=self._count,
            separators=_SEPARATORS,
            keep_separator="end",
            strip_whitespace=True,
        )

    def split_text(self, text: str) -> list[str]:
        """Split one text into passages of at most ``chunk_tokens`` tokens (when word boundaries allow)."""
        return [part for part in self._splitter.split_text(text) if part.strip()]

    def split(self, document: LoadedDocument, *, document_id: str) -> list[Chunk]:
        """Chunks of ``document`` in reading order, with ids derived from ``document_id``."""
        chunks: list[Chunk] = []
        for section in document.sections:
            for text in self.split_text(section.text):
                ordinal = len(chunks)
                chunks.append(
                    Chunk(
                        id=chunk_id(document_id, ordinal, text),
                        document_id=document_id,
                        ordinal=ordinal,
                        text=text,
                        content_hash=hashlib.sha256(text.encode()).hexdigest(),
                        title=document.title,
                        section=section.heading,
                        page=section.page,
                        token_count=self._count(text),
                    )
                )
        logger.debug("document %s: %d chunks", document_id, len(chunks))
        return chunks
