"""The protocol side of the web sign-in: OIDC authorization code flow with PKCE (S256), state and nonce.

:class:`OidcLoginClient` reads the provider's ``/.well-known/openid-configuration`` (cached, with a timeout),
builds the authorization request and exchanges the code at the token endpoint; the ID token it returns is then
checked by :class:`~assistant.security.OidcVerifier` (keys, algorithm, ``iss``, ``aud``, ``exp``, ``nonce``).
:class:`LoginFlowSigner` keeps what the callback must compare (state, nonce, PKCE verifier, where to go next) in a
short-lived signed cookie bound to the browser that clicked the button, so that nothing is stored server-side and
any replica can finish the flow.

Errors: :class:`~assistant.errors.ServiceUnavailableError` when the provider cannot be reached in time,
:class:`IdentityProviderError` (a subclass) when it answers with an error or something unusable.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from assistant.errors import ServiceUnavailableError

__all__ = [
    "AuthorizationRequest",
    "IdentityProviderError",
    "LoginFlow",
    "LoginFlowSigner",
    "OidcLoginClient",
    "ProviderMetadata",
    "TokenResponse",
    "pkce_challenge",
]

logger = logging.getLogger(__name__)

ClientAuthMethod = Literal["client_secret_basic", "client_secret_post"]


class IdentityProviderError(ServiceUnavailableError):
    """Raised when the identity provider answers, but with an error or a response we cannot use (token endpoint
    refusing the code, discovery document without endpoints); the web page answers 502."""

    code = "identity_provider_error"


@dataclass(frozen=True)
class ProviderMetadata:
    """The endpoints of the provider's discovery document that the sign-in uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None


@dataclass(frozen=True)
class TokenResponse:
    """What the token endpoint gave for a code: the ID token, and the access token for the userinfo endpoint."""

    id_token: str
    access_token: str | None


@dataclass(frozen=True)
class LoginFlow:
    """What one sign-in attempt must find again at the callback (kept in the signed flow cookie)."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and the flow to keep until it comes back."""

    url: str
    flow: LoginFlow


