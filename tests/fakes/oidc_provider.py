"""A real OpenID Connect provider on 127.0.0.1, in a thread: discovery, authorize, token, JWKS.

It speaks the authorization code flow as a strict provider would: ``/authorize`` checks the client id, the
registered redirect URI and the PKCE S256 challenge, then redirects straight back (the user «signs in» as
:attr:`FakeOidcProvider.user`) with a one-time code; ``/token`` checks the client secret (Basic or form, as
configured), the code, the redirect URI and the PKCE verifier, and issues an RS256 ID token carrying the nonce.

``/userinfo`` answers the signed-in user's claims for the access token, as JSON or, like ProConnect, as a signed
JWT.

Per-test knobs: ``user`` (claims of whoever signs in next), ``deny`` (the user refuses: ``error=access_denied``),
``id_token_overrides`` (e.g. ``{"aud": "other"}`` or ``{"nonce": "x"}``), ``proconnect`` (the ID token carries
only ``sub``; the profile comes from a signed userinfo JWT), ``userinfo_overrides``, ``token_error`` (the token
endpoint answers 400 ``invalid_grant``), ``down`` (every endpoint answers 503) and ``slow`` (seconds before
answering).
Every request is recorded in :attr:`FakeOidcProvider.requests` as ``(method, path, params)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

__all__ = ["FakeOidcProvider"]

CLIENT_ID = "souverain-web"
CLIENT_SECRET = "un-secret-client-de-test-assez-long"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    claims: dict[str, Any]


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class FakeOidcProvider:
    """``with FakeOidcProvider(redirect_uri=...) as idp: idp.issuer`` — serves until the block ends."""

    def __init__(
        self,
        *,
        redirect_uri: str = "",
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic",
    ) -> None:
        self.redirect_uri = redirect_uri
        self.client_id = client_id
        self.client_secret = client_secret
        self.auth_method = auth_method
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-oidc-1", "use": "sig"})
        self.issuer = ""
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._grants: dict[str, _Grant] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        """Faults off, default user, nothing recorded."""
        self.user: dict[str, Any] = {
            "sub": "sub-jeanne",
            "preferred_username": "jeanne.martin",
            "email": "jeanne.martin@exemple.gouv.fr",
            "given_name": "Jeanne",
            "usual_name": "Martin",
        }
        self.deny = False
        self.id_token_overrides: dict[str, Any] = {}
        self.proconnect = False
        self.userinfo_overrides: dict[str, Any] = {}
        self.token_error = False
        self.down = False
        self.slow = 0.0
        self.requests.clear()

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]

    def __enter__(self) -> FakeOidcProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider._handle(self, "GET")

            def do_POST(self) -> None:
                provider._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}/realms/agents"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # --- HTTP

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        params = dict(parse_qsl(url.query))
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            params |= dict(parse_qsl(handler.rfile.read(length).decode()))
        self.requests.append((method, url.path, params))
        if self.slow:
            time.sleep(self.slow)
        if self.down:
            return _send(handler, 503, {"error": "temporarily_unavailable"})
        prefix = urlsplit(self.issuer).path
        route = url.path.removeprefix(prefix)
        if method == "GET" and route == "/.well-known/openid-configuration":
            return _send(handler, 200, self._discovery())
        if method == "GET" and route == "/jwks":
            return _send(handler, 200, {"keys": [self.key.as_dict(private=False)]})
        if method == "GET" and route == "/authorize":
            return self._authorize(handler, params)
        if method == "POST" and route == "/token":
            return self._token(handler, params)
        if method == "GET" and route == "/userinfo":
            return self._userinfo(handler)
        return _send(handler, 404, {"error": "not_found"})

    def _discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [self.auth_method],
        }

    def _authorize(self, handler: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        # A real provider shows its own error page (never redirects) when the client or redirect URI is wrong.
        if params.get("client_id") != self.client_id or params.get("redirect_uri") != self.redirect_uri:
            return _send(handler, 400, {"error": "invalid_client_or_redirect_uri"})
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return _redirect(handler, self.redirect_uri, error="invalid_request", state=params.get("state"))
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return _redirect(handler, self.redirect_uri, error="invalid_request", state=params.get("state"))
        if self.deny:
            return _redirect(
                handler,
                self.redirect_uri,
                error="access_denied",
                error_description="L'utilisateur a annulé la connexion.",
                state=params.get("state"),
            )
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            client_id=self.client_id,
            redirect_uri=params["redirect_uri"],
            challenge=params["code_challenge"],
            nonce=params.get("nonce"),
            claims=dict(self.user),
        )
        return _redirect(handler, self.redirect_uri, code=code, state=params.get("state"))

    def _client_authenticated(self, handler: BaseHTTPRequestHandler, params: dict[str, str]) -> bool:
        if self.auth_method == "client_secret_post":
            return params.get("client_id") == self.client_id and params.get("client_secret") == self.client_secret
        header = handler.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return secrets.compare_digest(header.removeprefix("Basic "), expected)

    def _token(self, handler: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        if not self._client_authenticated(handler, params):
            return _send(handler, 401, {"error": "invalid_client"})
        grant = self._grants.pop(params.get("code", ""), None)  # codes are single-use
        if self.token_error or grant is None or params.get("grant_type") != "authorization_code":
            return _send(handler, 400, {"error": "invalid_grant"})
        if (
            params.get("redirect_uri") != grant.redirect_uri
            or _s256(params.get("code_verifier", "")) != grant.challenge
        ):
            return _send(handler, 400, {"error": "invalid_grant", "error_description": "PKCE or redirect_uri"})
        now = int(time.time())
        profile = {"sub": grant.claims["sub"]} if self.proconnect else grant.claims
        claims = {"iss": self.issuer, "aud": grant.client_id, "iat": now, "exp": now + 300, **profile}
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        claims.update(self.id_token_overrides)
        access_token = secrets.token_urlsafe(24)
        self._access_tokens[access_token] = grant.claims
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": 300}
        return _send(handler, 200, body | {"id_token": self._sign(claims)})

    def _userinfo(self, handler: BaseHTTPRequestHandler) -> None:
        claims = self._access_tokens.get(handler.headers.get("Authorization", "").removeprefix("Bearer "))
        if claims is None:
            return _send(handler, 401, {"error": "invalid_token"})
        claims = {**claims, **self.userinfo_overrides}
        if not self.proconnect:
            return _send(handler, 200, claims)
        data = self._sign({"iss": self.issuer, "aud": self.client_id, **claims}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/jwt")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key, algorithms=["RS256"])


def _send(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _redirect(handler: BaseHTTPRequestHandler, target: str, **params: str | None) -> None:
    query = urlencode({name: value for name, value in params.items() if value is not None})
    handler.send_response(302)
    handler.send_header("Location", f"{target}?{query}")
    handler.send_header("Content-Length", "0")
    handler.end_headers()
