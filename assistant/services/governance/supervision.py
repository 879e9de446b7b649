"""Model supervision: the référent's withdrawals and reinstatements, and quality signals per model.

A decision is applied to the in-memory registry at once (the gateway then refuses the model with the référent's
message: ``ModelWithdrawnError``, HTTP 410), persisted, audited, and re-applied at every start
(``assistant.runtime.apply_model_decisions``). Other replicas pick it up at their next start.

Quality signals count reports and the agents' 👍/👎 per model over a window, and relate the reports to the
number of requests served, taken from a :class:`UsageSource` — the usage records (:class:`UsageRecordsSource`);
a model with no record has ``None`` (unknown) rates rather than a misleading zero.
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError
from assistant.llm import ModelStatus, RegisteredModel
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.governance.incidents import ALERT_CATEGORIES
from assistant.services.governance.satisfaction import ModelSatisfaction, model_satisfaction
from assistant.store import governance as governance_store
from assistant.store import kpis as kpi_store
from assistant.store import utcnow
from assistant.store.models import IncidentCategory, IncidentStatus, ModelDecision

__all__ = [
    "ModelSupervision",
    "NoUsageSource",
    "RequestStats",
    "UsageRecordsSource",
    "UsageSource",
    "list_supervision",
    "reinstate_model",
    "usage_source_for",
    "withdraw_model",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestStats:
    """Requests served by one model over a window; ``errors`` is ``None`` when the source does not know."""

    requests: int
    errors: int | None = None


class UsageSource(abc.ABC):
    """Where supervision learns how many requests each model served.

    Implementations read usage records, metrics or the audit log; one abstract method::

        class UsageRecords(UsageSource):
            async def requests_per_model(self, *, since, until):
                return {"mistral-small": RequestStats(requests=1200, errors=3)}
    """

    @abc.abstractmethod
    async def requests_per_model(self, *, since: datetime, until: datetime) -> dict[str, RequestStats]:
        """Requests (and failed requests, when known) per model id in ``[since, until)``; absent ids: unknown."""


class NoUsageSource(UsageSource):
    """The source used until per-request usage records land: it knows of no request."""

    async def requests_per_model(self, *, since: datetime, until: datetime) -> dict[str, RequestStats]:
        return {}


class UsageRecordsSource(UsageSource):
    """Request counts from the usage records of every generation; incomplete generations count as errors."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def requests_per_model(self, *, since: datetime, until: datetime) -> dict[str, RequestStats]:
        async with self._runtime.session_factory() as session:
            rows = await kpi_store.aggregate_usage(session=session, since=since, until=until, group_by="model")
        return {row.key: RequestStats(requests=row.requests, errors=row.incomplete) for row in rows if row.key}


def usage_source_for(runtime: Runtime) -> UsageSource:
    """The usage source of this deployment: the usage records."""
    return UsageRecordsSource(runtime)


@dataclass(frozen=True, slots=True)
class ModelSupervision:
    """One model as the référent supervises it."""

    model: RegisteredModel
    decision: ModelDecision | None
    window_days: int
    reports: int
    reports_by_category: dict[IncidentCategory, int]
    unresolved_reports: int
    alert_reports: int
    alert: bool
    requests: int | None
    report_rate: float | None
    error_rate: float | None
    alert_threshold: int = 0
    satisfaction: ModelSatisfaction | None = None


async def _decide(
    runtime: Runtime,
    *,
    model_id: str,
    status: ModelStatus,
    reason: str | None,
    actor: Principal | None,
    client: ClientInfo | None,
) -> RegisteredModel:
    model = runtime.models.get(model_id)  # UnknownModelError (404) before anything is written
    previous = model.status
    async with runtime.session_factory.begin() as session:
        await governance_store.put_decision(
            session=session,
            model_id=model_id,
            status=status.value,
            reason=reason,
            decided_by=actor.username if actor else "cli",
            decided_at=utcnow(),
        )
    if status is ModelStatus.WITHDRAWN:
        runtime.models.withdraw(model_id, reason=reason or "")
    else:
        runtime.models.reinstate(model_id)
    await runtime.audit.record(
        category="audit",
        action="model.withdraw" if status is ModelStatus.WITHDRAWN else "model.reinstate",
        actor_id=actor.user_id if actor else None,
        actor_label=actor.username if actor else "cli",
        resource_type="model",
        resource_id=model_id,
        client=client,
        details={"from": previous.value, "to": status.value, "reason": reason},
    )
    return model


async def withdraw_model(
    runtime: Runtime, *, model_id: str, reason: str, actor: Principal | None, client: ClientInfo | None = None
) -> RegisteredModel:
    """Withdraw a model; ``reason`` is shown to every user whose request names it."""
    reason = reason.strip()
    if not reason:
        raise InvalidRequestError("Indiquez le motif du retrait : il est affiché aux utilisateurs du modèle.")
    if len(reason) > 1000:
        raise InvalidRequestError("Motif trop long (1 000 caractères au plus).")
    return await _decide(
        runtime, model_id=model_id, status=ModelStatus.WITHDRAWN, reason=reason, actor=actor, client=client
    )


async def reinstate_model(
    runtime: Runtime, *, model_id: str, actor: Principal | None, client: ClientInfo | None = None
) -> RegisteredModel:
    """Put a withdrawn model back in service."""
    return await _decide(runtime, model_id=model_id, status=ModelStatus.ACTIVE, reason=None, actor=actor, client=client)


async def list_supervision(
    runtime: Runtime, *, usage: UsageSource | None = None, now: datetime | None = None
) -> list[ModelSupervision]:
    """Every configured model (withdrawn included) with its decision, report counts, rates and alert flag."""
    now = now or utcnow()
    window = runtime.settings.incident_alert_window_days
    since = now - timedelta(days=window)
    threshold = runtime.settings.incident_alert_threshold
    usage = usage or usage_source_for(runtime)
    async with runtime.session_factory() as session:
        decisions = {decision.model_id: decision for decision in await governance_store.list_decisions(session=session)}
        cells = await governance_store.count_reports(session=session, since=since)
    served = await usage.requests_per_model(since=since, until=now)
    ratings = await model_satisfaction(runtime, days=window, now=now)
    result = []
    for model in runtime.models.models(include_withdrawn=True):
        mine = [cell for cell in cells if cell.model_id == model.id]
        by_category = {category: 0 for category in IncidentCategory}
        for cell in mine:
            by_category[cell.category] += cell.count
        reports = sum(by_category.values())
        unresolved = sum(cell.count for cell in mine if cell.status is not IncidentStatus.CLOSED)
        alerting = sum(
            cell.count
            for cell in mine
            if cell.category in ALERT_CATEGORIES and cell.status is not IncidentStatus.CLOSED
        )
        stats = served.get(model.id)
        requests = stats.requests if stats is not None else None
        result.append(
            ModelSupervision(
                model=model,
                decision=decisions.get(model.id),
                window_days=window,
                reports=reports,
                reports_by_category=by_category,
                unresolved_reports=unresolved,
                alert_reports=alerting,
                alert=alerting >= threshold,
                requests=requests,
                report_rate=reports / requests if requests else None,
                error_rate=stats.errors / requests
                if stats is not None and stats.errors is not None and requests
                else None,
                alert_threshold=threshold,
                satisfaction=ratings.get(model.id),
            )
        )
    return result
