"""Who goes first when a model is saturated: an agent chatting in the pages before a script on an API key, and
the groups the référents name (a crisis cell) before everyone (``SOUVERAIN_LLM_PRIORITY_GROUPS``).

The priority travels on the backend request (``ChatRequest.priority``); a replica pool with concurrency limits
serves its waiting line in that order (``assistant.llm.replicas``).
"""

from __future__ import annotations

from assistant.runtime import Runtime
from assistant.security import Principal

__all__ = ["PRIORITY_API", "PRIORITY_INTERACTIVE", "request_priority"]

PRIORITY_INTERACTIVE = 20
PRIORITY_API = 10


def request_priority(runtime: Runtime, principal: Principal | None) -> int:
    """The priority of a request made by ``principal`` (interactive when unknown)."""
    base = PRIORITY_API if principal is not None and principal.method == "api_key" else PRIORITY_INTERACTIVE
    groups = runtime.settings.llm_priority_groups
    if principal is None or not groups:
        return base
    return max([base, *(groups[name] for name in principal.groups if name in groups)])
