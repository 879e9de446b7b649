"""The « Projets » page: folders of conversations with standing instructions and collections.

Plain forms, like « Documents »: they work without scripts, post the session's anti-CSRF token and come back
with a redirection. Filing conversations, searching them and opening a project's conversations happen in the
chat page, through the JSON API.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import InvalidRequestError, NotFoundError, UserFacingError
from assistant.security import Permission
from assistant.services.chat.projects import (
    MAX_INSTRUCTIONS_CHARS,
    create_project,
    delete_project,
    list_projects,
    update_project,
)
from assistant.services.knowledge.collection_summaries import summarise_collections
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["projects_router"]

ProjectsUser = Annotated[WebCaller, Security(RequirePage(Permission.CHAT))]

# What the redirection after a form says (``?fait=…``): fixed texts, so nothing from the URL reaches the page.
_DONE = {
    "cree": "Le projet a été créé. Ouvrez-le dans l'assistant pour y commencer une conversation.",
    "modifie": "Le projet a été modifié ; ses consignes s'appliquent dès la prochaine réponse.",
    "supprime": "Le projet a été supprimé.",
    "supprime-avec": "Le projet a été supprimé, avec ses conversations.",
}


def projects_router(renderer: PageRenderer) -> APIRouter:
    """The « Projets » page, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    async def page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        *,
        error: str | None = None,
        error_for: str | None = None,
        values: dict[str, object] | None = None,
        status_code: int = 200,
    ) -> Response:
        summaries = await summarise_collections(runtime, caller.principal)
        readable = [summary.view.collection for summary in summaries if summary.view.right.reads]
        return renderer.render(
            request,
            "projects.html",
            title="Projets",
            caller=caller,
            active="projets",
            projects=await list_projects(runtime, principal=caller.principal),
            collections=readable,
            names={str(collection.id): collection.name for collection in readable},
            max_instructions=MAX_INSTRUCTIONS_CHARS,
            done=_DONE.get(request.query_params.get("fait", "")),
            error=error,
            error_for=error_for,
            values=values or {},
            status_code=status_code,
        )

    def refused(exc: UserFacingError) -> int:
        return 404 if isinstance(exc, NotFoundError) else 400

    @router.get("/projets")
    async def projects_page(request: Request, runtime: RuntimeDep, caller: ProjectsUser) -> Response:
        return await page(request, runtime, caller)

    @router.post("/projets")
    async def create(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: ProjectsUser,
        nom: Annotated[str, Form(max_length=1000)] = "",
        consignes: Annotated[str, Form(max_length=20_000)] = "",
        collections: Annotated[list[str] | None, Form(max_length=100)] = None,
    ) -> Response:
        try:
            await create_project(
                runtime,
                principal=caller.principal,
                client=client,
                name=nom,
                instructions=consignes,
                collections=collections or [],
            )
        except UserFacingError as exc:
            values = {"nom": nom, "consignes": consignes, "collections": collections or []}
            return await page(
                request,
                runtime,
                caller,
                error=exc.message,
                error_for="nouveau",
                values=values,
                status_code=refused(exc),
            )
        return RedirectResponse("/projets?fait=cree", status_code=303)

    @router.post("/projets/{project_id}/modifier")
    async def edit(
        project_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: ProjectsUser,
        nom: Annotated[str, Form(max_length=1000)] = "",
        consignes: Annotated[str, Form(max_length=20_000)] = "",
        collections: Annotated[list[str] | None, Form(max_length=100)] = None,
    ) -> Response:
        try:
            await update_project(
                runtime,
                principal=caller.principal,
                client=client,
                project_id=project_id,
                name=nom,
                instructions=consignes,
                collections=collections or [],
            )
        except UserFacingError as exc:
            return await page(
                request, runtime, caller, error=exc.message, error_for=str(project_id), status_code=refused(exc)
            )
        return RedirectResponse("/projets?fait=modifie", status_code=303)

    @router.post("/projets/{project_id}/supprimer")
    async def delete(
        project_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: ProjectsUser,
        conversations: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        try:
            if conversations not in ("supprimer", "garder"):
                raise InvalidRequestError(
                    "Indiquez ce que deviennent les conversations du projet : supprimées avec lui, ou gardées."
                )
            await delete_project(
                runtime,
                principal=caller.principal,
                client=client,
                project_id=project_id,
                conversations="delete" if conversations == "supprimer" else "detach",
            )
        except UserFacingError as exc:
            return await page(
                request, runtime, caller, error=exc.message, error_for=str(project_id), status_code=refused(exc)
            )
        done = "supprime-avec" if conversations == "supprimer" else "supprime"
        return RedirectResponse(f"/projets?fait={done}", status_code=303)

    return router
