"""Governance for référents (and read-only for auditors): incident triage, model supervision, AI registry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Security
from fastapi.responses import PlainTextResponse, Response

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._governance_models import (
    IncidentOut,
    IncidentStatsOut,
    IncidentTriage,
    KpisOut,
    ModelAccessIn,
    ModelAccessOut,
    ModelDecisionIn,
    ModelSupervisionOut,
    RegistryReviewIn,
    RegistryReviewOut,
)
from assistant.errors import InvalidRequestError
from assistant.protocol.models import Model
from assistant.security import Permission, Principal
from assistant.services.charter import compliance
from assistant.services.governance import ai_registry, incidents, kpis, model_access, supervision
from assistant.store.models import IncidentCategory, IncidentStatus

__all__ = ["router"]

router = APIRouter(prefix="/api/governance", tags=["gouvernance"])

Reader = Annotated[Principal, Security(RequirePermission(Permission.READ_GOVERNANCE))]
Triager = Annotated[Principal, Security(RequirePermission(Permission.TRIAGE_INCIDENTS))]
ModelManager = Annotated[Principal, Security(RequirePermission(Permission.MANAGE_MODELS))]
RegistryManager = Annotated[Principal, Security(RequirePermission(Permission.MANAGE_REGISTRY))]

_MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
}
_EXTENSIONS = {"json": "json", "csv": "csv", "markdown": "md"}


@router.get("/incidents", response_model=list[IncidentOut], summary="Tous les signalements, filtrables")
async def list_incidents(
    _: Reader,
    runtime: RuntimeDep,
    status: IncidentStatus | None = None,
    category: IncidentCategory | None = None,
    model: Annotated[str | None, Query(max_length=128)] = None,
    assignee_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,  # bounded: the database integer is 64-bit
) -> list[IncidentOut]:
    found = await incidents.list_reports(
        runtime,
        status=status,
        category=category,
        model_id=model,
        assignee_id=assignee_id,
        limit=limit,
        offset=offset,
    )
    return [IncidentOut.of(item) for item in found]


@router.get("/incidents/stats", response_model=list[IncidentStatsOut], summary="Signalements par modèle et catégorie")
async def incident_stats(_: Reader, runtime: RuntimeDep, since: datetime | None = None) -> list[IncidentStatsOut]:
    return [IncidentStatsOut.of(item) for item in await incidents.incident_stats(runtime, since=since)]


@router.get("/kpis", response_model=KpisOut, summary="Indicateurs : usage, utilisateurs actifs, énergie, CO2e")
async def service_kpis(_: Reader, runtime: RuntimeDep, days: Annotated[int, Query(ge=1, le=366)] = 30) -> KpisOut:
    return KpisOut.of(await kpis.service_kpis(runtime, days=days))


@router.get(
    "/compliance",
    summary="Rapport de conformité : chaque exigence des chartes et ses preuves",
    response_class=Response,
    responses={200: {"content": {"application/json": {}, "text/markdown": {}}}},
)
async def compliance_report(
    _: Reader,
    runtime: RuntimeDep,
    format: Literal["md", "json"] = "json",
) -> Response:
    report = await compliance.build_report(runtime)
    media_type = "application/json" if format == "json" else "text/markdown; charset=utf-8"
    return Response(compliance.render_report(report, format), media_type=media_type)


@router.get("/incidents/{report_id}", response_model=IncidentOut, summary="Un signalement")
async def read_incident(report_id: uuid.UUID, _: Reader, runtime: RuntimeDep) -> IncidentOut:
    return IncidentOut.of(await incidents.get_report(runtime, report_id=report_id, owner=None))


@router.patch("/incidents/{report_id}", response_model=IncidentOut, summary="Traiter un signalement")
async def triage_incident(
    report_id: uuid.UUID, body: IncidentTriage, actor: Triager, runtime: RuntimeDep, client: ClientDep
) -> IncidentOut:
    report = await incidents.triage_report(
        runtime,
        report_id=report_id,
        actor=actor,
        status=body.status,
        comment=body.comment,
        assignee_id=body.assignee_id,
        unassign=body.unassign,
        client=client,
    )
    return IncidentOut.of(report)


@router.get("/models", response_model=list[ModelSupervisionOut], summary="Supervision des modèles")
async def list_models(_: Reader, runtime: RuntimeDep) -> list[ModelSupervisionOut]:
    return [ModelSupervisionOut.of(item) for item in await supervision.list_supervision(runtime)]


@router.post("/models/withdraw", response_model=Model, summary="Retirer un modèle du service")
async def withdraw_model(body: ModelDecisionIn, actor: ModelManager, runtime: RuntimeDep, client: ClientDep) -> Model:
    if body.reason is None:
        raise InvalidRequestError("Indiquez le motif du retrait : il est affiché aux utilisateurs du modèle.")
    model = await supervision.withdraw_model(
        runtime, model_id=body.model, reason=body.reason, actor=actor, client=client
    )
    return Model.from_registered(model)


@router.post("/models/reinstate", response_model=Model, summary="Remettre un modèle en service")
async def reinstate_model(body: ModelDecisionIn, actor: ModelManager, runtime: RuntimeDep, client: ClientDep) -> Model:
    return Model.from_registered(
        await supervision.reinstate_model(runtime, model_id=body.model, actor=actor, client=client)
    )


@router.get("/models/access", response_model=list[ModelAccessOut], summary="Groupes autorisés pour chaque modèle")
async def list_model_access(_: Reader, runtime: RuntimeDep) -> list[ModelAccessOut]:
    entries = await model_access.list_model_access(runtime)
    return [ModelAccessOut.of(entry) for entry in entries.values()]


@router.post(
    "/models/access",
    response_model=ModelAccessOut,
    summary="Réserver un modèle à des groupes, ou l'ouvrir à tous",
)
async def set_model_access(
    body: ModelAccessIn, actor: ModelManager, runtime: RuntimeDep, client: ClientDep
) -> ModelAccessOut:
    entry = await model_access.set_model_access(
        runtime, model_id=body.model, groups=body.groups, actor=actor, client=client
    )
    return ModelAccessOut.of(entry)


@router.get(
    "/registry",
    summary="Registre des systèmes d'IA (JSON, CSV ou Markdown)",
    responses={200: {"content": {"text/csv": {}, "text/markdown": {}}}},
)
async def export_registry(_: Reader, runtime: RuntimeDep, format: ai_registry.ExportFormat = "json") -> Response:
    body = await ai_registry.export_registry(runtime, format)
    filename = f"registre-ia.{_EXTENSIONS[format]}"
    return PlainTextResponse(
        body,
        media_type=_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.post("/registry/reviews", response_model=RegistryReviewOut, summary="Marquer une entrée « revue effectuée »")
async def review_entry(
    body: RegistryReviewIn, actor: RegistryManager, runtime: RuntimeDep, client: ClientDep
) -> RegistryReviewOut:
    review = await ai_registry.mark_reviewed(
        runtime,
        kind=body.kind,
        subject_id=body.id,
        actor=actor,
        legal_basis=body.legal_basis,
        note=body.note,
        client=client,
    )
    return RegistryReviewOut.of(review)
