"""Queries on charter versions, acceptances and guard rule sets (session keyword-only, never commit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import CharterAcceptance, CharterVersion, GuardRuleSet, User

__all__ = [
    "AcceptanceRow",
    "CharterHistoryRow",
    "add_acceptance",
    "add_charter",
    "add_rule_set",
    "charter_history",
    "count_acceptances",
    "current_charter",
    "get_acceptance",
    "latest_rule_set",
    "list_acceptances",
]


@dataclass(frozen=True, slots=True)
class AcceptanceRow:
    """One acceptance, with the account's name (for the auditors' export)."""

    user_id: uuid.UUID
    username: str
    version: int
    accepted_at: datetime
    method: str


@dataclass(frozen=True, slots=True)
class CharterHistoryRow:
    """One published version and how many accounts accepted it."""

    version: int
    title: str
    published_at: datetime
    published_by: str
    acceptances: int


async def charter_history(*, session: AsyncSession) -> list[CharterHistoryRow]:
    """Every published version, newest first, with its acceptance count."""
    counts = select(CharterAcceptance.version, func.count().label("n")).group_by(CharterAcceptance.version).subquery()
    query = (
        select(CharterVersion, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.version == CharterVersion.version)
        .order_by(CharterVersion.version.desc())
    )
    return [
        CharterHistoryRow(
            version=row.version,
            title=row.title,
            published_at=row.published_at,
            published_by=row.published_by,
            acceptances=int(count),
        )
        for row, count in (await session.execute(query)).all()
    ]


async def current_charter(*, session: AsyncSession) -> CharterVersion | None:
    """The highest published version, if any."""
    result = await session.execute(select(CharterVersion).order_by(CharterVersion.version.desc()).limit(1))
    return result.scalar_one_or_none()


async def add_charter(*, session: AsyncSession, charter: CharterVersion) -> CharterVersion:
    """Stage a new version and flush it."""
    session.add(charter)
    await session.flush()
    return charter


async def get_acceptance(*, session: AsyncSession, user_id: uuid.UUID, version: int) -> CharterAcceptance | None:
    """The user's acceptance of this version, if any."""
    return await session.get(CharterAcceptance, (user_id, version))


async def add_acceptance(*, session: AsyncSession, acceptance: CharterAcceptance) -> CharterAcceptance:
    """Stage an acceptance and flush it."""
    session.add(acceptance)
    await session.flush()
    return acceptance


async def list_acceptances(*, session: AsyncSession, version: int | None = None) -> list[AcceptanceRow]:
    """Acceptances (of one version, or all), oldest first."""
    query = (
        select(CharterAcceptance, User.username)
        .join(User, User.id == CharterAcceptance.user_id)
        .order_by(CharterAcceptance.accepted_at, CharterAcceptance.version, User.username)
    )
    if version is not None:
        query = query.where(CharterAcceptance.version == version)
    rows = (await session.execute(query)).all()
    return [
        AcceptanceRow(
            user_id=acceptance.user_id,
            username=username,
            version=acceptance.version,
            accepted_at=acceptance.accepted_at,
            method=acceptance.method,
        )
        for acceptance, username in rows
    ]


async def count_acceptances(*, session: AsyncSession, version: int) -> int:
    """How many users accepted this version."""
    query = select(func.count()).select_from(CharterAcceptance).where(CharterAcceptance.version == version)
    return int((await session.execute(query)).scalar_one())


async def latest_rule_set(*, session: AsyncSession) -> GuardRuleSet | None:
    """The référent's latest guard rule set, if they ever edited one."""
    result = await session.execute(select(GuardRuleSet).order_by(GuardRuleSet.version.desc()).limit(1))
    return result.scalar_one_or_none()


async def add_rule_set(*, session: AsyncSession, rule_set: GuardRuleSet) -> GuardRuleSet:
    """Stage a new rule set version and flush it."""
    session.add(rule_set)
    await session.flush()
    return rule_set
