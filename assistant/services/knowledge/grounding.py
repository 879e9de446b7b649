"""Ground a question in document collections: one code path for /v1, /api/rag/answer and conversations (§6, §7).

The order is the security argument: the readable collection ids are computed first (a named collection the caller
may not read is a 404), only those are searched, and the passages found are fenced into ``<extrait>`` blocks as
data. Then, before any model call:

- **answerability**: no passage, a best passage not similar enough (``rag_abstention_min_score``), or a question
  whose specific words are mostly absent from the best passages (``rag_min_question_coverage``) is declined with a
  fixed, labelled answer that says what was searched and suggests a reformulation;
- **budget**: passages are counted with the model's own tokenizer and the lowest-ranked dropped until the prompt
  fits the model's context window with room for the answer; the report says how many were left out.

After generation, :meth:`Grounding.review` checks the answer against the passages: an answer in which the model
declines, or that states figures no passage contains (a small model inventing « 120 € »), becomes the fixed
decline; every ``[n]`` is checked against passage ``n``.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from assistant.errors import InvalidRequestError, NotFoundError
from assistant.llm import ChatRequest, LLMError, Message, RegisteredModel, SamplingParams
from assistant.protocol.chat import CitationReport, GroundingReport, SourceCitation
from assistant.provenance import SourceRef
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.sensitivity import Sensitivity
from assistant.services.knowledge.collections import readable_versions
from assistant.store import collections as collection_store
from assistant.store import documents as document_store
from assistant.store.models import Classification
from rag import (
    absent_question_words,
    attribute_citations,
    check_citations,
    format_passages,
    missing_question_figures,
    question_coverage,
    unsupported_figures,
)

__all__ = [
    "ABSTENTION",
    "RAG_SYSTEM_PROMPT",
    "Grounding",
    "Passage",
    "Review",
    "classification",
    "collection_ids_of",
    "ground",
    "retrieve",
]

logger = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "vector", "keyword"]

#: The sentence the model is told to answer when the passages do not contain the answer.
ABSTENTION = "Je ne trouve pas cette information dans les documents fournis."
RAG_SYSTEM_PROMPT = (
    "Vous êtes l'assistant documentaire d'une administration française. Répondez en français, en une à trois "
    "phrases, uniquement à partir des extraits fournis, et citez chaque extrait utilisé par son numéro entre "
    "crochets, par exemple [1]. Recopiez les chiffres, montants et dates tels qu'ils sont écrits dans les extraits "
    "et n'en inventez aucun. Si les extraits ne contiennent pas la réponse exacte à la question posée, répondez "
    f"seulement : « {ABSTENTION} »"
)
_EXCERPT_CHARS = 300
# Room kept for the chat template and the message framing when the budget is computed.
_TEMPLATE_MARGIN_TOKENS = 64
_DEFAULT_ANSWER_TOKENS = 512
# How small models say « not in the documents » in their own words (accents folded).
_DECLINES = re.compile(
    r"je ne (?:trouve|sais) pas|ne (?:precisen?t?|mentionnen?t?|contiennen?t?|donnen?t?|indiquen?t?|permettent?)"
    r"(?: pas)?|n'(?:indiquen?t?|evoquen?t?|abordent?|precisen?t?|mentionnen?t?)|pas d'information|"
    r"aucune (?:information|mention|precision)|ne figure pas|n'est pas (?:precise|mentionne|indique)"
)


def _excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


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
    # For a document kept in sync with a shared drive: when the drive last confirmed this version.
    synced_at: datetime | None = None

    def source(self) -> SourceRef:
        """The provenance entry of this passage (a short excerpt, never the whole chunk)."""
        return SourceRef(
            document_id=str(self.document_id),
            title=self.title or self.filename,
            collection_id=str(self.collection_id),
            page=self.page,
            passage_id=str(self.chunk_id),
            passage=_excerpt(self.text),
            synced_at=self.synced_at,
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
            synced_at=self.synced_at,
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
    """The ``k`` best passages of the collections the caller may read (ACL before similarity)."""
    versions = await readable_versions(runtime, principal, collection_ids)
    hits = await runtime.rag.search(query, versions=versions, k=k, mode=mode)
    document_ids = {uuid.UUID(hit.document_id) for hit in hits}
    filenames: dict[uuid.UUID, str] = {}
    synced: dict[uuid.UUID, datetime | None] = {}
    async with runtime.session_factory() as session:
        for document_id in document_ids:
            document = await document_store.get_document(session=session, document_id=document_id)
            if document is not None:
                filenames[document_id] = document.filename
                synced[document_id] = document.synced_at
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
            synced_at=synced.get(uuid.UUID(hit.document_id)),
        )
        for index, hit in enumerate(hits, start=1)
    ]
    return hits, passages


async def classification(runtime: Runtime, collection_ids: set[uuid.UUID]) -> Sensitivity:
    """The highest classification of these collections (internal as soon as one is not public)."""
    if not collection_ids:
        return Sensitivity.PUBLIC
    async with runtime.session_factory() as session:
        collections = await collection_store.list_collections(session=session, ids=collection_ids)
    # A collection deleted since its passages were used can no longer say it was public: fail closed.
    internal = len(collections) < len(collection_ids) or any(
        c.classification != Classification.PUBLIC for c in collections
    )
    return Sensitivity.INTERNAL if internal else Sensitivity.PUBLIC


def collection_ids_of(values: list[str]) -> list[uuid.UUID]:
    """Collection ids as a request names them; a malformed one is as unknown as a forbidden one (404)."""
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError as exc:
            raise NotFoundError(f"Collection introuvable ou non partagée avec vous : {value}.") from exc
    return ids


@dataclass(frozen=True)
class Review:
    """An answer checked against its passages: the text to deliver and the report that goes with it."""

    text: str
    report: GroundingReport

    @property
    def declined(self) -> bool:
        return self.report.declined


@dataclass(frozen=True)
class Grounding:
    """A question grounded in collections: the prompt to send, or the decision to decline before any model call.

    ``passages`` are those in the prompt, in marker order; ``omitted`` counts the lowest-ranked ones left out to fit
    the context window; ``classification`` is the highest of their collections.
    """

    question: str
    passages: list[Passage]
    classification: Sensitivity
    collection_names: list[str]
    system_prompt: str | None = None
    decline_reason: str | None = None
    omitted: int = 0
    consulted: list[str] = field(default_factory=list)

    @property
    def declined(self) -> bool:
        """True when the answer is the fixed decline and no model is called."""
        return self.decline_reason is not None

    def decline_text(self) -> str:
        """The labelled, deterministic answer when the documents do not answer: what was searched, what to try."""
        where = ", ".join(f"« {name} »" for name in self.collection_names) or "aucune collection accessible"
        consulted = self.consulted or [passage.title or passage.filename for passage in self.passages]
        documents = ", ".join(f"« {title} »" for title in dict.fromkeys(consulted) if title)
        seen = f" Documents consultés : {documents}." if documents else ""
        return (
            f"Je ne trouve pas cette information dans les documents consultés. Collections interrogées : {where}."
            f"{seen} Reformulez la question avec les termes des documents (intitulé exact, année, service "
            "concerné), ou interrogez une autre collection."
        )

    def messages(self, history: list[Message]) -> list[Message]:
        """``history`` with the fenced passages first, as their own system message: the caller's system prompt
        cannot displace the notice that passages are data, and the caller's messages are left untouched."""
        assert self.system_prompt is not None, "a declined grounding has no prompt"
        return [{"role": "system", "content": self.system_prompt}, *history]

    def sources(self) -> list[SourceRef]:
        """Provenance entries of the passages in the prompt."""
        return [passage.source() for passage in self.passages]

    def citations(self) -> list[SourceCitation]:
        """Structured sources for the response body and the last SSE event."""
        return [passage.citation() for passage in self.passages]

    def report(self, *, declined: bool | None = None, reason: str | None = None, **checks: Any) -> GroundingReport:
        """The grounding report as the API returns it."""
        documents = [passage.title or passage.filename for passage in self.passages] or self.consulted
        return GroundingReport(
            declined=self.declined if declined is None else declined,
            reason=reason if reason is not None else self.decline_reason,
            collections=self.collection_names,
            documents=list(dict.fromkeys(documents)),
            passages_used=len(self.passages),
            passages_omitted=self.omitted,
            **checks,
        )

    def review(self, answer: str) -> Review:
        """Check a generated answer; a decline in the model's words or invented figures become the fixed decline.

        Sentences that cite nothing get the marker of the passage that supports them, when one does.
        """
        texts = [passage.text for passage in self.passages]
        answer, added = attribute_citations(answer, texts)
        check = check_citations(answer, texts)
        citations = CitationReport(
            cited=list(check.cited),
            unknown=list(check.unknown),
            unsupported=list(check.unsupported),
            added=list(added),
        )
        invented = unsupported_figures(answer, texts, self.question)
        if _DECLINES.search(_fold(answer)):
            reason = "le modèle indique que les extraits ne contiennent pas la réponse"
            return Review(self.decline_text(), self.report(declined=True, reason=reason, citations=citations))
        if invented:
            reason = f"chiffres absents des extraits : {', '.join(invented)}"
            report = self.report(declined=True, reason=reason, unsupported_figures=invented, citations=citations)
            return Review(self.decline_text(), report)
        return Review(answer, self.report(declined=False, reason=None, citations=citations))


