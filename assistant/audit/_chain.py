"""The hash chain itself: canonical form of an event and the digest that links it to the previous one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import rfc8785

from assistant.store.models import AuditEvent

__all__ = ["ChainReport", "canonical_event", "chain_hash"]

_HASHED_FIELDS = (
    "category",
    "action",
    "outcome",
    "actor_id",
    "actor_label",
    "resource_type",
    "resource_id",
    "ip",
    "user_agent",
    "request_id",
    "details",
)


def canonical_event(event: AuditEvent) -> bytes:
    """RFC 8785 canonical JSON of everything an event says (not its row id nor its own hashes)."""
    body: dict[str, Any] = {name: getattr(event, name) for name in _HASHED_FIELDS}
    body["actor_id"] = str(event.actor_id) if event.actor_id else None
    body["occurred_at"] = event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return rfc8785.dumps(body)


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    """``sha256(prev_hash || canonical_json(event))`` in hex."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_event(event)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """Result of verifying the whole log. ``first_bad_id`` names the first event that breaks the chain, or the
    checkpointed event that is missing or changed."""

    ok: bool
    events: int
    head_hash: str
    first_bad_id: int | None = None
    problem: str | None = None
    # Signed checkpoints (outside the database) the chain was checked against; 0 when none are configured.
    checkpoints: int = 0
