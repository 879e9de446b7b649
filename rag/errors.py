"""Exceptions raised by the ``rag`` library.

Every error carries a French, user-facing message (``str(exc)``) so that the service can show it as is,
for instance next to a document marked « échec » in an ingestion batch. Third-party errors (pdfium,
python-docx, faiss, httpx...) are translated at the seam with ``raise ... from exc``.

Hierarchy::

    RagError
    ├── DocumentError                  a document cannot be ingested (the batch goes on)
    │   ├── UnsupportedFormatError     unknown or unsupported file type
    │   ├── CorruptDocumentError       the file is damaged or is not what its name says
    │   ├── EncryptedDocumentError     password-protected PDF/office file
    │   ├── EmptyDocumentError         no extractable text (even after OCR)
    │   └── DocumentTooLargeError      over a byte, page, pixel or decompression limit (zip bomb)
    ├── OcrError                       the OCR engine failed or is not installed
    ├── EmbeddingError                 an embedding model failed or returned unusable vectors
    │   ├── EmbeddingBackendError      the OpenAI-compatible embedding server failed or is unreachable
    │   └── ModelIntegrityError        bundled weights do not match their pinned sha256
    └── RagIndexError                  a vector/BM25 index operation failed
        ├── IndexMismatchError         dimension or model of an index does not match the embedder
        ├── DuplicateChunkError        a chunk id is added twice to one collection
        └── CollectionNotLoadedError   a search names a collection whose index is not open
"""

from __future__ import annotations

__all__ = [
    "CollectionNotLoadedError",
    "CorruptDocumentError",
    "DocumentError",
    "DocumentTooLargeError",
    "DuplicateChunkError",
    "EmbeddingBackendError",
    "EmbeddingError",
    "EmptyDocumentError",
    "EncryptedDocumentError",
    "IndexMismatchError",
    "ModelIntegrityError",
    "OcrError",
    "RagError",
    "RagIndexError",
    "UnsupportedFormatError",
]


class RagError(Exception):
    """Base class of every error raised by the ``rag`` library."""


class DocumentError(RagError):
    """A document cannot be loaded; the caller marks it failed and goes on with the batch.

    ``filename`` names the offending document so that batch reports can point at it.
    """

    def __init__(self, message: str, *, filename: str | None = None) -> None:
        super().__init__(message)
        self.filename = filename


class UnsupportedFormatError(DocumentError):
    """Raised when neither the content, the MIME type nor the extension is a supported format."""


class CorruptDocumentError(DocumentError):
    """Raised when the parser of the detected format rejects the file (truncated, damaged, mislabelled)."""


class EncryptedDocumentError(DocumentError):
    """Raised for password-protected documents: we never try to guess or bypass a password."""


class EmptyDocumentError(DocumentError):
    """Raised when a document holds no extractable text, even after OCR."""


class DocumentTooLargeError(DocumentError):
    """Raised when a document exceeds ``max_bytes``, ``max_pages``, the pixel limit or a zip-bomb guard."""


class OcrError(RagError):
    """Raised when the OCR engine cannot be loaded or fails on a page."""


class EmbeddingError(RagError):
    """Raised when an embedding model fails or returns vectors of the wrong shape."""


class EmbeddingBackendError(EmbeddingError):
    """Raised when the OpenAI-compatible embedding server is unreachable, times out or answers an error."""


class ModelIntegrityError(EmbeddingError):
    """Raised when bundled model weights do not match the sha256 pinned in their model card."""


class RagIndexError(RagError):
    """Base class of index errors (FAISS, BM25, on-disk cache)."""


class IndexMismatchError(RagIndexError):
    """Raised when vectors or an on-disk index do not match the expected dimension or embedding model."""


class DuplicateChunkError(RagIndexError):
    """Raised when a chunk id already present in a collection is added again without removing it first."""


class CollectionNotLoadedError(RagIndexError):
    """Raised when a search names a collection that was never opened in the index store."""