async def _collection_names(runtime: Runtime, ids: set[uuid.UUID]) -> list[str]:
    if not ids:
        return []
    async with runtime.session_factory() as session:
        collections = await collection_store.list_collections(session=session, ids=ids)
    return sorted(collection.name for collection in collections)


def _answerability(runtime: Runtime, question: str, hits: list[Any]) -> str | None:
    """Why the passages cannot answer ``question`` (None when they may)."""
    if not hits:
        return "aucun extrait trouvé"
    scores = [hit.vector_score for hit in hits if hit.vector_score is not None]
    # Keyword-only results carry no similarity: they matched words of the question, keep them.
    if scores and max(scores) < runtime.settings.rag.abstention_min_score:
        return f"extraits trop éloignés de la question (similarité {max(scores):.2f})"
    missing = missing_question_figures(question, [hit.text for hit in hits])
    if missing:
        return f"les extraits ne mentionnent pas {', '.join(missing)}"
    coverage = question_coverage(question, [hit.text for hit in hits[:3]])
    if coverage < runtime.settings.rag.min_question_coverage:
        return f"les termes de la question sont absents des extraits (couverture {coverage:.0%})"
    return None


async def _fit(
    runtime: Runtime, model: RegisteredModel, passages: list[Any], *, fixed: list[Message], reserve_tokens: int
) -> int:
    """How many of the best passages fit the model's window once ``fixed`` and the answer are counted."""
    window = model.context_length or model.card.context_length
    if window is None or not passages:
        return len(passages)
    upstream = model.upstream_name
    budget = window - reserve_tokens - _TEMPLATE_MARGIN_TOKENS
    budget -= await model.backend.count_tokens(fixed, model=upstream)
    kept = 0
    for hit in passages:
        block = format_passages([hit], preamble=None).text
        cost = await model.backend.count_tokens([{"role": "user", "content": block}], model=upstream)
        if kept and cost > budget:
            break
        budget -= cost
        kept += 1
    return kept


