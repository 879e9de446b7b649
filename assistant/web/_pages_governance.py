"""Governance pages of the administration: models, incident reports, KPIs, AI registry, compliance report.

Reading needs ``governance:read`` (référents and auditors); each action needs its own permission, as on
``/api/governance``, and goes through the same services (which audit it). Charts are drawn on the server
(:mod:`assistant.web._charts`) and every chart's figures are also printed in a table.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import InvalidRequestError, SouverainError, UserFacingError
from assistant.llm.errors import UnknownModelError
from assistant.security import Permission
from assistant.services.charter import compliance
from assistant.services.chat.comparisons import model_preferences
from assistant.services.governance import admin, ai_registry, incidents, kpis, model_access, supervision
from assistant.services.governance.model_trends import ModelTrend, model_trends
from assistant.store.models import IncidentCategory, IncidentStatus
from assistant.web._admin_common import done, error_status, render_admin
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._charts import ColumnChart, bar_chart, column_chart, format_measure
from assistant.web._templates import PageRenderer

__all__ = ["SERVICE_LABELS", "governance_router"]

SERVICE_LABELS = {"chat": "Conversation", "task": "Traitement de documents", "api": "API"}
_KPI_WINDOWS = (7, 30, 90, 365)
_TREND_DAYS = 30
_HALF_WIDTH = 420  # drawing units of a chart shown in half a column

# Module-level: FastAPI resolves the routes' (postponed) annotations in this module's globals.
Reader = Annotated[WebCaller, Security(RequirePage(Permission.READ_GOVERNANCE))]
Triager = Annotated[WebCaller, Security(RequirePage(Permission.TRIAGE_INCIDENTS))]
ModelManager = Annotated[WebCaller, Security(RequirePage(Permission.MANAGE_MODELS))]
RegistryManager = Annotated[WebCaller, Security(RequirePage(Permission.MANAGE_REGISTRY))]


def _short_day(day: date | str) -> str:
    """« 03/12 » under a chart's axis."""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{value:%d/%m}"


def _trend_charts(trend: ModelTrend, index: int) -> list[ColumnChart]:
    prefix = f"tendance-{index}"
    return [
        column_chart(
            f"{prefix}-requetes",
            "Requêtes par jour",
            [(_short_day(p.day), p.requests) for p in trend.days],
            width=_HALF_WIDTH,
        ),
        column_chart(
            f"{prefix}-latence",
            "Latence moyenne par jour",
            [(_short_day(p.day), p.latency_ms or 0.0) for p in trend.days],
            unit="ms",
            width=_HALF_WIDTH,
        ),
        column_chart(
            f"{prefix}-erreurs",
            "Taux d'erreur par jour",
            [(_short_day(p.day), 100 * (p.error_rate or 0.0)) for p in trend.days],
            unit="%",
            digits=1,
            width=_HALF_WIDTH,
        ),
        column_chart(
            f"{prefix}-signalements",
            "Signalements par jour",
            [(_short_day(p.day), p.reports) for p in trend.days],
            width=_HALF_WIDTH,
        ),
    ]


_Choice = TypeVar("_Choice", IncidentStatus, IncidentCategory)


def _optional_enum(kind: type[_Choice], value: str | None) -> _Choice | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        return None


