"""Plugging the web interface into the application."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from assistant.core.config import Settings
from assistant.web._assets import WebAssets, assets_router
from assistant.web._pages import LOGIN_PATH, pages_router
from assistant.web._pages_transcriptions import transcription_pages_router
from assistant.web._templates import PageRenderer
from assistant.web.errors import LoginRequiredError, PageForbiddenError

__all__ = ["install_web"]


def install_web(app: FastAPI, settings: Settings) -> None:
    """Serve the pages and their static files, and turn page refusals into redirections or French pages."""
    assets = WebAssets(root=settings.web_assets_dir)
    assets.warn_if_missing()
    renderer = PageRenderer(assets)
    app.include_router(assets_router(assets))
    app.include_router(pages_router(renderer))
    app.include_router(transcription_pages_router(renderer))

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequiredError)
        return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'suivant': exc.next_path})}", status_code=303)

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
    app.add_exception_handler(PageForbiddenError, forbidden)
