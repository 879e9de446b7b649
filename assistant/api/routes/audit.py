"""Read-only access to the connection and audit log, for auditors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, Security

from assistant.api.deps import RequirePermission, RuntimeDep
from assistant.api.routes._access_models import AuditEventOut, ChainReportOut
from assistant.security import Permission, Principal
from assistant.services.governance.audit_log import search_events, verify_chain
from assistant.services.identity import access_review

__all__ = ["router"]

router = APIRouter(prefix="/api/audit", tags=["audit"])

Auditor = Annotated[Principal, Security(RequirePermission(Permission.READ_AUDIT))]


@router.get("/events", response_model=list[AuditEventOut], summary="Consulter le journal (plus récents d'abord)")
async def list_events(
    _: Auditor,
    runtime: RuntimeDep,
    category: Literal["connection", "audit"] | None = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100, description="Préfixe, ex. « api_key. »")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,  # the column is a 64-bit integer
) -> list[AuditEventOut]:
    events = await search_events(
        runtime,
        category=category,
        actor=actor,
        action_prefix=action,
        since=since,
        until=until,
        limit=limit,
        before_id=before_id,
    )
    return [AuditEventOut.of(event) for event in events]


@router.get("/verify", response_model=ChainReportOut, summary="Vérifier l'intégrité du journal")
async def verify(_: Auditor, runtime: RuntimeDep) -> ChainReportOut:
    report = await verify_chain(runtime)
    return ChainReportOut(
        ok=report.ok,
        events=report.events,
        head_hash=report.head_hash,
        first_bad_id=report.first_bad_id,
        problem=report.problem,
        checkpoints=report.checkpoints,
    )


_MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {}}}}
}


@router.get(
    "/events/export",
    summary="Exporter le journal (CSV ou JSON, avec les empreintes)",
    response_class=Response,
    responses=_FILE_RESPONSES,
)
async def export_events(
    _: Auditor,
    runtime: RuntimeDep,
    format: Literal["csv", "json"] = "csv",
    category: Literal["connection", "audit"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    data = await access_review.export_events(runtime, file_format=format, category=category, since=since, until=until)
    filename = f"journal-{category or 'complet'}.{format}"
    return Response(
        data, media_type=_MEDIA_TYPES[format], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(
    "/access-review",
    summary="Revue des accès : droits sur les collections, usage des modèles, connexions",
    response_class=Response,
    responses=_FILE_RESPONSES,
)
async def export_access_review(
    _: Auditor,
    runtime: RuntimeDep,
    format: Literal["csv", "json"] = "json",
    section: Literal["users", "collections", "models"] | None = None,
    days: Annotated[int, Query(ge=1, le=3660)] = 90,
) -> Response:
    data = await access_review.access_review(runtime, file_format=format, section=section, days=days)
    filename = f"revue-des-acces-{section or 'complete'}.{format}"
    return Response(
        data, media_type=_MEDIA_TYPES[format], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
