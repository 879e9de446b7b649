"""Validation of OIDC bearer tokens (JWTs) against the provider's published keys (JWKS), with joserfc.

Checks: algorithm in an asymmetric allow-list (so ``none`` and HS* signed with a public key are refused before
any cryptography), signature with the key named by ``kid``, then ``iss``, ``aud``, ``exp``, ``nbf``, ``iat`` and
``sub`` with a clock-skew leeway. The JWKS is cached for a TTL and fetched again when a token names an unknown
``kid`` (key rotation), at most once per ``min_refresh_seconds`` so that forged kids cannot hammer the provider.
The web sign-in's ID tokens (:meth:`OidcVerifier.verify_id_token`: audience = client id, ``nonce``) and signed
userinfo answers (:meth:`OidcVerifier.verify_userinfo`) go through the same keys and checks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import ECKey, KeySet, RSAKey

from assistant.errors import AuthenticationError, ServiceUnavailableError

__all__ = ["ALLOWED_ALGORITHMS", "OidcVerifier"]

logger = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256", "PS256"})
_KEY_TYPES: dict[str, type[RSAKey] | type[ECKey]] = {"RS256": RSAKey, "PS256": RSAKey, "ES256": ECKey}
_MAX_TOKEN_LENGTH = 16_384


class OidcVerifier:
    """Validates bearer JWTs of one provider and returns their claims.

    >>> verifier = OidcVerifier(issuer="https://sso.example.gouv.fr/realms/agents", audience="souverain")
    >>> claims = await verifier.verify(token)  # AuthenticationError (401) or ServiceUnavailableError (503)
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        algorithms: frozenset[str] | set[str] | list[str] = ALLOWED_ALGORITHMS,
        clock_skew_seconds: int = 60,
        cache_seconds: float = 3600.0,
        min_refresh_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        refused = set(algorithms) - ALLOWED_ALGORITHMS
        if refused:
            raise ValueError(f"algorithms not allowed for OIDC tokens: {sorted(refused)}")
        self.issuer = issuer
        self.audience = audience
        self._jwks_url = jwks_url
        self._algorithms = frozenset(algorithms)
        self._leeway = clock_skew_seconds
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._client = httpx.AsyncClient(timeout=timeout_seconds, transport=transport, follow_redirects=False)
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        """Release the HTTP connections."""
        await self._client.aclose()

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; :class:`AuthenticationError` with the reason otherwise."""
        claims = await self._decode(token)
        self._validate_claims(claims, audience=self.audience)
        return claims

    async def verify_id_token(self, token: str, *, client_id: str, nonce: str) -> dict[str, Any]:
        """The claims of an ID token answering our authorization request (OIDC Core 3.1.3.7).

        Same keys, algorithms and checks as :meth:`verify`, with ``aud`` the client id, ``iat`` required, and the
        ``nonce`` we sent: a token issued for another login (replayed, or from another browser) is refused.
        """
        claims = await self._decode(token)
        self._validate_claims(claims, audience=client_id, nonce=nonce)
        audiences = claims["aud"] if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if len(audiences) > 1 and claims.get("azp") != client_id:
            raise AuthenticationError(
                "Jeton d'identité refusé : plusieurs audiences sans « azp » égal à notre identifiant client.",
                code="invalid_token",
            )
        return claims

    async def verify_userinfo(self, token: str, *, client_id: str) -> dict[str, Any]:
        """The claims of a signed userinfo response (``application/jwt``, as ProConnect sends): same keys and
        algorithms; ``iss`` and ``aud`` checked when present (OIDC Core 5.3.2 makes them optional there)."""
        claims = await self._decode(token)
        registry = jwt.JWTClaimsRegistry(
            leeway=self._leeway, iss={"value": self.issuer}, aud={"value": client_id}, sub={"essential": True}
        )
        try:
            registry.validate(claims)
        except InvalidClaimError as exc:
            raise AuthenticationError(
                f"Informations d'identité refusées : {_describe_claim(exc)}.", code="invalid_token"
            ) from exc
        except JoseError as exc:
            raise AuthenticationError(
                f"Informations d'identité refusées : {exc.description or exc.error}.", code="invalid_token"
            ) from exc
        return claims

    async def _decode(self, token: str) -> dict[str, Any]:
        if len(token) > _MAX_TOKEN_LENGTH:
            raise AuthenticationError("Jeton d'identité refusé : trop long.", code="invalid_token")
        header = _header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise AuthenticationError(
                f"Jeton d'identité refusé : algorithme de signature « {alg} » non autorisé "
                f"(acceptés : {', '.join(sorted(self._algorithms))}).",
                code="invalid_token",
            )
        kid = header.get("kid")
        key = await self._key_for(kid if isinstance(kid, str) else None, alg)
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except BadSignatureError as exc:
            raise AuthenticationError("Jeton d'identité refusé : signature invalide.", code="invalid_token") from exc
        except JoseError as exc:
            raise AuthenticationError(
                f"Jeton d'identité refusé : {exc.description or exc.error}.", code="invalid_token"
            ) from exc
        return dict(decoded.claims)

    def _validate_claims(self, claims: dict[str, Any], *, audience: str, nonce: str | None = None) -> None:
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }
        if nonce is not None:
            options["iat"] = {"essential": True}
            options["nonce"] = {"essential": True, "value": nonce}
        registry = jwt.JWTClaimsRegistry(leeway=self._leeway, **options)
        try:
            registry.validate(claims)
        except ExpiredTokenError as exc:
            raise AuthenticationError("Jeton d'identité expiré : reconnectez-vous.", code="token_expired") from exc
        except MissingClaimError as exc:
            raise AuthenticationError(
                f"Jeton d'identité refusé : revendication manquante ({exc.description}).", code="invalid_token"
            ) from exc
        except InvalidClaimError as exc:
            raise AuthenticationError(
                f"Jeton d'identité refusé : {_describe_claim(exc)}.", code="invalid_token"
            ) from exc
        except JoseError as exc:
            raise AuthenticationError(
                f"Jeton d'identité refusé : {exc.description or exc.error}.", code="invalid_token"
            ) from exc

    async def _key_for(self, kid: str | None, alg: str) -> RSAKey | ECKey:
        keys = await self._current_keys()
        key = _find_key(keys, kid, alg)
        if key is None and time.monotonic() - self._fetched_at >= self._min_refresh:
            # An unknown kid usually means the provider rotated its keys: look again, once.
            keys = await self._refresh(force=True)
            key = _find_key(keys, kid, alg)
        if key is None:
            raise AuthenticationError(
                f"Jeton d'identité refusé : clé de signature inconnue (kid « {kid} »).", code="invalid_token"
            )
        return key

    async def _current_keys(self) -> KeySet:
        if self._keys is not None and time.monotonic() - self._fetched_at < self._cache_seconds:
            return self._keys
        return await self._refresh(force=False)

    async def _refresh(self, *, force: bool) -> KeySet:
        async with self._lock:
            fresh = time.monotonic() - self._fetched_at < (self._min_refresh if force else self._cache_seconds)
            if self._keys is not None and fresh:
                return self._keys  # another request refreshed while we waited
            try:
                self._keys = await self._fetch_keys()
            except ServiceUnavailableError:
                if self._keys is None or force:
                    raise
                logger.warning("JWKS refresh failed; keeping the previous keys for now")
                return self._keys
            finally:
                # Failed fetches count too: the next attempt waits, instead of every request hitting a dead IdP.
                self._fetched_at = time.monotonic()
            return self._keys

    async def _fetch_keys(self) -> KeySet:
        jwks_url = self._jwks_url or await self._discover_jwks_url()
        document = await self._get_json(jwks_url)
        raw_keys = document.get("keys")
        if not isinstance(raw_keys, list):
            raise ServiceUnavailableError("Le fournisseur d'identité a publié un JWKS invalide (pas de « keys »).")
        usable: list[dict[str, Any]] = []
        for raw in raw_keys:
            if isinstance(raw, dict) and raw.get("use", "sig") == "sig" and raw.get("kty") in {"RSA", "EC"}:
                usable.append(raw)
        try:
            keys = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError) as exc:
            raise ServiceUnavailableError(f"JWKS du fournisseur d'identité illisible : {exc}") from exc
        logger.info("JWKS fetched: %d signing keys", len(keys.keys))
        return keys

    async def _discover_jwks_url(self) -> str:
        config = await self._get_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
        jwks_uri = config.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise ServiceUnavailableError("La configuration OIDC du fournisseur ne donne pas de « jwks_uri ».")
        self._jwks_url = jwks_uri
        return jwks_uri

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
        except httpx.TimeoutException as exc:
            raise ServiceUnavailableError(
                f"Le fournisseur d'identité ne répond pas à temps ({url}) ; réessayez dans un instant."
            ) from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailableError(
                f"Fournisseur d'identité injoignable ({url}) : {type(exc).__name__} ; réessayez plus tard."
            ) from exc
        if not isinstance(body, dict):
            raise ServiceUnavailableError(f"Réponse inattendue du fournisseur d'identité ({url}).")
        return body


def _header(token: str) -> dict[str, Any]:
    try:
        compact = jws.extract_compact(token.encode("ascii"))
    except (JoseError, ValueError, UnicodeError) as exc:
        raise AuthenticationError("Jeton d'identité illisible (JWT compact attendu).", code="invalid_token") from exc
    return dict(compact.protected)


def _find_key(keys: KeySet, kid: str | None, alg: str) -> RSAKey | ECKey | None:
    expected = _KEY_TYPES[alg]
    candidates = [key for key in keys.keys if isinstance(key, expected)]
    if kid is None:
        # Some providers publish a single key and omit kid; anything more would be a guess.
        return candidates[0] if len(candidates) == 1 else None
    for key in candidates:
        if key.kid == kid:
            return key
    return None


def _describe_claim(exc: InvalidClaimError) -> str:
    claim = exc.claim
    if claim == "iss":
        return "émetteur (iss) inattendu"
    if claim == "aud":
        return "audience (aud) inattendue"
    if claim == "nonce":
        return "nonce inattendu (connexion rejouée ou commencée dans un autre navigateur)"
    if claim in {"nbf", "iat"}:
        return f"pas encore valide ({claim} dans le futur ; vérifiez l'horloge)"
    return f"revendication « {claim} » invalide"
