"""Usage records: one row per generation, summed for the user's and the service's KPIs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import UsageRecord

__all__ = ["UsageTotals", "add_usage_record", "usage_totals"]


@dataclass(frozen=True)
class UsageTotals:
    """Sums over a set of usage records; ``key`` is the grouping value (a model id) or None."""

    key: str | None
    requests: int
    prompt_tokens: int
    completion_tokens: int
    energy_wh: float
    gco2e: float
    latency_ms: float


async def add_usage_record(*, session: AsyncSession, record: UsageRecord) -> UsageRecord:
    """Stage one usage record."""
    session.add(record)
    await session.flush()
    return record


async def usage_totals(
    *, session: AsyncSession, user_id: uuid.UUID, since: datetime, by_model: bool = False
) -> list[UsageTotals]:
    """Totals of ``user_id``'s records created at or after ``since``; one row per model when ``by_model``."""
    columns = (
        func.count(UsageRecord.id),
        func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
        func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
        func.coalesce(func.sum(UsageRecord.energy_wh), 0.0),
        func.coalesce(func.sum(UsageRecord.gco2e), 0.0),
        func.coalesce(func.sum(UsageRecord.latency_ms), 0.0),
    )
    keys = [UsageRecord.model_id] if by_model else []
    query = select(*keys, *columns).where(UsageRecord.user_id == user_id, UsageRecord.created_at >= since)
    if by_model:
        query = query.group_by(UsageRecord.model_id).order_by(UsageRecord.model_id)
    totals = []
    for row in (await session.execute(query)).all():
        key, values = (row[0], row[1:]) if by_model else (None, row)
        totals.append(
            UsageTotals(
                key=key,
                requests=int(values[0]),
                prompt_tokens=int(values[1]),
                completion_tokens=int(values[2]),
                energy_wh=float(values[3]),
                gco2e=float(values[4]),
                latency_ms=float(values[5]),
            )
        )
    return totals
