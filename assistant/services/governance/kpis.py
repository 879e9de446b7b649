"""KPIs for référents (design §1, §9): usage by service and model, active users, tokens, energy, CO2, reports,
satisfaction (👍/👎) per model, preferences in side-by-side comparisons, the most used prompts of the library."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from assistant.runtime import Runtime
from assistant.services.chat.comparisons import ModelPreference, model_preferences
from assistant.services.governance.incidents import IncidentStats, incident_stats
from assistant.services.governance.satisfaction import ModelSatisfaction, model_satisfaction
from assistant.store import kpis as kpi_store
from assistant.store import prompts as prompt_store
from assistant.store import utcnow
from assistant.store.kpis import Aggregate
from assistant.store.prompts import PromptUseCount

__all__ = ["Kpis", "service_kpis"]

_TOP_PROMPTS = 20


@dataclass(frozen=True)
class Kpis:
    """Everything the KPI page shows for one window."""

    since: datetime
    until: datetime
    total: Aggregate
    active_users: int
    by_service: list[Aggregate]
    by_model: list[Aggregate]
    by_day: list[Aggregate]
    reports: list[IncidentStats]
    satisfaction: list[ModelSatisfaction]
    prompts: list[PromptUseCount] = field(default_factory=list)
    preferences: list[ModelPreference] = field(default_factory=list)


async def service_kpis(runtime: Runtime, *, days: int = 30) -> Kpis:
    """KPIs over the last ``days`` days."""
    until = utcnow()
    since = until - timedelta(days=days)
    async with runtime.session_factory() as session:
        total = await kpi_store.aggregate_usage(session=session, since=since, until=until)
        by_service = await kpi_store.aggregate_usage(session=session, since=since, until=until, group_by="service")
        by_model = await kpi_store.aggregate_usage(session=session, since=since, until=until, group_by="model")
        by_day = await kpi_store.aggregate_usage(session=session, since=since, until=until, group_by="day")
        users = await kpi_store.active_users(session=session, since=since, until=until)
        prompts = await prompt_store.count_uses(session=session, since=since, until=until, limit=_TOP_PROMPTS)
    return Kpis(
        since=since,
        until=until,
        total=total[0],
        active_users=users,
        by_service=by_service,
        by_model=by_model,
        by_day=by_day,
        reports=await incident_stats(runtime, since=since),
        satisfaction=sorted(
            (await model_satisfaction(runtime, days=days, now=until)).values(), key=lambda item: item.model_id or ""
        ),
        # A personal prompt's title is its author's business: référents see that one was used, not what it says.
        prompts=[item if item.published else replace(item, title="Prompt personnel") for item in prompts],
        preferences=await model_preferences(runtime, days=days, now=until),
    )
