"""Fixed-window usage counters in the database (the embedded backend of quotas, rate limits and lockouts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import UsageCounter

__all__ = ["add_to_counter", "delete_counter", "purge_expired_counters", "read_counter"]


async def add_to_counter(*, session: AsyncSession, key: str, amount: int, expires_at: datetime) -> int:
    """Atomically add ``amount`` to the counter ``key`` (created at ``amount``) and return the new value."""
    # One upsert statement: concurrent requests on either backend never lose an increment.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(UsageCounter)
        .values(key=key, count=amount, expires_at=expires_at)
        .on_conflict_do_update(index_elements=["key"], set_={"count": UsageCounter.count + amount})
        .returning(UsageCounter.count)
    )
    return int((await session.execute(statement)).scalar_one())


async def read_counter(*, session: AsyncSession, key: str) -> int:
    """The counter's value (0 when absent)."""
    value = (await session.execute(select(UsageCounter.count).where(UsageCounter.key == key))).scalar_one_or_none()
    return int(value or 0)


async def delete_counter(*, session: AsyncSession, key: str) -> None:
    """Forget a counter (e.g. failures after a successful login)."""
    await session.execute(delete(UsageCounter).where(UsageCounter.key == key))


async def purge_expired_counters(*, session: AsyncSession, now: datetime) -> int:
    """Delete counters whose window is over; returns how many."""
    result = await session.execute(delete(UsageCounter).where(UsageCounter.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)
