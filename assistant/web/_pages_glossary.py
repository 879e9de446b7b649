"""The « Glossaire » page: the terms (sigles, services, people) given to my transcriptions — my own glossary, and
my groups' (edited by référents). Plain forms like « Prompts »; linked from the transcription pages.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import NotFoundError, PermissionDeniedError, UserFacingError
from assistant.security import Permission
from assistant.services.meetings.glossary import (
    MAX_NOTE_CHARS,
    MAX_TERM_CHARS,
    MAX_VARIANTS,
    add_entry,
    delete_entry,
    my_glossary,
    update_entry,
    visible_groups,
)
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["GLOSSARY_PATH", "glossary_router", "split_variants"]

GLOSSARY_PATH = "/glossaire"
GlossaryUser = Annotated[WebCaller, Security(RequirePage(Permission.TRANSCRIPTIONS))]

_DONE = {
    "ajoute": "Le terme a été ajouté : il servira aux prochaines transcriptions.",
    "modifie": "Le terme a été modifié.",
    "supprime": "Le terme a été retiré du glossaire.",
}


def split_variants(text: str) -> list[str]:
    """Variants typed one per line or separated by « ; » or commas."""
    return [part.strip() for line in text.splitlines() for part in line.replace(";", ",").split(",") if part.strip()]


def _status(exc: UserFacingError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, PermissionDeniedError):
        return 403
    return 409 if exc.code == "duplicate_term" else 400


def _group(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError as exc:
        raise NotFoundError("Groupe introuvable.") from exc


def glossary_router(renderer: PageRenderer) -> APIRouter:
    """The « Glossaire » page, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    async def page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        *,
        error: str | None = None,
        error_for: str | None = None,
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        return renderer.render(
            request,
            "glossary.html",
            title="Glossaire",
            caller=caller,
            active="transcriptions",
            mine=await my_glossary(runtime, principal=caller.principal),
            groups=await visible_groups(runtime, principal=caller.principal),
            max_term=MAX_TERM_CHARS,
            max_note=MAX_NOTE_CHARS,
            max_variants=MAX_VARIANTS,
            done=_DONE.get(request.query_params.get("fait", "")),
            error=error,
            error_for=error_for,
            values=values or {},
            status_code=status_code,
        )

    @router.get(GLOSSARY_PATH)
    async def glossary_page(request: Request, runtime: RuntimeDep, caller: GlossaryUser) -> Response:
        return await page(request, runtime, caller)

    @router.post(GLOSSARY_PATH)
    async def add(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: GlossaryUser,
        terme: Annotated[str, Form(max_length=1000)] = "",
        variantes: Annotated[str, Form(max_length=5000)] = "",
        note: Annotated[str, Form(max_length=3000)] = "",
        groupe: Annotated[str, Form(max_length=40)] = "",
    ) -> Response:
        try:
            await add_entry(
                runtime,
                principal=caller.principal,
                client=client,
                group_id=_group(groupe),
                term=terme,
                variants=split_variants(variantes),
                note=note,
            )
        except UserFacingError as exc:
            values = {"terme": terme, "variantes": variantes, "note": note}
            return await page(
                request,
                runtime,
                caller,
                error=exc.message,
                error_for=f"nouveau-{groupe or 'perso'}",
                values=values,
                status_code=_status(exc),
            )
        return RedirectResponse(f"{GLOSSARY_PATH}?fait=ajoute", status_code=303)

    @router.post(GLOSSARY_PATH + "/{entry_id}/modifier")
    async def edit(
        entry_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: GlossaryUser,
        terme: Annotated[str, Form(max_length=1000)] = "",
        variantes: Annotated[str, Form(max_length=5000)] = "",
        note: Annotated[str, Form(max_length=3000)] = "",
        groupe: Annotated[str, Form(max_length=40)] = "",
    ) -> Response:
        try:
            await update_entry(
                runtime,
                principal=caller.principal,
                client=client,
                group_id=_group(groupe),
                entry_id=entry_id,
                term=terme,
                variants=split_variants(variantes),
                note=note,
            )
        except UserFacingError as exc:
            return await page(
                request, runtime, caller, error=exc.message, error_for=str(entry_id), status_code=_status(exc)
            )
        return RedirectResponse(f"{GLOSSARY_PATH}?fait=modifie", status_code=303)

    @router.post(GLOSSARY_PATH + "/{entry_id}/supprimer")
    async def delete(
        entry_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: GlossaryUser,
        groupe: Annotated[str, Form(max_length=40)] = "",
    ) -> Response:
        try:
            await delete_entry(
                runtime, principal=caller.principal, client=client, group_id=_group(groupe), entry_id=entry_id
            )
        except UserFacingError as exc:
            return await page(
                request, runtime, caller, error=exc.message, error_for=str(entry_id), status_code=_status(exc)
            )
        return RedirectResponse(f"{GLOSSARY_PATH}?fait=supprime", status_code=303)

    return router
