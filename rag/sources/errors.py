"""Exceptions raised by the knowledge-source readers (WebDAV, SMB).

Every error carries a French, user-facing message (``str(exc)``) that names the source (its address, never
its credentials) so that the service can show it as is next to a failed synchronisation. The password is
never part of a message, of an attribute or of a log line. Third-party errors (httpx, smbprotocol) are
translated at the seam with ``raise ... from exc``.

Hierarchy::

    RagError                            (rag.errors)
    └── SourceError                     the share answered something unusable (server error, not WebDAV...)
        ├── SourceUnreachableError      connection refused, name unknown, timeout
        ├── SourceAuthError             credentials refused (HTTP 401/403, SMB logon failure, access denied)
        ├── SourceNotFoundError         the root folder (or a file listed before) does not exist (HTTP 404)
        └── SourceFileTooLargeError     a file is larger than the caller's ``max_bytes``
"""

from __future__ import annotations

from rag.errors import RagError

__all__ = [
    "SourceAuthError",
    "SourceError",
    "SourceFileTooLargeError",
    "SourceNotFoundError",
    "SourceUnreachableError",
]


class SourceError(RagError):
    """Base class of the source errors; raised as is when the share answers something we cannot use.

    ``source`` names the share (URL or ``\\\\server\\share``, without credentials) for batch reports.
    """

    def __init__(self, message: str, *, source: str) -> None:
        super().__init__(message)
        self.source = source


class SourceUnreachableError(SourceError):
    """Raised when the server cannot be reached: connection refused, unknown name, or no answer in time."""


class SourceAuthError(SourceError):
    """Raised when the server refuses the credentials or the account may not read the folder."""


class SourceNotFoundError(SourceError):
    """Raised when the root folder does not exist, or a file disappeared between the listing and its reading."""


class SourceFileTooLargeError(SourceError):
    """Raised by ``read`` when a file is larger than ``max_bytes``; nothing beyond the limit is downloaded."""