def pkce_challenge(code_verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding (RFC 7636, S256)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class LoginFlowSigner:
    """Signs a :class:`LoginFlow` into a cookie value and reads it back within ``max_age_seconds``.

    >>> signer = LoginFlowSigner(secret_key, max_age_seconds=600)
    >>> signer.load(signer.dump(flow)) == flow
    True
    """

    def __init__(self, secret_key: str, *, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="souverain.oidc-login-flow")
        self.max_age_seconds = max_age_seconds

    def dump(self, flow: LoginFlow) -> str:
        """The cookie value of ``flow``."""
        return self._serializer.dumps([flow.state, flow.nonce, flow.code_verifier, flow.next_path])

    def load(self, value: str) -> LoginFlow | Literal["expired"] | None:
        """The flow in a cookie; ``"expired"`` when too old; ``None`` when forged or unreadable."""
        try:
            state, nonce, verifier, next_path = self._serializer.loads(value, max_age=self.max_age_seconds)
        except SignatureExpired:
            return "expired"
        except (BadSignature, ValueError, TypeError):
            return None
        return LoginFlow(state=state, nonce=nonce, code_verifier=verifier, next_path=next_path)


class OidcLoginClient:
    """The relying party of one provider for the web sign-in.

    >>> client = OidcLoginClient(issuer=..., client_id="souverain", client_secret="…", redirect_url="https://…/retour")
    >>> request = await client.authorization_request(next_path="/chat")  # send the browser to request.url
    >>> tokens = await client.exchange_code(code, code_verifier=request.flow.code_verifier)
    >>> extra_claims = await client.userinfo(tokens.access_token)  # a dict, or a signed JWT to verify
    """

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_url: str,
        scopes: list[str],
        auth_method: ClientAuthMethod = "client_secret_basic",
        cache_seconds: float = 3600.0,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_url = redirect_url
        self._scope = " ".join(scopes)
        self._auth_method = auth_method
        self._cache_seconds = cache_seconds
        self._client = httpx.AsyncClient(timeout=timeout_seconds, transport=transport, follow_redirects=False)
        self._metadata: ProviderMetadata | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        """Release the HTTP connections."""
        await self._client.aclose()

    async def metadata(self) -> ProviderMetadata:
        """The provider's endpoints, from its discovery document (kept ``cache_seconds``)."""
        if self._metadata is not None and time.monotonic() - self._fetched_at < self._cache_seconds:
            return self._metadata
        async with self._lock:
            if self._metadata is not None and time.monotonic() - self._fetched_at < self._cache_seconds:
                return self._metadata
            try:
                self._metadata = await self._discover()
            except ServiceUnavailableError:
                if self._metadata is None:
                    raise
                logger.warning("OIDC discovery refresh failed; keeping the previous endpoints for now")
            self._fetched_at = time.monotonic()
            return self._metadata

    async def authorization_request(self, *, next_path: str) -> AuthorizationRequest:
        """A fresh state, nonce and PKCE verifier, and the provider's authorization URL carrying them."""
        metadata = await self.metadata()
        flow = LoginFlow(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),  # 86 characters, within RFC 7636's 43-128
            next_path=next_path,
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_url,
                "scope": self._scope,
                "state": flow.state,
                "nonce": flow.nonce,
                "code_challenge": pkce_challenge(flow.code_verifier),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if urlsplit(metadata.authorization_endpoint).query else "?"
        return AuthorizationRequest(url=f"{metadata.authorization_endpoint}{separator}{query}", flow=flow)

    async def exchange_code(self, code: str, *, code_verifier: str) -> TokenResponse:
        """The tokens the token endpoint gives for ``code`` (RFC 6749 4.1.3 with the PKCE verifier)."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_url,
            "code_verifier": code_verifier,
        }
        auth: httpx.BasicAuth | None = None
        if self._auth_method == "client_secret_post":
            form |= {"client_id": self.client_id, "client_secret": self._client_secret}
        else:
            # RFC 6749 2.3.1: both parts are form-urlencoded before going into the Basic header.
            auth = httpx.BasicAuth(_form_encode(self.client_id), _form_encode(self._client_secret))
        body = await self._request_json("POST", metadata.token_endpoint, data=form, auth=auth)
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise IdentityProviderError("Le fournisseur d'identité n'a pas renvoyé de jeton d'identité (id_token).")
        access_token = body.get("access_token")
        return TokenResponse(id_token=id_token, access_token=access_token if isinstance(access_token, str) else None)

    async def userinfo(self, access_token: str) -> dict[str, Any] | str:
        """The userinfo endpoint's claims: a JSON object, or a signed JWT (ProConnect) for the verifier to check."""
        metadata = await self.metadata()
        if metadata.userinfo_endpoint is None:
            return {}
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json, application/jwt"}
        response = await self._send("GET", metadata.userinfo_endpoint, headers=headers)
        if response.headers.get("content-type", "").split(";")[0].strip() == "application/jwt":
            return response.text.strip()
        return _json_object(response)

    async def _discover(self) -> ProviderMetadata:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await self._request_json("GET", url)
        # OIDC Discovery 4.3: the document must name the issuer we trust, or it describes someone else.
        if document.get("issuer") != self.issuer:
            raise IdentityProviderError(
                f"La configuration OIDC publiée annonce l'émetteur « {document.get('issuer')} » au lieu de "
                f"« {self.issuer} »."
            )
        endpoints: dict[str, str] = {}
        for name in ("authorization_endpoint", "token_endpoint"):
            value = document.get(name)
            if not isinstance(value, str) or urlsplit(value).scheme not in {"http", "https"}:
                raise IdentityProviderError(f"La configuration OIDC du fournisseur ne donne pas de « {name} ».")
            endpoints[name] = value
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise IdentityProviderError("Le fournisseur d'identité ne prend pas en charge PKCE S256.")
        userinfo = document.get("userinfo_endpoint")
        end_session = document.get("end_session_endpoint")
        logger.info("OIDC discovery read for %s", self.issuer)
        return ProviderMetadata(
            issuer=self.issuer,
            authorization_endpoint=endpoints["authorization_endpoint"],
            token_endpoint=endpoints["token_endpoint"],
            userinfo_endpoint=userinfo if isinstance(userinfo, str) else None,
            end_session_endpoint=end_session if isinstance(end_session, str) else None,
        )

    async def _request_json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        return _json_object(await self._send(method, url, headers={"Accept": "application/json"}, **kwargs))

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ServiceUnavailableError(
                "Le fournisseur d'identité ne répond pas à temps ; réessayez dans un instant."
            ) from exc
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(
                f"Fournisseur d'identité injoignable ({type(exc).__name__}) ; réessayez plus tard."
            ) from exc
        if response.status_code >= 400:
            # RFC 6749 5.2: {"error": "invalid_grant", "error_description": "…"}; never echo the request.
            try:
                body = response.json()
            except ValueError:
                body = None
            reason = body.get("error") if isinstance(body, dict) else None
            logger.warning("OIDC provider answered %s to %s %s (%s)", response.status_code, method, url, reason)
            if response.status_code >= 500:
                raise ServiceUnavailableError(
                    f"Le fournisseur d'identité est indisponible (HTTP {response.status_code}) ; réessayez plus tard."
                )
            detail = f" ({reason[:60]})" if isinstance(reason, str) else ""
            raise IdentityProviderError(
                f"Le fournisseur d'identité a refusé la demande : HTTP {response.status_code}{detail}."
            )
        return response


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise IdentityProviderError("Réponse illisible du fournisseur d'identité (JSON attendu).")
    return body


def _form_encode(value: str) -> str:
    return urlencode({"": value})[1:]
