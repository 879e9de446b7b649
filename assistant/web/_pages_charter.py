"""The usage charter pages: read and accept it (everyone), publish a new version and follow acceptances (référent).

The pages call the same services as ``/api/charter``; the guard-rule editor lives in :mod:`._pages_guard`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import ConflictError, UserFacingError
from assistant.security import Permission
from assistant.services.charter import usage_charter as service
from assistant.web._auth import RequirePage, WebCaller, safe_next_path
from assistant.web._markdown import render_markdown
from assistant.web._pages_guard import guard_pages_router
from assistant.web._templates import PageRenderer

__all__ = ["ADMIN_CHARTER_PATH", "CHARTER_PATH", "charter_pages_router"]

CHARTER_PATH = service.CHARTER_PAGE
ADMIN_CHARTER_PATH = "/admin/charte"

# Module-level: FastAPI resolves the routes' (postponed) annotations in this module's globals.
Member = Annotated[WebCaller, Security(RequirePage(Permission.PROFILE))]
CharterManager = Annotated[WebCaller, Security(RequirePage(Permission.MANAGE_CHARTER))]


def _status(exc: UserFacingError) -> int:
    return 409 if isinstance(exc, ConflictError) else 400


def charter_pages_router(renderer: PageRenderer) -> APIRouter:
    """``/charte`` and ``/admin/charte``, plus the guard-rule pages, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    async def charter_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        *,
        next_path: str | None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        state = await service.charter_state(runtime, caller.principal)
        return renderer.render(
            request,
            "charter.html",
            title="Charte d'utilisation",
            caller=caller,
            active="charte",
            state=state,
            charter=state.charter,
            summary_html=render_markdown(state.charter.summary),
            text_html=render_markdown(state.charter.text, drop_title=True),
            next_path=next_path,
            error=error,
            status_code=status_code,
        )

    @router.get(CHARTER_PATH)
    async def show_charter(
        request: Request, runtime: RuntimeDep, caller: Member, suivant: str | None = None
    ) -> Response:
        next_path = safe_next_path(suivant, default="") or None
        return await charter_page(request, runtime, caller, next_path=next_path)

    @router.post(CHARTER_PATH)
    async def accept_charter(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: Member,
        version: Annotated[int, Form(ge=1, le=2**31 - 1)],
        suivant: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        next_path = safe_next_path(suivant, default="") or None
        try:
            await service.accept_charter(runtime, principal=caller.principal, client=client, version=version)
        except UserFacingError as exc:
            # A newer version was published while the page was open, or none is published: say so, show the text.
            return await charter_page(
                request, runtime, caller, next_path=next_path, error=exc.message, status_code=_status(exc)
            )
        target = next_path or f"{CHARTER_PATH}?acceptee=1"
        return RedirectResponse(target, status_code=303)

    async def admin_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        *,
        form: dict[str, str] | None = None,
        preview: bool = False,
        error: str | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Response:
        current = await service.charter_state(runtime, caller.principal)
        history, active_users = await service.charter_history(runtime)
        if form is None:
            form = {"titre": current.charter.title, "resume": current.charter.summary, "texte": current.charter.text}
        return renderer.render(
            request,
            "admin_charter.html",
            title="Charte d'utilisation — administration",
            caller=caller,
            active="admin",
            current=current.charter,
            history=history,
            active_users=active_users,
            form=form,
            preview_summary=render_markdown(form["resume"]) if preview else None,
            preview_text=render_markdown(form["texte"], drop_title=True) if preview else None,
            error=error,
            notice=notice,
            status_code=status_code,
        )

    @router.get(ADMIN_CHARTER_PATH)
    async def show_admin_charter(
        request: Request, runtime: RuntimeDep, caller: CharterManager, publiee: int | None = None
    ) -> Response:
        notice = (
            f"Version {publiee} publiée : chaque utilisateur devra l'accepter avant de continuer à utiliser "
            "l'assistant."
            if publiee
            else None
        )
        return await admin_page(request, runtime, caller, notice=notice)

    @router.post(ADMIN_CHARTER_PATH)
    async def publish_charter(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: CharterManager,
        titre: Annotated[str, Form(max_length=200)] = "",
        resume: Annotated[str, Form(max_length=4000)] = "",
        texte: Annotated[str, Form(max_length=200_000)] = "",
        operation: Annotated[str, Form(max_length=20)] = "apercu",
    ) -> Response:
        form = {"titre": titre.strip(), "resume": resume, "texte": texte}
        missing = [label for label, value in (("le texte", texte), ("le résumé", resume)) if not value.strip()]
        if missing:
            return await admin_page(
                request,
                runtime,
                caller,
                form=form,
                error=f"Renseignez {' et '.join(missing)} de la charte.",
                status_code=400,
            )
        if operation != "publier":
            return await admin_page(request, runtime, caller, form=form, preview=True)
        try:
            published = await service.publish_charter(
                runtime,
                principal=caller.principal,
                client=client,
                title=form["titre"] or None,
                summary=resume,
                text=texte,
            )
        except UserFacingError as exc:
            return await admin_page(
                request, runtime, caller, form=form, preview=True, error=exc.message, status_code=_status(exc)
            )
        return RedirectResponse(f"{ADMIN_CHARTER_PATH}?publiee={published.version}", status_code=303)

    router.include_router(guard_pages_router(renderer))
    return router
