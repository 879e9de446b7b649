"""Side by side: one question put to two models at once, the agent picks the better answer (or « équivalentes »).

Like the State's Compar:IA arena, the models stay hidden until the vote unless the agent asks to name them; then
the vote reveals them. Each answer is a chat answer in every respect: only models the caller may use (a reserved
model is never drawn), the sovereignty rule checked for both and the forbidden-use guard before anything is
generated, the daily token quota, the AI label, provenance and a signed manifest, a usage record (so its energy
and carbon are measured). Référents read the preferences per model (:func:`model_preferences`).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import anyio
from pydantic import BaseModel, Field

from assistant.audit import ClientInfo
from assistant.errors import ConflictError, InvalidRequestError, NotFoundError
from assistant.guard import GuardConfirmation, GuardNotice
from assistant.llm import LLMError, Message, RegisteredModel
from assistant.provenance import HEADER_AI_GENERATED, HEADER_AI_MODEL, Manifest, Provenance
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.gateway.generation import (
    Generation,
    check_forbidden_uses,
    check_sovereignty,
    parse_sensitivity,
)
from assistant.services.gateway.labelling import provenance_for
from assistant.services.gateway.model_access import resolve_model, usable_models
from assistant.services.gateway.quotas import ensure_tokens_available, record_tokens
from assistant.services.gateway.usage import record_usage
from assistant.store import comparisons as store
from assistant.store import utcnow
from assistant.store.models import Comparison, ComparisonVote, UsageService

__all__ = [
    "MAX_QUESTION_CHARS",
    "ComparisonAnswer",
    "ComparisonSummary",
    "ComparisonView",
    "ModelPreference",
    "comparable_models",
    "comparison_headers",
    "create_comparison",
    "delete_my_comparisons",
    "export_my_comparisons",
    "get_comparison",
    "list_comparisons",
    "model_preferences",
    "vote",
]

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 8000
# What a blind comparison shows in place of a model's identity until the vote.
HIDDEN_MODEL = "masque"
_SIDES: tuple[Literal["a"], Literal["b"]] = ("a", "b")
_random = secrets.SystemRandom()


class ComparisonAnswer(BaseModel):
    """One of the two answers, labelled; its model is named only once revealed."""

    label: Literal["A", "B"]
    content: str
    ai_generated: Literal[True] = True
    model_id: str | None = Field(default=None, description="Modèle qui a répondu (null tant qu'il est masqué).")
    provenance: Provenance = Field(
        description=f"Provenance de la réponse ; modèle « {HIDDEN_MODEL} » tant que la comparaison est à l'aveugle."
    )
    provenance_manifest: Manifest | None = Field(
        default=None, description="Manifeste signé (Ed25519) de la réponse, remis une fois le modèle révélé."
    )
    energy_wh: float = Field(description="Énergie estimée de la réponse (Wh).")
    gco2e: float = Field(description="Émissions estimées de la réponse (g CO₂e).")
    tokens: int = Field(description="Jetons décomptés du quota (question + réponse).")


class ComparisonView(BaseModel):
    """A comparison: the question, both labelled answers side by side, and the vote once given."""

    id: uuid.UUID
    question: str
    blind: bool = Field(description="Modèles masqués jusqu'au vote.")
    revealed: bool = Field(description="Les modèles sont nommés (comparaison nommée, ou vote donné).")
    vote: ComparisonVote | None = Field(default=None, description="a, b ou equivalent ; null avant le vote.")
    vote_label: str | None = None
    voted_at: datetime | None = None
    created_at: datetime
    answers: list[ComparisonAnswer] = Field(description="Réponse A puis réponse B.")
    ai_generated: Literal[True] = True
    guard: list[GuardNotice] | None = Field(default=None, description="Rappels de la charte déclenchés.")


class ComparisonSummary(BaseModel):
    """A comparison in a list (without the answers)."""

    id: uuid.UUID
    question: str
    blind: bool
    vote: ComparisonVote | None = None
    vote_label: str | None = None
    models: list[str] | None = Field(default=None, description="Modèles A et B, une fois révélés.")
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ModelPreference:
    """How one model fared in the votes of a window, and what its comparison answers cost."""

    model_id: str
    wins: int = 0
    losses: int = 0
    ties: int = 0
    answers: int = 0
    energy_wh: float = 0.0
    gco2e: float = 0.0

    @property
    def votes(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def win_rate(self) -> float | None:
        """Share of the votes it won (ties count as votes not won); None without any vote."""
        return self.wins / self.votes if self.votes else None

    @property
    def mean_energy_wh(self) -> float | None:
        return self.energy_wh / self.answers if self.answers else None

    @property
    def mean_gco2e(self) -> float | None:
        return self.gco2e / self.answers if self.answers else None


def _revealed(row: Comparison) -> bool:
    return not row.blind or row.vote is not None


def _answer(row: Comparison, side: Literal["a", "b"], revealed: bool) -> ComparisonAnswer:
    stored = Provenance.model_validate(getattr(row, f"provenance_{side}"))
    manifest = getattr(row, f"manifest_{side}")
    if not revealed:
        # Still labelled and dated; only what names the model waits for the vote (the signed manifest names it).
        stored = Provenance(
            model_id=HIDDEN_MODEL,
            backend=HIDDEN_MODEL,
            sovereign=stored.sovereign,
            created_at=stored.created_at,
            request_id=stored.request_id,
        )
    return ComparisonAnswer(
        label="A" if side == "a" else "B",
        content=getattr(row, f"answer_{side}"),
        model_id=getattr(row, f"model_{side}") if revealed else None,
        provenance=stored,
        provenance_manifest=Manifest.model_validate(manifest) if revealed and manifest else None,
        energy_wh=round(getattr(row, f"energy_wh_{side}"), 6),
        gco2e=round(getattr(row, f"gco2e_{side}"), 6),
        tokens=getattr(row, f"tokens_{side}"),
    )


def _view(row: Comparison, guard: list[GuardNotice] | None = None) -> ComparisonView:
    revealed = _revealed(row)
    return ComparisonView(
        id=row.id,
        question=row.question,
        blind=row.blind,
        revealed=revealed,
        vote=row.vote,
        vote_label=row.vote.label if row.vote else None,
        voted_at=row.voted_at,
        created_at=row.created_at,
        answers=[_answer(row, side, revealed) for side in _SIDES],
        guard=guard or None,
    )


def _summary(row: Comparison) -> ComparisonSummary:
    return ComparisonSummary(
        id=row.id,
        question=row.question,
        blind=row.blind,
        vote=row.vote,
        vote_label=row.vote.label if row.vote else None,
        models=[row.model_a, row.model_b] if _revealed(row) else None,
        created_at=row.created_at,
    )


def comparison_headers(view: ComparisonView) -> dict[str, str]:
    """The labelling headers of a response carrying a comparison (the models only once revealed)."""
    models = ", ".join(answer.model_id or HIDDEN_MODEL for answer in view.answers)
    return {HEADER_AI_GENERATED: "true", HEADER_AI_MODEL: models if view.revealed else HIDDEN_MODEL}


async def comparable_models(runtime: Runtime, principal: Principal) -> list[RegisteredModel]:
    """The models the caller may put side by side (sovereign ones first): those they may use."""
    models = await usable_models(runtime, principal)
    return sorted(models, key=lambda model: not model.sovereign)


async def _pick_models(
    runtime: Runtime, principal: Principal, model_ids: list[str] | None, *, blind: bool
) -> tuple[RegisteredModel, RegisteredModel]:
    if model_ids:
        if len(model_ids) != 2 or model_ids[0] == model_ids[1]:
            raise InvalidRequestError("Choisissez deux modèles différents à comparer (ou aucun, pour un tirage).")
        first = await resolve_model(runtime, model_ids[0], principal=principal)
        second = await resolve_model(runtime, model_ids[1], principal=principal)
        # Blind with named models: the order is drawn, so the agent still cannot tell which one wrote A.
        return (second, first) if blind and _random.random() < 0.5 else (first, second)
    sovereign = [model for model in await usable_models(runtime, principal) if model.sovereign]
    if len(sovereign) < 2:
        raise InvalidRequestError(
            "Comparaison impossible : il faut au moins deux modèles souverains auxquels vous avez accès "
            f"(vous en avez {len(sovereign)}). Demandez l'accès à un autre modèle à votre référent IA.",
            code="not_enough_models",
        )
    first, second = _random.sample(sovereign, 2)
    return first, second


def _messages(runtime: Runtime, question: str) -> list[Message]:
    system = runtime.settings.chat_system_prompt
    prefix: list[Message] = [{"role": "system", "content": system}] if system else []
    return [*prefix, {"role": "user", "content": question}]


async def _run(generation: Generation) -> None:
    # The error stays in generation.error: the other answer still runs to its end and is paid for.
    with contextlib.suppress(LLMError):
        await generation.run()


async def create_comparison(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    question: str,
    blind: bool = True,
    model_ids: list[str] | None = None,
    sensitivity: str | None = None,
    guard_confirmation: GuardConfirmation | None = None,
) -> ComparisonView:
    """Ask two models the question at once and keep both labelled answers.

    ``model_ids``: the two models to compare, else two drawn among the sovereign models the caller may use.
    Every check runs for both models before either is called; a model server failure on either side is raised
    once both calls ended (their tokens and usage are counted all the same).
    """
    question = question.strip()
    if not question:
        raise InvalidRequestError("Question vide : écrivez la question à poser aux deux modèles.")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidRequestError(f"Question trop longue : {MAX_QUESTION_CHARS} caractères au plus.")
    models = await _pick_models(runtime, principal, model_ids, blind=blind)
    messages = _messages(runtime, question)
    for model in models:
        await check_sovereignty(
            runtime, [question], model, declared=parse_sensitivity(sensitivity), principal=principal, client=client
        )
    notices = await check_forbidden_uses(
        runtime, [question], principal=principal, client=client, surface="comparison", confirmation=guard_confirmation
    )
    await ensure_tokens_available(runtime, principal)
    generations = [Generation(runtime, model, messages) for model in models]
    async with anyio.create_task_group() as group:
        for generation in generations:
            group.start_soon(_run, generation)
    measures = [generation.measure() for generation in generations]
    for generation, measure in zip(generations, measures, strict=True):
        await record_tokens(runtime, principal, measure.prompt_tokens + measure.completion_tokens)
        await record_usage(
            runtime,
            principal=principal,
            model_id=generation.model.id,
            service=UsageService.CHAT,
            measure=measure,
            incomplete=not generation.finished,
        )
    failed = next((generation.error for generation in generations if generation.error is not None), None)
    if failed is not None:
        raise failed
    row = Comparison(user_id=principal.user_id, question=question, blind=blind)
    for side, generation, measure in zip(_SIDES, generations, measures, strict=True):
        provenance = provenance_for(generation.model, request_id=client.request_id)
        setattr(row, f"model_{side}", generation.model.id)
        setattr(row, f"answer_{side}", generation.text)
        setattr(row, f"provenance_{side}", provenance.model_dump(mode="json"))
        manifest = runtime.signer.sign(generation.text, provenance)
        setattr(row, f"manifest_{side}", manifest.model_dump(mode="json", by_alias=True))
        setattr(row, f"energy_wh_{side}", measure.energy_wh)
        setattr(row, f"gco2e_{side}", measure.gco2e)
        setattr(row, f"tokens_{side}", measure.prompt_tokens + measure.completion_tokens)
    async with runtime.session_factory.begin() as session:
        await store.add_comparison(session=session, comparison=row)
    await runtime.audit.record(
        category="audit",
        action="comparison.created",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="comparison",
        resource_id=str(row.id),
        client=client,
        details={"models": [row.model_a, row.model_b], "blind": blind},
    )
    return _view(row, notices)


async def _owned(runtime: Runtime, principal: Principal, comparison_id: uuid.UUID) -> Comparison:
    async with runtime.session_factory() as session:
        row = await store.get_comparison(session=session, comparison_id=comparison_id, user_id=principal.user_id)
    if row is None:
        raise NotFoundError("Comparaison introuvable.")
    return row


async def get_comparison(runtime: Runtime, *, principal: Principal, comparison_id: uuid.UUID) -> ComparisonView:
    """One of the caller's comparisons (another user's is « introuvable »)."""
    return _view(await _owned(runtime, principal, comparison_id))


async def list_comparisons(
    runtime: Runtime, *, principal: Principal, limit: int = 50, offset: int = 0
) -> list[ComparisonSummary]:
    """The caller's comparisons, newest first."""
    async with runtime.session_factory() as session:
        rows = await store.list_comparisons(session=session, user_id=principal.user_id, limit=limit, offset=offset)
    return [_summary(row) for row in rows]


