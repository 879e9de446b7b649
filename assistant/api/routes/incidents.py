"""Reporting a problem in a generated answer, and following one's own reports."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Security, status

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._governance_models import IncidentCreate, IncidentOut
from assistant.security import Permission, Principal
from assistant.services.governance import incidents
from assistant.store.models import IncidentStatus

__all__ = ["router"]

router = APIRouter(prefix="/api/incidents", tags=["signalements"])

Reporter = Annotated[Principal, Security(RequirePermission(Permission.REPORT_INCIDENT))]


@router.post(
    "", response_model=IncidentOut, status_code=status.HTTP_201_CREATED, summary="Signaler un problème sur une réponse"
)
async def report(body: IncidentCreate, reporter: Reporter, runtime: RuntimeDep, client: ClientDep) -> IncidentOut:
    created = await incidents.report_incident(
        runtime,
        reporter=reporter,
        category=body.category,
        description=body.description,
        excerpt=body.excerpt,
        provenance=body.provenance,
        manifest=body.manifest,
        model_id=body.model,
        message_ref=body.message_id,
        client=client,
    )
    return IncidentOut.of(created)


@router.get("", response_model=list[IncidentOut], summary="Mes signalements (plus récents d'abord)")
async def list_mine(
    reporter: Reporter,
    runtime: RuntimeDep,
    status: IncidentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,  # bounded: the database integer is 64-bit
) -> list[IncidentOut]:
    found = await incidents.list_reports(
        runtime, reporter_id=reporter.user_id, status=status, limit=limit, offset=offset
    )
    return [IncidentOut.of(item) for item in found]


@router.get("/{report_id}", response_model=IncidentOut, summary="Un de mes signalements")
async def read_mine(report_id: uuid.UUID, reporter: Reporter, runtime: RuntimeDep) -> IncidentOut:
    return IncidentOut.of(await incidents.get_report(runtime, report_id=report_id, owner=reporter))
