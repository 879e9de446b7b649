"""Queries on governance records. Functions take the session keyword-only and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import (
    AuditEvent,
    IncidentCategory,
    IncidentReport,
    IncidentStatus,
    ModelDecision,
    RegistryReview,
)

__all__ = [
    "IncidentCount",
    "add_report",
    "count_reports",
    "get_decision",
    "get_report",
    "get_review",
    "last_event_for",
    "list_decisions",
    "list_reports",
    "list_reviews",
    "put_decision",
    "put_review",
]


@dataclass(frozen=True, slots=True)
class IncidentCount:
    """Reports of one (model, category, status) cell."""

    model_id: str | None
    category: IncidentCategory
    status: IncidentStatus
    count: int


async def add_report(*, session: AsyncSession, report: IncidentReport) -> IncidentReport:
    """Stage a new report and flush it so that its id and timestamps are known."""
    session.add(report)
    await session.flush()
    await session.refresh(report)
    return report


async def get_report(*, session: AsyncSession, report_id: uuid.UUID) -> IncidentReport | None:
    """The report with this id, if any."""
    return await session.get(IncidentReport, report_id)


async def list_reports(
    *,
    session: AsyncSession,
    reporter_id: uuid.UUID | None = None,
    status: IncidentStatus | None = None,
    category: IncidentCategory | None = None,
    model_id: str | None = None,
    assignee_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[IncidentReport]:
    """Reports matching the filters, newest first."""
    query = select(IncidentReport).order_by(IncidentReport.created_at.desc(), IncidentReport.id).limit(limit)
    if reporter_id is not None:
        query = query.where(IncidentReport.reporter_id == reporter_id)
    if status is not None:
        query = query.where(IncidentReport.status == status)
    if category is not None:
        query = query.where(IncidentReport.category == category)
    if model_id is not None:
        query = query.where(IncidentReport.model_id == model_id)
    if assignee_id is not None:
        query = query.where(IncidentReport.assignee_id == assignee_id)
    return list((await session.execute(query.offset(offset))).scalars())


async def count_reports(
    *,
    session: AsyncSession,
    since: datetime | None = None,
    model_id: str | None = None,
    categories: Iterable[IncidentCategory] | None = None,
    statuses: Iterable[IncidentStatus] | None = None,
) -> list[IncidentCount]:
    """Report counts grouped by model, category and status (one SQL aggregate)."""
    query = select(
        IncidentReport.model_id, IncidentReport.category, IncidentReport.status, func.count(IncidentReport.id)
    ).group_by(IncidentReport.model_id, IncidentReport.category, IncidentReport.status)
    if since is not None:
        query = query.where(IncidentReport.created_at >= since)
    if model_id is not None:
        query = query.where(IncidentReport.model_id == model_id)
    if categories is not None:
        query = query.where(IncidentReport.category.in_(list(categories)))
    if statuses is not None:
        query = query.where(IncidentReport.status.in_(list(statuses)))
    rows = await session.execute(query)
    return [IncidentCount(model, category, status, int(count)) for model, category, status, count in rows.all()]


async def get_decision(*, session: AsyncSession, model_id: str) -> ModelDecision | None:
    """The standing decision on a model, if any."""
    return await session.get(ModelDecision, model_id)


async def list_decisions(*, session: AsyncSession) -> list[ModelDecision]:
    """Every standing decision, by model id."""
    return list((await session.execute(select(ModelDecision).order_by(ModelDecision.model_id))).scalars())


async def put_decision(
    *, session: AsyncSession, model_id: str, status: str, reason: str | None, decided_by: str, decided_at: datetime
) -> ModelDecision:
    """Create or replace the decision on ``model_id``."""
    decision = await session.get(ModelDecision, model_id)
    if decision is None:
        decision = ModelDecision(model_id=model_id)
        session.add(decision)
    decision.status = status
    decision.reason = reason
    decision.decided_by = decided_by
    decision.decided_at = decided_at
    await session.flush()
    return decision


async def get_review(*, session: AsyncSession, kind: str, subject_id: str) -> RegistryReview | None:
    """The review row of one registry entry, if any."""
    return await session.get(RegistryReview, (kind, subject_id))


async def list_reviews(*, session: AsyncSession) -> list[RegistryReview]:
    """Every registry review row."""
    return list((await session.execute(select(RegistryReview))).scalars())


async def put_review(
    *,
    session: AsyncSession,
    kind: str,
    subject_id: str,
    reviewed_by: str,
    reviewed_at: datetime,
    legal_basis: str | None = None,
    note: str | None = None,
) -> RegistryReview:
    """Record a review of one entry; a ``None`` legal basis or note keeps the previous text."""
    review = await session.get(RegistryReview, (kind, subject_id))
    if review is None:
        review = RegistryReview(kind=kind, subject_id=subject_id)
        session.add(review)
    review.reviewed_by = reviewed_by
    review.reviewed_at = reviewed_at
    if legal_basis is not None:
        review.legal_basis = legal_basis
    if note is not None:
        review.note = note
    await session.flush()
    return review


async def last_event_for(
    *, session: AsyncSession, action: str, resource_type: str, resource_id: str, since: datetime
) -> AuditEvent | None:
    """The latest audit event of ``action`` on a resource since ``since`` (to raise an alert once per window)."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.action == action,
            AuditEvent.resource_type == resource_type,
            AuditEvent.resource_id == resource_id,
            AuditEvent.occurred_at >= since,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()
