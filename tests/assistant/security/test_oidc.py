"""OIDC bearer tokens against a real JWKS server on 127.0.0.1: every way a token can be wrong, rotation, outage."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from assistant.app import create_app
from assistant.errors import AuthenticationError, ServiceUnavailableError
from assistant.security import OidcVerifier
from tests.assistant.security.jwks_server import IdentityProvider, serve_identity_provider


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    with serve_identity_provider() as provider:
        yield provider


def _verifier(idp: IdentityProvider, **overrides: object) -> OidcVerifier:
    options: dict[str, object] = {"clock_skew_seconds": 5, "min_refresh_seconds": 0.0, "timeout_seconds": 1.0}
    options.update(overrides)
    return OidcVerifier(issuer=idp.issuer, audience=idp.audience, **options)  # type: ignore[arg-type]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_valid_rsa_and_ec_tokens_are_accepted(idp: IdentityProvider) -> None:
    verifier = _verifier(idp)
    try:
        assert (await verifier.verify(idp.token()))["sub"] == "sub-marie"
        assert (await verifier.verify(idp.token(kid="ec-1", alg="ES256")))["sub"] == "sub-marie"
        assert (await verifier.verify(idp.token(alg="PS256")))["sub"] == "sub-marie"
        assert idp.jwks_requests == 1, "the JWKS is cached"
    finally:
        await verifier.aclose()


def _forged(idp: IdentityProvider) -> str:
    intruder = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    return idp.token(key=intruder)


def _alg_none(idp: IdentityProvider) -> str:
    now = int(time.time())
    claims = {"iss": idp.issuer, "aud": idp.audience, "sub": "x", "exp": now + 60}
    return f"{_b64({'alg': 'none', 'kid': 'rsa-1'})}.{_b64(claims)}."


def _hs256_with_public_key(idp: IdentityProvider) -> str:
    # The classic confusion attack: HMAC keyed with the provider's *public* key, which anyone can fetch.
    # Built by hand: joserfc itself refuses to use a public key as an HMAC secret.
    public_pem = idp.key("rsa-1").as_pem(private=False)
    now = int(time.time())
    claims = {"iss": idp.issuer, "aud": idp.audience, "sub": "x", "exp": now + 60}
    signing_input = f"{_b64({'alg': 'HS256', 'kid': 'rsa-1'})}.{_b64(claims)}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda idp: idp.token(lifetime=-120), "expiré"),
        (lambda idp: idp.token(nbf=int(time.time()) + 600), "pas encore valide"),
        (lambda idp: idp.token(iat=int(time.time()) + 600), "pas encore valide"),
        (_forged, "signature invalide"),
        (lambda idp: idp.token(iss="https://evil.example"), "émetteur"),
        (lambda idp: idp.token(aud="another-app"), "audience"),
        (_alg_none, "algorithme de signature « none »"),
        (_hs256_with_public_key, "algorithme de signature « HS256 »"),
        (lambda idp: idp.token(kid="unknown", key=idp.key("rsa-1")), "clé de signature inconnue"),
        (lambda idp: "pas-un-jwt", "illisible"),
        (lambda idp: idp.token(sub=None), "manquante"),
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "issued-in-future",
        "forged",
        "issuer",
        "audience",
        "none",
        "hs256",
        "kid",
        "garbage",
        "no-sub",
    ],
)
async def test_bad_tokens_are_refused_with_a_clear_reason(idp: IdentityProvider, make, message: str) -> None:  # type: ignore[no-untyped-def]
    verifier = _verifier(idp)
    token = make(idp)
    if message == "manquante":
        now = int(time.time())
        claims = {"iss": idp.issuer, "aud": idp.audience, "exp": now + 60}
        token = jwt.encode({"alg": "RS256", "kid": "rsa-1"}, claims, idp.key("rsa-1"), algorithms=["RS256"])
    try:
        with pytest.raises(AuthenticationError, match=message):
            await verifier.verify(token)
    finally:
        await verifier.aclose()


async def test_key_rotation_refetches_on_unknown_kid_but_not_too_often(idp: IdentityProvider) -> None:
    verifier = _verifier(idp, min_refresh_seconds=30.0)
    try:
        await verifier.verify(idp.token())
        idp.keys.append(RSAKey.generate_key(2048, parameters={"kid": "rsa-2", "use": "sig"}))
        # The verifier has just fetched: an unknown kid within min_refresh is refused without a new fetch.
        with pytest.raises(AuthenticationError, match="inconnue"):
            await verifier.verify(idp.token(kid="rsa-2"))
        assert idp.jwks_requests == 1
    finally:
        await verifier.aclose()
    verifier = _verifier(idp, min_refresh_seconds=0.0)
    try:
        idp.keys = [idp.keys[0]]
        await verifier.verify(idp.token(kid="rsa-1"))
        idp.keys.append(RSAKey.generate_key(2048, parameters={"kid": "rsa-3", "use": "sig"}))
        assert (await verifier.verify(idp.token(kid="rsa-3")))["sub"] == "sub-marie"
        assert idp.jwks_requests == 3, "one fetch per verifier plus one for the rotation"
    finally:
        await verifier.aclose()


async def test_provider_down_or_too_slow_is_service_unavailable(idp: IdentityProvider) -> None:
    idp.down = True
    verifier = _verifier(idp)
    try:
        with pytest.raises(ServiceUnavailableError, match="injoignable"):
            await verifier.verify(idp.token())
    finally:
        await verifier.aclose()
    idp.down, idp.slow = False, 1.5
    verifier = _verifier(idp, timeout_seconds=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(ServiceUnavailableError, match="à temps"):
            await verifier.verify(idp.token())
    finally:
        await verifier.aclose()
    assert time.monotonic() - started < 1.2


def test_refuses_symmetric_algorithms_in_configuration() -> None:
    with pytest.raises(ValueError, match="HS256"):
        OidcVerifier(issuer="https://x", audience="y", algorithms=["RS256", "HS256"])


@pytest.fixture
def oidc_client(settings_factory, idp: IdentityProvider) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(
        settings_factory(
            oidc_issuer=idp.issuer,
            oidc_audience=idp.audience,
            oidc_http_timeout_seconds=1.0,
            oidc_jwks_min_refresh_seconds=0.0,
        )
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_first_login_provisions_the_user_with_mapped_role_and_groups(
    oidc_client: TestClient, idp: IdentityProvider
) -> None:
    token = idp.token(realm_access={"roles": ["souverain-referent"]}, groups=["/drees", "/drees/stats"])
    profile = oidc_client.get("/api/me", headers=_bearer(token))
    assert profile.status_code == 200, profile.text
    body = profile.json()
    assert (body["username"], body["role"], body["auth_method"]) == ("marie.curie", "referent", "oidc")
    assert body["groups"] == ["drees", "drees/stats"]
    assert "admin:users" in body["permissions"]
    # The IdP stays the source of truth: next sign-in with fewer roles and groups updates the account.
    token = idp.token(realm_access={"roles": ["souverain-agent"]}, groups=["/drees"], name="Marie S. Curie")
    again = oidc_client.get("/api/me", headers=_bearer(token)).json()
    assert (again["id"], again["role"], again["groups"], again["display_name"]) == (
        body["id"],
        "agent",
        ["drees"],
        "Marie S. Curie",
    )
    assert oidc_client.get("/api/admin/users", headers=_bearer(token)).status_code == 403


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda idp: idp.token(lifetime=-120), "token_expired"),
        (lambda idp: idp.token(aud="other"), "invalid_token"),
        (_alg_none, "invalid_token"),
    ],
)
def test_bad_tokens_get_401_in_the_error_envelope(
    oidc_client: TestClient, idp: IdentityProvider, make, code: str
) -> None:  # type: ignore[no-untyped-def]
    response = oidc_client.get("/api/me", headers=_bearer(make(idp)))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == code


def test_jwks_down_gives_503_with_a_clear_message(oidc_client: TestClient, idp: IdentityProvider) -> None:
    idp.down = True
    response = oidc_client.get("/api/me", headers=_bearer(idp.token()))
    assert response.status_code == 503
    assert "fournisseur d'identité" in response.json()["error"]["message"].lower()
