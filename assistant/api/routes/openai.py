"""OpenAI-compatible endpoints: the official ``openai`` client works against them unchanged."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.openai.chat import ChatCompletionRequest, ChatCompletionResponse
from assistant.api.openai.embeddings import EmbeddingRequest, EmbeddingResponse
from assistant.api.openai.models import Model, ModelList
from assistant.security import Permission, Principal
from assistant.services.chat_completions import create_chat_completion
from assistant.services.retrieval import create_embeddings

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["API compatible OpenAI"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]


@router.get("/models", response_model=ModelList, summary="Modèles disponibles, avec leur fiche")
async def list_models(runtime: RuntimeDep, principal: Chatter, include_withdrawn: bool = False) -> ModelList:
    if include_withdrawn:
        # Withdrawn models (and the référent's reason) are a supervision view, not a client's choice.
        principal.require(Permission.READ_GOVERNANCE)
    listed = runtime.models.models(include_withdrawn=include_withdrawn)
    return ModelList(data=[Model.from_registered(model) for model in listed])


@router.post(
    "/chat/completions",
    response_model=ChatCompletionResponse,
    summary="Complétion de conversation (réponse entière ou flux SSE), étiquetée « générée par IA »",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, runtime: RuntimeDep, principal: Chatter, client: ClientDep
) -> JSONResponse | StreamingResponse:
    started = getattr(request.state, "started", None) or time.perf_counter()
    outcome = await create_chat_completion(runtime, body, principal=principal, client=client, started=started)
    if outcome.stream is not None:
        headers = {**outcome.headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(outcome.stream, media_type="text/event-stream", headers=headers)
    assert outcome.response is not None
    return JSONResponse(outcome.response.model_dump(mode="json"), headers=outcome.headers)


@router.post("/embeddings", response_model=EmbeddingResponse, summary="Plongements (vecteurs) du modèle des index")
async def embeddings(body: EmbeddingRequest, runtime: RuntimeDep, principal: Chatter) -> EmbeddingResponse:
    return await create_embeddings(runtime, body)
