"""Creating accounts (CLI bootstrap now; the admin API reuses it)."""

from __future__ import annotations

import re
import uuid

import anyio

from assistant.audit import ClientInfo
from assistant.errors import ConflictError, InvalidRequestError, NotFoundError
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.security.passwords import MIN_PASSWORD_LENGTH, hash_password
from assistant.services.identity.separation import flag_role_change
from assistant.store import sessions as session_store
from assistant.store import users as user_store
from assistant.store.models import Role, User

__all__ = ["create_local_user", "disable_user_by_name", "get_user"]

_USERNAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._@-]{1,149}$")


async def create_local_user(
    runtime: Runtime,
    *,
    username: str,
    role: Role,
    password: str | None,
    display_name: str = "",
    email: str | None = None,
    actor: Principal | None = None,
    client: ClientInfo | None = None,
) -> User:
    """Create an account that signs in with a password (or only with API keys when ``password`` is None)."""
    if not _USERNAME.match(username):
        raise InvalidRequestError(
            "Identifiant invalide : 2 à 150 caractères parmi lettres, chiffres, « . _ @ - », "
            "commençant par une lettre ou un chiffre."
        )
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequestError(f"Mot de passe trop court : {MIN_PASSWORD_LENGTH} caractères au minimum.")
    password_hash = await anyio.to_thread.run_sync(hash_password, password) if password is not None else None
    async with runtime.session_factory.begin() as session:
        if await user_store.get_user_by_username(session=session, username=username) is not None:
            raise ConflictError(f"L'identifiant « {username} » est déjà pris.")
        user = await user_store.add_user(
            session=session,
            username=username,
            role=role,
            password_hash=password_hash,
            display_name=display_name,
            email=email,
        )
    await runtime.audit.record(
        category="audit",
        action="user.create",
        actor_id=actor.user_id if actor else None,
        actor_label=actor.username if actor else "cli",
        resource_type="user",
        resource_id=str(user.id),
        client=client,
        details={"username": user.username, "role": role.value, "password": password is not None},
    )
    if actor is not None:
        # Through the API: a référent creating an auditor or another référent is alerted (separation of duties).
        await flag_role_change(runtime, actor=actor, user=user, before=None, after=role, client=client)
    return user


async def get_user(runtime: Runtime, *, user_id: uuid.UUID) -> User:
    """An account by id; :class:`NotFoundError` when absent."""
    async with runtime.session_factory() as session:
        user = await user_store.get_user(session=session, user_id=user_id)
    if user is None:
        raise NotFoundError("Utilisateur introuvable.")
    return user


async def disable_user_by_name(runtime: Runtime, *, username: str) -> User:
    """Disable an account and end its web sessions (CLI; the API goes through ``admin.update_user``)."""
    async with runtime.session_factory.begin() as session:
        user = await user_store.get_user_by_username(session=session, username=username)
        if user is None:
            raise NotFoundError(f"Aucun compte « {username} ».")
        user.is_active = False
        await session_store.delete_user_sessions(session=session, user_id=user.id)
    runtime.principal_cache.forget_user(user.id)
    await runtime.audit.record(
        category="audit",
        action="user.disable",
        actor_label="cli",
        resource_type="user",
        resource_id=str(user.id),
        details={"is_active": False},
    )
    return user
