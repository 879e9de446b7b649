"""Side by side: one question to two models, the vote, and the preferences per model for référents."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Security, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._governance_models import PreferenceOut
from assistant.guard import GuardConfirmation
from assistant.security import Permission, Principal
from assistant.services.chat import comparisons as service
from assistant.services.chat.comparisons import MAX_QUESTION_CHARS, ComparisonSummary, ComparisonView
from assistant.store.models import ComparisonVote

__all__ = ["governance_router", "router"]

router = APIRouter(prefix="/api/comparisons", tags=["comparaisons"])
governance_router = APIRouter(prefix="/api/governance", tags=["gouvernance"])

Chatter = Annotated[Principal, Security(RequirePermission(Permission.CHAT))]
Reader = Annotated[Principal, Security(RequirePermission(Permission.READ_GOVERNANCE))]


class ComparisonCreate(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="Question posée aux deux modèles.")
    blind: bool = Field(default=True, description="Masquer les modèles jusqu'au vote (comme l'arène Compar:IA).")
    models: list[str] | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="Les deux modèles à comparer ; sans eux, deux modèles souverains tirés au hasard parmi les vôtres.",
    )
    sensitivity: Literal["public", "internal", "sensitive"] | None = Field(
        default=None, description="Sensibilité déclarée ; au-delà de public, rien ne part vers un modèle non souverain."
    )
    guard_confirmation: GuardConfirmation | None = Field(
        default=None, description="Réponse à une règle d'usage qui demande confirmation (règle, motif)."
    )


class VoteIn(BaseModel):
    vote: ComparisonVote = Field(description="a : A est meilleure ; b : B est meilleure ; equivalent : équivalentes.")


def _labelled(view: ComparisonView, status_code: int = status.HTTP_200_OK) -> JSONResponse:
    body = view.model_dump(mode="json", by_alias=True)
    return JSONResponse(body, status_code=status_code, headers=service.comparison_headers(view))


@router.post(
    "",
    response_model=ComparisonView,
    status_code=status.HTTP_201_CREATED,
    summary="Poser une question à deux modèles côte à côte (réponses étiquetées « générées par IA »)",
)
async def create_comparison(
    body: ComparisonCreate, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> JSONResponse:
    view = await service.create_comparison(
        runtime,
        principal=principal,
        client=client,
        question=body.question,
        blind=body.blind,
        model_ids=body.models,
        sensitivity=body.sensitivity,
        guard_confirmation=body.guard_confirmation,
    )
    return _labelled(view, status.HTTP_201_CREATED)


@router.get("", response_model=list[ComparisonSummary], summary="Mes comparaisons")
async def list_comparisons(
    principal: Chatter,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[ComparisonSummary]:
    return await service.list_comparisons(runtime, principal=principal, limit=limit, offset=offset)


@router.get("/{comparison_id}", response_model=ComparisonView, summary="Une comparaison et ses deux réponses")
async def read_comparison(comparison_id: uuid.UUID, principal: Chatter, runtime: RuntimeDep) -> JSONResponse:
    return _labelled(await service.get_comparison(runtime, principal=principal, comparison_id=comparison_id))


@router.post(
    "/{comparison_id}/vote",
    response_model=ComparisonView,
    summary="Voter pour la meilleure réponse (une fois) ; les modèles sont alors révélés",
)
async def vote(
    comparison_id: uuid.UUID, body: VoteIn, principal: Chatter, runtime: RuntimeDep, client: ClientDep
) -> JSONResponse:
    view = await service.vote(
        runtime, principal=principal, client=client, comparison_id=comparison_id, choice=body.vote
    )
    return _labelled(view)


@governance_router.get(
    "/comparisons",
    response_model=list[PreferenceOut],
    summary="Préférences des agents par modèle (comparaisons côte à côte) et énergie par réponse",
)
async def preferences(
    _: Reader, runtime: RuntimeDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> list[PreferenceOut]:
    return [PreferenceOut.of(item) for item in await service.model_preferences(runtime, days=days)]
