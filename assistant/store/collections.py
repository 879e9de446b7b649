"""Queries on collections and their access lists. Functions take the session keyword-only and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.store.models import AccessLevel, Classification, Collection, CollectionAccess, Document, Group, User

__all__ = [
    "GrantRow",
    "add_collection",
    "bump_version",
    "delete_collection",
    "get_collection",
    "grants_for",
    "list_access",
    "list_collections",
    "replace_access",
    "storage_used_by",
    "versions_of",
]

#: (collection id, access level granted) for one access-list entry matching a caller.
GrantRow = tuple[uuid.UUID, AccessLevel]


async def add_collection(
    *, session: AsyncSession, name: str, description: str, classification: Classification, owner_id: uuid.UUID
) -> Collection:
    """Insert a collection (version 0: no chunk yet)."""
    collection = Collection(
        name=name, description=description, classification=classification, owner_id=owner_id, version=0
    )
    session.add(collection)
    await session.flush()
    return collection


async def get_collection(
    *, session: AsyncSession, collection_id: uuid.UUID, for_update: bool = False
) -> Collection | None:
    """One collection, optionally locked (PostgreSQL) for the rest of the transaction."""
    statement = select(Collection).where(Collection.id == collection_id)
    if for_update:
        statement = statement.with_for_update()
    result: Collection | None = await session.scalar(statement)
    return result


async def list_collections(
    *, session: AsyncSession, ids: Iterable[uuid.UUID] | None = None, owner_id: uuid.UUID | None = None
) -> Sequence[Collection]:
    """Collections by name: those of ``ids``, plus those owned by ``owner_id``; all of them when both are None."""
    statement = select(Collection).order_by(Collection.name, Collection.id)
    conditions: list[ColumnElement[bool]] = []
    if ids is not None:
        conditions.append(Collection.id.in_(list(ids)))
    if owner_id is not None:
        conditions.append(Collection.owner_id == owner_id)
    if conditions:
        statement = statement.where(or_(*conditions))
    return (await session.scalars(statement)).all()


async def delete_collection(*, session: AsyncSession, collection_id: uuid.UUID) -> None:
    """Delete a collection; its documents, chunks and access entries go with it (ON DELETE CASCADE)."""
    await session.execute(delete(Collection).where(Collection.id == collection_id))


async def bump_version(*, session: AsyncSession, collection_id: uuid.UUID) -> int:
    """Increase the collection's version (atomically in the database) and return the new value."""
    await session.execute(
        update(Collection).where(Collection.id == collection_id).values(version=Collection.version + 1)
    )
    version = await session.scalar(select(Collection.version).where(Collection.id == collection_id))
    return int(version or 0)


async def versions_of(*, session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Current version of each collection of ``ids`` that still exists."""
    rows = await session.execute(select(Collection.id, Collection.version).where(Collection.id.in_(list(ids))))
    return {row[0]: int(row[1]) for row in rows}


async def grants_for(*, session: AsyncSession, user_id: uuid.UUID, group_names: Iterable[str]) -> list[GrantRow]:
    """Access-list entries naming the user or one of their groups (ownership is checked separately)."""
    names = list(group_names)
    group_ids = select(Group.id).where(Group.name.in_(names)) if names else None
    condition = CollectionAccess.user_id == user_id
    if group_ids is not None:
        condition = or_(condition, CollectionAccess.group_id.in_(group_ids))
    rows = await session.execute(select(CollectionAccess.collection_id, CollectionAccess.access).where(condition))
    return [(row[0], row[1]) for row in rows]


async def list_access(
    *, session: AsyncSession, collection_id: uuid.UUID
) -> list[tuple[CollectionAccess, str | None, str | None]]:
    """Entries of a collection's access list with the username or group name they name."""
    rows = await session.execute(
        select(CollectionAccess, User.username, Group.name)
        .outerjoin(User, User.id == CollectionAccess.user_id)
        .outerjoin(Group, Group.id == CollectionAccess.group_id)
        .where(CollectionAccess.collection_id == collection_id)
        .order_by(User.username, Group.name)
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def replace_access(
    *,
    session: AsyncSession,
    collection_id: uuid.UUID,
    users: dict[uuid.UUID, AccessLevel],
    groups: dict[uuid.UUID, AccessLevel],
) -> None:
    """Make the access list exactly ``users`` + ``groups`` (one entry per grantee)."""
    await session.execute(delete(CollectionAccess).where(CollectionAccess.collection_id == collection_id))
    for user_id, access in users.items():
        session.add(CollectionAccess(collection_id=collection_id, user_id=user_id, access=access))
    for group_id, access in groups.items():
        session.add(CollectionAccess(collection_id=collection_id, group_id=group_id, access=access))
    await session.flush()


async def storage_used_by(*, session: AsyncSession, owner_id: uuid.UUID) -> int:
    """Bytes of the documents a user uploaded (over every collection)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Document.size_bytes), 0)).where(Document.owner_id == owner_id)
    )
    return int(total or 0)