async def vote(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, comparison_id: uuid.UUID, choice: ComparisonVote
) -> ComparisonView:
    """Record the caller's verdict, once: a second vote is refused (409). The models are named in the answer."""
    await _owned(runtime, principal, comparison_id)
    async with runtime.session_factory.begin() as session:
        recorded = await store.record_vote(
            session=session, comparison_id=comparison_id, user_id=principal.user_id, vote=choice, at=utcnow()
        )
    if not recorded:
        raise ConflictError(
            "Vous avez déjà voté pour cette comparaison : un seul vote est possible.", code="already_voted"
        )
    row = await _owned(runtime, principal, comparison_id)
    await runtime.audit.record(
        category="audit",
        action="comparison.voted",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="comparison",
        resource_id=str(row.id),
        client=client,
        details={"models": [row.model_a, row.model_b], "vote": choice.value, "blind": row.blind},
    )
    return _view(row)


async def export_my_comparisons(runtime: Runtime, *, principal: Principal) -> list[dict[str, object]]:
    """Every comparison of the caller in full (models, provenance and manifests included), for the RGPD archive."""
    async with runtime.session_factory() as session:
        rows = await store.list_comparisons(session=session, user_id=principal.user_id)
    exported: list[dict[str, object]] = []
    for row in rows:
        # The archive is the user's own data: it names the models even of a comparison not voted yet.
        view = _view(row).model_dump(mode="json", by_alias=True)
        view["answers"] = [_answer(row, side, True).model_dump(mode="json", by_alias=True) for side in _SIDES]
        exported.append(view)
    return exported


