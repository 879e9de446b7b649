"""« Partagés avec moi »: the conversations colleagues shared with me, read-only, and a copy to continue.

Plain pages and forms, like « Comparer »: they work without scripts (so nothing in them breaks the CSP), the copy
form posts the session's anti-CSRF token and comes back with a redirection to the new conversation. Sharing
itself is done from the chat page (« Partager »), which calls the JSON API.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Security
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import NotFoundError, PermissionDeniedError, UserFacingError
from assistant.provenance import AI_BADGE
from assistant.security import Permission
from assistant.services.chat.sharing import continue_copy, list_received_shares, read_share
from assistant.store.models import ShareMode
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["shares_router"]

Reader = Annotated[WebCaller, Security(RequirePage(Permission.CHAT))]


def shares_router(renderer: PageRenderer) -> APIRouter:
    """The « Partagés avec moi » pages, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    async def detail_page(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: WebCaller,
        share_id: uuid.UUID,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        try:
            shared = await read_share(runtime, principal=caller.principal, client=client, share_id=share_id)
        except NotFoundError as exc:
            return renderer.render(
                request,
                "error.html",
                title="Partage introuvable",
                caller=caller,
                heading="Partage introuvable",
                message=f"{exc.message} Il a peut-être été révoqué par son auteur.",
                status_code=404,
            )
        return renderer.render(
            request,
            "share.html",
            title=shared.title,
            caller=caller,
            active="partages",
            shared=shared,
            copyable=shared.mode is ShareMode.COPY and shared.owner != caller.principal.username,
            ai_badge=AI_BADGE,
            error=error,
            status_code=status_code,
        )

    @router.get("/partages")
    async def received_page(request: Request, runtime: RuntimeDep, caller: Reader) -> Response:
        return renderer.render(
            request,
            "shares.html",
            title="Partagés avec moi",
            caller=caller,
            active="partages",
            shares=await list_received_shares(runtime, principal=caller.principal),
        )

    @router.get("/partages/{share_id}")
    async def share_page(
        share_id: uuid.UUID, request: Request, runtime: RuntimeDep, client: ClientDep, caller: Reader
    ) -> Response:
        return await detail_page(request, runtime, client, caller, share_id)

    @router.post("/partages/{share_id}/copie")
    async def copy(
        share_id: uuid.UUID, request: Request, runtime: RuntimeDep, client: ClientDep, caller: Reader
    ) -> Response:
        try:
            conversation = await continue_copy(runtime, principal=caller.principal, client=client, share_id=share_id)
        except NotFoundError:
            return await detail_page(request, runtime, client, caller, share_id)
        except UserFacingError as exc:
            status = 403 if isinstance(exc, PermissionDeniedError) else 400
            return await detail_page(request, runtime, client, caller, share_id, error=exc.message, status_code=status)
        return RedirectResponse(f"/chat?conversation={conversation.id}", status_code=303)

    return router
