"""Search and RAG answers over the collections a caller may read, and ``/v1/embeddings`` (design §3, §6, §7).

The order is the security argument: the allowed collection ids are computed first
(:func:`assistant.services.collections.readable_versions`), only those are opened and searched, and only the
passages found there are formatted (escaped, as data) into the prompt. The answer goes through the chat gateway,
so it is labelled, signed, measured and counted like any completion; its provenance lists the passages cited.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from assistant.api.openai.chat import ChatCompletionRequest, ChatCompletionResponse
from assistant.api.openai.embeddings import Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage
from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError
from assistant.llm.errors import UnknownModelError, UnsupportedParameterError
from assistant.provenance import SourceRef
from assistant.runtime import Runtime
from assistant.security import Permission, Principal
from assistant.sensitivity import Sensitivity
from assistant.services.chat_completions import create_chat_completion
from assistant.services.collections import readable_versions
from assistant.store import collections as collection_store
from assistant.store import documents as document_store
from assistant.store.models import Classification

__all__ = ["RAG_SYSTEM_PROMPT", "Passage", "RagAnswer", "answer_question", "create_embeddings", "search_passages"]

logger = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "vector", "keyword"]

RAG_SYSTEM_PROMPT = (
    "Vous êtes l'assistant documentaire d'une administration française. Répondez en français, de façon "
    "précise et concise, uniquement à partir des extraits fournis, et citez chaque extrait utilisé par son "
    "numéro entre crochets, par exemple [1]."
)
_EXCERPT_CHARS = 300


@dataclass(frozen=True)
class Passage:
    """One retrieved passage with what a citation needs."""

    marker: int
    collection_id: uuid.UUID
    document_id: uuid.UUID
    filename: str
    title: str
    page: int | None
    section: str | None
    text: str
    score: float
    chunk_id: int

    def source(self) -> SourceRef:
        """The provenance entry of this passage (a short excerpt, never the whole chunk)."""
        excerpt = self.text if len(self.text) <= _EXCERPT_CHARS else self.text[: _EXCERPT_CHARS - 1] + "…"
        return SourceRef(
            document_id=str(self.document_id),
            title=self.title or self.filename,
            collection_id=str(self.collection_id),
            page=self.page,
            passage_id=str(self.chunk_id),
            passage=excerpt,
        )


@dataclass(frozen=True)
class RagAnswer:
    """A labelled answer, the passages it was given, and the gateway's full response (usage, manifests)."""

    answer: str
    passages: list[Passage]
    completion: ChatCompletionResponse
    headers: dict[str, str]


async def _search(
    runtime: Runtime,
    principal: Principal,
    query: str,
    *,
    collection_ids: list[uuid.UUID] | None,
    k: int,
    mode: SearchMode,
) -> tuple[list[Any], list[Passage]]:
    versions = await readable_versions(runtime, principal, collection_ids)
    hits = await runtime.rag.search(query, versions=versions, k=k, mode=mode)
    document_ids = {uuid.UUID(hit.document_id) for hit in hits}
    filenames: dict[uuid.UUID, str] = {}
    async with runtime.session_factory() as session:
        for document_id in document_ids:
            document = await document_store.get_document(session=session, document_id=document_id)
            if document is not None:
                filenames[document_id] = document.filename
    passages = [
        Passage(
            marker=index,
            collection_id=uuid.UUID(hit.collection_id),
            document_id=uuid.UUID(hit.document_id),
            filename=filenames.get(uuid.UUID(hit.document_id), ""),
            title=hit.chunk.title,
            page=hit.page,
            section=hit.section,
            text=hit.text,
            score=float(hit.score),
            chunk_id=int(hit.chunk.id),
        )
        for index, hit in enumerate(hits, start=1)
    ]
    return hits, passages


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
    _, passages = await _search(runtime, principal, query, collection_ids=collection_ids, k=k, mode=mode)
    return passages


async def _classification(runtime: Runtime, collection_ids: set[uuid.UUID]) -> Sensitivity:
    if not collection_ids:
        return Sensitivity.PUBLIC
    async with runtime.session_factory() as session:
        collections = await collection_store.list_collections(session=session, ids=collection_ids)
    internal = any(c.classification != Classification.PUBLIC for c in collections)
    return Sensitivity.INTERNAL if internal else Sensitivity.PUBLIC


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
    """Answer ``question`` from the passages of the caller's readable collections, citing them ([n])."""
    from rag import format_passages

    principal.require(Permission.CHAT)  # the route requires DOCUMENTS; generating also needs CHAT
    if not question.strip():
        raise InvalidRequestError("La question est vide.")
    started = time.perf_counter()
    hits, passages = await _search(runtime, principal, question, collection_ids=collection_ids, k=k, mode=mode)
    context = format_passages(hits, max_chars=runtime.settings.rag_context_max_chars)
    used = passages[: len(context.citations)]
    request = ChatCompletionRequest.model_validate(
        {
            "model": model or "",
            "messages": [
                {"role": "system", "content": f"{RAG_SYSTEM_PROMPT}\n\n{context.text}"},
                {"role": "user", "content": question},
            ],
            "sensitivity": sensitivity,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "guard_confirmation": guard_confirmation,
        }
    )
    outcome = await create_chat_completion(
        runtime,
        request,
        principal=principal,
        client=client,
        started=started,
        sources=[passage.source() for passage in used],
        collections=await _classification(runtime, {p.collection_id for p in used}),
        surface="rag",
    )
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
        details={"collections": sorted({str(p.collection_id) for p in used}), "passages": len(used)},
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
