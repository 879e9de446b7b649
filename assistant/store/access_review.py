"""Queries behind the auditors' access review: who may reach what, who used which model, last logins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from assistant.store.models import (
    AuditEvent,
    Collection,
    CollectionAccess,
    Group,
    GroupMember,
    UsageRecord,
    User,
)

__all__ = ["CollectionGrant", "ModelUse", "UserAccess", "collection_grants", "model_uses", "user_accesses"]


@dataclass(frozen=True)
class UserAccess:
    """An account, its role, groups and last successful login."""

    username: str
    role: str
    active: bool
    groups: list[str]
    last_login: datetime | None


@dataclass(frozen=True)
class CollectionGrant:
    """One right on a collection: its owner, or a user or group entry of its access list."""

    collection: str
    classification: str
    owner: str
    grantee: str
    grantee_kind: str
    access: str


@dataclass(frozen=True)
class ModelUse:
    """How much one user used one model."""

    username: str | None
    model_id: str
    requests: int
    last_used: datetime


async def user_accesses(*, session: AsyncSession) -> list[UserAccess]:
    """Every account with its groups and last successful login (from the connection log)."""
    logins = dict(
        (
            await session.execute(
                select(AuditEvent.actor_label, func.max(AuditEvent.occurred_at))
                .where(
                    AuditEvent.category == "connection", AuditEvent.action == "login", AuditEvent.outcome == "success"
                )
                .group_by(AuditEvent.actor_label)
            )
        ).all()
    )
    groups: dict[object, list[str]] = {}
    for user_id, name in (
        await session.execute(select(GroupMember.user_id, Group.name).join(Group, Group.id == GroupMember.group_id))
    ).all():
        groups.setdefault(user_id, []).append(name)
    users = (await session.execute(select(User).order_by(User.username))).scalars()
    return [
        UserAccess(
            username=user.username,
            role=user.role.value,
            active=user.is_active,
            groups=sorted(groups.get(user.id, [])),
            last_login=logins.get(user.username),
        )
        for user in users
    ]


async def collection_grants(*, session: AsyncSession) -> list[CollectionGrant]:
    """Owners and access-list entries of every collection."""
    owner = aliased(User)
    grantee_user = aliased(User)
    grants = []
    for collection, owner_name in (
        await session.execute(
            select(Collection, owner.username).join(owner, owner.id == Collection.owner_id).order_by(Collection.name)
        )
    ).all():
        grants.append(
            CollectionGrant(
                collection.name, collection.classification.value, owner_name, owner_name, "propriétaire", "owner"
            )
        )
    rows = await session.execute(
        select(Collection, owner.username, CollectionAccess, grantee_user.username, Group.name)
        .join(CollectionAccess, CollectionAccess.collection_id == Collection.id)
        .join(owner, owner.id == Collection.owner_id)
        .outerjoin(grantee_user, grantee_user.id == CollectionAccess.user_id)
        .outerjoin(Group, Group.id == CollectionAccess.group_id)
        .order_by(Collection.name)
    )
    for collection, owner_name, entry, user_name, group_name in rows.all():
        grants.append(
            CollectionGrant(
                collection.name,
                collection.classification.value,
                owner_name,
                user_name or group_name or "?",
                "utilisateur" if user_name else "groupe",
                entry.access.value,
            )
        )
    return grants


async def model_uses(*, session: AsyncSession, since: datetime) -> list[ModelUse]:
    """Requests per user and model since ``since`` (from usage records)."""
    rows = await session.execute(
        select(User.username, UsageRecord.model_id, func.count(UsageRecord.id), func.max(UsageRecord.created_at))
        .outerjoin(User, User.id == UsageRecord.user_id)
        .where(UsageRecord.created_at >= since)
        .group_by(User.username, UsageRecord.model_id)
        .order_by(User.username, UsageRecord.model_id)
    )
    return [ModelUse(name, model, int(count), last) for name, model, count, last in rows.all()]
