"""Administration by référents: accounts, roles, groups and quotas. Every change goes to the audit log."""

from __future__ import annotations

import re
import uuid
from typing import Any

from assistant.audit import ClientInfo
from assistant.errors import ConflictError, InvalidRequestError, NotFoundError, PermissionDeniedError
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.gateway.quotas import EffectiveQuota, get_quota
from assistant.services.identity.separation import flag_role_change
from assistant.store import groups as group_store
from assistant.store import sessions as session_store
from assistant.store import users as user_store
from assistant.store.models import Group, Role, User

__all__ = [
    "add_group_member",
    "create_group",
    "group_members",
    "list_groups",
    "list_users",
    "remove_group_member",
    "set_quota",
    "update_user",
]

_GROUP_NAME = re.compile(r"^[\w][\w .'/-]{0,149}$")


async def _record(
    runtime: Runtime,
    actor: Principal,
    action: str,
    *,
    resource_type: str,
    resource_id: str,
    client: ClientInfo | None,
    details: dict[str, Any],
) -> None:
    await runtime.audit.record(
        category="audit",
        action=action,
        actor_id=actor.user_id,
        actor_label=actor.username,
        resource_type=resource_type,
        resource_id=resource_id,
        client=client,
        details=details,
    )


async def list_users(runtime: Runtime, *, role: Role | None = None, active: bool | None = None) -> list[User]:
    """Accounts, by username."""
    async with runtime.session_factory() as session:
        return await user_store.list_users(session=session, role=role, active=active)


async def update_user(
    runtime: Runtime,
    *,
    user_id: uuid.UUID,
    actor: Principal,
    role: Role | None = None,
    is_active: bool | None = None,
    client: ClientInfo | None = None,
) -> User:
    """Change an account's role and/or enable or disable it; disabling or demoting ends its web sessions."""
    if user_id == actor.user_id and (is_active is False or (role is not None and role != actor.role)):
        # A référent locking themself out (or dropping their own rights) is always a mistake.
        raise InvalidRequestError("Vous ne pouvez pas désactiver votre propre compte ni changer votre propre rôle.")
    changes: dict[str, Any] = {}
    async with runtime.session_factory.begin() as session:
        user = await user_store.get_user(session=session, user_id=user_id)
        if user is None:
            raise NotFoundError("Utilisateur introuvable.")
        before = user.role
        if role is not None and role != user.role:
            changes["role"] = {"from": user.role.value, "to": role.value}
            user.role = role
        if is_active is not None and is_active != user.is_active:
            changes["is_active"] = is_active
            user.is_active = is_active
        if changes:
            await session_store.delete_user_sessions(session=session, user_id=user.id)
    if changes:
        runtime.principal_cache.forget_user(user.id)  # its API keys act with the new role, or not at all
        action = "user.disable" if changes.get("is_active") is False else "user.update"
        await _record(
            runtime, actor, action, resource_type="user", resource_id=str(user.id), client=client, details=changes
        )
        if "role" in changes:
            await flag_role_change(runtime, actor=actor, user=user, before=before, after=user.role, client=client)
    return user


async def list_groups(runtime: Runtime) -> list[Group]:
    """Every group."""
    async with runtime.session_factory() as session:
        return await group_store.list_groups(session=session)


async def create_group(
    runtime: Runtime, *, name: str, description: str, actor: Principal, client: ClientInfo | None = None
) -> Group:
    """Create a group with a unique name."""
    name = name.strip()
    if not _GROUP_NAME.match(name):
        raise InvalidRequestError("Nom de groupe invalide : 1 à 150 caractères (lettres, chiffres, espace, . ' / -).")
    async with runtime.session_factory.begin() as session:
        if await group_store.get_group_by_name(session=session, name=name) is not None:
            raise ConflictError(f"Le groupe « {name} » existe déjà.")
        group = await group_store.add_group(session=session, name=name, description=description)
    await _record(
        runtime,
        actor,
        "group.create",
        resource_type="group",
        resource_id=str(group.id),
        client=client,
        details={"name": name},
    )
    return group


async def group_members(runtime: Runtime, *, group_id: uuid.UUID) -> tuple[Group, list[User]]:
    """A group and its members."""
    async with runtime.session_factory() as session:
        group = await group_store.get_group(session=session, group_id=group_id)
        if group is None:
            raise NotFoundError("Groupe introuvable.")
        return group, await group_store.list_members(session=session, group_id=group_id)


async def _change_membership(
    runtime: Runtime,
    *,
    group_id: uuid.UUID,
    user_id: uuid.UUID,
    add: bool,
    actor: Principal,
    client: ClientInfo | None,
) -> bool:
    async with runtime.session_factory.begin() as session:
        group = await group_store.get_group(session=session, group_id=group_id)
        if group is None:
            raise NotFoundError("Groupe introuvable.")
        user = await user_store.get_user(session=session, user_id=user_id)
        if user is None:
            raise NotFoundError("Utilisateur introuvable.")
        if add and user.id == actor.user_id:
            # Groups open collections: a référent joining one would grant themself its content (manage ≠ read).
            raise PermissionDeniedError(
                "Vous ne pouvez pas vous ajouter vous-même à un groupe : demandez-le à un autre référent."
            )
        change = group_store.add_member if add else group_store.remove_member
        changed = await change(session=session, group_id=group_id, user_id=user_id)
    if changed:
        runtime.principal_cache.forget_user(user_id)  # groups decide which collections its API keys may read
        await _record(
            runtime,
            actor,
            "group.member_add" if add else "group.member_remove",
            resource_type="group",
            resource_id=str(group_id),
            client=client,
            details={"user": user.username, "group": group.name},
        )
    return changed


async def add_group_member(
    runtime: Runtime, *, group_id: uuid.UUID, user_id: uuid.UUID, actor: Principal, client: ClientInfo | None = None
) -> bool:
    """Add a user to a group (idempotent); True when it changed something."""
    return await _change_membership(runtime, group_id=group_id, user_id=user_id, add=True, actor=actor, client=client)


async def remove_group_member(
    runtime: Runtime, *, group_id: uuid.UUID, user_id: uuid.UUID, actor: Principal, client: ClientInfo | None = None
) -> bool:
    """Remove a user from a group (idempotent); True when it changed something."""
    return await _change_membership(runtime, group_id=group_id, user_id=user_id, add=False, actor=actor, client=client)


async def set_quota(
    runtime: Runtime,
    *,
    user_id: uuid.UUID,
    requests_per_minute: int | None,
    tokens_per_day: int | None,
    concurrent_jobs: int | None,
    actor: Principal,
    client: ClientInfo | None = None,
) -> EffectiveQuota:
    """Override a user's quotas (``None`` restores the default) and return the limits now in force."""
    async with runtime.session_factory.begin() as session:
        if await user_store.get_user(session=session, user_id=user_id) is None:
            raise NotFoundError("Utilisateur introuvable.")
        await user_store.put_quota(
            session=session,
            user_id=user_id,
            requests_per_minute=requests_per_minute,
            tokens_per_day=tokens_per_day,
            concurrent_jobs=concurrent_jobs,
        )
    await _record(
        runtime,
        actor,
        "quota.set",
        resource_type="user",
        resource_id=str(user_id),
        client=client,
        details={
            "requests_per_minute": requests_per_minute,
            "tokens_per_day": tokens_per_day,
            "concurrent_jobs": concurrent_jobs,
        },
    )
    return await get_quota(runtime, user_id, fresh=True)
