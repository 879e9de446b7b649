"""The interface every share reader implements, and the folder walk they share."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from rag.sources._patterns import PathPatterns
from rag.sources._types import RemoteFile
from rag.sources.errors import SourceError

__all__ = ["MAX_DEPTH", "Source"]

logger = logging.getLogger(__name__)

MAX_DEPTH = 64
"""Folders deeper than this are not listed: a symbolic link to a parent would otherwise loop for ever."""

_EPOCH = datetime.fromtimestamp(0, UTC)  # for the rare server that gives no date: the etag or the size still tell


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """One child of a listed folder, as a reader's ``_list_folder`` reports it."""

    path: str  # relative to the source's root, POSIX
    is_folder: bool
    size: int = 0
    modified: datetime | None = None
    etag: str | None = None


class Source(ABC):
    """A shared drive whose files a collection is kept in sync with (WebDAV, SMB).

    Readers implement ``_list_folder`` (one folder, not recursive: many servers refuse a deep listing) and
    ``read``; the walk, the patterns, the depth guard and the ordering are the same for all of them. A source
    opens its connection on first use; ``aclose`` (or ``async with``) releases it.

    Example::

        async with WebDavSource(base_url="https://cloud.example.fr/remote.php/dav/files/rh/",
                                root_path="Procédures", username="rh", password=secret) as source:
            files = await source.list_files(PathPatterns(include=["**/*.pdf"]))
            data = await source.read(files[0].path, max_bytes=50_000_000)
    """

    description: str
    """The share's address for messages and logs (URL or UNC path), never with credentials."""

    async def list_files(
        self, patterns: PathPatterns | None = None, *, max_files: int | None = None
    ) -> list[RemoteFile]:
        """Every file under the root that ``patterns`` keeps, sorted by path.

        Folders the patterns exclude are not listed at all. ``max_files`` guards against a root set one level
        too high (a whole file server): past it, ``SourceError``.
        """
        patterns = patterns or PathPatterns()
        files: list[RemoteFile] = []
        pending: deque[tuple[str, int]] = deque([("", 0)])
        seen = {""}
        while pending:
            folder, depth = pending.popleft()
            for entry in await self._list_folder(folder):
                if entry.is_folder:
                    if entry.path in seen or patterns.skips_folder(entry.path):
                        continue
                    seen.add(entry.path)
                    if depth + 1 >= MAX_DEPTH:
                        logger.warning(
                            "not listing %s in %s: deeper than %d folders", entry.path, self.description, MAX_DEPTH
                        )
                        continue
                    pending.append((entry.path, depth + 1))
                elif patterns.matches(entry.path):
                    modified = entry.modified or _EPOCH
                    files.append(RemoteFile(entry.path, entry.size, modified, entry.etag))
                    if max_files is not None and len(files) > max_files:
                        raise SourceError(
                            f"Plus de {max_files} fichiers sous {self.description} : choisissez un dossier racine "
                            "plus précis ou des motifs plus restrictifs.",
                            source=self.description,
                        )
        files.sort(key=lambda f: f.path)
        logger.info("listed %d files in %s", len(files), self.description)
        return files

    @abstractmethod
    async def _list_folder(self, folder: str) -> list[FolderEntry]:
        """The direct children of ``folder`` (``""``: the root). Raises ``SourceNotFoundError`` for a missing root;
        a subfolder deleted during the walk gives an empty list."""

    @abstractmethod
    async def read(self, path: str, *, max_bytes: int) -> bytes:
        """The content of the file at ``path`` (as ``list_files`` gave it).

        Raises ``SourceFileTooLargeError`` past ``max_bytes`` (nothing much beyond the limit is downloaded) and
        ``SourceNotFoundError`` if the file has gone since the listing.
        """

    async def aclose(self) -> None:  # noqa: B027  # a reader without a connection to close keeps this one
        """Close the connection to the server; the source reconnects if used again."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def check_relative_path(path: str) -> str:
    """``path`` if it is a plain relative POSIX path; a state restored from elsewhere must not escape the root."""
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"Chemin de fichier invalide pour une source : {path!r}.")
    return path
