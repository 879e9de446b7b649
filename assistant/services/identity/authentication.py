"""Who is calling: bearer credentials (OIDC JWT or API key) and web session cookies become a :class:`Principal`.

Every refusal is written to the connection log with its reason; successes are logged at most once per
``api_key_use_log_interval_seconds`` per key or identity, so that the hash-chained log does not grow with every
request.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit import ClientInfo
from assistant.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from assistant.runtime import Runtime
from assistant.security import (
    CachedKey,
    ExternalIdentity,
    Principal,
    Scope,
    hash_secret,
    identity_from_claims,
    looks_like_api_key,
    parse_api_key,
    permissions_for,
    same_secret,
)
from assistant.security._principal import AuthMethod
from assistant.store import groups as group_store
from assistant.store import sessions as session_store
from assistant.store import users as user_store
from assistant.store import utcnow
from assistant.store.api_keys import get_api_key_by_prefix, touch_api_key
from assistant.store.models import ApiKey, Role, User

__all__ = [
    "authenticate_bearer",
    "authenticate_session",
    "build_principal",
    "provision_identity",
    "refuse_disabled",
]

logger = logging.getLogger(__name__)


def refuse_disabled(user: User) -> None:
    """Disabled accounts are refused whatever the credential."""
    if not user.is_active:
        raise AuthenticationError(
            "Compte désactivé : contactez votre référent pour le réactiver.", code="account_disabled"
        )


async def build_principal(
    *,
    session: AsyncSession,
    user: User,
    method: AuthMethod,
    api_key: ApiKey | None = None,
    session_id: uuid.UUID | None = None,
) -> Principal:
    """The principal of an active ``user`` (with its groups), restricted to ``api_key``'s scopes when given."""
    scopes = [Scope(value) for value in api_key.scopes if value in Scope.__members__.values()] if api_key else None
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        method=method,
        permissions=permissions_for(user.role, scopes),
        api_key_id=api_key.id if api_key else None,
        api_key_requests_per_minute=api_key.requests_per_minute if api_key else None,
        session_id=session_id,
        groups=tuple(await group_store.group_names_of(session=session, user_id=user.id)),
    )


async def authenticate_bearer(runtime: Runtime, credential: str, *, client: ClientInfo) -> Principal:
    """Authenticate an ``Authorization: Bearer`` credential: our API key, or else an OIDC access token."""
    if looks_like_api_key(credential):
        return await _authenticate_api_key(runtime, credential, client=client)
    return await _authenticate_oidc(runtime, credential, client=client)


@dataclass(frozen=True)
class _Refusal:
    """Why a credential is refused: the audited reason, and the French message and code the caller gets."""

    reason: str
    message: str
    code: str


_UNKNOWN_KEY = _Refusal("unknown_key", "Clé d'API invalide.", "invalid_api_key")
_REVOKED_KEY = _Refusal("revoked", "Clé d'API révoquée : créez-en une nouvelle.", "api_key_revoked")
_EXPIRED_KEY = _Refusal("expired", "Clé d'API expirée : créez-en une nouvelle.", "api_key_expired")
_DISABLED_ACCOUNT = _Refusal(
    "account_disabled", "Compte désactivé : contactez votre référent pour le réactiver.", "account_disabled"
)


def _key_refusal(key: ApiKey, user: User, now: datetime) -> _Refusal | None:
    """Why a key that matched is still refused, if it is."""
    if key.revoked_at is not None:
        return _REVOKED_KEY
    if key.expires_at is not None and key.expires_at <= now:
        return _EXPIRED_KEY
    if not user.is_active:
        return _DISABLED_ACCOUNT
    return None


async def _refuse(
    runtime: Runtime,
    refusal: _Refusal,
    *,
    action: str,
    client: ClientInfo,
    user: User | None = None,
    details: dict[str, str] | None = None,
) -> AuthenticationError:
    """Log the refused attempt (per account when one is known, rate-counted when anonymous) and build the error."""
    reasons = {"reason": refusal.reason, **(details or {})}
    if user is None:
        await _record_anonymous_failure(runtime, action=action, client=client, details=reasons)
    else:
        await runtime.audit.record(
            category="connection",
            action=action,
            outcome="failure",
            actor_id=user.id,
            actor_label=user.username,
            client=client,
            details=reasons,
        )
    return AuthenticationError(refusal.message, code=refusal.code)


# Anonymous failures (unknown keys, bad tokens) are aggregated per address and minute: the first is logged,
# then the 10th, 100th… with their count, so a scanner costs the chained log a handful of rows, not one per try.
_FAILURE_WINDOW_SECONDS = 60


