"""The « Prompts » page: the prompt library — my prompts, those published to my groups, and, for référents,
publishing to groups. Plain forms like « Projets »; using a prompt happens in the chat box and the tasks page.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import InvalidRequestError, NotFoundError, PermissionDeniedError, UserFacingError
from assistant.security import Permission
from assistant.services.chat.prompts import (
    MAX_BODY_CHARS,
    create_prompt,
    delete_prompt,
    list_prompts,
    list_versions,
    update_prompt,
)
from assistant.services.governance import admin
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["prompts_router"]

PromptsUser = Annotated[WebCaller, Security(RequirePage(Permission.CHAT))]

_DONE = {
    "cree": "Le prompt a été enregistré. Utilisez-le depuis l'assistant en tapant « / ».",
    "modifie": "Le prompt a été modifié : une nouvelle version est enregistrée.",
    "supprime": "Le prompt a été supprimé.",
}


def _status(exc: UserFacingError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    return 403 if isinstance(exc, PermissionDeniedError) else 400


def prompts_router(renderer: PageRenderer) -> APIRouter:
    """The « Prompts » page, rendered by ``renderer``."""
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
        prompts = await list_prompts(runtime, principal=caller.principal)
        publishes = caller.principal.has(Permission.PUBLISH_PROMPTS)
        versions = {
            prompt.id: await list_versions(runtime, principal=caller.principal, prompt_id=prompt.id)
            for prompt in prompts
            if prompt.editable and prompt.version > 1
        }
        return renderer.render(
            request,
            "prompts.html",
            title="Prompts",
            caller=caller,
            active="prompts",
            mine=[prompt for prompt in prompts if prompt.personal],
            published=[prompt for prompt in prompts if not prompt.personal],
            versions=versions,
            publishes=publishes,
            groups=[group.name for group in await admin.list_groups(runtime)] if publishes else [],
            max_body=MAX_BODY_CHARS,
            done=_DONE.get(request.query_params.get("fait", "")),
            error=error,
            error_for=error_for,
            values=values or {},
            status_code=status_code,
        )

    @router.get("/prompts")
    async def prompts_page(request: Request, runtime: RuntimeDep, caller: PromptsUser) -> Response:
        return await page(request, runtime, caller)

    @router.post("/prompts")
    async def create(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: PromptsUser,
        titre: Annotated[str, Form(max_length=1000)] = "",
        description: Annotated[str, Form(max_length=5000)] = "",
        texte: Annotated[str, Form(max_length=100_000)] = "",
        diffusion: Annotated[str, Form(max_length=20)] = "personnel",
        groupes: Annotated[list[str] | None, Form(max_length=150)] = None,
    ) -> Response:
        try:
            if diffusion not in ("personnel", "groupes"):
                raise InvalidRequestError("Choisissez : prompt personnel, ou publié à des groupes.")
            await create_prompt(
                runtime,
                principal=caller.principal,
                client=client,
                title=titre,
                description=description,
                body=texte,
                groups=(groupes or []) if diffusion == "groupes" else None,
            )
        except UserFacingError as exc:
            values = {"titre": titre, "description": description, "texte": texte, "groupes": groupes or []}
            return await page(
                request,
                runtime,
                caller,
                error=exc.message,
                error_for="nouveau",
                values=values,
                status_code=_status(exc),
            )
        return RedirectResponse("/prompts?fait=cree", status_code=303)

    @router.post("/prompts/{prompt_id}/modifier")
    async def edit(
        prompt_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: PromptsUser,
        titre: Annotated[str, Form(max_length=1000)] = "",
        description: Annotated[str, Form(max_length=5000)] = "",
        texte: Annotated[str, Form(max_length=100_000)] = "",
        groupes: Annotated[list[str] | None, Form(max_length=150)] = None,
        publie: Annotated[str, Form(max_length=5)] = "",
    ) -> Response:
        try:
            await update_prompt(
                runtime,
                principal=caller.principal,
                client=client,
                prompt_id=prompt_id,
                title=titre,
                description=description,
                body=texte,
                groups=(groupes or []) if publie == "oui" else None,
            )
        except UserFacingError as exc:
            return await page(
                request, runtime, caller, error=exc.message, error_for=str(prompt_id), status_code=_status(exc)
            )
        return RedirectResponse("/prompts?fait=modifie", status_code=303)

    @router.post("/prompts/{prompt_id}/supprimer")
    async def delete(
        prompt_id: uuid.UUID, request: Request, runtime: RuntimeDep, client: ClientDep, caller: PromptsUser
    ) -> Response:
        try:
            await delete_prompt(runtime, principal=caller.principal, client=client, prompt_id=prompt_id)
        except UserFacingError as exc:
            return await page(
                request, runtime, caller, error=exc.message, error_for=str(prompt_id), status_code=_status(exc)
            )
        return RedirectResponse("/prompts?fait=supprime", status_code=303)

    return router
