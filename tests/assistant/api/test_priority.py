"""Priorities under saturation: pages before API keys, the groups référents name before everyone."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from assistant.security import Principal, permissions_for
from assistant.services.gateway.priority import PRIORITY_API, PRIORITY_INTERACTIVE, request_priority
from assistant.store.models import Role


def _principal(method: Any, groups: tuple[str, ...] = ()) -> Principal:
    return Principal(uuid.uuid4(), "agent", Role.AGENT, method, permissions_for(Role.AGENT), groups=groups)


def test_pages_then_keys_then_the_named_groups_first() -> None:
    runtime: Any = SimpleNamespace(settings=SimpleNamespace(llm_priority_groups={"cellule de crise": 100}))
    assert request_priority(runtime, _principal("session")) == PRIORITY_INTERACTIVE
    assert request_priority(runtime, _principal("api_key")) == PRIORITY_API < PRIORITY_INTERACTIVE
    assert request_priority(runtime, _principal("api_key", ("cellule de crise", "rh"))) == 100
    assert request_priority(runtime, None) == PRIORITY_INTERACTIVE
