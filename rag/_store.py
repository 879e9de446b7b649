"""Per-replica, on-disk cache of collection indexes, keyed by the database's collection version."""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from rag._collection import CollectionIndex
from rag._types import Chunk
from rag._vector_index import FLAT_MAX_VECTORS
from rag.errors import CollectionNotLoadedError, RagIndexError

__all__ = ["IndexStore", "RowSource"]

logger = logging.getLogger(__name__)

#: Called only when the cache must be rebuilt: yields every ``(chunk, vector)`` of the collection.
RowSource = Callable[[], Iterable[tuple[Chunk, NDArray[Any]]]]

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class IndexStore:
    """Opens, caches in memory and persists the :class:`CollectionIndex` of each collection.

    Layout: ``root/<collection_id>/CURRENT`` names the snapshot directory in force; a save writes a
    fresh snapshot and then swaps ``CURRENT`` with an atomic rename, so a crash never leaves a
    half-written index in force. Anything unreadable or stale is rebuilt from the database rows:
    a lost index is never lost data.

    Example::

        store = IndexStore(Path("/var/lib/souverain/index"), dim=384, model_id=embedder.model_id)
        collection = store.open("rh", version=db_version, rows=lambda: repo.chunk_rows("rh"))
        collection.add(chunks, vectors); collection.version = new_version; store.save(collection)
    """

    def __init__(self, root: Path, *, dim: int, model_id: str, flat_max: int = FLAT_MAX_VECTORS) -> None:
        self.root = root
        self.dim = dim
        self.model_id = model_id
        self.flat_max = flat_max
        self._open: dict[str, CollectionIndex] = {}
        self._lock = threading.Lock()

    def _directory(self, collection_id: str) -> Path:
        # Ids become directory names: refuse anything that could escape root.
        if not _SAFE_ID.match(collection_id):
            raise ValueError(f"invalid collection id {collection_id!r}")
        return self.root / collection_id

    @property
    def loaded(self) -> frozenset[str]:
        """Ids of the collections open in memory."""
        return frozenset(self._open)

    def get(self, collection_id: str) -> CollectionIndex:
        """The open collection, or :class:`CollectionNotLoadedError` if :meth:`open` was never called."""
        try:
            return self._open[collection_id]
        except KeyError:
            raise CollectionNotLoadedError(
                f"La collection {collection_id} n'est pas chargée sur ce serveur."
            ) from None

    def open(self, collection_id: str, *, version: int, rows: RowSource) -> CollectionIndex:
        """The collection at ``version``: from memory, else disk, else rebuilt from ``rows()`` and saved."""
        directory = self._directory(collection_id)
        with self._lock:
            current = self._open.get(collection_id)
            if current is not None and current.version == version:
                return current
            collection = self._load(directory, version)
            if collection is None:
                collection = CollectionIndex.build(
                    collection_id, rows(), dim=self.dim, model_id=self.model_id, version=version,
                    flat_max=self.flat_max,
                )  # fmt: skip
                self._save(directory, collection)
            self._open[collection_id] = collection
            return collection

    def _load(self, directory: Path, version: int) -> CollectionIndex | None:
        snapshot = self._current_snapshot(directory)
        if snapshot is None:
            return None
        try:
            if CollectionIndex.read_meta(snapshot).get("version") != version:
                return None
            return CollectionIndex.load(snapshot, dim=self.dim, model_id=self.model_id)
        except RagIndexError as exc:
            logger.warning("index cache %s unusable, rebuilding: %s", snapshot, exc)
            return None

    @staticmethod
    def _current_snapshot(directory: Path) -> Path | None:
        try:
            name = (directory / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        snapshot = directory / name
        return snapshot if name and snapshot.parent == directory and snapshot.is_dir() else None

    def save(self, collection: CollectionIndex) -> None:
        """Persist ``collection`` (after a change and a version bump) and keep it open."""
        directory = self._directory(collection.collection_id)
        with self._lock:
            self._save(directory, collection)
            self._open[collection.collection_id] = collection

    def _save(self, directory: Path, collection: CollectionIndex) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        name = f"v{collection.version}-{uuid.uuid4().hex[:12]}"
        collection.save(directory / name)
        pointer = directory / f"CURRENT.{name}.tmp"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, directory / "CURRENT")
        for stale in directory.iterdir():
            if stale.is_dir() and stale.name != name:
                shutil.rmtree(stale, ignore_errors=True)
        logger.info(
            "saved collection %s v%d (%d chunks)",
            collection.collection_id,
            collection.version,
            len(collection),
        )

    def evict(self, collection_id: str) -> None:
        """Forget the in-memory copy (the disk cache stays)."""
        with self._lock:
            self._open.pop(collection_id, None)

    def drop(self, collection_id: str) -> None:
        """Delete a collection's cache from memory and disk (when the collection itself is deleted)."""
        directory = self._directory(collection_id)
        with self._lock:
            self._open.pop(collection_id, None)
            shutil.rmtree(directory, ignore_errors=True)
