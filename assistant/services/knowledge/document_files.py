"""Where uploaded documents' bytes live on disk (``rag_upload_dir``, default ``data_dir/uploads``).

A leaf of the documents and collections services: both reach the files through it (uploads, ingestion,
deletion of one document or of a whole collection).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

from assistant.runtime import Runtime
from assistant.store.models import Document

__all__ = ["document_path", "remove_collection_files", "remove_file", "upload_root", "write_file"]


def upload_root(runtime: Runtime) -> Path:
    return runtime.settings.rag.upload_dir or runtime.settings.data_dir / "uploads"


def document_path(runtime: Runtime, document: Document) -> Path | None:
    """Where the document's bytes are stored (None once they are gone)."""
    if document.storage_path is None:
        return None
    return upload_root(runtime) / document.storage_path


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)  # a crash never leaves a half-written file under the final name


def remove_file(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def remove_collection_files(runtime: Runtime, collection_id: uuid.UUID) -> None:
    """Delete the stored files of a deleted collection."""
    shutil.rmtree(upload_root(runtime) / str(collection_id), ignore_errors=True)
