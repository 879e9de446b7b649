"""Reading and appending the hash-chained event log. Appends never update or delete a row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import AuditEvent

__all__ = ["GENESIS_HASH", "add_event", "count_actions", "iter_events", "last_event", "lock_chain", "query_events"]

GENESIS_HASH = "0" * 64
# Arbitrary constant: the PostgreSQL advisory lock that serialises appends across replicas.
_CHAIN_LOCK_KEY = 7_420_002


async def lock_chain(*, session: AsyncSession) -> None:
    """Serialise appends until the end of the transaction (PostgreSQL; SQLite serialises writers itself)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


async def last_event(*, session: AsyncSession) -> AuditEvent | None:
    """The head of the chain."""
    result = await session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    return result.scalar_one_or_none()


async def add_event(*, session: AsyncSession, event: AuditEvent) -> AuditEvent:
    """Stage ``event`` (its hashes already computed) and flush it."""
    session.add(event)
    await session.flush()
    return event


async def iter_events(*, session: AsyncSession, batch_size: int = 1000) -> AsyncIterator[AuditEvent]:
    """Every event in chain order, fetched in batches so that long logs stream in bounded memory."""
    last_id = 0
    while True:
        rows = await session.execute(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
        )
        batch = list(rows.scalars())
        if not batch:
            return
        for event in batch:
            yield event
        last_id = batch[-1].id
        session.expunge_all()


async def query_events(
    *,
    session: AsyncSession,
    category: str | None = None,
    actor_label: str | None = None,
    action_prefix: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """Events matching the filters, newest first (keyset pagination with ``before_id``)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if category:
        query = query.where(AuditEvent.category == category)
    if actor_label:
        query = query.where(AuditEvent.actor_label == actor_label)
    if action_prefix:
        query = query.where(AuditEvent.action.startswith(action_prefix, autoescape=True))
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    return list((await session.execute(query)).scalars())


async def count_actions(*, session: AsyncSession, action_prefix: str, since: datetime | None = None) -> dict[str, int]:
    """How many events of each action starting with ``action_prefix`` (since ``since``), in one aggregate."""
    query = (
        select(AuditEvent.action, func.count(AuditEvent.id))
        .where(AuditEvent.action.startswith(action_prefix, autoescape=True))
        .group_by(AuditEvent.action)
    )
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    return {action: int(count) for action, count in (await session.execute(query)).all()}