async def delete_my_comparisons(runtime: Runtime, *, principal: Principal) -> int:
    """Delete every comparison of the caller (RGPD erasure); how many went."""
    async with runtime.session_factory.begin() as session:
        return await store.delete_user_comparisons(session=session, user_id=principal.user_id)


async def model_preferences(runtime: Runtime, *, days: int = 30, now: datetime | None = None) -> list[ModelPreference]:
    """Wins, losses and ties per model over the last ``days`` days, with the mean energy of its answers."""
    until = now or utcnow()
    since = until - timedelta(days=days)
    async with runtime.session_factory() as session:
        votes = await store.count_votes(session=session, since=since, until=until)
        energy = await store.answer_energy(session=session, since=since, until=until)
    tally: dict[str, list[int]] = {}  # model -> [wins, losses, ties]
    for cell in votes:
        a, b = tally.setdefault(cell.model_a, [0, 0, 0]), tally.setdefault(cell.model_b, [0, 0, 0])
        if cell.vote is ComparisonVote.EQUIVALENT:
            a[2], b[2] = a[2] + cell.count, b[2] + cell.count
        else:
            winner, loser = (a, b) if cell.vote is ComparisonVote.A else (b, a)
            winner[0], loser[1] = winner[0] + cell.count, loser[1] + cell.count
    costs = {item.model_id: item for item in energy}
    preferences = []
    for model_id in sorted({*tally, *costs}):
        wins, losses, ties = tally.get(model_id, [0, 0, 0])
        cost = costs.get(model_id)
        preferences.append(
            ModelPreference(
                model_id=model_id,
                wins=wins,
                losses=losses,
                ties=ties,
                answers=cost.answers if cost else 0,
                energy_wh=cost.energy_wh if cost else 0.0,
                gco2e=cost.gco2e if cost else 0.0,
            )
        )
    return preferences
