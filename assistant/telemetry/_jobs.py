"""Background jobs in traces: the enqueuing request's trace context travels with the job to its worker span.

:func:`job_trace_context` is read when a job is queued (W3C headers of the current span, empty when nothing is
traced); the worker opens :func:`job_span` with it, so the job's span is a child of the request that asked for
the work, in the same trace, however long the job waited. :func:`note_job` adds what the runner learns once it
claims the job (kind, attempt).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.telemetry._context import current_tracing
from assistant.telemetry._generation import error_code

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from assistant.telemetry._provider import Tracing

__all__ = ["JobSpan", "job_span", "job_trace_context", "note_job"]


@dataclass
class JobSpan:
    """The span of one job run; :meth:`outcome` records how it ended (``succeeded``, ``failed``…)."""

    tracing: Tracing | None = None
    span: Span | None = None

    def outcome(self, outcome: str) -> None:
        """How the run ended, as the job's status says it (or ``skipped`` when another worker had it)."""
        if self.tracing is not None and self.span is not None:
            self.tracing.annotate(self.span, {"souverain.outcome": outcome})


_job: ContextVar[JobSpan | None] = ContextVar("souverain_job_span", default=None)


def job_trace_context() -> dict[str, str]:
    """The current trace context as W3C headers, to store with a job being queued; empty when not traced."""
    tracing = current_tracing()
    return tracing.carrier() if tracing is not None else {}


@asynccontextmanager
async def job_span(
    tracing: Tracing | None, *, job_id: uuid.UUID, parent: Mapping[str, str] | None
) -> AsyncIterator[JobSpan]:
    """A consumer span around one job run, child of the enqueuing request's ``parent`` context (a new trace when
    there is none), current inside the block so the job's model calls are its children."""
    if tracing is None:
        yield JobSpan()
        return
    span = tracing.start_span(
        "job.run", kind="consumer", attributes={"souverain.job.id": str(job_id)}, parent=parent or {}
    )
    handle = JobSpan(tracing, span)
    token = _job.set(handle)
    error = None
    try:
        with tracing.use(span):
            yield handle
    except Exception as exc:
        error = error_code(exc)
        raise
    finally:
        _job.reset(token)
        tracing.finish(span, error=error)


def note_job(*, kind: str, attempt: int) -> None:
    """Record the job's kind and attempt on the current job span, once the runner claimed it."""
    handle = _job.get()
    if handle is not None and handle.tracing is not None and handle.span is not None:
        handle.tracing.annotate(handle.span, {"souverain.job.kind": kind, "souverain.job.attempt": attempt})
