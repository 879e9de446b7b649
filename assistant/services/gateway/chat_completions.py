"""The OpenAI-compatible chat gateway: route a request to its model, label it, measure it.

Two builders, as in vLLM's serving layer: :func:`_full_completion` returns one labelled response,
:func:`_stream_completion` yields SSE lines whose first and last events carry the label.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import partial

import anyio

from assistant.audit import ClientInfo
from assistant.guard import GuardNotice
from assistant.llm import ChatChunk, ChatRequest, LLMError, RegisteredModel, UpstreamError, assemble
from assistant.protocol.chat import (
    ChatCompletionChoice,
    ChatCompletionChunk,
    ChatCompletionChunkChoice,
    ChatCompletionMessage,
    ChatCompletionRequest,
    ChatCompletionResponse,
    DeltaMessage,
    GroundingReport,
    SourceCitation,
    SystemMessage,
    TextChunkEncoder,
    Usage,
)
from assistant.provenance import Provenance, SourceRef
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.sensitivity import Sensitivity
from assistant.services.gateway.energy import estimate_request_energy
from assistant.services.gateway.fallback import Fallback, fallback_chain, open_stream, serve_with_fallback
from assistant.services.gateway.generation import Measure, check_forbidden_uses, check_sovereignty, parse_sensitivity
from assistant.services.gateway.labelling import provenance_for, sign_texts
from assistant.services.gateway.model_access import resolve_model
from assistant.services.gateway.priority import request_priority
from assistant.services.gateway.quotas import ensure_tokens_available, record_tokens
from assistant.services.gateway.usage import write_usage
from assistant.services.knowledge.grounding import Grounding, collection_ids_of, ground
from assistant.store import utcnow
from assistant.store.models import UsageService

__all__ = ["CompletionOutcome", "create_chat_completion"]

logger = logging.getLogger(__name__)


@dataclass
class CompletionOutcome:
    """What the route sends back: a full response or an SSE stream, plus labelling headers."""

    provenance: Provenance
    response: ChatCompletionResponse | None = None
    stream: AsyncIterator[str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _content_texts(content: object) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [part.text for part in content if getattr(part, "text", None)]
    return []


def _sent_texts(request: ChatCompletionRequest) -> list[str]:
    """Everything of the request that reaches the model as text, for the personal-data detector: every message
    (tool calls and their results included), the tool definitions and the response format."""
    texts = []
    for message in request.messages:
        texts.extend(_content_texts(getattr(message, "content", None)))
        texts.extend(_content_texts(getattr(message, "refusal", None)))
        for call in getattr(message, "tool_calls", None) or []:
            texts.extend((call.function.name, call.function.arguments))
    texts.extend(json.dumps(tool.model_dump(exclude_none=True), ensure_ascii=False) for tool in request.tools or [])
    if request.response_format is not None:
        texts.append(json.dumps(request.response_format.model_dump(exclude_none=True), ensure_ascii=False))
    return texts


def _instruction_texts(request: ChatCompletionRequest) -> list[str]:
    """What the caller asks, for the forbidden-use guard: every user, system and developer message, in full (an
    earlier turn or a system prompt can carry the request as well as the last message), and what the caller wrote
    for the model to act on: tool definitions, tool-call arguments, the response schema (a request can hide there)."""
    texts = [
        text
        for message in request.messages
        if getattr(message, "role", None) in ("user", "system", "developer")
        for text in _content_texts(getattr(message, "content", None))
    ]
    for message in request.messages:
        texts.extend(call.function.arguments for call in getattr(message, "tool_calls", None) or [])
    texts.extend(json.dumps(tool.model_dump(exclude_none=True), ensure_ascii=False) for tool in request.tools or [])
    if request.response_format is not None and request.response_format.json_schema is not None:
        texts.append(json.dumps(request.response_format.json_schema.model_dump(exclude_none=True), ensure_ascii=False))
    return texts


def _last_user_text(request: ChatCompletionRequest) -> list[str]:
    """The latest user message: what retrieval searches for."""
    for message in reversed(request.messages):
        if getattr(message, "role", None) == "user":
            return _content_texts(getattr(message, "content", None))
    return []


async def _check_sovereignty(
    runtime: Runtime,
    request: ChatCompletionRequest,
    model: RegisteredModel,
    *,
    principal: Principal,
    client: ClientInfo,
    collections: Sensitivity = Sensitivity.PUBLIC,
) -> None:
    declared = parse_sensitivity(request.sensitivity)
    await check_sovereignty(
        runtime,
        _sent_texts(request),
        model,
        declared=declared,
        collections=collections,
        principal=principal,
        client=client,
    )


async def create_chat_completion(
    runtime: Runtime,
    request: ChatCompletionRequest,
    *,
    principal: Principal,
    client: ClientInfo,
    started: float | None = None,
    sources: Sequence[SourceRef] = (),
    collections: Sensitivity = Sensitivity.PUBLIC,
    guard_texts: Sequence[str] | None = None,
    surface: str = "api",
    grounding: Grounding | None = None,
) -> CompletionOutcome:
    """Serve one chat completion request (non-streamed or streamed), counting its tokens against the quota.

    A request naming ``collections`` is grounded here (:func:`assistant.services.knowledge.grounding.ground`: ACL,
    retrieval, answerability, fenced passages fitted to the context window); a caller that grounded the question
    itself passes ``grounding``. A declined grounding answers the fixed decline without calling the model; a full
    answer is reviewed against its passages (a decline in the model's words or invented figures become the fixed
    decline). ``sources`` and ``collections`` add provenance entries and a classification of the caller's own;
    ``guard_texts`` are the user's own words (the forbidden-use guard reads those, not the passages).
    """
    started = started if started is not None else time.perf_counter()
    citations: list[SourceCitation] | None = None
    instructions = _instruction_texts(request) if guard_texts is None else guard_texts  # before passages join
    if grounding is None and request.collections:
        question = " ".join(_last_user_text(request))
        history = request.to_backend_request(upstream_model=request.model).messages
        grounding = await ground(
            runtime,
            principal,
            question,
            model=await resolve_model(runtime, request.model, principal=principal),
            collection_ids=collection_ids_of(request.collections),
            history=history,
            max_tokens=request.max_tokens,
        )
    if grounding is not None:
        if grounding.declined:
            return await _abstention(runtime, request, grounding, principal=principal, client=client)
        assert grounding.system_prompt is not None
        system = SystemMessage(role="system", content=grounding.system_prompt)
        request = request.model_copy(update={"messages": [system, *request.messages], "collections": None})
        citations = grounding.citations()
        sources = [*sources, *grounding.sources()]
        collections = max(collections, grounding.classification)
    model = await resolve_model(runtime, request.model, principal=principal)
    await _check_sovereignty(runtime, request, model, principal=principal, client=client, collections=collections)
    notices = await check_forbidden_uses(
        runtime,
        instructions,
        principal=principal,
        client=client,
        surface=surface,
        confirmation=request.guard_confirmation,
    )
    await ensure_tokens_available(runtime, principal)
    backend_request = request.to_backend_request(upstream_model=model.upstream_name).model_copy(
        update={"priority": request_priority(runtime, principal)}
    )
    chain = [model, *await fallback_chain(runtime, model, principal=principal, needs_tools=bool(request.tools))]
    provenance = provenance_for(model, request_id=client.request_id, sources=sources)
    headers = {"X-AI-Generated": "true", "X-AI-Model": model.id}
    if request.stream:
        opened, fallback = None, None
        if len(chain) > 1:
            # Opened here, before the headers go: they, and the first event, name the model that answers.
            try:
                model, opened, fallback = await serve_with_fallback(
                    runtime,
                    chain,
                    lambda candidate, _: open_stream(candidate.backend, _for_model(backend_request, candidate)),
                    principal=principal,
                    client=client,
                )
            except UpstreamError as exc:
                opened = _failing(exc)  # in-band, labelled, like any stream whose upstream fails
        if fallback is not None:
            provenance = provenance_for(model, request_id=client.request_id, sources=sources, fallback=fallback)
            headers.update({"X-AI-Model": model.id, "X-AI-Fallback-From": fallback.requested.id})
        headers["X-Gateway-Overhead-Ms"] = f"{(time.perf_counter() - started) * 1000:.2f}"
        stream = _stream_completion(
            runtime,
            request,
            model,
            _for_model(backend_request, model),
            provenance,
            principal,
            notices,
            citations,
            grounding,
            chunks=opened,
            fallback=fallback,
        )
        return CompletionOutcome(provenance=provenance, stream=stream, headers=headers)

    async def attempt(candidate: RegisteredModel, fallback: Fallback | None) -> tuple[ChatCompletionResponse, float]:
        labelled = provenance
        if fallback is not None:
            labelled = provenance_for(candidate, request_id=client.request_id, sources=sources, fallback=fallback)
        return await _full_completion(runtime, request, candidate, _for_model(backend_request, candidate), labelled)

    model, (response, upstream_seconds), fallback = await serve_with_fallback(
        runtime, chain, attempt, principal=principal, client=client
    )
    if fallback is not None:
        provenance = response.provenance
        response.fallback_from = fallback.requested.id
        headers.update({"X-AI-Model": model.id, "X-AI-Fallback-From": fallback.requested.id})
    response.sources = citations
    if grounding is not None:
        _review(runtime, response, grounding, provenance, headers)
    response.guard = notices or None
    if response.usage is not None:
        await _account_later(runtime, principal, model, response.usage, tokens=response.usage.total_tokens)
    overhead = (time.perf_counter() - started - upstream_seconds) * 1000
    headers["X-Gateway-Overhead-Ms"] = f"{max(overhead, 0.0):.2f}"
    return CompletionOutcome(provenance=provenance, response=response, headers=headers)


def _review(
    runtime: Runtime,
    response: ChatCompletionResponse,
    grounding: Grounding,
    provenance: Provenance,
    headers: dict[str, str],
) -> None:
    """Check the grounded answer against its passages; a declined one is replaced by the fixed decline, re-signed."""
    if not response.choices:
        return
    message = response.choices[0].message
    review = grounding.review(message.content or "")
    response.grounding = review.report
    if review.text != message.content:  # declined, or citation markers added: the signed text is the delivered one
        message.content = review.text
        response.provenance_manifests = sign_texts(
            runtime.signer, provenance, [choice.message.content or "" for choice in response.choices]
        )
    if review.declined:
        headers["X-RAG-Abstained"] = "true"


async def _abstention(
    runtime: Runtime, request: ChatCompletionRequest, grounding: Grounding, *, principal: Principal, client: ClientInfo
) -> CompletionOutcome:
    """The fixed answer when the collections cannot answer: no model call, no tokens, still labelled and signed."""
    model = await resolve_model(runtime, request.model, principal=principal)
    provenance = provenance_for(model, request_id=client.request_id)
    headers = {"X-AI-Generated": "true", "X-AI-Model": model.id, "X-RAG-Abstained": "true"}
    text, report = grounding.decline_text(), grounding.report()
    if request.stream:
        return CompletionOutcome(
            provenance=provenance, stream=_abstention_stream(runtime, model, provenance, text, report), headers=headers
        )
    response = ChatCompletionResponse(
        model=model.id,
        choices=[ChatCompletionChoice(index=0, message=ChatCompletionMessage(content=text), finish_reason="stop")],
        usage=Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0),
        provenance=provenance,
        provenance_manifests=sign_texts(runtime.signer, provenance, [text]),
        sources=[],
        grounding=report,
    )
    return CompletionOutcome(provenance=provenance, response=response, headers=headers)


async def _abstention_stream(
    runtime: Runtime, model: RegisteredModel, provenance: Provenance, text: str, report: GroundingReport
) -> AsyncIterator[str]:
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    delta = DeltaMessage(role="assistant", content=text)
    first = ChatCompletionChunk(
        id=completion_id,
        created=created,
        model=model.id,
        choices=[ChatCompletionChunkChoice(index=0, delta=delta, finish_reason="stop")],
        provenance=provenance,
    )
    last = ChatCompletionChunk(
        id=completion_id,
        created=created,
        model=model.id,
        choices=[],
        provenance=provenance,
        provenance_manifests=sign_texts(runtime.signer, provenance, [text]),
        sources=[],
        grounding=report,
    )
    yield _sse(first.model_dump_json(exclude_none=True))
    yield _sse(last.model_dump_json(exclude_none=True))
    yield _sse("[DONE]")


async def _account_later(
    runtime: Runtime,
    principal: Principal,
    model: RegisteredModel,
    usage: Usage,
    *,
    tokens: int,
    incomplete: bool = False,
) -> None:
    """Count the tokens against the quota and store the usage record once the answer is out (retried, never lost).

    Two separate writes, so that a retried usage record never counts the tokens twice.
    """
    measure = Measure(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        latency_seconds=(usage.latency_ms or 0.0) / 1000,
        energy_wh=usage.energy_wh or 0.0,
        gco2e=usage.gco2e or 0.0,
        method=usage.energy_method or "",
        calls=1,
    )
    await runtime.background.submit("quota tokens", partial(record_tokens, runtime, principal, tokens))
    await runtime.background.submit(
        "usage record",
        partial(
            write_usage,
            runtime,
            principal=principal,
            model_id=model.id,
            service=UsageService.API,
            measure=measure,
            incomplete=incomplete,
            at=utcnow(),
        ),
    )


def _usage_with_energy(
    runtime: Runtime, model: RegisteredModel, usage: Usage | None, *, output_tokens: int, seconds: float
) -> Usage:
    usage = usage or Usage(completion_tokens=output_tokens, total_tokens=output_tokens)
    energy = estimate_request_energy(
        runtime.settings, model, output_tokens=usage.completion_tokens or output_tokens, latency_seconds=seconds
    )
    return usage.model_copy(
        update={
            "energy_wh": round(energy.energy_wh, 6),
            "gco2e": round(energy.gco2e, 6),
            "energy_method": energy.method,
            "latency_ms": round(seconds * 1000, 1),
        }
    )


async def _full_completion(
    runtime: Runtime,
    request: ChatCompletionRequest,
    model: RegisteredModel,
    backend_request: object,
    provenance: Provenance,
) -> tuple[ChatCompletionResponse, float]:
    began = time.perf_counter()
    try:
        result = await model.backend.complete(backend_request)  # type: ignore[arg-type]
    except UpstreamError as exc:
        _label_partial(runtime, exc, provenance)
        raise
    seconds = time.perf_counter() - began
    response = ChatCompletionResponse.from_result(result, model=model.id, provenance=provenance)
    texts = [choice.text for choice in result.choices]
    output_tokens = result.usage.completion_tokens if result.usage else sum(len(text) // 4 for text in texts)
    texts = [_signed_text(choice.text, choice.tool_calls) for choice in result.choices]
    response.usage = _usage_with_energy(runtime, model, response.usage, output_tokens=output_tokens, seconds=seconds)
    response.provenance_manifests = sign_texts(runtime.signer, provenance, texts)
    return response, seconds


def _label_partial(runtime: Runtime, exc: UpstreamError, provenance: Provenance) -> None:
    """Keep what was generated before the failure, labelled and signed, in the error answer."""
    text = exc.partial_text
    if text:
        exc.details = {
            "partial": {
                "content": text,
                "ai_generated": True,
                "incomplete": True,
                "provenance": provenance.model_dump(mode="json"),
                "provenance_manifest": runtime.signer.sign(text, provenance).model_dump(mode="json", by_alias=True),
            }
        }


def _sse(payload: str) -> str:
    return f"data: {payload}\n\n"


async def _stream_completion(
    runtime: Runtime,
    request: ChatCompletionRequest,
    model: RegisteredModel,
    backend_request: object,
    provenance: Provenance,
    principal: Principal,
    notices: list[GuardNotice],
    citations: list[SourceCitation] | None = None,
    grounding: Grounding | None = None,
    *,
    chunks: AsyncIterator[ChatChunk] | None = None,
    fallback: Fallback | None = None,
) -> AsyncIterator[str]:
    """``chunks``: the backend stream already opened (by the fallback chain); ``fallback`` when it is a fallback's."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    texts: dict[int, list[str]] = defaultdict(list)
    tool_chunks: list[ChatChunk] = []  # only those carrying tool-call fragments, folded at the end to be signed
    usage: Usage | None = None
    first = True
    completed = False
    began = time.perf_counter()
    plain = TextChunkEncoder(id=completion_id, created=created, model=model.id)
    if chunks is None:
        chunks = model.backend.stream(backend_request)  # type: ignore[arg-type]
    fallback_from = fallback.requested.id if fallback is not None else None
    try:
        async for chunk in chunks:
            _collect(texts, chunk)
            if any(delta.tool_calls for delta in chunk.deltas):
                tool_chunks.append(chunk)
            if chunk.usage is not None:
                usage = Usage.from_llm(chunk.usage)
                if not chunk.deltas:
                    continue  # the usage event is re-emitted last, labelled
            # The middle of the stream: text only, no label fields, so no model to build (the hot loop per token).
            encoded = None if first else plain.encode(chunk)
            if encoded is not None:
                yield _sse(encoded)
                continue
            event = ChatCompletionChunk.from_llm_chunk(
                chunk, id=completion_id, created=created, model=model.id, provenance=provenance if first else None
            )
            event.usage = None
            if first and notices:
                event.guard = notices
            if first:
                event.fallback_from = fallback_from
            first = False
            yield _sse(event.model_dump_json(exclude_none=True))
        completed = True
    except LLMError as exc:
        partial = "".join(texts.get(0, []))
        logger.warning("stream %s ended by upstream failure after %d chars: %s", completion_id, len(partial), exc)
        error = {
            "error": {"message": exc.message, "type": "upstream_error", "code": exc.code, "param": None},
            "ai_generated": True,
            "incomplete": True,
            "provenance": provenance.model_dump(mode="json"),
        }
        if partial:
            error["provenance_manifest"] = runtime.signer.sign(partial, provenance).model_dump(
                mode="json", by_alias=True
            )
        yield _sse(json.dumps(error, ensure_ascii=False))
        yield _sse("[DONE]")
        return
    finally:
        # Shielded: a client disconnect cancels this task, and what was generated must still be counted.
        with anyio.CancelScope(shield=True):
            await chunks.aclose()  # type: ignore[attr-defined]
            # Tokens are counted even for a stream cut short by the client or the upstream.
            generated = sum(len("".join(parts)) for parts in texts.values()) // 4
            seconds = time.perf_counter() - began
            output_tokens = usage.completion_tokens if usage else generated
            measured = _usage_with_energy(runtime, model, usage, output_tokens=output_tokens, seconds=seconds)
            tokens = usage.total_tokens if usage else generated
            await _account_later(runtime, principal, model, measured, tokens=tokens, incomplete=not completed)
    last = ChatCompletionChunk(
        id=completion_id,
        created=created,
        model=model.id,
        choices=[],
        usage=measured if request.include_usage else None,
        provenance=provenance,
        provenance_manifests=sign_texts(runtime.signer, provenance, _stream_signed_texts(texts, tool_chunks)),
        fallback_from=fallback_from,
        sources=citations,
        # A streamed answer cannot be taken back: its checks are reported, the reader decides.
        grounding=grounding.review("".join(texts.get(0, []))).report.model_copy(update={"declined": False})
        if grounding is not None
        else None,
    )
    yield _sse(last.model_dump_json(exclude_none=True))
    yield _sse("[DONE]")


