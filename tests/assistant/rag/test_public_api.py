"""The curated public surface of the RAG glue package."""

from __future__ import annotations

import assistant.knowledge


def test_knowledge_exports() -> None:
    assert sorted(assistant.knowledge.__all__) == ["EmbedderConfig", "RagEngine", "chunk_of_row", "row_of_chunk"]
    for name in assistant.knowledge.__all__:
        assert getattr(assistant.knowledge, name).__module__ == "assistant.knowledge._engine"
