"""OpenAI-compatible endpoints: the official ``openai`` client works against them unchanged."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.api.deps import RuntimeDep
from assistant.api.openai.chat import ChatCompletionRequest, ChatCompletionResponse
from assistant.api.openai.models import Model, ModelList
from assistant.audit import ClientInfo
from assistant.services.chat_completions import create_chat_completion

__all__ = ["client_info", "router"]

router = APIRouter(prefix="/v1", tags=["API compatible OpenAI"])


def client_info(request: Request) -> ClientInfo:
    """Who is calling, for the audit log."""
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        request_id=getattr(request.state, "request_id", None),
    )


@router.get("/models", response_model=ModelList, summary="Modèles disponibles, avec leur fiche")
async def list_models(runtime: RuntimeDep) -> ModelList:
    return ModelList(data=[Model.from_registered(model) for model in runtime.models.models()])


@router.post(
    "/chat/completions",
    response_model=ChatCompletionResponse,
    summary="Complétion de conversation (réponse entière ou flux SSE), étiquetée « générée par IA »",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, runtime: RuntimeDep
) -> JSONResponse | StreamingResponse:
    started = getattr(request.state, "started", None) or time.perf_counter()
    outcome = await create_chat_completion(runtime, body, client=client_info(request), started=started)
    if outcome.stream is not None:
        headers = {**outcome.headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(outcome.stream, media_type="text/event-stream", headers=headers)
    assert outcome.response is not None
    return JSONResponse(outcome.response.model_dump(mode="json", exclude_none=False), headers=outcome.headers)
