"""Which tracer the code running now reports to: a context variable, set per request and per job.

The HTTP middleware and the job worker set it around the work they trace; everything below (the gateway, the
model backends, the job queue) reads it. Unset, the default, every helper of this package does nothing and
imports nothing: with telemetry off, nothing is set, so the request path pays one context-variable read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.telemetry._provider import Tracing

__all__ = ["current_tracing", "tracing_scope"]

_active: ContextVar[Tracing | None] = ContextVar("souverain_tracing", default=None)


def current_tracing() -> Tracing | None:
    """The tracer of the request or job running now; None when telemetry is off or outside any."""
    return _active.get()


@contextmanager
def tracing_scope(tracing: Tracing | None) -> Iterator[None]:
    """Make ``tracing`` the current tracer for the block (None: none)."""
    token = _active.set(tracing)
    try:
        yield
    finally:
        _active.reset(token)
