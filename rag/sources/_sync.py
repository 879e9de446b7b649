"""Incremental synchronisation of a collection with a share, as two pure steps around the reading of files.

1. ``plan_sync(known, listing)`` compares the previous state with the current listing, metadata only: the files
   whose metadata did not move are left alone, so a synchronisation where nothing changed reads no file at all.
2. The caller reads and hashes (``hash_content``) the plan's ``to_fetch`` files, then ``resolve_fetched`` sorts
   them by content: really added or updated, only touched (same bytes, new date), or renamed/moved (a new path
   whose bytes are those of a removed file: the caller moves the document and keeps its passages).

Content hashes are sha256 hex digests of the raw bytes, the same as ``LoadedDocument.content_hash``.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rag.sources._types import KnownFile, RemoteFile

__all__ = ["SyncChanges", "SyncPlan", "hash_content", "plan_sync", "resolve_fetched"]

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def hash_content(data: bytes) -> str:
    """The content hash the planner compares: sha256, lowercase hex."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What a listing says changed since the previous synchronisation, before any file is read.

    ``to_fetch`` holds the new files and those whose metadata moved (entity tag, or size/modification time
    where the server gives no tag); ``removed`` the known files no longer listed. All three lists are sorted
    by path. ``known`` is the previous state, kept for ``resolve_fetched``.
    """

    unchanged: list[str]
    to_fetch: list[RemoteFile]
    removed: list[KnownFile]
    known: Mapping[str, KnownFile] = field(repr=False)

    @property
    def is_empty(self) -> bool:
        """True when nothing is to be read or removed: the collection is up to date."""
        return not self.to_fetch and not self.removed


@dataclass(frozen=True, slots=True)
class SyncChanges:
    """What to do to the collection once the plan's files have been read and hashed.

    - ``added``, ``updated``: ingest these (records of the new state);
    - ``renamed``: ``(old record, new path)``, same bytes under another path: move the document, keep its passages;
    - ``removed``: delete these documents;
    - ``unchanged_after_fetch``: metadata moved but the bytes did not (a file touched or copied over itself):
      nothing to ingest, only the record to update;
    - ``skipped``: files of ``to_fetch`` absent from ``fetched`` (their reading failed): a known one keeps its
      old record, so the next synchronisation tries it again;
    - ``state``: every record to keep for the next ``plan_sync``.
    """

    added: list[KnownFile]
    updated: list[KnownFile]
    renamed: list[tuple[KnownFile, str]]
    removed: list[KnownFile]
    unchanged_after_fetch: list[KnownFile]
    skipped: list[RemoteFile]
    state: dict[str, KnownFile]


def _changed(old: KnownFile, new: RemoteFile) -> bool:
    if old.size != new.size:  # cheap and never wrong, even where a server reuses entity tags
        return True
    if old.etag is not None and new.etag is not None:
        return old.etag != new.etag
    return old.modified != new.modified


def plan_sync(known: Mapping[str, KnownFile], listing: Iterable[RemoteFile]) -> SyncPlan:
    """Compare the previous state (path → record) with the current listing; reads nothing."""
    current: dict[str, RemoteFile] = {}
    for remote in listing:
        if remote.path in current:
            raise ValueError(f"Chemin listé deux fois : {remote.path!r}.")
        current[remote.path] = remote
    unchanged: list[str] = []
    to_fetch: list[RemoteFile] = []
    for path in sorted(current):
        old = known.get(path)
        if old is not None and not _changed(old, current[path]):
            unchanged.append(path)
        else:
            to_fetch.append(current[path])
    removed = [known[path] for path in sorted(known) if path not in current]
    return SyncPlan(unchanged=unchanged, to_fetch=to_fetch, removed=removed, known=dict(known))


def resolve_fetched(plan: SyncPlan, fetched: Mapping[str, str]) -> SyncChanges:
    """Sort the plan's read files (path → sha256 hex of their bytes) into added, updated, renamed and touched.

    A new path whose hash is that of a removed file is a rename; when several removed files share that hash
    (copies), the one with the same file name is taken first (a moved folder), then the first by path. A file
    both moved and edited has another hash: it is an addition and a removal.
    """
    expected = {remote.path for remote in plan.to_fetch}
    if unexpected := sorted(set(fetched) - expected):
        raise ValueError(f"Fichiers lus qui ne sont pas dans le plan : {unexpected!r}.")
    if malformed := sorted(path for path, digest in fetched.items() if not _SHA256_HEX.fullmatch(digest)):
        raise ValueError(f"Empreintes qui ne sont pas des sha256 hexadécimaux (minuscules) : {malformed!r}.")

    state = {path: plan.known[path] for path in plan.unchanged}
    updated: list[KnownFile] = []
    touched: list[KnownFile] = []
    skipped: list[RemoteFile] = []
    new: list[KnownFile] = []
    for remote in plan.to_fetch:
        old = plan.known.get(remote.path)
        if remote.path not in fetched:
            skipped.append(remote)
            if old is not None:
                state[remote.path] = old
            continue
        record = KnownFile.of(remote, fetched[remote.path])
        if old is None:
            new.append(record)
            continue
        state[remote.path] = record
        (touched if old.content_hash == record.content_hash else updated).append(record)

    renames = _pair_renames(plan.removed, new)
    for record in new:
        state[record.path] = record
    moved = {old.path for old in renames.values()}
    return SyncChanges(
        added=[record for record in new if record.path not in renames],
        updated=updated,
        renamed=sorted(((old, path) for path, old in renames.items()), key=lambda pair: pair[1]),
        removed=[gone for gone in plan.removed if gone.path not in moved],
        unchanged_after_fetch=touched,
        skipped=skipped,
        state=dict(sorted(state.items())),
    )


def _pair_renames(removed: list[KnownFile], new: list[KnownFile]) -> dict[str, KnownFile]:
    """New path → the removed file it replaces, same bytes; same file name first (a folder moved), then by path."""
    pools: dict[str, list[KnownFile]] = {}
    for gone in removed:
        pools.setdefault(gone.content_hash, []).append(gone)
    pairs: dict[str, KnownFile] = {}
    for same_name in (True, False):
        for record in new:
            pool = pools.get(record.content_hash)
            if record.path in pairs or not pool:
                continue
            name = posixpath.basename(record.path)
            old = next((g for g in pool if posixpath.basename(g.path) == name), None if same_name else pool[0])
            if old is not None:
                pool.remove(old)
                pairs[record.path] = old
    return pairs
