"""Per-model, per-day aggregates for model supervision: requests, failures, latency, reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from assistant.store.models import IncidentReport, UsageRecord

__all__ = ["DailyModelUsage", "daily_reports_per_model", "daily_usage_per_model"]


@dataclass(frozen=True, slots=True)
class DailyModelUsage:
    """One model's generations on one UTC day (``day`` is 'YYYY-MM-DD')."""

    model_id: str
    day: str
    requests: int
    incomplete: int
    latency_ms: float


def _utc_day(session: AsyncSession, column: InstrumentedAttribute[datetime]) -> ColumnElement[str]:
    # UTC days whatever the database server's time zone, 'YYYY-MM-DD' on both databases (as the KPIs count them).
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.date(column, type_=String)


async def daily_usage_per_model(*, session: AsyncSession, since: datetime, until: datetime) -> list[DailyModelUsage]:
    """Generations in ``[since, until)`` per model and day, ordered by model then day."""
    day = _utc_day(session, UsageRecord.created_at)
    query = (
        select(
            UsageRecord.model_id,
            day,
            func.count(UsageRecord.id),
            func.coalesce(func.sum(case((UsageRecord.incomplete.is_(True), 1), else_=0)), 0),
            func.coalesce(func.avg(UsageRecord.latency_ms), 0.0),
        )
        .where(UsageRecord.created_at >= since, UsageRecord.created_at < until)
        .group_by(UsageRecord.model_id, day)
        .order_by(UsageRecord.model_id, day)
    )
    return [
        DailyModelUsage(model_id=model, day=str(when), requests=int(count), incomplete=int(bad), latency_ms=float(ms))
        for model, when, count, bad, ms in (await session.execute(query)).all()
    ]


async def daily_reports_per_model(
    *, session: AsyncSession, since: datetime, until: datetime
) -> dict[tuple[str, str], int]:
    """Incident reports in ``[since, until)`` per (model id, UTC day); reports without a model are left out."""
    day = _utc_day(session, IncidentReport.created_at)
    query = (
        select(IncidentReport.model_id, day, func.count(IncidentReport.id))
        .where(
            IncidentReport.created_at >= since,
            IncidentReport.created_at < until,
            IncidentReport.model_id.is_not(None),
        )
        .group_by(IncidentReport.model_id, day)
    )
    return {(str(model), str(when)): int(count) for model, when, count in (await session.execute(query)).all()}
