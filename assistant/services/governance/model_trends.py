"""How each model behaves day by day, for the référent's supervision page: requests, errors, latency, reports.

Complements :mod:`assistant.services.governance.supervision` (totals over the alert window) with a daily series
per model, every day of the window present (zero requests on a quiet day), so charts and tables line up day for
day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from assistant.runtime import Runtime
from assistant.store import model_trends as trend_store
from assistant.store import utcnow

__all__ = ["DayPoint", "ModelTrend", "model_trends"]


@dataclass(frozen=True, slots=True)
class DayPoint:
    """One model on one UTC day; rates and latency are ``None`` on a day without requests (unknown, not zero)."""

    day: date
    requests: int
    errors: int
    reports: int
    latency_ms: float | None
    error_rate: float | None
    report_rate: float | None


@dataclass(frozen=True, slots=True)
class ModelTrend:
    """A model's daily series over the window."""

    model_id: str
    days: list[DayPoint]

    @property
    def requests(self) -> int:
        return sum(point.requests for point in self.days)


async def model_trends(
    runtime: Runtime, *, days: int = 30, model_ids: list[str] | None = None, now: datetime | None = None
) -> dict[str, ModelTrend]:
    """Daily series over the last ``days`` UTC days (today included), per model id (``model_ids``: those only)."""
    until = now or utcnow()
    first = until.date() - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=until.tzinfo)
    async with runtime.session_factory() as session:
        usage = await trend_store.daily_usage_per_model(session=session, since=since, until=until)
        reports = await trend_store.daily_reports_per_model(session=session, since=since, until=until)
    by_key = {(row.model_id, row.day): row for row in usage}
    wanted = model_ids if model_ids is not None else sorted({row.model_id for row in usage} | {m for m, _ in reports})
    calendar = [first + timedelta(days=offset) for offset in range(days)]
    trends = {}
    for model_id in wanted:
        points = []
        for day in calendar:
            row = by_key.get((model_id, day.isoformat()))
            served = row.requests if row else 0
            errors = row.incomplete if row else 0
            reported = reports.get((model_id, day.isoformat()), 0)
            points.append(
                DayPoint(
                    day=day,
                    requests=served,
                    errors=errors,
                    reports=reported,
                    latency_ms=row.latency_ms if row else None,
                    error_rate=errors / served if served else None,
                    report_rate=reported / served if served else None,
                )
            )
        trends[model_id] = ModelTrend(model_id=model_id, days=points)
    return trends
