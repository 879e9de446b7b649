"""Password sign-in with brute-force protection, web sessions, and sign-out.

Failures are counted per account and per IP address in fixed windows of ``login_lockout_seconds``; reaching
``login_max_failures_per_account`` (or ``…_per_ip``) locks further attempts until the window ends, and the
lockout is written to the connection log. A correct password during a lockout is still refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio

from assistant.audit import ClientInfo
from assistant.errors import AuthenticationError, RateLimitedError
from assistant.runtime import Runtime
from assistant.security import Principal, hash_secret, new_csrf_token, new_session_token
from assistant.security.passwords import hash_password, needs_rehash, verify_password
from assistant.services.identity.authentication import build_principal
from assistant.store import sessions as session_store
from assistant.store import users as user_store
from assistant.store import utcnow
from assistant.store.models import WebSession

__all__ = ["LoginResult", "login_with_password", "logout", "open_web_session"]

logger = logging.getLogger(__name__)

# Verifying against this when the account does not exist keeps the response time from revealing which names exist.
_DUMMY_HASH = hash_password("souverain-timing-equaliser")


@dataclass(frozen=True)
class LoginResult:
    """A new web session: the signed cookie value, its anti-CSRF token and when it ends."""

    principal: Principal
    cookie_value: str
    csrf_token: str
    expires_at: datetime


def _keys(username: str, ip: str | None) -> tuple[str, str]:
    # Hashed like the log's labels: a password typed as a username must not sit in the counters either.
    account = hashlib.sha256(username.lower().encode()).hexdigest()[:32]
    return f"login-fail:user:{account}", f"login-fail:ip:{ip or 'unknown'}"


def _unknown_label(runtime: Runtime, username: str) -> str:
    """How the audit log names a sign-in under a name no account has.

    People type their password in the username field: the immutable log must not keep what was typed. A keyed
    hash still lets an auditor see that the same unknown name was tried again and again, without revealing it.
    """
    digest = hmac.new(
        runtime.settings.effective_secret_key().encode(), b"login-name:" + username.lower().encode(), hashlib.sha256
    )
    return f"inconnu:{digest.hexdigest()[:16]}"


async def login_with_password(runtime: Runtime, *, username: str, password: str, client: ClientInfo) -> LoginResult:
    """Check a local account's password and open a web session."""
    settings = runtime.settings
    window = settings.login_lockout_seconds
    async with runtime.session_factory() as session:
        user = await user_store.get_user_by_username(session=session, username=username)
    label = user.username if user is not None else _unknown_label(runtime, username)
    account_key, ip_key = _keys(username, client.ip)

    async def log_failure(action: str, details: dict[str, Any]) -> None:
        await runtime.audit.record(
            category="connection",
            action=action,
            outcome="failure",
            actor_id=user.id if user else None,
            actor_label=label,
            client=client,
            details=details,
        )

    # Each attempt takes its number before the password is checked (one atomic increment): concurrent guesses
    # cannot all read the same count and all get through; a success hands its attempt back.
    account = await runtime.counters.hit(account_key, window_seconds=window)
    by_ip = await runtime.counters.hit(ip_key, window_seconds=window)
    if account.count > settings.login_max_failures_per_account or by_ip.count > settings.login_max_failures_per_ip:
        retry_after = max(account.reset_in, by_ip.reset_in)
        await log_failure("login", {"method": "password", "reason": "locked"})
        raise RateLimitedError(
            f"Trop d'échecs de connexion : réessayez dans {retry_after} secondes.",
            retry_after=retry_after,
            code="login_locked",
        )

    stored_hash = user.password_hash if user is not None and user.password_hash else None
    # argon2 takes tens of milliseconds of CPU on purpose: off the event loop, so sign-ins don't stall every stream.
    matches = await anyio.to_thread.run_sync(verify_password, stored_hash or _DUMMY_HASH, password)
    valid = matches and stored_hash is not None
    if user is None or stored_hash is None or not valid:
        await log_failure("login", {"method": "password", "reason": "unknown_user" if user is None else "bad_password"})
        if account.count == settings.login_max_failures_per_account:
            await log_failure("lockout", {"failures": account.count, "seconds": account.reset_in})
        raise AuthenticationError("Identifiant ou mot de passe incorrect.", code="invalid_credentials")
    if not user.is_active:
        await log_failure("login", {"method": "password", "reason": "account_disabled"})
        raise AuthenticationError(
            "Compte désactivé : contactez votre référent pour le réactiver.", code="account_disabled"
        )

    await runtime.counters.reset(account_key, window_seconds=window)
    await runtime.counters.hit(ip_key, window_seconds=window, amount=-1)
    if needs_rehash(stored_hash):
        async with runtime.session_factory.begin() as session:
            fresh = await user_store.get_user(session=session, user_id=user.id)
            if fresh is not None:
                fresh.password_hash = await anyio.to_thread.run_sync(hash_password, password)
    result = await open_web_session(runtime, user_id=user.id)
    await runtime.audit.record(
        category="connection",
        action="login",
        actor_id=user.id,
        actor_label=user.username,
        client=client,
        details={"method": "password"},
    )
    return result


async def open_web_session(runtime: Runtime, *, user_id: uuid.UUID) -> LoginResult:
    """A new web session for an authenticated, active account (password or identity provider sign-in)."""
    token, csrf_token = new_session_token(), new_csrf_token()
    expires_at = utcnow() + timedelta(seconds=runtime.settings.session_lifetime_seconds)
    async with runtime.session_factory.begin() as session:
        user = await user_store.get_user(session=session, user_id=user_id)
        if user is None or not user.is_active:
            raise AuthenticationError(
                "Compte désactivé : contactez votre référent pour le réactiver.", code="account_disabled"
            )
        web_session = await session_store.add_web_session(
            session=session,
            web_session=WebSession(
                token_hash=hash_secret(token), user_id=user.id, csrf_token=csrf_token, expires_at=expires_at
            ),
        )
        principal = await build_principal(session=session, user=user, method="session", session_id=web_session.id)
    return LoginResult(
        principal=principal,
        cookie_value=runtime.session_signer.sign(token),
        csrf_token=csrf_token,
        expires_at=expires_at,
    )


async def logout(runtime: Runtime, principal: Principal, *, client: ClientInfo) -> None:
    """End the caller's web session (a no-op for bearer callers, whose tokens the client simply drops)."""
    if principal.session_id is not None:
        async with runtime.session_factory.begin() as session:
            await session_store.delete_web_session(session=session, session_id=principal.session_id)
    await runtime.audit.record(
        category="connection",
        action="logout",
        actor_id=principal.user_id,
        actor_label=principal.username,
        client=client,
        details={"method": principal.method},
    )
