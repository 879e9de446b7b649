"""Service-wide aggregates over usage records, for référents' KPIs and model supervision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, String, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import UsageRecord

__all__ = ["Aggregate", "active_users", "aggregate_usage"]

GroupBy = Literal["total", "model", "service", "day"]


@dataclass(frozen=True)
class Aggregate:
    """Sums over usage records sharing ``key`` (a model id, a service, an ISO day; None for the total)."""

    key: str | None
    requests: int
    incomplete: int
    users: int
    prompt_tokens: int
    completion_tokens: int
    energy_wh: float
    gco2e: float
    latency_ms: float


def _utc_day(session: AsyncSession) -> ColumnElement[str]:
    # Days are UTC days whatever the database server's time zone; both give 'YYYY-MM-DD'.
    if session.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", UsageRecord.created_at), "YYYY-MM-DD")
    return func.date(UsageRecord.created_at, type_=String)


async def aggregate_usage(
    *, session: AsyncSession, since: datetime, until: datetime, group_by: GroupBy = "total"
) -> list[Aggregate]:
    """Usage in ``[since, until)``, summed per ``group_by``."""
    keys = {
        "total": [],
        "model": [UsageRecord.model_id],
        "service": [UsageRecord.service],
        "day": [_utc_day(session)],
    }[group_by]
    columns = (
        func.count(UsageRecord.id),
        func.coalesce(func.sum(case((UsageRecord.incomplete.is_(True), 1), else_=0)), 0),
        func.count(func.distinct(UsageRecord.user_id)),
        func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
        func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
        func.coalesce(func.sum(UsageRecord.energy_wh), 0.0),
        func.coalesce(func.sum(UsageRecord.gco2e), 0.0),
        func.coalesce(func.avg(UsageRecord.latency_ms), 0.0),
    )
    query = select(*keys, *columns).where(UsageRecord.created_at >= since, UsageRecord.created_at < until)
    if keys:
        query = query.group_by(*keys).order_by(*keys)
    aggregates = []
    for row in (await session.execute(query)).all():
        key, values = (str(getattr(row[0], "value", row[0])), row[1:]) if keys else (None, row)
        if not keys and int(values[0]) == 0:
            values = (0, 0, 0, 0, 0, 0.0, 0.0, 0.0)
        aggregates.append(
            Aggregate(
                key=key,
                requests=int(values[0]),
                incomplete=int(values[1]),
                users=int(values[2]),
                prompt_tokens=int(values[3]),
                completion_tokens=int(values[4]),
                energy_wh=float(values[5]),
                gco2e=float(values[6]),
                latency_ms=float(values[7]),
            )
        )
    return aggregates


async def active_users(*, session: AsyncSession, since: datetime, until: datetime) -> int:
    """Distinct users with at least one generation in the window."""
    query = select(func.count(func.distinct(UsageRecord.user_id))).where(
        UsageRecord.created_at >= since, UsageRecord.created_at < until, UsageRecord.user_id.is_not(None)
    )
    return int((await session.execute(query)).scalar_one())
