"""The user's batches and files under the RGPD: in their data export, erased with their data, purged by retention."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from assistant.runtime import Runtime
from assistant.services.batch._ids import file_id
from assistant.services.batch.batches import batch_object
from assistant.services.batch.files import file_object
from assistant.store import batches as store
from assistant.store import utcnow

__all__ = ["erase_batches", "export_batches", "purge_batches"]


async def export_batches(runtime: Runtime, *, owner_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A summary of the owner's batches and files, and each file's bytes by archive name (``fichiers/…``)."""
    async with runtime.session_factory() as session:
        batches = await store.list_owned_batches(session=session, owner_id=owner_id)
        files = await store.list_files(session=session, owner_id=owner_id, limit=1_000_000, newest_first=False)
        contents: dict[str, bytes] = {}
        for row in files:
            loaded = await store.file_content(session=session, file_id=row.id)
            if loaded is not None:
                contents[f"fichiers/{file_id(row.id)}-{row.filename}"] = loaded.content
    summary = {
        "lots": [batch_object(row).model_dump(mode="json") for row in batches],
        "fichiers": [file_object(row).model_dump(mode="json") for row in files],
    }
    return summary, contents


async def erase_batches(runtime: Runtime, *, owner_id: uuid.UUID) -> tuple[int, int]:
    """Delete the owner's batches (results included) and files; returns (batches, files).

    A batch still running finds itself deleted at its next line and stops there.
    """
    async with runtime.session_factory.begin() as session:
        return await store.delete_owned(session=session, owner_id=owner_id)


async def purge_batches(runtime: Runtime, days: int) -> int:
    """Finished batches and files older than ``days`` (a file an unfinished batch reads is kept)."""
    async with runtime.session_factory.begin() as session:
        batches, files = await store.purge_before(session=session, before=utcnow() - timedelta(days=days))
    return batches + files
