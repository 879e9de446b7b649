"""Glue between the service and the ``rag`` library: the process's embedder, chunker and index cache."""

from assistant.knowledge._engine import EmbedderConfig, RagEngine, chunk_of_row, row_of_chunk

__all__ = ["EmbedderConfig", "RagEngine", "chunk_of_row", "row_of_chunk"]
