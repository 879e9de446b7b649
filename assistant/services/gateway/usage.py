"""Usage and frugality records (design §9): one per generation, summed for the user and for KPIs."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from assistant.errors import SouverainError, StoreError
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.gateway.generation import Measure
from assistant.store import usage as usage_store
from assistant.store import utcnow
from assistant.store.models import UsageRecord, UsageService
from assistant.store.usage import UsageTotals

__all__ = ["UsageSummary", "record_usage", "usage_summary", "write_usage"]

logger = logging.getLogger(__name__)


async def write_usage(
    runtime: Runtime,
    *,
    principal: Principal,
    model_id: str,
    service: UsageService,
    measure: Measure,
    preset: str | None = None,
    incomplete: bool = False,
    at: datetime | None = None,
) -> None:
    """Store one usage record; :class:`StoreError` when the database refuses (for callers that retry).

    ``at`` is when the generation ended, for a record written later than that.
    """
    record = UsageRecord(
        created_at=at or utcnow(),
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        model_id=model_id,
        service=service,
        preset=preset,
        prompt_tokens=measure.prompt_tokens,
        completion_tokens=measure.completion_tokens,
        upstream_calls=max(measure.calls, 1),
        latency_ms=round(measure.latency_seconds * 1000, 1),
        energy_wh=measure.energy_wh,
        gco2e=measure.gco2e,
        energy_method=measure.method or "unknown",
        incomplete=incomplete,
    )
    try:
        async with runtime.session_factory.begin() as session:
            await usage_store.add_usage_record(session=session, record=record)
    except SQLAlchemyError as exc:
        raise StoreError(f"Enregistrement de consommation impossible : {exc}") from exc


async def record_usage(
    runtime: Runtime,
    *,
    principal: Principal,
    model_id: str,
    service: UsageService,
    measure: Measure,
    preset: str | None = None,
    incomplete: bool = False,
) -> None:
    """Store one usage record. A failure is logged, never raised: the answer was already produced and paid for."""
    try:
        await write_usage(
            runtime,
            principal=principal,
            model_id=model_id,
            service=service,
            measure=measure,
            preset=preset,
            incomplete=incomplete,
        )
    except SouverainError as exc:
        logger.error("usage record lost for %s on %s: %s", principal.user_id, model_id, exc)


@dataclass(frozen=True)
class UsageSummary:
    """The caller's consumption: today (UTC), the last 30 days, and the last 30 days per model."""

    today: UsageTotals
    last_30_days: UsageTotals
    by_model: list[UsageTotals]


def _empty(key: str | None = None) -> UsageTotals:
    return UsageTotals(key, 0, 0, 0, 0.0, 0.0, 0.0)


async def usage_summary(runtime: Runtime, *, user_id: uuid.UUID) -> UsageSummary:
    """Sums of the user's usage records."""
    now = utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = now - timedelta(days=30)
    async with runtime.session_factory() as session:
        today = await usage_store.usage_totals(session=session, user_id=user_id, since=midnight)
        last_30 = await usage_store.usage_totals(session=session, user_id=user_id, since=month)
        by_model = await usage_store.usage_totals(session=session, user_id=user_id, since=month, by_model=True)
    return UsageSummary(
        today=today[0] if today else _empty(), last_30_days=last_30[0] if last_30 else _empty(), by_model=by_model
    )