async def ground(
    runtime: Runtime,
    principal: Principal,
    question: str,
    *,
    model: RegisteredModel,
    collection_ids: list[uuid.UUID] | None,
    history: list[Message] | None = None,
    max_tokens: int | None = None,
    k: int | None = None,
    mode: SearchMode = "hybrid",
) -> Grounding:
    """Retrieve passages for ``question`` among the readable ``collection_ids`` (all readable ones when ``None``).

    ``history`` is the rest of the prompt (the conversation, the question), counted against the context window
    with ``max_tokens`` kept for the answer. Raises :class:`NotFoundError` for a named collection that does not
    exist or is not readable, :class:`InvalidRequestError` for an empty question.
    """
    if not question.strip():
        raise InvalidRequestError("La question est vide.")
    hits, passages = await retrieve(
        runtime,
        principal,
        question,
        collection_ids=collection_ids,
        k=k or runtime.settings.rag.chat_passages,
        mode=mode,
    )
    searched = set(collection_ids) if collection_ids else set(await readable_versions(runtime, principal, None))
    names = await _collection_names(runtime, searched)
    reason = _answerability(runtime, question, hits)
    if reason is not None:
        logger.info("RAG: declining before any model call (%s)", reason)
        return Grounding(question, [], Sensitivity.PUBLIC, names, decline_reason=reason, consulted=_titles(passages))
    fixed = [{"role": "system", "content": RAG_SYSTEM_PROMPT}, *(history or [{"role": "user", "content": question}])]
    fitting = await _fit(runtime, model, hits, fixed=fixed, reserve_tokens=max_tokens or _DEFAULT_ANSWER_TOKENS)
    context = format_passages(hits[:fitting], max_chars=runtime.settings.rag.context_max_chars)
    used = passages[: len(context.citations)]
    omitted = len(passages) - len(used)
    if omitted:
        logger.info("RAG: %d passage(s) left out to fit the context window of %s", omitted, model.id)
    system_prompt = f"{RAG_SYSTEM_PROMPT}\n\n{context.text}"
    if runtime.settings.rag.answerability_check and model.sovereign:
        reason = await _model_answerability(runtime, model, system_prompt, question, [p.text for p in used])
        if reason is not None:
            logger.info("RAG: declining after the model's check of the %d passages (%s)", len(used), reason)
            return Grounding(question, [], Sensitivity.PUBLIC, names, decline_reason=reason, consulted=_titles(used))
    return Grounding(
        question,
        used,
        await classification(runtime, {p.collection_id for p in used}),
        names,
        system_prompt=system_prompt,
        omitted=omitted,
    )


