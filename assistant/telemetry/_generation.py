"""The gateway span of one model call: model, backend kind, replica, priority, tokens, time to first token, outcome.

Every model call of the service (the OpenAI gateway, conversations, document tasks, minutes, the guard's
classifier) ends in a backend's ``stream``, which a whole completion reads too: the model-server backends wrap
their stream with :func:`trace_stream`, and only the outermost one opens the span (a replica pool's replica
does not open a second one; the pool records which replica served with :func:`note_replica`). Chunks are read
for their token counts only: their text is never looked at beyond « is there some ».

A stream is traced without keeping the span current across ``yield`` (a context attached in one step of a
generator and detached in another breaks when the consumer closes it from elsewhere): the span is made current
around each step only, which is when the backend below runs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from assistant.telemetry._context import current_tracing

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from assistant.telemetry._provider import Tracing

__all__ = ["error_code", "note_replica", "trace_stream"]

Chunk = TypeVar("Chunk")


@dataclass
class _Generation:
    tracing: Tracing
    span: Span
    started: float = field(default_factory=time.perf_counter)
    first_token: float | None = None

    def token(self) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter()
            milliseconds = round((self.first_token - self.started) * 1000, 1)
            self.tracing.annotate(self.span, {"souverain.time_to_first_token_ms": milliseconds})

    def usage(self, usage: Any) -> None:
        if usage is not None:
            self.tracing.annotate(
                self.span,
                {
                    "gen_ai.usage.input_tokens": getattr(usage, "prompt_tokens", None),
                    "gen_ai.usage.output_tokens": getattr(usage, "completion_tokens", None),
                },
            )

    @contextmanager
    def current(self) -> Iterator[None]:
        token = _generation.set(self)
        try:
            with self.tracing.use(self.span):
                yield
        finally:
            _generation.reset(token)

    def end(self, outcome: str, error: str | None = None) -> None:
        self.tracing.annotate(self.span, {"souverain.outcome": outcome})
        self.tracing.finish(self.span, error=error)


_generation: ContextVar[_Generation | None] = ContextVar("souverain_generation", default=None)


def error_code(exc: BaseException) -> str:
    """The stable code of an error (``LLMError.code``), else its class name: never its message."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__


def _start(tracing: Tracing, *, model: str, backend_kind: str, priority: int | None) -> _Generation:
    span = tracing.start_span(
        "gateway.generate",
        kind="internal",
        attributes={
            "gen_ai.request.model": model,
            "souverain.backend.kind": backend_kind,
            "souverain.priority": priority,
        },
    )
    return _Generation(tracing, span)


def _has_text(chunk: Any) -> bool:
    return any(getattr(delta, "text", None) or getattr(delta, "tool_calls", None) for delta in chunk.deltas)


def trace_stream(
    chunks: AsyncIterator[Chunk], *, model: str, backend_kind: str, priority: int | None = None
) -> AsyncIterator[Chunk]:
    """``chunks`` (a backend's stream, not started) inside a gateway span named after the upstream ``model``.

    Returns ``chunks`` itself when telemetry is off or when a gateway span is already open (a pool's replica).
    Close the returned iterator as you would the backend's (``aclose``): it closes the backend's stream.
    """
    tracing = current_tracing()
    if tracing is None or _generation.get() is not None:
        return chunks
    return _traced(_start(tracing, model=model, backend_kind=backend_kind, priority=priority), chunks)


async def _traced(generation: _Generation, chunks: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    outcome, error = "cancelled", None
    try:
        while True:
            with generation.current():
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
            if _has_text(chunk):
                generation.token()
            generation.usage(getattr(chunk, "usage", None))
            yield chunk
        outcome = "ok"
    except Exception as exc:
        outcome, error = "error", error_code(exc)
        raise
    finally:
        try:
            with generation.current():
                await chunks.aclose()  # type: ignore[attr-defined]
        finally:
            generation.end(outcome, error)


def note_replica(name: str) -> None:
    """Record on the current gateway span which replica serves it (the last one tried, after a failover)."""
    generation = _generation.get()
    if generation is not None:
        generation.tracing.annotate(generation.span, {"souverain.replica": name})
