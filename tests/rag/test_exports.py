"""The public surface of ``rag`` is curated: changing it is a deliberate act."""

from __future__ import annotations

import inspect

import rag
from rag import errors

EXPECTED = {
    "FLAT_MAX_VECTORS", "SUPPORTED_MIME_TYPES", "BM25Index", "Chunk", "Chunker", "Citation",
    "CollectionIndex", "E5Embedder", "Embedder", "IndexKind", "IndexStore", "LoadedDocument",
    "ModelCard", "OcrEngine", "OpenAIEmbedder", "PromptContext", "RapidOcrEngine", "Reranker",
    "Retriever", "Role", "RowSource", "SearchHit", "SearchMode", "Section", "UseEmbedder",
    "VectorIndex", "Vectors", "approximate_token_count", "chunk_id", "errors", "format_passages",
    "french_tokens", "load_document", "prefer_query_years", "reciprocal_rank_fusion",
    "CitationCheck", "absent_question_words", "attribute_citations", "check_citations", "missing_question_figures",
    "question_coverage",
    "unsupported_figures",
}  # fmt: skip


def test_exported_names() -> None:
    assert set(rag.__all__) == EXPECTED
    for name in rag.__all__:
        assert hasattr(rag, name), name


def test_error_hierarchy_is_documented_and_rooted() -> None:
    classes = [obj for _, obj in inspect.getmembers(errors, inspect.isclass) if obj.__module__ == errors.__name__]
    assert {cls.__name__ for cls in classes} == set(errors.__all__)
    for cls in classes:
        assert issubclass(cls, errors.RagError)
        assert cls.__doc__, cls.__name__
        assert cls.__name__ in (errors.__doc__ or ""), f"{cls.__name__} missing from the hierarchy drawing"


def test_library_does_not_import_the_service() -> None:
    # A fresh interpreter: other test packages of the same run may have imported FastAPI already.
    import pkgutil
    import subprocess
    import sys

    modules = [f"rag.{m.name}" for m in pkgutil.iter_modules(rag.__path__)]
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('assistant', 'fastapi', 'pydantic_settings')]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
