"""The model server: one llama.cpp model behind the OpenAI chat protocol (the subset the gateway speaks).

Routes: ``GET /health`` (200 once the model is loaded), ``GET /v1/models``, ``POST /v1/chat/completions``
(SSE stream or whole answer, ``stream_options.include_usage``) and vLLM's ``POST /tokenize`` (prompt tokens with
the chat template applied). Errors use the OpenAI envelope. A full line of waiting requests answers 429 with
``Retry-After``; a choice stopped because it repeated itself ends with ``finish_reason: "stop"`` and
``stop_reason: "repetition"``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from assistant.llm._catalog import SamplingDefaults
from assistant.llm._server_spec import ServerSpec
from assistant.llm._types import ChatChunk, Message, SamplingParams, assemble
from assistant.llm.errors import LLMError, UnsupportedParameterError, UpstreamRejectedError
from assistant.model_server._engine import EngineBusyError, EngineSettings, LlamaEngine

__all__ = ["create_model_server_app"]

_SAMPLING_FIELDS = frozenset(SamplingParams.model_fields) - {"extra"}


class _ChatBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    max_completion_tokens: int | None = Field(default=None, ge=1)


class _TokenizeBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[Message] | None = None
    prompt: str | None = None


def _error(status: int, message: str, kind: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status, headers=headers)


def create_model_server_app(spec: ServerSpec) -> Starlette:
    """The ASGI app for ``spec``; the model is loaded during start-up, so /health answers only once it can serve."""
    engine = LlamaEngine(
        EngineSettings(
            model_path=spec.model_path,
            n_ctx=spec.n_ctx,
            n_threads=spec.n_threads,
            n_batch=spec.n_batch,
            max_waiting=spec.max_waiting,
            default_max_tokens=spec.default_max_tokens,
            sampling=SamplingDefaults(**spec.sampling.model_dump()) if spec.sampling else None,
            stop_repetitions=spec.stop_repetitions,
        )
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await engine.load()
        try:
            yield
        finally:
            await engine.aclose()

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "model": spec.model_id, "pending": engine.pending})

    async def models(_: Request) -> Response:
        card = {"id": spec.model_id, "object": "model", "owned_by": "souverain", "max_model_len": spec.n_ctx}
        return JSONResponse({"object": "list", "data": [card]})

    async def tokenize(request: Request) -> Response:
        try:
            body = _TokenizeBody.model_validate_json(await request.body())
        except ValidationError as exc:
            return _error(400, f"Requête invalide : {exc.error_count()} erreur(s)", "invalid_request_error")
        messages = body.messages or [{"role": "user", "content": body.prompt or ""}]
        count = await engine.count_tokens(messages)
        return JSONResponse({"count": count, "max_model_len": spec.n_ctx, "tokens": []})

    async def chat(request: Request) -> Response:
        try:
            body = _ChatBody.model_validate_json(await request.body())
            params = _sampling(body)
            engine.check(params)
        except ValidationError as exc:
            return _error(400, f"Requête invalide : {exc.errors(include_url=False)}", "invalid_request_error")
        except UnsupportedParameterError as exc:
            return _error(400, exc.message, "invalid_request_error")
        if engine.pending > spec.max_waiting:
            return _busy(engine.pending)
        stream = engine.stream(body.messages, params)
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        try:
            # The first chunk comes once the prompt is evaluated: a prompt too long or a full line is still an
            # HTTP status, not an error hidden inside a 200 stream.
            first = await anext(stream, None)
            if body.stream:
                include_usage = bool((body.stream_options or {}).get("include_usage"))
                return StreamingResponse(
                    _sse(first, stream, completion_id, spec.model_id, include_usage=include_usage),
                    media_type="text/event-stream",
                    headers={"Cache-Control": "no-store"},
                )
            async with aclosing(stream) as chunks:  # type: ignore[type-var]
                result = assemble([*([first] if first else []), *[chunk async for chunk in chunks]])
        except EngineBusyError as exc:
            return _busy(exc.pending)
        except UpstreamRejectedError as exc:
            return _error(exc.status_code, exc.message, "invalid_request_error")
        except (LLMError, RuntimeError) as exc:
            return _error(500, f"Le modèle a échoué : {exc}", "server_error")
        choice = result.choices[0] if result.choices else None
        usage = result.usage
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": spec.model_id,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": choice.text if choice else ""},
                        "finish_reason": choice.finish_reason if choice else "stop",
                        "stop_reason": choice.stop_reason if choice else None,
                    }
                ],
                "usage": _usage(usage.prompt_tokens, usage.completion_tokens) if usage else None,
            }
        )

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/tokenize", tokenize, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def _busy(pending: int) -> JSONResponse:
    return _error(
        429,
        f"Le modèle embarqué est occupé ({pending} demandes en cours ou en attente). Réessayez dans un instant.",
        "rate_limit_error",
        headers={"Retry-After": "5"},
    )


def _sampling(body: _ChatBody) -> SamplingParams:
    extra = dict(body.model_extra or {})
    fields = {name: extra.pop(name) for name in list(extra) if name in _SAMPLING_FIELDS}
    if body.max_completion_tokens is not None and fields.get("max_tokens") is None:
        fields["max_tokens"] = body.max_completion_tokens
    if isinstance(fields.get("stop"), str):
        fields["stop"] = [fields["stop"]]
    extra.pop("user", None)
    return SamplingParams(**fields, extra=extra)


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


async def _sse(
    first: ChatChunk | None,
    stream: AsyncIterator[ChatChunk],
    completion_id: str,
    model_id: str,
    *,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    created = int(time.time())
    head = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model_id}

    async def chunks_from_first() -> AsyncIterator[ChatChunk]:
        if first is not None:
            yield first
        async for chunk in stream:
            yield chunk

    try:
        async with aclosing(stream), aclosing(chunks_from_first()) as chunks:  # type: ignore[type-var]
            async for chunk in chunks:
                for delta in chunk.deltas:
                    wire: dict[str, Any] = {"content": delta.text}
                    if delta.role:
                        wire["role"] = delta.role
                    choice: dict[str, Any] = {"index": delta.index, "delta": wire, "finish_reason": delta.finish_reason}
                    if delta.stop_reason is not None:
                        choice["stop_reason"] = delta.stop_reason
                    if delta.logprobs is not None:
                        choice["logprobs"] = delta.logprobs
                    yield _event({**head, "choices": [choice]})
                if chunk.usage is not None and include_usage:
                    usage = _usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    yield _event({**head, "choices": [], "usage": usage})
    except EngineBusyError as exc:
        yield _event({"error": {"message": f"Le modèle embarqué est occupé ({exc.pending}).", "code": 429}})
        return
    except UpstreamRejectedError as exc:
        yield _event({"error": {"message": exc.message, "code": exc.status_code}})
        return
    except (LLMError, RuntimeError) as exc:
        yield _event({"error": {"message": f"Le modèle a échoué : {exc}", "code": 500}})
        return
    yield b"data: [DONE]\n\n"