def _signed_text(text: str, tool_calls: Sequence[dict[str, object]]) -> str:
    """What a choice's manifest covers: its text, then its tool calls as JSON (a tool call is generated content
    too: its arguments are what the model produced, and what the caller will act on)."""
    if not tool_calls:
        return text
    calls = json.dumps(list(tool_calls), ensure_ascii=False)
    return f"{text}\n\n{calls}" if text else calls


def _stream_signed_texts(texts: dict[int, list[str]], tool_chunks: list[ChatChunk]) -> list[str]:
    """One text per choice of a stream, as :func:`_signed_text` gives it for a whole answer."""
    calls = {choice.index: choice.tool_calls for choice in assemble(tool_chunks).choices}
    return [_signed_text("".join(texts.get(i, [])), calls.get(i, [])) for i in sorted(set(texts) | set(calls))]


def _collect(texts: dict[int, list[str]], chunk: ChatChunk) -> None:
    for delta in chunk.deltas:
        if delta.text:
            texts[delta.index].append(delta.text)


def _for_model(backend_request: ChatRequest, model: RegisteredModel) -> ChatRequest:
    """The same backend request, for ``model``'s upstream name (a fallback is another model on its server)."""
    if backend_request.model == model.upstream_name:
        return backend_request
    return backend_request.model_copy(update={"model": model.upstream_name})


async def _failing(exc: UpstreamError) -> AsyncIterator[ChatChunk]:
    """A stream that fails at once with ``exc``: every model of the chain failed before its first byte."""
    raise exc
    yield  # pragma: no cover - makes this an async generator
