"""Who goes first when a model is saturated: an agent chatting in the pages before a script on an API key, and
the groups the référents name (a crisis cell) before everyone (``SOUVERAIN_LLM_PRIORITY_GROUPS``).

The priority travels on the backend request (``ChatRequest.priority``); a replica pool with concurrency limits
serves its waiting line in that order (``assistant.llm.replicas``). Batch lines (``/v1/batches``) go last of all,
whoever submitted them: inside :func:`background_priority`, every request gets ``PRIORITY_BATCH``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from assistant.runtime import Runtime
from assistant.security import Principal

__all__ = ["PRIORITY_API", "PRIORITY_BATCH", "PRIORITY_INTERACTIVE", "background_priority", "request_priority"]

PRIORITY_INTERACTIVE = 20
PRIORITY_API = 10
PRIORITY_BATCH = 0
# Set by the batch worker around each line: the one chat code path takes its priority from here, not from the
# caller, so that no priority group lifts a batch above the people waiting in the pages.
_BACKGROUND: ContextVar[bool] = ContextVar("souverain_background_generation", default=False)


@contextmanager
def background_priority() -> Iterator[None]:
    """Generations started inside the block are background work (batch lines): lowest priority."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def request_priority(runtime: Runtime, principal: Principal | None) -> int:
    """The priority of a request made by ``principal`` (interactive when unknown; batch lines last)."""
    if _BACKGROUND.get():
        return PRIORITY_BATCH
    base = PRIORITY_API if principal is not None and principal.method == "api_key" else PRIORITY_INTERACTIVE
    groups = runtime.settings.llm_priority_groups
    if principal is None or not groups:
        return base
    return max([base, *(groups[name] for name in principal.groups if name in groups)])
