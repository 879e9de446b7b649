"""Helpers shared by the routes: SSE responses, stream-or-JSON answers, JSON-or-multipart request bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypeVar

import anyio
from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from assistant.errors import InvalidRequestError, ServiceUnavailableError

__all__ = ["EventStream", "UploadedFile", "read_json_or_form", "stream_or_json"]

M = TypeVar("M", bound=BaseModel)


class EventStream(StreamingResponse):
    """``text/event-stream`` that always closes its generator, so that the service's cleanup (saving a partial
    answer, counting tokens) runs as soon as the client goes away, not whenever the generator is collected."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[str], *, headers: dict[str, str]) -> None:
        super().__init__(content, headers={**headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()


def stream_or_json(
    stream: AsyncIterator[str] | None, body: BaseModel | None, *, headers: dict[str, str], by_alias: bool = True
) -> EventStream | JSONResponse:
    """The tail of every route that answers either a whole JSON body or an SSE stream, as the caller asked."""
    if stream is not None:
        return EventStream(stream, headers=headers)
    assert body is not None, "a service outcome holds either a stream or a body"
    return JSONResponse(body.model_dump(mode="json", by_alias=by_alias), headers=headers)


@dataclass(frozen=True)
class UploadedFile:
    """A file sent in a multipart body, read into memory within a size limit."""

    filename: str
    content_type: str | None
    data: bytes


async def read_json_or_form(
    request: Request, model: type[M], *, file_field: str = "file", max_file_bytes: int
) -> tuple[M, UploadedFile | None]:
    """Parse a JSON body, or a multipart form whose text fields fill ``model`` and whose ``file_field`` is a file."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        try:
            return model.model_validate_json(await request.body()), None
        except ValidationError as exc:
            raise InvalidRequestError(_describe(exc)) from exc
    try:
        form = await request.form(max_files=1, max_fields=50)
    except AssertionError as exc:  # Starlette asserts python-multipart is installed
        raise ServiceUnavailableError(
            "L'envoi de fichiers n'est pas installé sur ce serveur (python-multipart)."
        ) from exc
    try:
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        try:
            parsed = model.model_validate(fields)
        except ValidationError as exc:
            raise InvalidRequestError(_describe(exc)) from exc
        upload = form.get(file_field)
        if not isinstance(upload, UploadFile):
            return parsed, None
        data = await upload.read(max_file_bytes + 1)
        if len(data) > max_file_bytes:
            raise InvalidRequestError(
                f"Fichier trop volumineux : {max_file_bytes} octets au plus.", code="document_too_large"
            )
        return parsed, UploadedFile(upload.filename or "document", upload.content_type, data)
    finally:
        await form.close()  # uploads are spooled to temporary files


def _describe(exc: ValidationError) -> str:
    details = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])} : {error['msg']}" if error["loc"] else error["msg"]
        for error in exc.errors()[:5]
    )
    return f"Requête invalide — {details}"