def _titles(passages: list[Passage]) -> list[str]:
    return [passage.title or passage.filename for passage in passages]


_CHECK = (
    "Question : « {question} »\n\nLes extraits ci-dessus contiennent-ils la réponse exacte à cette question ? "
    "Répondez par un seul mot, OUI ou NON, sans rien ajouter."
)
_WORD_CHECK = (
    "Dans les extraits ci-dessus, le mot « {word} » (ou un mot de même sens) apparaît-il ? "
    "Répondez par un seul mot, OUI ou NON."
)


async def _model_answerability(
    runtime: Runtime, model: RegisteredModel, system_prompt: str, question: str, passages: list[str]
) -> str | None:
    """Why the model finds the passages do not answer ``question`` (None when they may).

    Two strict one-token checks. Asked whether the passages answer, a 1.5B model says OUI to most near-topic
    questions; asked about the one word of the question the passages lack (« jumeaux », « samedi », « Navigo »),
    it is right far more often, and it still accepts a synonym the stems cannot see (« 38h30 » for « 38 heures
    30 »). Each check reads P(OUI) against P(NON) of the first token and compares it with a threshold calibrated
    in benchmarks/rag_answers.py (a greedy word would be a fixed threshold of 0.5, wrong for both checks); a server
    that gives no log-probabilities is read greedily. The word checks run first: each is one short suffix after
    the shared prefix.
    """
    rag = runtime.settings.rag
    for word in absent_question_words(question, passages):
        if await _yes_probability(model, system_prompt, _WORD_CHECK.format(word=word)) < rag.answerability_word_min_yes:
            return f"les extraits ne parlent pas de « {word} »"
    if await _yes_probability(model, system_prompt, _CHECK.format(question=question)) < rag.answerability_min_yes:
        return "le modèle ne trouve pas la réponse dans les extraits"
    return None


def _verdict_word(token: str) -> bool | None:
    """True for a token that starts OUI, False for one that starts NON, None for anything else."""
    folded = _fold(token).strip(" \n\t.,:;!«»\"'*")
    if folded and "oui".startswith(folded):
        return True
    if folded and "non".startswith(folded):
        return False
    return None


async def _yes_probability(model: RegisteredModel, system_prompt: str, check: str) -> float:
    """P(OUI) / (P(OUI) + P(NON)) for the first token the model answers to the OUI/NON ``check``.

    The prompt starts like the answer's (same system message with the passages), so servers that cache prompt
    prefixes (llama.cpp, vLLM) evaluate the passages once for every call. Only sovereign models are asked: the
    passages reach the model here, before the gateway's sovereignty check. A failure lets the answer go ahead
    (1.0); without log-probabilities, a greedy OUI is 1.0 and only a clear NON is 0.0.
    """
    request = ChatRequest(
        model=model.upstream_name,
        messages=[{"role": "system", "content": system_prompt}, {"role": "user", "content": check}],
        params=SamplingParams(max_tokens=1, temperature=0, logprobs=True, top_logprobs=10),
    )
    try:
        result = await model.backend.complete(request)
    except LLMError as exc:
        logger.info("Answerability check on %s failed (%s); answering", model.id, exc.code)
        return 1.0
    choice = result.choices[0] if result.choices else None
    if choice is None:
        return 1.0
    yes = no = 0.0
    for entry in (choice.logprobs[0].get("top_logprobs") or []) if choice.logprobs else []:
        verdict = _verdict_word(str(entry.get("token", "")))
        if verdict is not None:
            probability = math.exp(float(entry.get("logprob", -math.inf)))
            yes, no = (yes + probability, no) if verdict else (yes, no + probability)
    if yes + no > 0:
        return yes / (yes + no)
    return 0.0 if _verdict_word(choice.text) is False else 1.0
