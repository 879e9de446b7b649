"""Documents and collections: upload, ingestion jobs, access rules, search, and the grounding every answer over
internal documents shares (access check before retrieval, passages as data, citations).
"""

# The modules other service groups may import (tests/test_architecture.py holds them to it); the API and
# the CLI may use any module of the group.
__all__: list[str] = ["collections", "grounding"]
