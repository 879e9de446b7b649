"""Request-scoped dependencies, as ``Annotated`` aliases that routes declare in their signatures.

Every dependency is ``async def``, even when it awaits nothing: FastAPI runs a plain ``def`` one in its thread
pool, a hand-off that costs milliseconds per dependency once the event loop is busy (measured on the streamed
chat path: benchmarks/gateway_overhead.py).

Every route declares its access policy, checked by a test that walks ``app.routes``:

- ``Security(RequirePermission(Permission.X))`` (in the signature or in ``dependencies=[...]``): an
  authenticated, active caller holding ``X``; it also counts the request against the caller's rate limits;
- ``dependencies=[PUBLIC]``: deliberately open to anonymous callers (probes, login, public keys).

``CurrentUser`` then gives the caller's :class:`~assistant.security.Principal` (it is never a policy by itself).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from sqlalchemy.ext.asyncio import AsyncSession

from assistant.audit import ClientInfo
from assistant.core.config import Settings
from assistant.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from assistant.runtime import Runtime
from assistant.security import Permission, Principal, same_secret
from assistant.services.charter.usage_charter import ensure_charter_accepted
from assistant.services.gateway.quotas import enforce_request_rate
from assistant.services.identity.authentication import authenticate_bearer, authenticate_session

__all__ = [
    "CHARTER_GATED",
    "CSRF_HEADER",
    "DIRECT_ONLY",
    "DOCS_GATE",
    "PUBLIC",
    "ClientDep",
    "CurrentUser",
    "RequirePermission",
    "RuntimeDep",
    "SessionDep",
    "SettingsDep",
    "get_client",
    "get_optional_principal",
    "get_runtime",
    "get_session",
    "get_settings_dep",
    "public",
    "require_principal",
]

CSRF_HEADER = "X-CSRF-Token"
# Using the assistant (chat, conversations, tasks, RAG, documents, transcriptions) needs the current usage charter
# accepted; profile, keys, reporting, administration and audit do not, so that one can always read and accept it.
CHARTER_GATED = frozenset({Permission.CHAT, Permission.DOCUMENTS, Permission.TRANSCRIPTIONS})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_runtime(request: Request) -> Runtime:
    """The process's lifespan container."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_settings_dep(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Settings:
    """The settings the app was built with."""
    return runtime.settings


async def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> AsyncIterator[AsyncSession]:
    """A session for the request; the service using it owns the transaction (``async with session.begin()``)."""
    async with runtime.session_factory() as session:
        yield session


async def get_client(request: Request) -> ClientInfo:
    """Where the request comes from, for the connection and audit logs."""
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        request_id=getattr(request.state, "request_id", None),
    )


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
ClientDep = Annotated[ClientInfo, Depends(get_client)]


async def get_optional_principal(request: Request, runtime: RuntimeDep, client: ClientDep) -> Principal | None:
    """The caller, from ``Authorization: Bearer`` (API key or OIDC JWT) or else the session cookie; None if neither.

    Cookie-authenticated unsafe requests must echo the session's anti-CSRF token in ``X-CSRF-Token``; bearer
    requests are exempt, since a browser never attaches them on its own.
    """
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise AuthenticationError(
                "En-tête Authorization non pris en charge : utilisez « Bearer <clé d'API ou jeton> ».",
                code="invalid_authorization_header",
            )
        return await authenticate_bearer(runtime, credential.strip(), client=client)
    cookie = request.cookies.get(runtime.settings.session_cookie_name)
    if not cookie:
        return None
    principal, csrf_token = await authenticate_session(runtime, cookie, client=client)
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not same_secret(sent, csrf_token):
            raise PermissionDeniedError(
                f"Jeton anti-CSRF manquant ou invalide : renvoyez l'en-tête {CSRF_HEADER} reçu à la connexion.",
                code="csrf_failed",
            )
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


async def require_principal(principal: OptionalPrincipal) -> Principal:
    """The authenticated caller; 401 for anonymous requests."""
    if principal is None:
        raise AuthenticationError(
            "Authentification requise : clé d'API (Authorization: Bearer sk-souv-…), jeton OIDC ou session."
        )
    return principal


CurrentUser = Annotated[Principal, Depends(require_principal)]


class RequirePermission:
    """A route's policy: the caller must hold ``permission``. Use as ``Security(RequirePermission(P.X))``."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __repr__(self) -> str:
        return f"RequirePermission({self.permission.value!r})"

    async def __call__(self, principal: CurrentUser, runtime: RuntimeDep) -> Principal:
        principal.require(self.permission)
        if self.permission in CHARTER_GATED:
            await ensure_charter_accepted(runtime, principal)
        await enforce_request_rate(runtime, principal)
        return principal


async def public() -> None:
    """Marks a route as deliberately open to anonymous callers (``dependencies=[PUBLIC]``)."""


PUBLIC: DependsParam = Depends(public)

# Every reverse proxy in front of the service (the ingress, a TLS terminator) adds one of these; kubelet probes
# and Prometheus, which reach the pod directly, never do.
_PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


async def direct_only(request: Request) -> None:
    """Probes and metrics are for the orchestrator and monitoring: a request relayed by a proxy gets a 404."""
    if any(header in request.headers for header in _PROXY_HEADERS):
        raise NotFoundError("Adresse introuvable.")


DIRECT_ONLY: DependsParam = Depends(direct_only)


async def docs_gate(principal: OptionalPrincipal, settings: SettingsDep) -> None:
    """The API's schema and viewers: open in development, for signed-in callers in production (by default)."""
    if not settings.docs_are_public and principal is None:
        raise AuthenticationError("Documentation de l'API réservée aux utilisateurs connectés : connectez-vous.")


DOCS_GATE: DependsParam = Depends(docs_gate)
