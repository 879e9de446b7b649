"""Queries on the models reserved to groups. Functions take the session keyword-only and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import Group, ModelAccessGroup, ModelAccessRule

__all__ = ["ReservedModel", "list_reserved_models", "open_model", "reserve_model"]


@dataclass(frozen=True, slots=True)
class ReservedModel:
    """A model reserved to some groups (names by alphabetical order; empty: reserved to nobody)."""

    model_id: str
    groups: tuple[str, ...]
    decided_by: str
    decided_at: datetime


async def list_reserved_models(*, session: AsyncSession) -> list[ReservedModel]:
    """Every reserved model with the names of its groups (two queries, whatever the number of models)."""
    rules = list((await session.execute(select(ModelAccessRule).order_by(ModelAccessRule.model_id))).scalars())
    rows = await session.execute(
        select(ModelAccessGroup.model_id, Group.name)
        .join(Group, Group.id == ModelAccessGroup.group_id)
        .order_by(ModelAccessGroup.model_id, Group.name)
    )
    groups: dict[str, list[str]] = {}
    for model_id, name in rows.all():
        groups.setdefault(model_id, []).append(name)
    return [
        ReservedModel(rule.model_id, tuple(groups.get(rule.model_id, ())), rule.decided_by, rule.decided_at)
        for rule in rules
    ]


async def reserve_model(
    *, session: AsyncSession, model_id: str, group_ids: Iterable[uuid.UUID], decided_by: str, decided_at: datetime
) -> None:
    """Reserve ``model_id`` to exactly ``group_ids`` (replacing any previous list)."""
    rule = await session.get(ModelAccessRule, model_id)
    if rule is None:
        rule = ModelAccessRule(model_id=model_id)
        session.add(rule)
    rule.decided_by = decided_by
    rule.decided_at = decided_at
    await session.flush()
    await session.execute(delete(ModelAccessGroup).where(ModelAccessGroup.model_id == model_id))
    session.add_all(ModelAccessGroup(model_id=model_id, group_id=group_id) for group_id in set(group_ids))
    await session.flush()


async def open_model(*, session: AsyncSession, model_id: str) -> bool:
    """Open ``model_id`` to every user again; False when it was not reserved."""
    await session.execute(delete(ModelAccessGroup).where(ModelAccessGroup.model_id == model_id))
    result = await session.execute(delete(ModelAccessRule).where(ModelAccessRule.model_id == model_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
