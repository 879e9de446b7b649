"""Ground a chat request in document collections: ACL first, retrieval, fenced passages, abstention (design §6, §7).

Shared by the RAG answer endpoint (:mod:`assistant.services.retrieval`) and the chat gateway
(:mod:`assistant.services.chat_completions`, whose requests may name ``collections``). The order is the security
argument: the readable collection ids are computed first (a named collection the caller may not read is a 404),
only those are searched, and the passages found are escaped into ``<extrait>`` blocks as data. When the best
passage is not similar enough to the question (``rag_abstention_min_score``, calibrated on
``benchmarks/rag_eval.py``), the answer declines deterministically, before any model call, rather than invent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from assistant.api.openai.chat import ChatCompletionRequest, SourceCitation, SystemMessage
from assistant.errors import InvalidRequestError, NotFoundError
from assistant.provenance import SourceRef
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.sensitivity import Sensitivity
from assistant.services.collections import readable_versions
from assistant.store import collections as collection_store
from assistant.store import documents as document_store
from assistant.store.models import Classification

__all__ = [
    "ABSTENTION",
    "RAG_SYSTEM_PROMPT",
    "Grounding",
    "Passage",
    "classification",
    "ground_request",
    "retrieve",
]

logger = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "vector", "keyword"]

ABSTENTION = "Je ne trouve pas cette information dans les documents fournis."
RAG_SYSTEM_PROMPT = (
    "Vous êtes l'assistant documentaire d'une administration française. Répondez en français, de façon "
    "précise et concise, uniquement à partir des extraits fournis, et citez chaque extrait utilisé par son "
    "numéro entre crochets, par exemple [1]. Si les extraits ne contiennent pas la réponse, répondez "
    f"exactement : « {ABSTENTION} »"
)
_EXCERPT_CHARS = 300


def _excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"


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
        return SourceRef(
            document_id=str(self.document_id),
            title=self.title or self.filename,
            collection_id=str(self.collection_id),
            page=self.page,
            passage_id=str(self.chunk_id),
            passage=_excerpt(self.text),
        )

    def citation(self) -> SourceCitation:
        """The structured source returned with a chat answer."""
        return SourceCitation(
            marker=self.marker,
            document_id=str(self.document_id),
            collection_id=str(self.collection_id),
            title=self.title or self.filename,
            page=self.page,
            section=self.section,
            excerpt=_excerpt(self.text),
            score=round(self.score, 6),
        )


async def retrieve(
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


async def classification(runtime: Runtime, collection_ids: set[uuid.UUID]) -> Sensitivity:
    if not collection_ids:
        return Sensitivity.PUBLIC
    async with runtime.session_factory() as session:
        collections = await collection_store.list_collections(session=session, ids=collection_ids)
    internal = any(c.classification != Classification.PUBLIC for c in collections)
    return Sensitivity.INTERNAL if internal else Sensitivity.PUBLIC


@dataclass(frozen=True)
class Grounding:
    """A chat request rewritten with its context, or the decision to abstain.

    ``request`` carries the fenced passages in a system message (``None`` when abstaining); ``passages`` are
    those in the prompt, in marker order; ``classification`` is the highest of their collections.
    """

    request: ChatCompletionRequest | None
    passages: list[Passage]
    classification: Sensitivity

    @property
    def abstained(self) -> bool:
        """True when nothing relevant was found: answer :data:`ABSTENTION` without calling a model."""
        return self.request is None

    def sources(self) -> list[SourceRef]:
        """Provenance entries of the passages in the prompt."""
        return [passage.source() for passage in self.passages]

    def citations(self) -> list[SourceCitation]:
        """Structured sources for the response body and the last SSE event."""
        return [passage.citation() for passage in self.passages]


def _question(request: ChatCompletionRequest) -> str:
    for message in reversed(request.messages):
        if message.role != "user":
            continue
        content = message.content
        if isinstance(content, str):
            return content
        return " ".join(part.text for part in content if getattr(part, "text", None))
    return ""


def _collection_ids(values: list[str]) -> list[uuid.UUID]:
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError as exc:
            raise NotFoundError(f"Collection introuvable ou non partagée avec vous : {value}.") from exc
    return ids


def _relevant(runtime: Runtime, hits: list[Any]) -> bool:
    """Whether the best passage is similar enough to the question to answer from it."""
    threshold = runtime.settings.rag_abstention_min_score
    scores = [hit.vector_score for hit in hits if hit.vector_score is not None]
    if not hits:
        return False
    # Keyword-only results carry no similarity: they matched words of the question, keep them.
    return not scores or max(scores) >= threshold


async def ground_request(runtime: Runtime, request: ChatCompletionRequest, *, principal: Principal) -> Grounding:
    """Retrieve passages for the last user message among ``request.collections`` and put them in the prompt.

    Raises :class:`NotFoundError` when a named collection does not exist or is not readable by the caller.
    """
    from rag import format_passages

    ids = _collection_ids(request.collections or [])
    question = _question(request)
    if not question.strip():
        raise InvalidRequestError("La question est vide.")
    hits, passages = await retrieve(
        runtime, principal, question, collection_ids=ids, k=runtime.settings.rag_chat_passages, mode="hybrid"
    )
    if not _relevant(runtime, hits):
        logger.info("RAG chat: nothing relevant in %d collections, abstaining", len(ids))
        return Grounding(request=None, passages=[], classification=Sensitivity.PUBLIC)
    context = format_passages(hits, max_chars=runtime.settings.rag_context_max_chars)
    used = passages[: len(context.citations)]
    # The context goes first, as its own system message: the caller's system prompt cannot displace the notice
    # that passages are data, and the caller's messages are left untouched.
    system = SystemMessage(role="system", content=f"{RAG_SYSTEM_PROMPT}\n\n{context.text}")
    grounded = request.model_copy(update={"messages": [system, *request.messages], "collections": None})
    return Grounding(
        request=grounded,
        passages=used,
        classification=await classification(runtime, {p.collection_id for p in used}),
    )
