"""OpenAI-compatible endpoints: the official ``openai`` client works against them unchanged."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, Security, UploadFile
from fastapi.responses import JSONResponse, Response

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._streaming import EventStream, stream_or_json
from assistant.protocol.audio import (
    ResponseFormat,
    TranscriptionParams,
    TranscriptionResponse,
    TranscriptionVerboseResponse,
)
from assistant.protocol.chat import ChatCompletionRequest, ChatCompletionResponse
from assistant.protocol.embeddings import EmbeddingRequest, EmbeddingResponse
from assistant.protocol.models import Model, ModelList
from assistant.security import Permission, Principal
from assistant.services.gateway.chat_completions import create_chat_completion
from assistant.services.gateway.model_access import usable_models
from assistant.services.knowledge.retrieval import create_embeddings
from assistant.services.meetings.openai_audio import transcribe_upload

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["API compatible OpenAI"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]
Transcriber = Annotated[Principal, Security(RequirePermission(Permission.TRANSCRIPTIONS))]


@router.get("/models", response_model=ModelList, summary="Modèles disponibles, avec leur fiche")
async def list_models(runtime: RuntimeDep, principal: Chatter, include_withdrawn: bool = False) -> ModelList:
    if include_withdrawn:
        # Withdrawn models (and the référent's reason) are a supervision view, not a client's choice.
        principal.require(Permission.READ_GOVERNANCE)
    # Reserved models are listed only to their groups' members; the supervision view lists every model.
    listed = (
        runtime.models.models(include_withdrawn=True) if include_withdrawn else await usable_models(runtime, principal)
    )
    return ModelList(data=[Model.from_registered(model) for model in listed])


@router.post(
    "/chat/completions",
    response_model=ChatCompletionResponse,
    summary="Complétion de conversation (réponse entière ou flux SSE), étiquetée « générée par IA »",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, runtime: RuntimeDep, principal: Chatter, client: ClientDep
) -> JSONResponse | EventStream:
    started = getattr(request.state, "started", None) or time.perf_counter()
    outcome = await create_chat_completion(runtime, body, principal=principal, client=client, started=started)
    return stream_or_json(outcome.stream, outcome.response, headers=outcome.headers, by_alias=False)


@router.post("/embeddings", response_model=EmbeddingResponse, summary="Plongements (vecteurs) du modèle des index")
async def embeddings(body: EmbeddingRequest, runtime: RuntimeDep, principal: Chatter) -> EmbeddingResponse:
    return await create_embeddings(runtime, body)


@router.post(
    "/audio/transcriptions",
    response_model=TranscriptionResponse | TranscriptionVerboseResponse,
    summary="Transcription synchrone d'un enregistrement court, étiquetée « générée par IA »",
    responses={
        200: {"content": {"text/plain": {}, "application/x-subrip": {}, "text/vtt": {}}},
        413: {"description": "Enregistrement trop long : utilisez /api/transcriptions"},
        415: {"description": "Type de fichier non pris en charge"},
    },
)
async def audio_transcriptions(
    runtime: RuntimeDep,
    principal: Transcriber,
    client: ClientDep,
    file: Annotated[UploadFile, File()],
    model: Annotated[str, Form()],
    language: Annotated[str | None, Form()] = None,
    prompt: Annotated[str | None, Form()] = None,
    response_format: Annotated[ResponseFormat, Form()] = "json",
    temperature: Annotated[float | None, Form(ge=0, le=1)] = None,
    # The official client sends arrays the PHP way: one "timestamp_granularities[]" field per value.
    timestamp_granularities: Annotated[
        list[Literal["word", "segment"]] | None, Form(alias="timestamp_granularities[]")
    ] = None,
    sensitivity: Annotated[Literal["public", "internal", "sensitive"] | None, Form()] = None,
) -> Response:
    params = TranscriptionParams(
        model=model,
        language=language or None,
        prompt=prompt,
        response_format=response_format,
        temperature=temperature,
        timestamp_granularities=timestamp_granularities or ["segment"],
        sensitivity=sensitivity,
    )
    outcome = await transcribe_upload(
        runtime, principal=principal, client=client, source=file.file, filename=file.filename or "", params=params
    )
    if outcome.body is not None:
        return JSONResponse(outcome.body.model_dump(mode="json", exclude_none=True), headers=outcome.headers)
    return Response(outcome.text or "", media_type=outcome.media_type, headers=outcome.headers)
