"""Incident and bias reports on generated answers: reporting, the reporter's own view, triage by référents.

Whoever reports attaches what they were shown (an excerpt, its provenance and, when they have it, the signed
manifest). The manifest is checked against this service's key at once and the verdict is stored, so triage can
tell a genuine answer from an edited or pasted one. Every change is written to the audit log (never the text).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError
from assistant.provenance import Manifest, Provenance
from assistant.runtime import Runtime
from assistant.security import Principal, require_owner
from assistant.store import governance as governance_store
from assistant.store import users as user_store
from assistant.store import utcnow
from assistant.store.models import IncidentCategory, IncidentReport, IncidentStatus

__all__ = [
    "ALERT_CATEGORIES",
    "IncidentStats",
    "check_alert",
    "get_report",
    "incident_stats",
    "list_reports",
    "report_incident",
    "triage_report",
]

logger = logging.getLogger(__name__)

#: Categories whose accumulation on one model raises an alert (SOUVERAIN_INCIDENT_ALERT_THRESHOLD).
ALERT_CATEGORIES = frozenset({IncidentCategory.BIAS, IncidentCategory.DATA_LEAK})
ALERT_ACTION = "governance.alert"

# open → in progress → closed; a report can also be closed directly, put back to open, or reopened.
_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.OPEN: frozenset({IncidentStatus.IN_PROGRESS, IncidentStatus.CLOSED}),
    IncidentStatus.IN_PROGRESS: frozenset({IncidentStatus.OPEN, IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset({IncidentStatus.IN_PROGRESS}),
}


@dataclass(frozen=True, slots=True)
class IncidentStats:
    """Reports of one model and category: how many in all, and how many are not closed yet."""

    model_id: str | None
    category: IncidentCategory
    total: int
    unresolved: int


def _model_of(manifest: Manifest | None, provenance: Provenance | None, model_id: str | None) -> str | None:
    if manifest is not None:
        return manifest.provenance.model_id
    if provenance is not None:
        return provenance.model_id
    return model_id


async def report_incident(
    runtime: Runtime,
    *,
    reporter: Principal,
    category: IncidentCategory,
    description: str,
    excerpt: str,
    provenance: Provenance | None = None,
    manifest: Manifest | None = None,
    model_id: str | None = None,
    message_ref: str | None = None,
    client: ClientInfo | None = None,
) -> IncidentReport:
    """Record a report; verifies the attached manifest (signature, and whether it covers ``excerpt``)."""
    if not description.strip() or not excerpt.strip():
        raise InvalidRequestError("Décrivez le problème et joignez l'extrait de la réponse concernée.")
    shown = provenance or (manifest.provenance if manifest is not None else None)
    report = IncidentReport(
        reporter_id=reporter.user_id,
        category=category,
        description=description.strip(),
        excerpt=excerpt,
        model_id=_model_of(manifest, provenance, model_id),
        provenance=shown.model_dump(mode="json") if shown is not None else None,
        message_ref=message_ref,
        status=IncidentStatus.OPEN,
    )
    if manifest is not None:
        verification = runtime.signer.verify(manifest, excerpt)
        report.manifest = manifest.model_dump(mode="json", by_alias=True)
        report.manifest_valid = verification.signature_valid
        report.manifest_content_matches = verification.content_matches
        report.manifest_check = verification.reason[:200]
    async with runtime.session_factory.begin() as session:
        report = await governance_store.add_report(session=session, report=report)
    await _record(
        runtime,
        reporter,
        "incident.report",
        report,
        client,
        {"category": category.value, "model": report.model_id, "manifest_valid": report.manifest_valid},
    )
    if category in ALERT_CATEGORIES and report.model_id is not None:
        await check_alert(runtime, report.model_id)
    return report


async def _record(
    runtime: Runtime,
    actor: Principal | None,
    action: str,
    report: IncidentReport,
    client: ClientInfo | None,
    details: dict[str, Any],
) -> None:
    await runtime.audit.record(
        category="audit",
        action=action,
        actor_id=actor.user_id if actor else None,
        actor_label=actor.username if actor else "cli",
        resource_type="incident_report",
        resource_id=str(report.id),
        client=client,
        details=details,
    )


async def check_alert(runtime: Runtime, model_id: str, *, now: datetime | None = None) -> bool:
    """Raise (once per window) an audited alert when a model gathers too many open bias or data-leak reports.

    Returns True when the model is over the threshold, whether the alert was raised now or earlier.
    """
    now = now or utcnow()
    since = now - timedelta(days=runtime.settings.incident_alert_window_days)
    threshold = runtime.settings.incident_alert_threshold
    async with runtime.session_factory() as session:
        counts = await governance_store.count_reports(
            session=session,
            since=since,
            model_id=model_id,
            categories=ALERT_CATEGORIES,
            statuses=[IncidentStatus.OPEN, IncidentStatus.IN_PROGRESS],
        )
        count = sum(cell.count for cell in counts)
        if count < threshold:
            return False
        raised = await governance_store.last_event_for(
            session=session, action=ALERT_ACTION, resource_type="model", resource_id=model_id, since=since
        )
    if raised is None:
        logger.warning("Governance alert on model %s: %d open bias/leak reports", model_id, count)
        await runtime.audit.record(
            category="audit",
            action=ALERT_ACTION,
            outcome="alert",
            actor_label="supervision",
            resource_type="model",
            resource_id=model_id,
            details={
                "open_reports": count,
                "threshold": threshold,
                "window_days": runtime.settings.incident_alert_window_days,
                "categories": sorted(category.value for category in ALERT_CATEGORIES),
            },
        )
    return True


async def get_report(runtime: Runtime, *, report_id: uuid.UUID, owner: Principal | None) -> IncidentReport:
    """A report; with ``owner``, only one of theirs (another user's report is "not found", never "forbidden")."""
    async with runtime.session_factory() as session:
        report = await governance_store.get_report(session=session, report_id=report_id)
    if report is None:
        raise NotFoundError("Signalement introuvable.")
    if owner is not None:
        require_owner(report.reporter_id, owner, what="Signalement")
    return report


async def list_reports(
    runtime: Runtime,
    *,
    reporter_id: uuid.UUID | None = None,
    status: IncidentStatus | None = None,
    category: IncidentCategory | None = None,
    model_id: str | None = None,
    assignee_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[IncidentReport]:
    """Reports matching the filters, newest first (``reporter_id`` restricts to one author's reports)."""
    async with runtime.session_factory() as session:
        return await governance_store.list_reports(
            session=session,
            reporter_id=reporter_id,
            status=status,
            category=category,
            model_id=model_id,
            assignee_id=assignee_id,
            limit=limit,
            offset=offset,
        )


async def triage_report(
    runtime: Runtime,
    *,
    report_id: uuid.UUID,
    actor: Principal,
    status: IncidentStatus | None = None,
    comment: str | None = None,
    assignee_id: uuid.UUID | None = None,
    unassign: bool = False,
    client: ClientInfo | None = None,
) -> IncidentReport:
    """Move a report along its lifecycle, comment it, (un)assign it. Closing requires a comment."""
    changes: dict[str, Any] = {}
    async with runtime.session_factory.begin() as session:
        report = await governance_store.get_report(session=session, report_id=report_id)
        if report is None:
            raise NotFoundError("Signalement introuvable.")
        if status is not None and status != report.status:
            if status not in _TRANSITIONS[report.status]:
                raise InvalidRequestError(f"Transition impossible : « {report.status.label} » → « {status.label} ».")
            if status is IncidentStatus.CLOSED and not (comment or "").strip():
                raise InvalidRequestError("Indiquez en commentaire la suite donnée avant de clore le signalement.")
            changes["status"] = {"from": report.status.value, "to": status.value}
            report.status = status
            report.closed_at = utcnow() if status is IncidentStatus.CLOSED else None
        if assignee_id is not None and assignee_id != report.assignee_id:
            assignee = await user_store.get_user(session=session, user_id=assignee_id)
            if assignee is None or not assignee.is_active:
                raise InvalidRequestError("Le responsable désigné n'existe pas ou son compte est désactivé.")
            changes["assignee"] = assignee.username
            report.assignee_id = assignee_id
        elif unassign and report.assignee_id is not None:
            changes["assignee"] = None
            report.assignee_id = None
        if comment is not None and comment.strip() and comment.strip() != report.triage_comment:
            # The comment is the référent's own note, not user content: the log says that it changed, not what.
            changes["comment"] = True
            report.triage_comment = comment.strip()
        await session.flush()
        await session.refresh(report)
    if changes:
        await _record(runtime, actor, "incident.triage", report, client, changes)
    return report


async def incident_stats(runtime: Runtime, *, since: datetime | None = None) -> list[IncidentStats]:
    """Report counts per model and category (all statuses), with how many are still unresolved."""
    async with runtime.session_factory() as session:
        cells = await governance_store.count_reports(session=session, since=since)
    merged: dict[tuple[str | None, IncidentCategory], list[int]] = {}
    for cell in cells:
        totals = merged.setdefault((cell.model_id, cell.category), [0, 0])
        totals[0] += cell.count
        if cell.status is not IncidentStatus.CLOSED:
            totals[1] += cell.count
    return [
        IncidentStats(model_id=model, category=category, total=total, unresolved=unresolved)
        for (model, category), (total, unresolved) in sorted(
            merged.items(), key=lambda item: (item[0][0] or "", item[0][1].value)
        )
    ]
