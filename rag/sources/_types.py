"""Plain records shared by the share readers and the synchronisation planner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["KnownFile", "RemoteFile"]


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One file as a share lists it, before any content is read.

    ``path`` is relative to the source's root, POSIX style (``"RH/Congés 2025.pdf"``, no leading slash), with
    the names exactly as the server spells them (not normalised: ``read`` must find the file again).
    ``modified`` is timezone-aware UTC. ``etag`` is the WebDAV
    entity tag as the server sent it, or ``None`` where the protocol has none (SMB): the planner then compares
    ``size`` and ``modified``.
    """

    path: str
    size: int
    modified: datetime
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class KnownFile:
    """What the previous synchronisation recorded about a file: its listing metadata and its content's hash.

    ``content_hash`` is the sha256 hex digest of the file's bytes (the same digest as
    ``LoadedDocument.content_hash``), so that a renamed or merely touched file is recognised without
    re-ingesting it.
    """

    path: str
    size: int
    modified: datetime
    etag: str | None
    content_hash: str

    @classmethod
    def of(cls, remote: RemoteFile, content_hash: str) -> KnownFile:
        """The record to keep once ``remote``'s content has been read and hashed."""
        return cls(remote.path, remote.size, remote.modified, remote.etag, content_hash)
