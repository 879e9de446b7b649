"""Search with citations, and answers grounded in your collections (RAG)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Security
from fastapi.responses import JSONResponse

from assistant.api.deps import ClientDep, RequirePermission, RuntimeDep
from assistant.api.routes._rag_models import PassageOut, RagAnswerIn, RagAnswerOut, SearchIn, SearchOut
from assistant.security import Permission, Principal
from assistant.services.knowledge.retrieval import answer_question, search_passages

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["recherche"])

DocumentUser = Annotated[Principal, Security(RequirePermission(Permission.DOCUMENTS))]


@router.post("/search", response_model=SearchOut, summary="Passages les plus pertinents, avec document, page, section")
async def search(body: SearchIn, principal: DocumentUser, runtime: RuntimeDep) -> SearchOut:
    passages = await search_passages(
        runtime, principal, body.query, collection_ids=body.collection_ids, k=body.k, mode=body.mode
    )
    return SearchOut(passages=[PassageOut.from_passage(p) for p in passages])


@router.post(
    "/rag/answer",
    response_model=RagAnswerOut,
    summary="Réponse générée à partir de vos collections, avec citations (étiquetée « générée par IA »)",
)
async def rag_answer(
    body: RagAnswerIn, principal: DocumentUser, runtime: RuntimeDep, client: ClientDep
) -> JSONResponse:
    answer = await answer_question(
        runtime,
        principal,
        body.query,
        client=client,
        collection_ids=body.collection_ids,
        model=body.model,
        k=body.k,
        mode=body.mode,
        sensitivity=body.sensitivity,
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        guard_confirmation=body.guard_confirmation.model_dump() if body.guard_confirmation else None,
    )
    payload = RagAnswerOut.from_answer(answer).model_dump(mode="json", by_alias=True)
    return JSONResponse(payload, headers=answer.headers)
