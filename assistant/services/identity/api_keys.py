"""API keys: created for oneself (or by the CLI), shown once, listed, revoked; every change is logged."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError
from assistant.runtime import Runtime
from assistant.security import Principal, Scope, generate_api_key, require_owner
from assistant.store import api_keys as key_store
from assistant.store import users as user_store
from assistant.store import utcnow
from assistant.store.models import ApiKey

__all__ = ["CreatedApiKey", "create_api_key", "list_api_keys", "revoke_api_key"]

_MAX_ACTIVE_KEYS_PER_USER = 50


@dataclass(frozen=True)
class CreatedApiKey:
    """The stored key and its secret, which is never available again."""

    key: ApiKey
    secret: str


async def create_api_key(
    runtime: Runtime,
    *,
    owner_id: uuid.UUID,
    name: str,
    scopes: Iterable[Scope],
    expires_in_days: int | None = None,
    requests_per_minute: int | None = None,
    actor: Principal | None = None,
    client: ClientInfo | None = None,
) -> CreatedApiKey:
    """Create a key for ``owner_id``; ``actor`` is ``None`` when an operator uses the CLI."""
    scope_values = sorted({Scope(scope).value for scope in scopes})
    if not scope_values:
        raise InvalidRequestError("Indiquez au moins une portée : " + ", ".join(scope.value for scope in Scope))
    days = expires_in_days or runtime.settings.api_key_default_lifetime_days
    if not 1 <= days <= 3650:
        raise InvalidRequestError("Durée de validité invalide : entre 1 et 3650 jours.")
    generated = generate_api_key()
    async with runtime.session_factory.begin() as session:
        owner = await user_store.get_user(session=session, user_id=owner_id)
        if owner is None:
            raise NotFoundError("Utilisateur introuvable.")
        active = await key_store.list_api_keys(session=session, user_id=owner_id, include_revoked=False)
        if len(active) >= _MAX_ACTIVE_KEYS_PER_USER:
            raise InvalidRequestError(f"Trop de clés actives ({len(active)}) : révoquez-en avant d'en créer.")
        key = await key_store.add_api_key(
            session=session,
            key=ApiKey(
                user_id=owner_id,
                name=name.strip()[:100] or "clé",
                prefix=generated.prefix,
                key_hash=generated.key_hash,
                scopes=scope_values,
                requests_per_minute=requests_per_minute,
                expires_at=utcnow() + timedelta(days=days),
            ),
        )
    await runtime.audit.record(
        category="connection",
        action="api_key.create",
        actor_id=actor.user_id if actor else None,
        actor_label=actor.username if actor else "cli",
        resource_type="api_key",
        resource_id=str(key.id),
        client=client,
        details={"owner": owner.username, "key_prefix": key.prefix, "scopes": scope_values, "days": days},
    )
    return CreatedApiKey(key=key, secret=generated.secret)


async def list_api_keys(runtime: Runtime, *, owner_id: uuid.UUID | None) -> list[ApiKey]:
    """Keys of ``owner_id`` (every user's when ``None``, for référents)."""
    async with runtime.session_factory() as session:
        return await key_store.list_api_keys(session=session, user_id=owner_id)


async def revoke_api_key(
    runtime: Runtime,
    *,
    key_id: uuid.UUID,
    actor: Principal | None,
    own_only: bool,
    client: ClientInfo | None = None,
) -> ApiKey:
    """Revoke a key (idempotent). With ``own_only``, another user's key is reported as not found."""
    async with runtime.session_factory.begin() as session:
        key = await key_store.get_api_key(session=session, key_id=key_id)
        if key is None:
            raise NotFoundError("Clé d'API introuvable.")
        if own_only:
            assert actor is not None
            require_owner(key.user_id, actor, what="Clé d'API")
        already = key.revoked_at is not None
        if not already:
            key.revoked_at = utcnow()
    # Once committed: refused at once in this process (other processes: within api_key_cache_seconds).
    runtime.principal_cache.forget_key(key.id)
    if not already:
        await runtime.audit.record(
            category="connection",
            action="api_key.revoke",
            actor_id=actor.user_id if actor else None,
            actor_label=actor.username if actor else "cli",
            resource_type="api_key",
            resource_id=str(key.id),
            client=client,
            details={"key_prefix": key.prefix, "owner_id": str(key.user_id)},
        )
    return key
