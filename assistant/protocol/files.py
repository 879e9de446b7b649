"""File protocol models: ``/v1/files`` (upload, list, retrieve, delete; the content is served raw).

Reference: https://platform.openai.com/docs/api-reference/files/object — fields in the documentation's order.
"""

from __future__ import annotations

from typing import Literal

from assistant.protocol._base import OpenAIBaseModel

__all__ = ["FileDeleted", "FileList", "FileObject", "FilePurpose"]

# The purposes this service serves: the caller's batch input, and the files a batch writes.
FilePurpose = Literal["batch", "batch_output"]


class FileObject(OpenAIBaseModel):
    """One stored file, as the official client's ``FileObject`` reads it."""

    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    expires_at: int | None = None
    filename: str
    purpose: FilePurpose
    # Deprecated at OpenAI but still read by older clients: a stored file is always processed here.
    status: Literal["processed"] = "processed"
    status_details: str | None = None


class FileList(OpenAIBaseModel):
    """A page of the caller's files, newest first unless asked otherwise."""

    object: Literal["list"] = "list"
    data: list[FileObject]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class FileDeleted(OpenAIBaseModel):
    """The answer to ``DELETE /v1/files/{file_id}``."""

    id: str
    object: Literal["file"] = "file"
    deleted: bool = True
