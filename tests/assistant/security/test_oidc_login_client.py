"""The web sign-in's protocol pieces on their own: PKCE, the signed flow cookie, discovery, settings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import ConfigurationError, ServiceUnavailableError
from assistant.security import IdentityProviderError, LoginFlow, LoginFlowSigner, OidcLoginClient, pkce_challenge
from tests.factories import make_settings
from tests.fakes import closed_port_url
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider

REDIRECT = "https://souverain.exemple.gouv.fr/connexion/oidc/retour"
FLOW = LoginFlow(state="s" * 43, nonce="n" * 43, code_verifier="v" * 86, next_path="/chat")


def test_pkce_challenge_matches_rfc_7636_appendix_b() -> None:
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_flow_cookie_round_trips_and_refuses_forgery_and_age(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = LoginFlowSigner("une-clé-secrète-de-test-bien-longue", max_age_seconds=600)
    value = signer.dump(FLOW)
    assert signer.load(value) == FLOW
    assert signer.load(value[:-2] + ("AA" if not value.endswith("AA") else "BB")) is None
    assert LoginFlowSigner("une-autre-clé", max_age_seconds=600).load(value) is None
    assert signer.load("n'importe quoi") is None
    later = time.time() + 601
    monkeypatch.setattr(time, "time", lambda: later)
    assert signer.load(value) == "expired"


@pytest.fixture
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(redirect_uri=REDIRECT) as provider:
        yield provider


def _client(idp: FakeOidcProvider, **overrides: object) -> OidcLoginClient:
    options: dict[str, object] = {
        "issuer": idp.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_url": REDIRECT,
        "scopes": ["openid", "email"],
        "timeout_seconds": 5.0,
    }
    options.update(overrides)
    return OidcLoginClient(**options)  # type: ignore[arg-type]


async def test_discovery_is_cached_and_checks_the_issuer(idp: FakeOidcProvider) -> None:
    client = _client(idp)
    try:
        first = await client.authorization_request(next_path="/chat")
        second = await client.authorization_request(next_path="/chat")
        assert first.flow.state != second.flow.state and first.flow.nonce != second.flow.nonce
        assert idp.paths().count("/realms/agents/.well-known/openid-configuration") == 1
        assert (await client.metadata()).end_session_endpoint == f"{idp.issuer}/logout"
    finally:
        await client.aclose()
    impostor = _client(idp, issuer=idp.issuer + "/")
    try:
        with pytest.raises(IdentityProviderError, match="annonce l'émetteur"):
            await impostor.metadata()
    finally:
        await impostor.aclose()


async def test_unreachable_provider_is_service_unavailable_and_old_endpoints_survive(idp: FakeOidcProvider) -> None:
    client = _client(idp, cache_seconds=0.0)
    try:
        await client.metadata()
        idp.down = True
        assert (await client.metadata()).token_endpoint == f"{idp.issuer}/token", "kept while the provider is down"
    finally:
        await client.aclose()
    cold = _client(idp)
    try:
        with pytest.raises(ServiceUnavailableError, match="indisponible"):
            await cold.metadata()
    finally:
        await cold.aclose()
    nobody = _client(idp, issuer=closed_port_url())
    try:
        with pytest.raises(ServiceUnavailableError, match="injoignable"):
            await nobody.metadata()
    finally:
        await nobody.aclose()


def _web_settings(tmp_path: Path, **overrides: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {
        "data_dir": tmp_path,
        "oidc_issuer": "https://sso.exemple.gouv.fr/realms/agents",
        "oidc_client_id": "souverain",
        "oidc_client_secret": "9f2c4e1a7b3d5f60812a4c6e8b0d2f41",
        "public_url": "https://souverain.exemple.gouv.fr",
    }
    options.update(overrides)
    return make_settings(**options)


def test_settings_derive_the_redirect_url_and_default_the_audience(tmp_path: Path) -> None:
    settings = _web_settings(tmp_path)
    assert settings.oidc_effective_redirect_url == REDIRECT
    assert settings.oidc.web_login_enabled
    assert not _web_settings(tmp_path, oidc_client_id=None, oidc_audience="souverain").oidc.web_login_enabled
    # A client id without a secret only names the bearer tokens' audience (as older deployments set it).
    bearer_only = _web_settings(tmp_path, oidc_client_secret=None, public_url=None)
    assert not bearer_only.oidc.web_login_enabled and bearer_only.oidc.client_id == "souverain"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"public_url": None}, "OIDC_REDIRECT_URL \\(or SOUVERAIN_PUBLIC_URL\\) is required"),
        ({"oidc_redirect_url": "https://souverain.exemple.gouv.fr/ailleurs"}, "must end with /connexion/oidc/retour"),
        ({"oidc_redirect_url": "/connexion/oidc/retour"}, "absolute http\\(s\\) address"),
        ({"oidc_scopes": ["email"]}, "must include openid"),
        ({"environment": "production", "oidc_client_secret": "changeme"}, "the secret the provider issued"),
        ({"environment": "production", "public_url": "http://souverain.local"}, "https:// address in production"),
    ],
    ids=["no-redirect", "wrong-path", "relative", "no-openid", "placeholder", "http-prod"],
)
def test_settings_refuse_an_unusable_web_sign_in(tmp_path: Path, overrides: dict[str, object], message: str) -> None:
    production = {"secret_key": "x" * 40, "signing_key": "k", "database_url": "postgresql://u@h/db"}
    if overrides.get("environment") == "production":
        overrides = {**production, **overrides}
    with pytest.raises(ConfigurationError, match=message):
        _web_settings(tmp_path, **overrides)
