"""Reading the connection and audit log (auditors) and verifying its hash chain."""

from __future__ import annotations

from datetime import datetime

from assistant.audit import ChainReport
from assistant.runtime import Runtime
from assistant.store import audit as audit_store
from assistant.store.models import AuditEvent

__all__ = ["search_events", "verify_chain"]


async def search_events(
    runtime: Runtime,
    *,
    category: str | None = None,
    actor: str | None = None,
    action_prefix: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """Events matching the filters, newest first (page with ``before_id`` = last id seen)."""
    async with runtime.session_factory() as session:
        return await audit_store.query_events(
            session=session,
            category=category,
            actor_label=actor,
            action_prefix=action_prefix,
            since=since,
            until=until,
            limit=limit,
            before_id=before_id,
        )


async def verify_chain(runtime: Runtime) -> ChainReport:
    """Walk the whole chain."""
    return await runtime.audit.verify()
