"""Satisfaction per model: the agents' 👍/👎 on answers, counted by the model that produced each one (the
référent's model page and the indicators). Ratings are given in :mod:`assistant.services.chat.feedback`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from assistant.runtime import Runtime
from assistant.store import feedback as store
from assistant.store import utcnow
from assistant.store.models import FeedbackRating, FeedbackReason

__all__ = ["ModelSatisfaction", "model_satisfaction"]


@dataclass(frozen=True, slots=True)
class ModelSatisfaction:
    """The 👍/👎 given on one model's answers over a window, and the reasons of the 👎."""

    model_id: str | None
    up: int
    down: int
    reasons: dict[FeedbackReason, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.up + self.down

    @property
    def satisfaction(self) -> float | None:
        """Share of 👍 among the ratings (None without any)."""
        return self.up / self.total if self.total else None


async def model_satisfaction(
    runtime: Runtime, *, days: int = 30, now: datetime | None = None
) -> dict[str | None, ModelSatisfaction]:
    """👍/👎 per model over the last ``days`` days, by the model that produced each rated answer."""
    until = now or utcnow()
    async with runtime.session_factory() as session:
        cells = await store.count_feedback(session=session, since=until - timedelta(days=days), until=until)
    up: dict[str | None, int] = {}
    down: dict[str | None, int] = {}
    reasons: dict[str | None, dict[FeedbackReason, int]] = {}
    for cell in cells:
        if cell.rating is FeedbackRating.UP:
            up[cell.model_id] = up.get(cell.model_id, 0) + cell.count
            continue
        down[cell.model_id] = down.get(cell.model_id, 0) + cell.count
        if cell.reason is not None:
            mine = reasons.setdefault(cell.model_id, {})
            mine[cell.reason] = mine.get(cell.reason, 0) + cell.count
    return {
        model_id: ModelSatisfaction(
            model_id=model_id, up=up.get(model_id, 0), down=down.get(model_id, 0), reasons=reasons.get(model_id, {})
        )
        for model_id in {*up, *down}
    }
