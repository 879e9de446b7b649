"""Document tasks: synthesis, translation, rewriting of pasted text or an uploaded file (whole or streamed)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._streaming import EventStream, read_json_or_form, stream_or_json
from assistant.guard import GuardConfirmation
from assistant.security import Permission, Principal
from assistant.services.chat.document_tasks import TaskInput, extract_document, list_presets, run_task
from assistant.services.chat.views import PresetView, TaskResult

__all__ = ["router"]

router = APIRouter(prefix="/api/tasks", tags=["tâches documentaires"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]


class TaskRequest(BaseModel):
    """JSON body, or the text fields of a multipart form that carries the document in ``file``."""

    text: str | None = Field(default=None, max_length=2_000_000, description="Pasted text (or send a file).")
    stream: bool = Field(default=False, description="Answer as server-sent events.")
    model: str | None = None
    sensitivity: Literal["public", "internal", "sensitive"] | None = None
    target_language: str | None = Field(
        default=None, description="Translation only: ISO 639-1 code (fr, en, de…); fr↔en when omitted."
    )
    guard_confirmation: GuardConfirmation | None = Field(
        default=None, description="Answer to a forbidden-use rule asking for confirmation (rule id, reason)."
    )


_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": TaskRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, DOCX, ODT, XLSX, ODS, PPTX, ODP, EML, MSG, HTML, MD, TXT",
                        },
                        **TaskRequest.model_json_schema()["properties"],
                    },
                }
            },
        },
    }
}


@router.get("", response_model=list[PresetView], summary="Tâches disponibles (préréglages versionnés)")
async def presets(principal: Chatter, runtime: RuntimeDep) -> list[PresetView]:
    return list_presets(runtime)


@router.post(
    "/{preset}",
    response_model=TaskResult,
    summary="Appliquer une tâche à un texte ou à un fichier ; résultat étiqueté « généré par IA »",
    responses={200: {"content": {"text/event-stream": {}}}},
    openapi_extra=_BODY,
)
async def apply_task(
    preset: str, request: Request, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> JSONResponse | EventStream:
    runtime.presets.get(preset)  # an unknown task is a 404 before any upload is read
    body, upload = await read_json_or_form(request, TaskRequest, max_file_bytes=runtime.settings.task_max_upload_bytes)
    if upload is not None:
        task_input = await extract_document(runtime, upload.data, filename=upload.filename, mime=upload.content_type)
    else:
        task_input = TaskInput(body.text or "")
    outcome = await run_task(
        runtime,
        principal=principal,
        client=client,
        preset_name=preset,
        task_input=task_input,
        stream=body.stream,
        model_id=body.model,
        sensitivity=body.sensitivity,
        target_language=body.target_language,
        guard_confirmation=body.guard_confirmation,
    )
    return stream_or_json(outcome.stream, outcome.result, headers=outcome.headers)