def governance_router(renderer: PageRenderer) -> APIRouter:
    """The governance pages, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    # ---- Models --------------------------------------------------------------------------------------------

    async def models_page(
        request: Request, runtime: RuntimeDep, caller: WebCaller, *, error: str | None = None, status_code: int = 200
    ) -> Response:
        supervised = await supervision.list_supervision(runtime)
        trends = await model_trends(runtime, days=_TREND_DAYS, model_ids=[item.model.id for item in supervised])
        return render_admin(
            renderer,
            request,
            "admin/models.html",
            title="Modèles",
            caller=caller,
            section="modeles",
            error=error,
            status_code=status_code,
            supervised=supervised,
            trends=trends,
            charts={item.model.id: _trend_charts(trends[item.model.id], i) for i, item in enumerate(supervised)},
            trend_days=_TREND_DAYS,
            categories=list(IncidentCategory),
            access=await model_access.list_model_access(runtime),
            groups=[group.name for group in await admin.list_groups(runtime)],
            preferences=await model_preferences(runtime, days=_TREND_DAYS),
        )

    @router.get("/admin/modeles")
    async def models(request: Request, runtime: RuntimeDep, caller: Reader) -> Response:
        return await models_page(request, runtime, caller)

    @router.post("/admin/modeles/retrait")
    async def withdraw(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: ModelManager,
        modele: Annotated[str, Form(max_length=128)] = "",
        motif: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        try:
            if not modele:
                raise InvalidRequestError("Choisissez le modèle à retirer.")
            await supervision.withdraw_model(
                runtime, model_id=modele, reason=motif, actor=caller.principal, client=client
            )
        except (UserFacingError, UnknownModelError) as exc:
            return await models_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done("/admin/modeles", "modele-retire")

    @router.post("/admin/modeles/remise-en-service")
    async def reinstate(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: ModelManager,
        modele: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        try:
            if not modele:
                raise InvalidRequestError("Choisissez le modèle à remettre en service.")
            await supervision.reinstate_model(runtime, model_id=modele, actor=caller.principal, client=client)
        except (UserFacingError, UnknownModelError) as exc:
            return await models_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done("/admin/modeles", "modele-retabli")

    @router.post("/admin/modeles/acces")
    async def set_access(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: ModelManager,
        modele: Annotated[str, Form(max_length=128)] = "",
        acces: Annotated[str, Form(max_length=20)] = "",
        groupes: Annotated[list[str] | None, Form(max_length=150)] = None,
    ) -> Response:
        try:
            if not modele:
                raise InvalidRequestError("Choisissez le modèle dont vous réglez l'accès.")
            if acces not in ("tous", "groupes"):
                raise InvalidRequestError("Indiquez si le modèle est ouvert à tous ou réservé à des groupes.")
            await model_access.set_model_access(
                runtime,
                model_id=modele,
                groups=(groupes or []) if acces == "groupes" else None,
                actor=caller.principal,
                client=client,
            )
        except (UserFacingError, UnknownModelError) as exc:
            return await models_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done("/admin/modeles", "acces-modele-enregistre")

    # ---- Incident reports ----------------------------------------------------------------------------------

    @router.get("/admin/signalements")
    async def reports(request: Request, runtime: RuntimeDep, caller: Reader) -> Response:
        params = request.query_params
        status = _optional_enum(IncidentStatus, params.get("statut"))
        category = _optional_enum(IncidentCategory, params.get("categorie"))
        model = (params.get("modele") or "").strip()[:128] or None
        found = await incidents.list_reports(runtime, status=status, category=category, model_id=model, limit=200)
        return render_admin(
            renderer,
            request,
            "admin/incidents.html",
            title="Signalements",
            caller=caller,
            section="signalements",
            reports=found,
            statuses=list(IncidentStatus),
            categories=list(IncidentCategory),
            models=[m.id for m in runtime.models.models(include_withdrawn=True)],
            chosen={"statut": status, "categorie": category, "modele": model},
        )

    async def report_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        report_id: uuid.UUID,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        report = await incidents.get_report(runtime, report_id=report_id, owner=None)
        return render_admin(
            renderer,
            request,
            "admin/incident.html",
            title="Signalement",
            caller=caller,
            section="signalements",
            error=error,
            status_code=status_code,
            report=report,
            statuses=list(IncidentStatus),
        )

    @router.get("/admin/signalements/{report_id}")
    async def report(request: Request, report_id: uuid.UUID, runtime: RuntimeDep, caller: Reader) -> Response:
        try:
            return await report_page(request, runtime, caller, report_id)
        except UserFacingError as exc:
            return _not_found(request, caller, exc)

    @router.post("/admin/signalements/{report_id}")
    async def triage(
        request: Request,
        report_id: uuid.UUID,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: Triager,
        statut: Annotated[str, Form(max_length=20)] = "",
        commentaire: Annotated[str, Form(max_length=5000)] = "",
        attribuer: Annotated[str, Form(max_length=3)] = "",
    ) -> Response:
        try:
            status = _optional_enum(IncidentStatus, statut)
            if statut and status is None:
                raise InvalidRequestError("Statut inconnu : ouvert, en cours de traitement ou clos.")
            await incidents.triage_report(
                runtime,
                report_id=report_id,
                actor=caller.principal,
                status=status,
                comment=commentaire or None,
                assignee_id=caller.principal.user_id if attribuer == "oui" else None,
                client=client,
            )
        except UserFacingError as exc:
            try:
                return await report_page(
                    request, runtime, caller, report_id, error=exc.message, status_code=error_status(exc)
                )
            except UserFacingError as missing:
                return _not_found(request, caller, missing)
        return done(f"/admin/signalements/{report_id}", "signalement-traite")

    def _not_found(request: Request, caller: WebCaller, exc: SouverainError) -> Response:
        return render_admin(
            renderer,
            request,
            "admin/missing.html",
            title="Introuvable",
            caller=caller,
            section="signalements",
            error=exc.message,
            status_code=error_status(exc),
        )

    # ---- KPIs ----------------------------------------------------------------------------------------------

    @router.get("/admin/indicateurs")
    async def indicators(request: Request, runtime: RuntimeDep, caller: Reader) -> Response:
        try:
            days = int(request.query_params.get("jours", "30"))
        except ValueError:
            days = 30
        days = days if days in _KPI_WINDOWS else 30
        figures = await kpis.service_kpis(runtime, days=days)
        by_service = [(SERVICE_LABELS.get(row.key or "", row.key or "—"), row) for row in figures.by_service]
        by_model = [(row.key or "—", row) for row in figures.by_model]
        reports_by_model: dict[str, int] = {}
        for cell in figures.reports:
            label = cell.model_id or "Sans modèle"
            reports_by_model[label] = reports_by_model.get(label, 0) + cell.total
        charts = {
            "jours": column_chart(
                "graphe-jours", "Requêtes par jour", [(_short_day(r.key or ""), r.requests) for r in figures.by_day]
            ),
            "energie": column_chart(
                "graphe-energie",
                "Énergie estimée par jour",
                [(_short_day(r.key or ""), r.energy_wh) for r in figures.by_day],
                unit="Wh",
                digits=3,
            ),
            "services": bar_chart("graphe-services", "Requêtes par service", [(k, r.requests) for k, r in by_service]),
            "modeles": bar_chart("graphe-modeles", "Requêtes par modèle", [(k, r.requests) for k, r in by_model]),
            "co2": bar_chart(
                "graphe-co2", "Émissions par modèle", [(k, r.gco2e) for k, r in by_model], unit="g CO₂e", digits=3
            ),
            "signalements": bar_chart("graphe-signalements", "Signalements par modèle", list(reports_by_model.items())),
        }
        return render_admin(
            renderer,
            request,
            "admin/kpis.html",
            title="Indicateurs",
            caller=caller,
            section="indicateurs",
            figures=figures,
            days=days,
            windows=_KPI_WINDOWS,
            by_service=by_service,
            by_model=by_model,
            reports_by_model=reports_by_model,
            charts=charts,
            mesure=format_measure,
            day_fr=lambda iso: f"{date.fromisoformat(iso):%d/%m/%Y}" if iso else "—",
        )

    # ---- AI registry ---------------------------------------------------------------------------------------

    async def registry_page(
        request: Request, runtime: RuntimeDep, caller: WebCaller, *, error: str | None = None, status_code: int = 200
    ) -> Response:
        return render_admin(
            renderer,
            request,
            "admin/registry.html",
            title="Registre IA",
            caller=caller,
            section="registre",
            error=error,
            status_code=status_code,
            registry=await ai_registry.build_registry(runtime),
            model_fields=ai_registry.MODEL_FIELDS,
            use_fields=ai_registry.USE_FIELDS,
            placeholder=ai_registry.LEGAL_BASIS_PLACEHOLDER,
        )

    @router.get("/admin/registre")
    async def registry(request: Request, runtime: RuntimeDep, caller: Reader) -> Response:
        return await registry_page(request, runtime, caller)

    @router.post("/admin/registre/revue")
    async def review(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: RegistryManager,
        nature: Annotated[str, Form(max_length=10)] = "",
        identifiant: Annotated[str, Form(max_length=128)] = "",
        base_legale: Annotated[str, Form(max_length=2000)] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        try:
            if nature not in ("model", "use") or not identifiant:
                raise InvalidRequestError("Choisissez l'entrée du registre à marquer comme revue.")
            await ai_registry.mark_reviewed(
                runtime,
                kind="model" if nature == "model" else "use",
                subject_id=identifiant,
                actor=caller.principal,
                legal_basis=base_legale.strip() or None,
                note=note or None,
                client=client,
            )
        except (UserFacingError, UnknownModelError) as exc:
            return await registry_page(request, runtime, caller, error=exc.message, status_code=error_status(exc))
        return done("/admin/registre", "entree-revue")

    # ---- Compliance ----------------------------------------------------------------------------------------

    @router.get("/admin/conformite")
    async def compliance_page(request: Request, runtime: RuntimeDep, caller: Reader) -> Response:
        report = await compliance.build_report(runtime)
        # Failures first, then what to watch: what the référent must act on comes first on the page.
        order = {"failed": 0, "warning": 1, "ok": 2}
        return render_admin(
            renderer,
            request,
            "admin/compliance.html",
            title="Conformité",
            caller=caller,
            section="conformite",
            report=report,
            checks=sorted(report.checks, key=lambda check: order[check.status]),
            warnings=sum(check.status == "warning" for check in report.checks),
        )

    return router
