"""Plugging the web interface into the application."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from assistant.core.config import Settings
from assistant.web._assets import WebAssets, assets_router
from assistant.web._pages import LOGIN_PATH, pages_router
from assistant.web._pages_admin import admin_router
from assistant.web._pages_audit import audit_pages_router
from assistant.web._pages_charter import CHARTER_PATH, charter_pages_router
from assistant.web._pages_comparisons import comparisons_router
from assistant.web._pages_glossary import glossary_router
from assistant.web._pages_governance import governance_router
from assistant.web._pages_live import live_pages_router
from assistant.web._pages_oidc import oidc_pages_router
from assistant.web._pages_projects import projects_router
from assistant.web._pages_prompts import prompts_router
from assistant.web._pages_shares import shares_router
from assistant.web._pages_transcriptions import transcription_pages_router
from assistant.web._pages_work import work_router
from assistant.web._templates import PageRenderer
from assistant.web.errors import CharterRequiredError, LoginRequiredError, PageForbiddenError

__all__ = ["install_web"]


def install_web(app: FastAPI, settings: Settings) -> None:
    """Serve the pages and their static files, and turn page refusals into redirections or French pages."""
    assets = WebAssets(root=settings.web_assets_dir)
    assets.warn_if_missing()
    renderer = PageRenderer(assets)
    app.include_router(assets_router(assets))
    app.include_router(pages_router(renderer))
    app.include_router(oidc_pages_router(renderer))
    app.include_router(admin_router(renderer))
    app.include_router(governance_router(renderer))
    app.include_router(charter_pages_router(renderer))
    app.include_router(audit_pages_router(renderer))
    app.include_router(work_router(renderer))
    app.include_router(projects_router(renderer))
    app.include_router(comparisons_router(renderer))
    app.include_router(prompts_router(renderer))
    app.include_router(shares_router(renderer))
    app.include_router(transcription_pages_router(renderer))
    app.include_router(live_pages_router(renderer))
    app.include_router(glossary_router(renderer))

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequiredError)
        return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'suivant': exc.next_path})}", status_code=303)

    async def charter_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CharterRequiredError)
        return RedirectResponse(f"{CHARTER_PATH}?{urlencode({'suivant': exc.next_path})}", status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbiddenError)
        return renderer.render(
            request,
            "error.html",
            title="Accès refusé",
            caller=getattr(request.state, "web_caller", None),
            heading="Accès refusé",
            message=exc.message,
            status_code=403,
        )

    app.add_exception_handler(LoginRequiredError, login_required)
    app.add_exception_handler(CharterRequiredError, charter_required)
    app.add_exception_handler(PageForbiddenError, forbidden)
