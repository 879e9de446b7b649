"""Queries on side-by-side comparisons. Session keyword-only, never committing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import Comparison, ComparisonVote

__all__ = [
    "AnswerEnergy",
    "VoteCount",
    "add_comparison",
    "answer_energy",
    "count_votes",
    "delete_user_comparisons",
    "get_comparison",
    "list_comparisons",
    "purge_comparisons",
    "record_vote",
]


@dataclass(frozen=True, slots=True)
class VoteCount:
    """Votes given on one ordered pair of models (A, B) with one verdict."""

    model_a: str
    model_b: str
    vote: ComparisonVote
    count: int


@dataclass(frozen=True, slots=True)
class AnswerEnergy:
    """How many comparison answers one model gave, and their summed energy and carbon."""

    model_id: str
    answers: int
    energy_wh: float
    gco2e: float


async def add_comparison(*, session: AsyncSession, comparison: Comparison) -> Comparison:
    """Stage a new comparison and flush it."""
    session.add(comparison)
    await session.flush()
    return comparison


async def get_comparison(*, session: AsyncSession, comparison_id: uuid.UUID, user_id: uuid.UUID) -> Comparison | None:
    """The comparison when it is ``user_id``'s (another user's is none, like one that does not exist)."""
    query = select(Comparison).where(Comparison.id == comparison_id, Comparison.user_id == user_id)
    return (await session.execute(query)).scalar_one_or_none()


async def list_comparisons(
    *, session: AsyncSession, user_id: uuid.UUID, limit: int | None = None, offset: int = 0
) -> list[Comparison]:
    """The user's comparisons, newest first."""
    query = (
        select(Comparison)
        .where(Comparison.user_id == user_id)
        .order_by(Comparison.created_at.desc(), Comparison.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars())


async def record_vote(
    *, session: AsyncSession, comparison_id: uuid.UUID, user_id: uuid.UUID, vote: ComparisonVote, at: datetime
) -> bool:
    """Set the vote unless one was given already; False when it was (or the comparison is not the user's).

    One conditional UPDATE, so two votes sent together cannot both be counted.
    """
    result = await session.execute(
        update(Comparison)
        .where(Comparison.id == comparison_id, Comparison.user_id == user_id, Comparison.vote.is_(None))
        .values(vote=vote, voted_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def count_votes(*, session: AsyncSession, since: datetime, until: datetime) -> list[VoteCount]:
    """Votes given in ``[since, until)``, counted per ordered pair of models and verdict (one aggregate)."""
    rows = await session.execute(
        select(Comparison.model_a, Comparison.model_b, Comparison.vote, func.count(Comparison.id))
        .where(Comparison.vote.is_not(None), Comparison.voted_at >= since, Comparison.voted_at < until)
        .group_by(Comparison.model_a, Comparison.model_b, Comparison.vote)
    )
    return [VoteCount(model_a, model_b, vote, int(count)) for model_a, model_b, vote, count in rows if vote is not None]


async def answer_energy(*, session: AsyncSession, since: datetime, until: datetime) -> list[AnswerEnergy]:
    """Answers given in comparisons made in ``[since, until)``, per model, whichever side they were on."""
    window = (Comparison.created_at >= since, Comparison.created_at < until)
    totals: dict[str, tuple[int, float, float]] = {}
    for model, energy, carbon in (
        (Comparison.model_a, Comparison.energy_wh_a, Comparison.gco2e_a),
        (Comparison.model_b, Comparison.energy_wh_b, Comparison.gco2e_b),
    ):
        rows = await session.execute(
            select(model, func.count(Comparison.id), func.sum(energy), func.sum(carbon)).where(*window).group_by(model)
        )
        for model_id, count, energy_wh, gco2e in rows:
            answers, wh, g = totals.get(model_id, (0, 0.0, 0.0))
            totals[model_id] = (answers + int(count), wh + float(energy_wh or 0.0), g + float(gco2e or 0.0))
    return [AnswerEnergy(model_id, *values) for model_id, values in totals.items()]


async def delete_user_comparisons(*, session: AsyncSession, user_id: uuid.UUID) -> int:
    """Delete every comparison of the user (erasure); how many went."""
    result = await session.execute(
        delete(Comparison).where(Comparison.user_id == user_id).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge_comparisons(*, session: AsyncSession, before: datetime) -> int:
    """Delete the comparisons made before ``before`` (retention, with the conversations' limit)."""
    result = await session.execute(
        delete(Comparison).where(Comparison.created_at < before).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
