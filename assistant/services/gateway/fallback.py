"""Fallback chains: when a model is saturated or unreachable before its first byte, the next model of its chain
answers instead (``BackendConfig.fallback``), and the answer says so.

The registry checked the chains at start (known ids, each fallback at least as sovereign as the model it
replaces). Per request, a fallback is skipped when it is withdrawn or integrity-failed, reserved to groups the
caller is not in, less sovereign (never, after that check: kept as a second lock), or unable to honour the
request's tools. The chain is the list configured on the requested model's backend, not followed transitively,
so what can answer for a model reads in one place.

Only failures before anything was received fall back (saturation, refused connection, 429/503, no first token in
time): after the first byte the user has seen part of an answer, and another model would not continue it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from assistant.audit import ClientInfo
from assistant.llm import (
    ChatBackend,
    ChatChunk,
    ChatRequest,
    LLMError,
    RegisteredModel,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.gateway.model_access import model_access

__all__ = ["Fallback", "fallback_chain", "may_fall_back", "open_stream", "serve_with_fallback"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How the provenance and the answer word each reason (the error code of the model that could not answer).
_REASONS = {
    "model_saturated": "saturé",
    "upstream_unavailable": "indisponible",
    "upstream_timeout": "sans réponse à temps",
}


@dataclass(frozen=True, slots=True)
class Fallback:
    """The model the caller asked for, which could not answer, and why (its error code)."""

    requested: RegisteredModel
    reason: str

    @property
    def reason_label(self) -> str:
        """The reason in French, for the provenance and the admin views."""
        return _REASONS.get(self.reason, "en échec")


def may_fall_back(exc: UpstreamError) -> bool:
    """True when the model failed before producing anything, so that another model can answer from scratch."""
    if not isinstance(exc, UpstreamUnavailableError | UpstreamTimeoutError):
        return False
    partial = exc.partial
    return partial is None or not any(choice.text or choice.tool_calls for choice in partial.choices)


async def fallback_chain(
    runtime: Runtime, model: RegisteredModel, *, principal: Principal, needs_tools: bool = False
) -> list[RegisteredModel]:
    """The models to try after ``model``, in order, among those ``principal`` may use (see the module docstring)."""
    if not model.fallback:
        return []
    access = await model_access(runtime)
    chain = []
    for model_id in model.fallback:
        try:
            candidate = runtime.models.resolve(model_id)
        except LLMError as exc:
            logger.info("fallback %s of %s skipped: %s", model_id, model.id, exc.code)
            continue
        if not access.allows(candidate.id, principal.groups):
            continue
        if model.sovereign and not candidate.sovereign:
            continue
        if needs_tools and not candidate.backend.supports_tools:
            continue
        chain.append(candidate)
    return chain


async def serve_with_fallback(
    runtime: Runtime,
    candidates: Sequence[RegisteredModel],
    attempt: Callable[[RegisteredModel, Fallback | None], Awaitable[T]],
    *,
    principal: Principal,
    client: ClientInfo,
) -> tuple[RegisteredModel, T, Fallback | None]:
    """Run ``attempt`` on the first candidate, then on the next ones while each fails before its first byte.

    ``attempt`` gets the model to call and, for a fallback, the :class:`Fallback` its provenance must state.
    Returns the model that answered, its result, and the :class:`Fallback` when it is not the first candidate.
    When every candidate fails, the first one's error is raised (the model the caller asked for), naming the
    fallbacks tried. Each fallback is audited (``llm.fallback``).
    """
    requested = candidates[0]
    first_error: UpstreamError | None = None
    for position, model in enumerate(candidates):
        fallback = None if first_error is None else Fallback(requested=requested, reason=first_error.code)
        try:
            result = await attempt(model, fallback)
        except UpstreamError as exc:
            if not may_fall_back(exc):
                raise
            first_error = first_error or exc
            if position + 1 == len(candidates):
                if position:
                    tried = ", ".join(f"« {m.id} »" for m in candidates[1:])
                    first_error.message = f"{first_error.message} Modèles de repli essayés sans succès : {tried}."
                if first_error is exc:
                    raise
                raise first_error from exc
            following = candidates[position + 1]
            logger.warning("model %s failed before its first byte (%s); trying %s", model.id, exc.code, following.id)
            continue
        if fallback is None:
            return model, result, None
        await _audit(runtime, principal, client, fallback, answered=model)
        return model, result, fallback
    raise AssertionError("serve_with_fallback needs at least one candidate")


async def _audit(
    runtime: Runtime, principal: Principal, client: ClientInfo, fallback: Fallback, *, answered: RegisteredModel
) -> None:
    await runtime.audit.record(
        category="audit",
        action="llm.fallback",
        outcome="success",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="model",
        resource_id=answered.id,
        client=client,
        details={"requested_model": fallback.requested.id, "answered_model": answered.id, "reason": fallback.reason},
    )


async def open_stream(backend: ChatBackend, request: ChatRequest) -> AsyncIterator[ChatChunk]:
    """The backend's stream with its first chunk already received, so that a failure to start raises here.

    The returned iterator yields that chunk first; closing it closes the backend's stream.
    """
    chunks = backend.stream(request)
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = None
    except BaseException:
        await chunks.aclose()  # type: ignore[attr-defined]
        raise
    return _resumed(first, chunks)


async def _resumed(first: ChatChunk | None, chunks: AsyncIterator[ChatChunk]) -> AsyncIterator[ChatChunk]:
    try:
        if first is not None:
            yield first
        async for chunk in chunks:
            yield chunk
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
