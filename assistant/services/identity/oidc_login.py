"""Signing in to the web interface through the identity provider («Se connecter avec ProConnect»).

The authorization code flow with PKCE: :func:`start_oidc_login` sends the browser to the provider with a fresh
state, nonce and code challenge, kept in a signed short-lived cookie; :func:`finish_oidc_login` checks the state
against that cookie, exchanges the code, validates the ID token like a bearer token (plus the nonce), maps the
account exactly like the bearer path (created or updated, role from the claims, refused without one), opens the
same web session as a password sign-in and writes the connection log. Every refusal is logged with its reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from assistant.audit import ClientInfo
from assistant.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    ServiceUnavailableError,
    UserFacingError,
)
from assistant.runtime import Runtime
from assistant.security import (
    LoginFlow,
    LoginFlowSigner,
    OidcLoginClient,
    TokenResponse,
    identity_from_claims,
    same_secret,
)
from assistant.services.identity.authentication import provision_identity
from assistant.services.identity.login import LoginResult, open_web_session

__all__ = ["OidcLoginDone", "OidcLoginStart", "finish_oidc_login", "start_oidc_login"]

logger = logging.getLogger(__name__)

_METHOD = {"method": "oidc", "flow": "authorization_code"}
# Claims that only the ID token may set: who issued it, for whom, about whom, when.
_TOKEN_CLAIMS = frozenset({"iss", "sub", "aud", "azp", "exp", "iat", "nbf", "nonce", "auth_time", "jti"})


@dataclass(frozen=True)
class OidcLoginStart:
    """Where to send the browser, and the flow cookie to give it on the way."""

    redirect_url: str
    flow_cookie: str


@dataclass(frozen=True)
class OidcLoginDone:
    """The new web session, and the local path the user asked for before signing in."""

    login: LoginResult
    next_path: str


def _login_client(runtime: Runtime) -> OidcLoginClient:
    if runtime.oidc_login is None:
        raise NotFoundError(
            "La connexion par fournisseur d'identité n'est pas configurée ici : utilisez votre identifiant "
            "et votre mot de passe.",
            code="oidc_login_disabled",
        )
    return runtime.oidc_login


def _flow_signer(runtime: Runtime) -> LoginFlowSigner:
    settings = runtime.settings
    return LoginFlowSigner(settings.effective_secret_key(), max_age_seconds=settings.oidc.login_flow_seconds)


async def start_oidc_login(runtime: Runtime, *, next_path: str) -> OidcLoginStart:
    """The provider's authorization URL for a new sign-in; :class:`ServiceUnavailableError` when it is down."""
    request = await _login_client(runtime).authorization_request(next_path=next_path)
    return OidcLoginStart(redirect_url=request.url, flow_cookie=_flow_signer(runtime).dump(request.flow))


def _checked_flow(runtime: Runtime, flow_cookie: str | None, state: str | None) -> LoginFlow:
    flow = _flow_signer(runtime).load(flow_cookie) if flow_cookie else None
    if flow is None or flow == "expired":
        raise InvalidRequestError(
            "La demande de connexion a expiré ou a été commencée dans un autre navigateur : "
            "cliquez de nouveau sur le bouton de connexion.",
            code="login_flow_expired",
        )
    if not state or not same_secret(state, flow.state):
        # Another flow's answer, or a forged link trying to sign this browser into someone else's account.
        raise InvalidRequestError(
            "La réponse du fournisseur d'identité ne correspond pas à votre demande de connexion : recommencez.",
            code="state_mismatch",
        )
    return flow


def _provider_refusal(error: str, description: str | None) -> AuthenticationError:
    if error == "access_denied":
        message = "Connexion annulée ou refusée chez le fournisseur d'identité."
    else:
        message = f"Le fournisseur d'identité n'a pas pu vous connecter (« {error[:60]} »)."
    if description:
        message += f" Motif donné : {description[:200]}"
    return AuthenticationError(message, code="provider_refused")


async def _verified_claims(
    runtime: Runtime, login_client: OidcLoginClient, tokens: TokenResponse, *, nonce: str
) -> dict[str, Any]:
    """The ID token's claims, completed by the userinfo endpoint's when configured (ProConnect sends the e-mail
    and names only there)."""
    verifier = runtime.oidc
    assert verifier is not None  # configured with the login client (the audience defaults to the client id)
    claims = await verifier.verify_id_token(tokens.id_token, client_id=login_client.client_id, nonce=nonce)
    if not runtime.settings.oidc.userinfo or tokens.access_token is None:
        return claims
    answer = await login_client.userinfo(tokens.access_token)
    userinfo = (
        answer if isinstance(answer, dict) else await verifier.verify_userinfo(answer, client_id=login_client.client_id)
    )
    if not userinfo:
        return claims
    # OIDC Core 5.3.2: the userinfo must be about the same subject, or it belongs to someone else.
    if userinfo.get("sub") != claims["sub"]:
        raise AuthenticationError(
            "Informations d'identité refusées : elles ne concernent pas la personne connectée (sub).",
            code="invalid_token",
        )
    profile = {name: value for name, value in userinfo.items() if name not in _TOKEN_CLAIMS}
    return {**claims, **profile}


async def finish_oidc_login(
    runtime: Runtime,
    *,
    flow_cookie: str | None,
    state: str | None,
    code: str | None,
    error: str | None,
    error_description: str | None,
    client: ClientInfo,
) -> OidcLoginDone:
    """Complete a sign-in at the callback; the errors say why it was refused (and are in the connection log)."""
    login_client = _login_client(runtime)
    try:
        flow = _checked_flow(runtime, flow_cookie, state)
        if error:
            raise _provider_refusal(error, error_description)
        if not code:
            raise InvalidRequestError("Réponse du fournisseur d'identité sans code d'autorisation.", code="no_code")
        tokens = await login_client.exchange_code(code, code_verifier=flow.code_verifier)
        claims = await _verified_claims(runtime, login_client, tokens, nonce=flow.nonce)
        settings = runtime.settings
        identity = identity_from_claims(
            claims,
            username_claim=settings.oidc.username_claim,
            roles_claim=settings.oidc.roles_claim,
            role_mapping=settings.oidc.role_mapping,
            groups_claim=settings.oidc.groups_claim,
        )
        principal = await provision_identity(runtime, identity, client=client, login_details=_METHOD)
        login = await open_web_session(runtime, user_id=principal.user_id)
    except (UserFacingError, ServiceUnavailableError) as exc:
        logger.info("OIDC web sign-in refused: %s", exc.code)
        await runtime.audit.record(
            category="connection",
            action="login",
            outcome="failure",
            client=client,
            details={**_METHOD, "reason": exc.code, "message": exc.message[:300]},
        )
        raise
    return OidcLoginDone(login=login, next_path=flow.next_path)
