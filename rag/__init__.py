"""Document ingestion and retrieval library (no web imports; configured by keyword arguments).

Pipeline::

    doc = load_document(data, filename="guide.pdf", max_bytes=..., max_pages=...)
    chunks = Chunker(count_tokens=embedder.count_tokens).split(doc, document_id="doc-42")
    vectors = embedder.embed_passages([c.embedding_text for c in chunks])
    store.open("rh", version=v, rows=...).add(chunks, vectors)
    hits = Retriever(store=store, embedder=embedder).search(question, collection_ids=allowed)
    context = format_passages(hits)
"""

from rag import errors
from rag._answer_checks import (
    CitationCheck,
    absent_question_words,
    attribute_citations,
    check_citations,
    missing_question_figures,
    question_coverage,
    unsupported_figures,
)
from rag._bm25 import BM25Index, french_tokens
from rag._chunking import Chunker, approximate_token_count, chunk_id
from rag._collection import CollectionIndex
from rag._embeddings import E5Embedder, Embedder, ModelCard, Role, UseEmbedder, Vectors
from rag._loading import SUPPORTED_MIME_TYPES, load_document
from rag._ocr import OcrEngine, RapidOcrEngine
from rag._openai_embeddings import OpenAIEmbedder
from rag._prompt import Citation, PromptContext, format_passages
from rag._retrieval import Reranker, Retriever, SearchMode, prefer_query_years, reciprocal_rank_fusion
from rag._store import IndexStore, RowSource
from rag._types import Chunk, LoadedDocument, SearchHit, Section
from rag._vector_index import FLAT_MAX_VECTORS, IndexKind, VectorIndex

__all__ = [
    "FLAT_MAX_VECTORS",
    "SUPPORTED_MIME_TYPES",
    "BM25Index",
    "Chunk",
    "Chunker",
    "Citation",
    "CitationCheck",
    "CollectionIndex",
    "E5Embedder",
    "Embedder",
    "IndexKind",
    "IndexStore",
    "LoadedDocument",
    "ModelCard",
    "OcrEngine",
    "OpenAIEmbedder",
    "PromptContext",
    "RapidOcrEngine",
    "Reranker",
    "Retriever",
    "Role",
    "RowSource",
    "SearchHit",
    "SearchMode",
    "Section",
    "UseEmbedder",
    "VectorIndex",
    "Vectors",
    "absent_question_words",
    "approximate_token_count",
    "attribute_citations",
    "check_citations",
    "chunk_id",
    "errors",
    "format_passages",
    "french_tokens",
    "load_document",
    "missing_question_figures",
    "prefer_query_years",
    "question_coverage",
    "reciprocal_rank_fusion",
    "unsupported_figures",
]
