"""Rendering pages: the Jinja2 environment, French formats, the navigation and the security headers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from assistant.security import Permission
from assistant.web._assets import WebAssets
from assistant.web._auth import WebCaller

__all__ = ["NavItem", "PageRenderer", "format_date_fr", "format_number_fr"]

_LOCALE = "fr_FR"
_PARIS = ZoneInfo("Europe/Paris")
# Scripts and styles come from our origin only, so an injected <script> or inline handler never runs; the chat's
# fetch() calls stay same-origin too.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def format_date_fr(value: datetime | None) -> str:
    """« 3 décembre 2026 à 14:05 », in Paris time; « — » when unknown."""
    if value is None:
        return "—"
    return format_datetime(value, "d MMMM y 'à' HH:mm", tzinfo=_PARIS, locale=_LOCALE)


def format_number_fr(value: float | int | None, digits: int = 2) -> str:
    """« 1 234,56 » (narrow no-break space between thousands, comma before decimals)."""
    if value is None:
        return "—"
    return format_decimal(value, format=f"#,##0.{'#' * digits}" if digits else "#,##0", locale=_LOCALE)


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation, shown to users holding ``permission`` (None: to every signed-in user)."""

    key: str
    label: str
    href: str
    permission: Permission | None = None


NAVIGATION = (
    NavItem("chat", "Assistant", "/chat", Permission.CHAT),
    NavItem("projets", "Projets", "/projets", Permission.CHAT),
    NavItem("comparer", "Comparer", "/comparer", Permission.CHAT),
    NavItem("prompts", "Prompts", "/prompts", Permission.CHAT),
    NavItem("partages", "Partagés avec moi", "/partages", Permission.CHAT),
    NavItem("documents", "Documents", "/documents", Permission.DOCUMENTS),
    NavItem("taches", "Tâches", "/taches", Permission.CHAT),
    NavItem("transcriptions", "Transcriptions", "/transcriptions", Permission.TRANSCRIPTIONS),
    NavItem("transcription-direct", "Transcription en direct", "/transcription-en-direct", Permission.TRANSCRIPTIONS),
    NavItem("mes-donnees", "Mes données", "/mes-donnees", Permission.PROFILE),
    NavItem("bonnes-pratiques", "Bonnes pratiques", "/bonnes-pratiques"),
    NavItem("admin", "Administration", "/admin", Permission.READ_GOVERNANCE),
    NavItem("charte", "Charte", "/charte"),
    NavItem("audit", "Audit", "/audit", Permission.READ_AUDIT),
)


class PageRenderer:
    """Renders a template inside the common layout, with what every page needs in its context."""

    def __init__(self, assets: WebAssets) -> None:
        self.assets = assets
        self.templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
        self.templates.env.filters["date_fr"] = format_date_fr
        self.templates.env.filters["nombre_fr"] = format_number_fr

    def render(
        self,
        request: Request,
        template: str,
        *,
        title: str,
        caller: WebCaller | None,
        active: str | None = None,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        nav = [
            item
            for item in NAVIGATION
            if caller is not None and (item.permission is None or caller.principal.has(item.permission))
        ]
        response = self.templates.TemplateResponse(
            request,
            template,
            {
                "title": title,
                "caller": caller,
                "user": caller.principal if caller else None,
                "nav": nav,
                "active": active,
                "dsfr": self.assets.dsfr_available,
                "markdown": self.assets.markdown_available,
                **context,
            },
            status_code=status_code,
        )
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if caller is not None:
            # Pages of a signed-in user must not linger in shared caches or the back-forward cache after logout.
            response.headers["Cache-Control"] = "no-store"
        return response
