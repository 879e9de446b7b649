"""Collections and their access lists (design §5, §7).

Who may do what with a collection, deny by default:

- its **owner** does everything (read, write, share, delete);
- an access-list entry naming the user, or a group the user belongs to (``principal.groups``), grants
  ``read`` (search, RAG answers, list documents) or ``write`` (also upload and delete documents);
- a **référent** (``Permission.MANAGE_COLLECTIONS``) sees every collection's metadata and may edit, share or
  delete any of them, but does *not* read their content: search and answers only cover collections the
  référent owns or was granted, like anyone else (separation of duties, as with the audit log);
- anybody else gets 404, so that a collection's existence is not revealed.

:func:`readable_versions` is the one function retrieval uses: it returns the allowed collection ids (with
their versions) *before* any index is opened.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from assistant.runtime import Runtime
from assistant.security import Permission, Principal
from assistant.services.knowledge.document_files import remove_collection_files
from assistant.store import collections as collection_store
from assistant.store import groups as group_store
from assistant.store import users as user_store
from assistant.store.models import AccessLevel, Classification, Collection

__all__ = [
    "AccessEntry",
    "CollectionAccessList",
    "CollectionView",
    "Right",
    "create_collection",
    "delete_collection",
    "get_access_list",
    "get_collection",
    "list_collections",
    "readable_versions",
    "require_right",
    "set_access_list",
    "update_collection",
]


class Right(enum.IntEnum):
    """What a caller may do with one collection, ordered."""

    NONE = 0
    MANAGE = 1  # référent: metadata, sharing, deletion; no content
    READ = 2
    WRITE = 3
    OWNER = 4

    @property
    def reads(self) -> bool:
        return self >= Right.READ

    @property
    def writes(self) -> bool:
        return self >= Right.WRITE

    @property
    def manages(self) -> bool:
        return self in (Right.MANAGE, Right.OWNER)


_FROM_LEVEL = {AccessLevel.READ: Right.READ, AccessLevel.WRITE: Right.WRITE}


@dataclass(frozen=True)
class CollectionView:
    """A collection as one caller sees it."""

    collection: Collection
    right: Right


@dataclass(frozen=True)
class AccessEntry:
    """One grantee of an access list: a username or a group name."""

    kind: str  # "user" | "group"
    name: str
    access: AccessLevel
    id: uuid.UUID


@dataclass(frozen=True)
class CollectionAccessList:
    """The owner and the grantees of a collection."""

    owner_id: uuid.UUID
    entries: list[AccessEntry]


async def _granted(session: AsyncSession, principal: Principal) -> dict[uuid.UUID, Right]:
    rights: dict[uuid.UUID, Right] = {}
    for collection_id, level in await collection_store.grants_for(
        session=session, user_id=principal.user_id, group_names=principal.groups
    ):
        rights[collection_id] = max(rights.get(collection_id, Right.NONE), _FROM_LEVEL[level])
    return rights


async def _owned_or_granted(
    session: AsyncSession, principal: Principal, granted: dict[uuid.UUID, Right]
) -> list[Collection]:
    return list(await collection_store.list_collections(session=session, ids=granted, owner_id=principal.user_id))


def _right(collection: Collection, principal: Principal, granted: dict[uuid.UUID, Right]) -> Right:
    if collection.owner_id == principal.user_id:
        return Right.OWNER
    right = granted.get(collection.id, Right.NONE)
    if right == Right.NONE and principal.has(Permission.MANAGE_COLLECTIONS):
        return Right.MANAGE
    return right


async def _view(session: AsyncSession, principal: Principal, collection_id: uuid.UUID) -> CollectionView:
    collection = await collection_store.get_collection(session=session, collection_id=collection_id)
    if collection is not None:
        right = _right(collection, principal, await _granted(session, principal))
        if right != Right.NONE:
            return CollectionView(collection, right)
    raise NotFoundError("Collection introuvable.")


def require_right(view: CollectionView, needed: Right) -> None:
    """403 for a caller who sees the collection but lacks ``needed`` (strangers already got 404)."""
    allowed = view.right.manages if needed == Right.MANAGE else view.right >= needed
    if not allowed:
        what = {
            Right.READ: "lire le contenu de",
            Right.WRITE: "modifier les documents de",
            Right.MANAGE: "administrer",
        }.get(needed, "modifier")
        raise PermissionDeniedError(f"Vos droits ne permettent pas de {what} cette collection.")


async def view_collection(
    runtime: Runtime, principal: Principal, collection_id: uuid.UUID, *, needed: Right
) -> CollectionView:
    """The collection if the caller holds ``needed`` on it (404 if invisible, 403 if too weak)."""
    async with runtime.session_factory() as session:
        view = await _view(session, principal, collection_id)
    require_right(view, needed)
    return view


async def readable_versions(
    runtime: Runtime, principal: Principal, requested: list[uuid.UUID] | None
) -> dict[uuid.UUID, int]:
    """Versions of the collections the caller may read, among ``requested`` (None: all of them).

    A requested collection the caller may not read is refused (404), never silently dropped, so that a user is
    not misled into thinking it held nothing relevant.
    """
    async with runtime.session_factory() as session:
        granted = await _granted(session, principal)
        if requested is None:
            candidates = await _owned_or_granted(session, principal, granted)
        else:
            candidates = list(await collection_store.list_collections(session=session, ids=requested))
        rights = {c.id: _right(c, principal, granted) for c in candidates}
        if requested is not None:
            unreadable = [cid for cid in dict.fromkeys(requested) if not rights.get(cid, Right.NONE).reads]
            if unreadable:
                raise NotFoundError(f"Collection introuvable ou non partagée avec vous : {unreadable[0]}.")
        return {c.id: c.version for c in candidates if rights[c.id].reads}


async def _audit(
    runtime: Runtime,
    principal: Principal,
    action: str,
    collection_id: uuid.UUID,
    client: ClientInfo | None,
    **details: object,
) -> None:
    await runtime.audit.record(
        category="audit",
        action=action,
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="collection",
        resource_id=str(collection_id),
        client=client,
        details=dict(details),
    )


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 150:
        raise InvalidRequestError("Le nom d'une collection doit compter de 1 à 150 caractères.")
    return name


async def create_collection(
    runtime: Runtime,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    classification: Classification = Classification.INTERNAL,
    client: ClientInfo | None = None,
) -> CollectionView:
    """Create a collection owned by the caller."""
    async with runtime.session_factory.begin() as session:
        collection = await collection_store.add_collection(
            session=session,
            name=_clean_name(name),
            description=description.strip(),
            classification=classification,
            owner_id=principal.user_id,
        )
    await _audit(runtime, principal, "collection.create", collection.id, client, classification=classification.value)
    return CollectionView(collection, Right.OWNER)


async def list_collections(runtime: Runtime, principal: Principal) -> list[CollectionView]:
    """Collections the caller owns or was granted; every collection for a référent."""
    async with runtime.session_factory() as session:
        granted = await _granted(session, principal)
        if principal.has(Permission.MANAGE_COLLECTIONS):
            candidates = list(await collection_store.list_collections(session=session))
        else:
            candidates = await _owned_or_granted(session, principal, granted)
    views = [CollectionView(c, _right(c, principal, granted)) for c in candidates]
    return sorted((v for v in views if v.right != Right.NONE), key=lambda v: (v.collection.name, str(v.collection.id)))


async def get_collection(runtime: Runtime, principal: Principal, collection_id: uuid.UUID) -> CollectionView:
    """One collection the caller can see."""
    async with runtime.session_factory() as session:
        return await _view(session, principal, collection_id)


async def update_collection(
    runtime: Runtime,
    principal: Principal,
    collection_id: uuid.UUID,
    *,
    name: str | None = None,
    description: str | None = None,
    classification: Classification | None = None,
    client: ClientInfo | None = None,
) -> CollectionView:
    """Rename, describe or reclassify a collection (owner or référent)."""
    async with runtime.session_factory.begin() as session:
        view = await _view(session, principal, collection_id)
        require_right(view, Right.MANAGE)
        collection = view.collection
        changed: dict[str, object] = {}
        if name is not None:
            collection.name = changed["name"] = _clean_name(name)
        if description is not None:
            collection.description = description.strip()
            changed["description"] = True
        if classification is not None:
            collection.classification = classification
            changed["classification"] = classification.value
    await _audit(runtime, principal, "collection.update", collection_id, client, **changed)
    return CollectionView(collection, view.right)


async def delete_collection(
    runtime: Runtime, principal: Principal, collection_id: uuid.UUID, *, client: ClientInfo | None = None
) -> None:
    """Delete a collection with its documents, chunks, files and index cache (owner or référent)."""
    async with runtime.session_factory.begin() as session:
        view = await _view(session, principal, collection_id)
        require_right(view, Right.MANAGE)
        await collection_store.delete_collection(session=session, collection_id=collection_id)
    remove_collection_files(runtime, collection_id)
    await runtime.rag.drop(collection_id)
    await _audit(runtime, principal, "collection.delete", collection_id, client, name=view.collection.name)


async def get_access_list(runtime: Runtime, principal: Principal, collection_id: uuid.UUID) -> CollectionAccessList:
    """Who may read or write the collection (visible to anyone who can see the collection)."""
    async with runtime.session_factory() as session:
        view = await _view(session, principal, collection_id)
        rows = await collection_store.list_access(session=session, collection_id=collection_id)
    entries = [
        AccessEntry("user", username, row.access, row.user_id)
        if row.user_id is not None and username is not None
        else AccessEntry("group", group_name or "?", row.access, row.group_id or uuid.UUID(int=0))
        for row, username, group_name in rows
    ]
    return CollectionAccessList(owner_id=view.collection.owner_id, entries=entries)


async def set_access_list(
    runtime: Runtime,
    principal: Principal,
    collection_id: uuid.UUID,
    *,
    users: dict[str, AccessLevel],
    groups: dict[str, AccessLevel],
    client: ClientInfo | None = None,
) -> CollectionAccessList:
    """Replace the access list (owner or référent); users by username, groups by name, all must exist."""
    async with runtime.session_factory.begin() as session:
        view = await _view(session, principal, collection_id)
        require_right(view, Right.MANAGE)
        user_ids: dict[uuid.UUID, AccessLevel] = {}
        for username, level in users.items():
            user = await user_store.get_user_by_username(session=session, username=username)
            if user is None:
                raise InvalidRequestError(f"Utilisateur inconnu : « {username} ».")
            if user.id != view.collection.owner_id:  # the owner needs no entry
                user_ids[user.id] = level
        group_ids: dict[uuid.UUID, AccessLevel] = {}
        for group_name, level in groups.items():
            group = await group_store.get_group_by_name(session=session, name=group_name)
            if group is None:
                raise InvalidRequestError(f"Groupe inconnu : « {group_name} ».")
            group_ids[group.id] = level
        if view.right != Right.OWNER and (
            principal.user_id in user_ids or any(name in principal.groups for name in groups)
        ):
            # A référent manages any collection, never reads it: only the owner can open the content to them.
            raise PermissionDeniedError(
                "Vous ne pouvez pas vous accorder l'accès au contenu de cette collection (directement ou par un "
                "de vos groupes) : seul son propriétaire peut vous le donner."
            )
        await collection_store.replace_access(
            session=session, collection_id=collection_id, users=user_ids, groups=group_ids
        )
    await _audit(
        runtime,
        principal,
        "collection.share",
        collection_id,
        client,
        users={name: level.value for name, level in users.items()},
        groups={name: level.value for name, level in groups.items()},
    )
    return await get_access_list(runtime, principal, collection_id)
