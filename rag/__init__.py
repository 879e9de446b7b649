"""Document ingestion and retrieval library (no web imports)."""