async def _record_anonymous_failure(
    runtime: Runtime, *, action: str, client: ClientInfo, details: dict[str, str]
) -> None:
    window = await runtime.counters.hit(
        f"auth-fail:{action}:{details.get('reason', '')}:{client.ip or 'unknown'}",
        window_seconds=_FAILURE_WINDOW_SECONDS,
    )
    if window.count > runtime.settings.auth_max_anonymous_failures_per_minute:
        if window.count == runtime.settings.auth_max_anonymous_failures_per_minute + 1:
            logger.warning("Authentication failures from %s over the limit; answering 429", client.ip)
        raise RateLimitedError(
            f"Trop d'échecs d'authentification depuis cette adresse : réessayez dans {window.reset_in} secondes.",
            retry_after=window.reset_in,
            code="auth_failures_limited",
        )
    if window.count == 1 or _is_power_of_ten(window.count):
        await runtime.audit.record(
            category="connection",
            action=action,
            outcome="failure",
            client=client,
            details={**details, "count_in_minute": str(window.count)},
        )


def _is_power_of_ten(count: int) -> bool:
    while count >= 10 and count % 10 == 0:
        count //= 10
    return count == 1


def _due(last: datetime | None, now: datetime, interval_seconds: int) -> bool:
    return last is None or now - last >= timedelta(seconds=interval_seconds)


def _cached_principal(runtime: Runtime, key_hash: str, now: datetime) -> Principal | None:
    """The principal of a key checked less than ``api_key_cache_seconds`` ago, unless its use is due in the log."""
    entry = runtime.principal_cache.get(key_hash)
    if entry is None:
        return None
    if entry.expires_at is not None and entry.expires_at <= now:
        return None  # the database path refuses it, and logs why
    if _due(entry.logged_at, now, runtime.settings.api_key_use_log_interval_seconds):
        return None  # the database path writes the connection log entry
    return entry.principal


async def _authenticate_api_key(runtime: Runtime, secret: str, *, client: ClientInfo) -> Principal:
    parsed = parse_api_key(secret)
    now = utcnow()
    # The cache is keyed by the hash the database stores: a hit is the same match as the constant-time comparison
    # below, on a value that only the holder of the key can produce.
    cached = _cached_principal(runtime, parsed[1], now) if parsed else None
    if cached is not None:
        return cached
    generation = runtime.principal_cache.generation
    async with runtime.session_factory.begin() as session:
        key = await get_api_key_by_prefix(session=session, prefix=parsed[0]) if parsed else None
        if key is None or parsed is None or not same_secret(key.key_hash, parsed[1]):
            raise await _refuse(runtime, _UNKNOWN_KEY, action="api_key.use", client=client)
        user = await user_store.get_user(session=session, user_id=key.user_id)
        assert user is not None  # the foreign key cascades: a key never outlives its owner
        details = {"key_prefix": key.prefix}
        refusal = _key_refusal(key, user, now)
        if refusal is not None:
            raise await _refuse(runtime, refusal, action="api_key.use", client=client, user=user, details=details)
        log_use = _due(key.last_used_at, now, runtime.settings.api_key_use_log_interval_seconds)
        if log_use:
            await touch_api_key(session=session, key_id=key.id, used_at=now)
        principal = await build_principal(session=session, user=user, method="api_key", api_key=key)
    assert parsed is not None
    logged_at = now if log_use else key.last_used_at
    runtime.principal_cache.put(
        parsed[1], CachedKey(principal=principal, expires_at=key.expires_at, logged_at=logged_at), generation=generation
    )
    if log_use:
        await runtime.audit.record(
            category="connection",
            action="api_key.use",
            actor_id=user.id,
            actor_label=user.username,
            resource_type="api_key",
            resource_id=str(key.id),
            client=client,
            details=details,
        )
    return principal


async def _authenticate_oidc(runtime: Runtime, token: str, *, client: ClientInfo) -> Principal:
    if runtime.oidc is None:
        raise AuthenticationError(
            "Jeton non reconnu : ni clé d'API « sk-souv-… », ni jeton OIDC (la connexion OIDC n'est pas "
            "configurée : SOUVERAIN_OIDC_ISSUER).",
            code="invalid_token",
        )
    try:
        claims = await runtime.oidc.verify(token)
    except AuthenticationError as exc:
        reasons = {"method": "oidc", "reason": exc.code, "message": exc.message}
        await _record_anonymous_failure(runtime, action="login", client=client, details=reasons)
        raise
    settings = runtime.settings
    identity = identity_from_claims(
        claims,
        username_claim=settings.oidc.username_claim,
        roles_claim=settings.oidc.roles_claim,
        role_mapping=settings.oidc.role_mapping,
        groups_claim=settings.oidc.groups_claim,
    )
    return await provision_identity(runtime, identity, client=client)


