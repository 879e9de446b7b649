"""Search and RAG answers over the collections a caller may read, and ``/v1/embeddings`` (design §3, §6, §7).

The order is the security argument: the allowed collection ids are computed first
(:func:`assistant.services.knowledge.collections.readable_versions`), only those are opened and searched, and only the
passages found there are formatted (escaped, as data) into the prompt. The answer goes through the chat gateway,
so it is labelled, signed, measured and counted like any completion; its provenance lists the passages cited.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Literal

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError
from assistant.llm.errors import UnknownModelError, UnsupportedParameterError
from assistant.protocol.chat import ChatCompletionRequest, ChatCompletionResponse
from assistant.protocol.embeddings import Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage
from assistant.runtime import Runtime
from assistant.security import Permission, Principal
from assistant.services.gateway.chat_completions import create_chat_completion
from assistant.services.gateway.model_access import resolve_model
from assistant.services.knowledge.grounding import RAG_SYSTEM_PROMPT, Passage, ground, retrieve

__all__ = ["RAG_SYSTEM_PROMPT", "Passage", "RagAnswer", "answer_question", "create_embeddings", "search_passages"]

logger = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "vector", "keyword"]


@dataclass(frozen=True)
class RagAnswer:
    """A labelled answer, the passages it was given, and the gateway's full response (usage, manifests)."""

    answer: str
    passages: list[Passage]
    completion: ChatCompletionResponse
    headers: dict[str, str]


async def search_passages(
    runtime: Runtime,
    principal: Principal,
    query: str,
    *,
    collection_ids: list[uuid.UUID] | None = None,
    k: int = 5,
    mode: SearchMode = "hybrid",
) -> list[Passage]:
    """The ``k`` best passages among the collections the caller may read (all of them, or those named)."""
    if not query.strip():
        raise InvalidRequestError("La requête de recherche est vide.")
    _, passages = await retrieve(runtime, principal, query, collection_ids=collection_ids, k=k, mode=mode)
    return passages


async def answer_question(
    runtime: Runtime,
    principal: Principal,
    question: str,
    *,
    client: ClientInfo,
    collection_ids: list[uuid.UUID] | None = None,
    model: str | None = None,
    k: int = 5,
    mode: SearchMode = "hybrid",
    sensitivity: Literal["public", "internal", "sensitive"] | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    guard_confirmation: dict[str, str] | None = None,
) -> RagAnswer:
    """Answer ``question`` from the passages of the caller's readable collections, citing them ([n]).

    The same grounding as ``/v1`` with ``collections`` and conversations: a question the collections cannot answer
    gets the fixed, labelled decline (no model call), and the answer is reviewed against its passages.
    """
    principal.require(Permission.CHAT)  # the route requires DOCUMENTS; generating also needs CHAT
    if not question.strip():
        raise InvalidRequestError("La question est vide.")
    started = time.perf_counter()
    request = ChatCompletionRequest.model_validate(
        {
            "model": model or "",
            "messages": [{"role": "user", "content": question}],
            "sensitivity": sensitivity,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "guard_confirmation": guard_confirmation,
        }
    )
    grounding = await ground(
        runtime,
        principal,
        question,
        model=await resolve_model(runtime, request.model, principal=principal),
        collection_ids=collection_ids,
        max_tokens=max_tokens,
        k=k,
        mode=mode,
    )
    outcome = await create_chat_completion(
        runtime,
        request,
        principal=principal,
        client=client,
        started=started,
        grounding=grounding,
        surface="rag",
    )
    used = grounding.passages
    assert outcome.response is not None  # not streamed
    completion = outcome.response
    answer = completion.choices[0].message.content or "" if completion.choices else ""
    await runtime.audit.record(
        category="audit",
        action="rag.answer",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="model",
        resource_id=completion.model,
        client=client,
        details={
            "collections": sorted({str(p.collection_id) for p in used}),
            "passages": len(used),
            "declined": bool(completion.grounding and completion.grounding.declined),
        },
    )
    return RagAnswer(answer=answer, passages=used, completion=completion, headers=outcome.headers)


async def create_embeddings(runtime: Runtime, request: EmbeddingRequest) -> EmbeddingResponse:
    """``POST /v1/embeddings`` with the service's embedding model (the one its indexes use)."""
    model_id = await runtime.rag.model_id()
    if request.model != model_id:
        raise UnknownModelError(request.model, available=[model_id])
    try:
        texts = request.texts
    except ValueError as exc:
        raise UnsupportedParameterError(str(exc), param="input") from exc
    if not texts or any(not text.strip() for text in texts):
        raise InvalidRequestError("Chaque entrée doit être un texte non vide.")
    vectors, tokens = await runtime.rag.embed_queries(texts)
    if request.dimensions is not None and request.dimensions != vectors.shape[1]:
        raise UnsupportedParameterError(
            f"Le modèle {model_id} produit des vecteurs de dimension {vectors.shape[1]} ; "
            f"« dimensions » ne peut pas valoir {request.dimensions}.",
            param="dimensions",
        )
    return EmbeddingResponse(
        data=[
            Embedding.from_vector(vector.tolist(), index=index, encoding_format=request.encoding_format)
            for index, vector in enumerate(vectors)
        ],
        model=model_id,
        usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
    )
