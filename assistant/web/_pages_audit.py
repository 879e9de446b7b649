"""The auditors' pages: the event log with filters and paging, the chain verification, the access review.

They read through the same services as ``/api/audit``; the exports are the API's own routes (a session cookie is
enough for a GET), linked with the filters of the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Security
from fastapi.responses import Response

from assistant.api.deps import RuntimeDep
from assistant.security import Permission
from assistant.services.governance.audit_log import search_events, verify_chain
from assistant.services.identity.access_review import access_review_data
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["AUDIT_PATH", "audit_pages_router"]

AUDIT_PATH = "/audit"
PAGE_SIZE = 50
_PARIS = ZoneInfo("Europe/Paris")
CATEGORIES = {"": "Toutes", "connection": "Connexions", "audit": "Actions auditées"}
OUTCOMES = {"success": "Réussite", "failure": "Échec", "denied": "Refus"}
# The most frequent actions in plain French; the code is always shown too, since filters and exports use it.
ACTIONS = {
    "login": "Connexion",
    "logout": "Déconnexion",
    "lockout": "Compte verrouillé",
    "api_key.use": "Utilisation d'une clé d'API",
    "api_key.create": "Clé d'API créée",
    "api_key.revoke": "Clé d'API révoquée",
    "user.create": "Compte créé",
    "user.provision": "Compte créé à la première connexion",
    "user.disable": "Compte désactivé",
    "charter.published": "Charte publiée",
    "charter.accepted": "Charte acceptée",
    "guard.blocked": "Demande refusée par le garde-fou",
    "guard.confirmation_required": "Justification demandée par le garde-fou",
    "guard.confirmed": "Demande justifiée",
    "guard.warned": "Rappel du garde-fou",
    "guard.rules_updated": "Règles du garde-fou modifiées",
    "llm.sovereignty_refused": "Envoi à un modèle non souverain refusé",
    "model.withdraw": "Modèle retiré",
    "document.upload": "Document déposé",
    "document.delete": "Document supprimé",
    "rgpd.export": "Export RGPD",
    "rgpd.erase": "Effacement RGPD",
    "rgpd.rectify": "Rectification RGPD",
    "retention.purge": "Purge des données expirées",
}

Auditor = Annotated[WebCaller, Security(RequirePage(Permission.READ_AUDIT))]


@dataclass(frozen=True)
class Filters:
    """The log filters as typed in the form (strings), and their parsed values."""

    categorie: str = ""
    action: str = ""
    utilisateur: str = ""
    du: str = ""
    au: str = ""

    def query(self, **extra: object) -> str:
        values = {name: value for name, value in vars(self).items() if value}
        return urlencode({**values, **{key: value for key, value in extra.items() if value is not None}})


def _day(value: str, label: str) -> date | None:
    """A date from the form: ISO (what date fields send) or « JJ/MM/AAAA » (typed where they are plain text)."""
    value = value.strip()
    if not value:
        return None
    try:
        if "/" in value:
            return datetime.strptime(value, "%d/%m/%Y").date()
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"La date « {label} » n'est pas valide : utilisez le format JJ/MM/AAAA.") from None


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_PARIS).astimezone(UTC)


def _details(details: dict[str, Any]) -> str:
    return json.dumps(details, ensure_ascii=False, sort_keys=True) if details else ""


def audit_pages_router(renderer: PageRenderer) -> APIRouter:
    """``/audit``, ``/audit/verification`` and ``/audit/revue-des-acces``, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    @router.get(AUDIT_PATH)
    async def event_log(
        request: Request,
        runtime: RuntimeDep,
        caller: Auditor,
        categorie: Annotated[str, Query(max_length=20)] = "",
        action: Annotated[str, Query(max_length=100)] = "",
        utilisateur: Annotated[str, Query(max_length=200)] = "",
        du: Annotated[str, Query(max_length=10)] = "",
        au: Annotated[str, Query(max_length=10)] = "",
        avant: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    ) -> Response:
        filters = Filters(
            categorie=categorie if categorie in CATEGORIES else "",
            action=action.strip(),
            utilisateur=utilisateur.strip(),
            du=du,
            au=au,
        )
        error = None
        events: list[Any] = []
        since = until = None
        try:
            first, last = _day(du, "du"), _day(au, "au")
            since = _paris_midnight(first) if first else None
            # « au » is inclusive: everything before the next day's midnight.
            until = _paris_midnight(last + timedelta(days=1)) if last else None
            if since and until and since >= until:
                raise ValueError("La date de début doit précéder la date de fin.")
        except ValueError as exc:
            error, since, until = str(exc), None, None
        if error is None:
            events = await search_events(
                runtime,
                category=filters.categorie or None,
                actor=filters.utilisateur or None,
                action_prefix=filters.action or None,
                since=since,
                until=until,
                limit=PAGE_SIZE + 1,
                before_id=avant,
            )
        more = len(events) > PAGE_SIZE
        events = events[:PAGE_SIZE]
        exports = {
            "category": filters.categorie or None,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }
        return renderer.render(
            request,
            "audit.html",
            title="Journal d'audit",
            caller=caller,
            active="audit",
            filters=filters,
            categories=CATEGORIES,
            outcomes=OUTCOMES,
            actions=ACTIONS,
            events=[(event, _details(event.details)) for event in events],
            next_query=filters.query(avant=events[-1].id) if more else None,
            first_query=filters.query() if avant else None,
            export_query={
                fmt: urlencode({"format": fmt, **{k: v for k, v in exports.items() if v}}) for fmt in ("csv", "json")
            },
            error=error,
            status_code=400 if error else 200,
        )

    @router.get(AUDIT_PATH + "/verification")
    async def chain_verification(request: Request, runtime: RuntimeDep, caller: Auditor) -> Response:
        report = await verify_chain(runtime)
        return renderer.render(
            request,
            "audit_verification.html",
            title="Intégrité du journal",
            caller=caller,
            active="audit",
            report=report,
        )

    @router.get(AUDIT_PATH + "/revue-des-acces")
    async def access_review(
        request: Request, runtime: RuntimeDep, caller: Auditor, jours: Annotated[int, Query(ge=1, le=3660)] = 90
    ) -> Response:
        review = await access_review_data(runtime, days=jours)
        return renderer.render(
            request,
            "audit_access_review.html",
            title="Revue des accès",
            caller=caller,
            active="audit",
            review=review,
            days=jours,
        )

    return router