async def provision_identity(
    runtime: Runtime,
    identity: ExternalIdentity,
    *,
    client: ClientInfo,
    login_details: dict[str, str] | None = None,
) -> Principal:
    """Find or create the account of an external identity and bring its profile, role and groups up to date.

    The sign-in is written to the connection log with ``login_details`` when given (an interactive sign-in, always
    logged), otherwise at most once per ``api_key_use_log_interval_seconds`` (bearer tokens, sent with every call).
    """
    settings = runtime.settings
    now = utcnow()
    created = role_changed = False
    async with runtime.session_factory.begin() as session:
        link = await user_store.get_identity(session=session, issuer=identity.issuer, subject=identity.subject)
        if link is None:
            role = identity.role or (Role(settings.oidc.default_role) if settings.oidc.default_role else None)
            if role is None:
                raise PermissionDeniedError(
                    "Aucun rôle Souverain ne vous est attribué chez le fournisseur d'identité : "
                    "demandez l'accès à votre référent.",
                    code="no_role",
                )
            if await user_store.get_user_by_username(session=session, username=identity.username) is not None:
                # Never merge into an existing account on a name match: that would hand it to whoever holds the name
                # at the provider.
                raise AuthenticationError(
                    f"L'identifiant « {identity.username} » appartient déjà à un autre compte : "
                    "un référent doit relier ou renommer ce compte.",
                    code="identity_conflict",
                )
            user = await user_store.add_user(
                session=session,
                username=identity.username,
                role=role,
                display_name=identity.display_name,
                email=identity.email,
            )
            link = await user_store.add_identity(
                session=session, user_id=user.id, issuer=identity.issuer, subject=identity.subject
            )
            created = True
        else:
            found = await user_store.get_user(session=session, user_id=link.user_id)
            assert found is not None
            user = found
            user.display_name = identity.display_name
            user.email = identity.email
            if identity.role is not None and identity.role != user.role:
                user.role = identity.role
                role_changed = True
        refuse_disabled(user)
        if settings.oidc.groups_claim:
            group_ids = []
            for name in identity.groups:
                group = await group_store.get_group_by_name(session=session, name=name)
                group = group or await group_store.add_group(session=session, name=name, description="Fournisseur")
                group_ids.append(group.id)
            await group_store.set_memberships(session=session, user_id=user.id, group_ids=group_ids)
        log_login = login_details is not None or _due(link.last_seen_at, now, settings.api_key_use_log_interval_seconds)
        if log_login:
            link.last_seen_at = now
        principal = await build_principal(session=session, user=user, method="oidc")
    if role_changed:
        # Once committed: the account's API keys must not keep acting with the old role in this process.
        runtime.principal_cache.forget_user(user.id)
    if created:
        await runtime.audit.record(
            category="audit",
            action="user.provision",
            actor_id=user.id,
            actor_label=user.username,
            resource_type="user",
            resource_id=str(user.id),
            client=client,
            details={"issuer": identity.issuer, "role": user.role.value, "groups": list(identity.groups)},
        )
    if log_login:
        await runtime.audit.record(
            category="connection",
            action="login",
            actor_id=user.id,
            actor_label=user.username,
            client=client,
            details=login_details or {"method": "oidc"},
        )
    return principal


async def authenticate_session(runtime: Runtime, cookie: str, *, client: ClientInfo) -> tuple[Principal, str]:
    """The principal of a session cookie, and the session's anti-CSRF token."""
    token = runtime.session_signer.unsign(cookie)
    if token is None:
        raise AuthenticationError("Session invalide ou expirée : reconnectez-vous.", code="session_invalid")
    async with runtime.session_factory.begin() as session:
        web_session = await session_store.get_web_session_by_hash(
            session=session, token_hash=hash_secret(token), now=utcnow()
        )
        if web_session is None:
            raise AuthenticationError("Session invalide ou expirée : reconnectez-vous.", code="session_invalid")
        user = await user_store.get_user(session=session, user_id=web_session.user_id)
        assert user is not None
        if not user.is_active:
            await session_store.delete_user_sessions(session=session, user_id=user.id)
        else:
            principal = await build_principal(session=session, user=user, method="session", session_id=web_session.id)
    if not user.is_active:
        details = {"method": "session"}
        raise await _refuse(runtime, _DISABLED_ACCOUNT, action="login", client=client, user=user, details=details)
    return principal, web_session.csrf_token
