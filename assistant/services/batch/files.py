"""``/v1/files``: upload a batch input file, list, read, download and delete one's files.

Files are private to their owner (anyone else gets "not found"). An input file is checked line by line at upload
(:mod:`._input`), so a malformed JSONL is refused at once with its line number rather than when its batch runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from assistant.audit import ClientInfo
from assistant.errors import ConflictError, InvalidRequestError, NotFoundError, PayloadTooLargeError
from assistant.protocol.files import FileDeleted, FileList, FileObject
from assistant.provenance import HEADER_AI_GENERATED
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.batch._ids import file_id, parse_file_id
from assistant.services.batch._input import parse_input
from assistant.services.batch._results import OUTPUT_SUFFIX
from assistant.store import batches as store
from assistant.store.models import StoredFile

__all__ = [
    "FileDownload",
    "delete_file",
    "download_file",
    "file_object",
    "get_file",
    "list_files",
    "owned_file",
    "upload_file",
]

_READ_CHUNK = 1024 * 1024
_PURPOSES = ("batch", "batch_output")


@dataclass(frozen=True)
class FileDownload:
    """A file's bytes and how to send them."""

    content: bytes
    filename: str
    headers: dict[str, str]


def file_object(row: StoredFile) -> FileObject:
    """The OpenAI view of a stored file."""
    return FileObject(
        id=file_id(row.id),
        bytes=row.size_bytes,
        created_at=int(row.created_at.timestamp()),
        filename=row.filename,
        purpose=row.purpose,  # type: ignore[arg-type]
    )


def _read(source: BinaryIO, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while chunk := source.read(_READ_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(
                f"Fichier trop volumineux : la limite est de {max_bytes // 1_000_000} Mo ; découpez le lot.",
                code="file_too_large",
            )
        parts.append(chunk)
    return b"".join(parts)


async def upload_file(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, source: BinaryIO, filename: str, purpose: str
) -> FileObject:
    """Store a batch input file after checking every line; 400 (with the line number) or 413 otherwise."""
    if purpose != "batch":
        raise InvalidRequestError(
            f"Usage « {purpose[:40]} » non pris en charge : ce service n'accepte que purpose=batch.",
            code="invalid_purpose",
        )
    content = _read(source, runtime.settings.batch_max_file_bytes)
    parse_input(content, max_lines=runtime.settings.batch_max_lines)
    name = Path(filename or "lot.jsonl").name[:255] or "lot.jsonl"
    async with runtime.session_factory.begin() as session:
        row = await store.add_file(
            session=session, owner_id=principal.user_id, purpose=purpose, filename=name, content=content
        )
    await runtime.audit.record(
        category="audit",
        action="file.upload",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="file",
        resource_id=file_id(row.id),
        client=client,
        details={"bytes": len(content), "purpose": purpose},
    )
    return file_object(row)


async def owned_file(runtime: Runtime, *, principal: Principal, public_id: str) -> StoredFile:
    """The caller's file with this public id; 404 otherwise (never "forbidden")."""
    key = parse_file_id(public_id)
    async with runtime.session_factory() as session:
        row = await store.get_file(session=session, file_id=key)
    if row is None or row.owner_id != principal.user_id:
        raise NotFoundError(f"Fichier introuvable : « {public_id[:80]} ».")
    return row


async def get_file(runtime: Runtime, *, principal: Principal, public_id: str) -> FileObject:
    """One of the caller's files."""
    return file_object(await owned_file(runtime, principal=principal, public_id=public_id))


async def list_files(
    runtime: Runtime,
    *,
    principal: Principal,
    purpose: str | None = None,
    after: str | None = None,
    limit: int = 100,
    order: str = "desc",
) -> FileList:
    """A page of the caller's files (``after``: the last id of the previous page)."""
    if purpose is not None and purpose not in _PURPOSES:
        return FileList(data=[])
    cursor = parse_file_id(after) if after else None
    async with runtime.session_factory() as session:
        rows = await store.list_files(
            session=session,
            owner_id=principal.user_id,
            purpose=purpose,
            after=cursor,
            limit=limit + 1,
            newest_first=order != "asc",
        )
    data = [file_object(row) for row in rows[:limit]]
    return FileList(
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=len(rows) > limit,
    )


async def download_file(runtime: Runtime, *, principal: Principal, public_id: str) -> FileDownload:
    """The file's bytes; a batch's output file is labelled as generated content (the error file holds none)."""
    row = await owned_file(runtime, principal=principal, public_id=public_id)
    async with runtime.session_factory() as session:
        loaded = await store.file_content(session=session, file_id=row.id)
    if loaded is None:
        raise NotFoundError(f"Fichier introuvable : « {public_id[:80]} ».")
    headers = {HEADER_AI_GENERATED: "true"} if loaded.filename.endswith(OUTPUT_SUFFIX) else {}
    return FileDownload(content=loaded.content, filename=loaded.filename, headers=headers)


async def delete_file(runtime: Runtime, *, principal: Principal, client: ClientInfo, public_id: str) -> FileDeleted:
    """Delete one of the caller's files; 409 while a batch still reads it."""
    row = await owned_file(runtime, principal=principal, public_id=public_id)
    async with runtime.session_factory.begin() as session:
        if await store.uses_as_input(session=session, file_id=row.id):
            raise ConflictError(
                "Ce fichier est l'entrée d'un lot en cours : annulez le lot ou attendez sa fin avant de le supprimer.",
                code="file_in_use",
            )
        await store.delete_file(session=session, file_id=row.id)
    await runtime.audit.record(
        category="audit",
        action="file.delete",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="file",
        resource_id=public_id,
        client=client,
    )
    return FileDeleted(id=public_id)
