"""Daily series per model for the supervision page: every day present, rates unknown on quiet days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.governance.model_trends import model_trends
from assistant.store import usage as usage_store
from assistant.store.models import IncidentCategory, IncidentReport, IncidentStatus, UsageRecord, UsageService

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _usage(model: str, when: datetime, *, latency: float, incomplete: bool = False) -> UsageRecord:
    return UsageRecord(
        model_id=model,
        service=UsageService.CHAT,
        latency_ms=latency,
        energy_method="test",
        incomplete=incomplete,
        created_at=when,
    )


async def test_daily_series_per_model(settings_factory, database_url: str) -> None:  # type: ignore[no-untyped-def]
    settings: Settings = settings_factory(database_url=database_url)
    yesterday = NOW - timedelta(days=1)
    async with open_runtime(settings, with_worker=False) as runtime:
        async with runtime.session_factory.begin() as session:
            for record in (
                _usage("albert", yesterday, latency=100),
                _usage("albert", yesterday + timedelta(hours=1), latency=300, incomplete=True),
                _usage("albert", NOW - timedelta(hours=1), latency=50),
                _usage("mistral", NOW - timedelta(days=9), latency=80),
                _usage("albert", NOW - timedelta(days=30), latency=999),  # outside a 7-day window
            ):
                await usage_store.add_usage_record(session=session, record=record)
            session.add(
                IncidentReport(
                    category=IncidentCategory.BIAS,
                    description="d",
                    excerpt="e",
                    model_id="albert",
                    status=IncidentStatus.OPEN,
                    created_at=yesterday,
                )
            )
        trends = await model_trends(runtime, days=7, now=NOW)
        only = await model_trends(runtime, days=7, model_ids=["absent"], now=NOW)

    assert set(trends) == {"albert"}, "a model without activity in the window is not listed unless asked"
    albert = trends["albert"]
    assert [point.day for point in albert.days] == [date(2026, 11, 17) + timedelta(days=n) for n in range(7)]
    before, day, today = albert.days[-3], albert.days[-2], albert.days[-1]
    assert (day.requests, day.errors, day.reports) == (2, 1, 1)
    assert day.latency_ms == 200 and day.error_rate == 0.5 and day.report_rate == 0.5
    assert (today.requests, today.errors, today.latency_ms, today.error_rate) == (1, 0, 50, 0)
    assert (before.requests, before.latency_ms, before.error_rate, before.report_rate) == (0, None, None, None)
    assert albert.requests == 3
    assert [point.requests for point in only["absent"].days] == [0] * 7
