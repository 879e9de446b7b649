"""The « Comparer » page: one question to two models side by side, the vote, then the models revealed.

Plain forms, like « Projets »: they work without scripts (so nothing in the page breaks the CSP), post the
session's anti-CSRF token and come back with a redirection. Both answers are generated before the page returns.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SouverainError,
    UserFacingError,
)
from assistant.llm import LLMError
from assistant.llm.errors import ModelWithdrawnError, UnknownModelError
from assistant.security import Permission
from assistant.services.chat.comparisons import (
    MAX_QUESTION_CHARS,
    comparable_models,
    create_comparison,
    get_comparison,
    list_comparisons,
    vote,
)
from assistant.store.models import ComparisonVote
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["comparisons_router"]

Comparer = Annotated[WebCaller, Security(RequirePage(Permission.CHAT))]

_RECENT = 20


def _status(exc: SouverainError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, RateLimitedError):
        return 429
    if isinstance(exc, LLMError) and not isinstance(exc, UnknownModelError | ModelWithdrawnError):
        return 502  # a model server failed: the request itself was right
    return 400


def comparisons_router(renderer: PageRenderer) -> APIRouter:
    """The « Comparer » pages, rendered by ``renderer``."""
    router = APIRouter(include_in_schema=False)

    async def form_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        *,
        error: str | None = None,
        values: dict[str, object] | None = None,
        status_code: int = 200,
    ) -> Response:
        return renderer.render(
            request,
            "comparisons.html",
            title="Comparer",
            caller=caller,
            active="comparer",
            models=await comparable_models(runtime, caller.principal),
            recent=await list_comparisons(runtime, principal=caller.principal, limit=_RECENT),
            max_question=MAX_QUESTION_CHARS,
            error=error,
            values=values or {},
            status_code=status_code,
        )

    async def detail_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        comparison_id: uuid.UUID,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        try:
            comparison = await get_comparison(runtime, principal=caller.principal, comparison_id=comparison_id)
        except NotFoundError as exc:
            return renderer.render(
                request,
                "error.html",
                title="Comparaison introuvable",
                caller=caller,
                heading="Comparaison introuvable",
                message=exc.message,
                status_code=404,
            )
        return renderer.render(
            request,
            "comparison.html",
            title="Comparaison",
            caller=caller,
            active="comparer",
            comparison=comparison,
            votes=list(ComparisonVote),
            voted=request.query_params.get("fait") == "vote",
            error=error,
            status_code=status_code,
        )

    @router.get("/comparer")
    async def compare_page(request: Request, runtime: RuntimeDep, caller: Comparer) -> Response:
        return await form_page(request, runtime, caller)

    @router.post("/comparer")
    async def compare(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: Comparer,
        question: Annotated[str, Form(max_length=20_000)] = "",
        nommer: Annotated[str, Form(max_length=10)] = "",
        modele_a: Annotated[str, Form(max_length=128)] = "",
        modele_b: Annotated[str, Form(max_length=128)] = "",
    ) -> Response:
        try:
            if bool(modele_a) != bool(modele_b):
                raise InvalidRequestError("Choisissez les deux modèles, ou aucun pour un tirage au hasard.")
            comparison = await create_comparison(
                runtime,
                principal=caller.principal,
                client=client,
                question=question,
                blind=not nommer,
                model_ids=[modele_a, modele_b] if modele_a else None,
            )
        except (UserFacingError, LLMError) as exc:
            values = {"question": question, "nommer": bool(nommer), "modele_a": modele_a, "modele_b": modele_b}
            return await form_page(request, runtime, caller, error=exc.message, values=values, status_code=_status(exc))
        return RedirectResponse(f"/comparer/{comparison.id}", status_code=303)

    @router.get("/comparer/{comparison_id}")
    async def comparison_page(
        comparison_id: uuid.UUID, request: Request, runtime: RuntimeDep, caller: Comparer
    ) -> Response:
        return await detail_page(request, runtime, caller, comparison_id)

    @router.post("/comparer/{comparison_id}/vote")
    async def give_vote(
        comparison_id: uuid.UUID,
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: Comparer,
        choix: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        try:
            try:
                choice = ComparisonVote(choix)
            except ValueError:
                raise InvalidRequestError("Choisissez la meilleure réponse, ou « Équivalentes ».") from None
            await vote(runtime, principal=caller.principal, client=client, comparison_id=comparison_id, choice=choice)
        except UserFacingError as exc:
            return await detail_page(
                request, runtime, caller, comparison_id, error=exc.message, status_code=_status(exc)
            )
        return RedirectResponse(f"/comparer/{comparison_id}?fait=vote", status_code=303)

    return router
