"""The public surface of ``rag.sources`` is curated, and its errors belong to the ``rag`` hierarchy."""

from __future__ import annotations

import inspect

import rag.sources
from rag.errors import RagError
from rag.sources import errors

EXPECTED = {
    "DEFAULT_EXCLUDE", "KnownFile", "PathPatterns", "RemoteFile", "SmbSource", "Source", "SyncChanges",
    "SyncPlan", "WebDavSource", "errors", "hash_content", "plan_sync", "resolve_fetched",
}  # fmt: skip


def test_exported_names() -> None:
    assert set(rag.sources.__all__) == EXPECTED
    for name in rag.sources.__all__:
        assert hasattr(rag.sources, name), name


def test_error_hierarchy_is_documented_and_rooted_in_rag_errors() -> None:
    classes = [obj for _, obj in inspect.getmembers(errors, inspect.isclass) if obj.__module__ == errors.__name__]
    assert {cls.__name__ for cls in classes} == set(errors.__all__)
    for cls in classes:
        assert issubclass(cls, errors.SourceError) and issubclass(cls, RagError)
        assert cls.__doc__, cls.__name__
        assert cls.__name__ in (errors.__doc__ or ""), f"{cls.__name__} missing from the hierarchy drawing"
