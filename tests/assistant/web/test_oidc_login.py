"""«Se connecter avec ProConnect» over HTTP against a real fake OIDC provider on 127.0.0.1.

The app runs in a TestClient; the provider's leg of the flow (authorize → redirect back) goes over a real socket
with httpx, as a browser would follow it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.services.governance.audit_log import search_events
from tests.factories import run, runtime_of
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider

APP = "http://testserver"
REDIRECT = f"{APP}/connexion/oidc/retour"


@pytest.fixture
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(redirect_uri=REDIRECT) as provider:
        yield provider


def _app(settings_factory, idp: FakeOidcProvider, **overrides: object) -> FastAPI:  # type: ignore[no-untyped-def]
    options: dict[str, object] = {
        "oidc_issuer": idp.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_redirect_url": REDIRECT,
        # Generous: the machine running the suite may be busy; the slow-provider test sets its own.
        "oidc_http_timeout_seconds": 5.0,
        "oidc_jwks_min_refresh_seconds": 0.0,
    }
    options.update(overrides)
    return create_app(settings_factory(**options))


@pytest.fixture
def app(settings_factory, idp: FakeOidcProvider) -> FastAPI:  # type: ignore[no-untyped-def]
    return _app(settings_factory, idp)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


def _to_provider(client: TestClient, next_path: str = "/chat") -> str:
    """Click the button: the address of the provider's authorization page."""
    start = client.get("/connexion/oidc", params={"suivant": next_path})
    assert start.status_code == 303, start.text
    return start.headers["location"]


def _back_from_provider(authorize_url: str) -> str:
    """The provider's answer (a redirection to our callback), as a path on the app."""
    answer = httpx.get(authorize_url, follow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = answer.headers["location"]
    assert back.startswith(REDIRECT + "?")
    return back.removeprefix(APP)


def _sign_in(client: TestClient, next_path: str = "/chat") -> httpx.Response:
    return client.get(_back_from_provider(_to_provider(client, next_path)))


def _alert(response: httpx.Response) -> str:
    match = re.search(r'id="connexion-sso-erreur"><p>(.*?)</p>', response.text, re.S)
    assert match, response.text[:2000]
    return match.group(1)


def _events(client: TestClient, app: FastAPI) -> list[tuple[str, dict[str, object]]]:
    events = run(client, search_events(runtime_of(app), action_prefix="login"))
    return [(event.outcome, event.details) for event in events]


def test_the_button_appears_only_when_configured(client: TestClient, settings_factory) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/connexion", params={"suivant": "/mes-donnees"})
    assert 'class="fr-connect" href="/connexion/oidc?suivant=/mes-donnees"' in page.text
    assert re.search(r"Se connecter avec</span>\s*<span class=\"fr-connect__brand\">ProConnect<", page.text)

    with TestClient(create_app(settings_factory()), follow_redirects=False) as plain:
        assert "/connexion/oidc" not in plain.get("/connexion").text
        refused = plain.get("/connexion/oidc")
        assert refused.status_code == 404
        assert "n'est pas configurée" in _alert(refused).replace("&#39;", "'")


def test_label_and_plain_button_are_configurable(settings_factory, idp: FakeOidcProvider) -> None:  # type: ignore[no-untyped-def]
    app = _app(settings_factory, idp, oidc_login_label="SSO Ministère", oidc_login_button="standard")
    with TestClient(app) as test_client:
        page = test_client.get("/connexion").text
    assert "fr-connect" not in page
    assert (
        'class="fr-btn fr-btn--secondary" href="/connexion/oidc?suivant=/chat">Se connecter avec SSO Ministère<' in page
    )


def test_the_authorization_request_carries_pkce_state_and_nonce(client: TestClient, idp: FakeOidcProvider) -> None:
    url = urlsplit(_to_provider(client))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{idp.issuer}/authorize"
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT and query["scope"].split() == ["openid", "email", "profile"]
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43 and query["state"] != query["nonce"]
    # The flow cookie: HttpOnly, Lax (the provider's redirect back is cross-site), scoped to the flow's paths.
    cookie = next(c for c in client.cookies.jar if c.name == "souverain_session_oidc")
    assert cookie.path == "/connexion/oidc" and cookie.has_nonstandard_attr("HttpOnly")


def test_sign_in_opens_a_session_that_works_on_the_chat(
    client: TestClient, app: FastAPI, idp: FakeOidcProvider
) -> None:
    back = _sign_in(client, "/mes-donnees")
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/mes-donnees"
    set_cookies = back.headers.get_list("set-cookie")
    session = next(value for value in set_cookies if value.startswith("souverain_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session
    assert any(value.startswith("souverain_csrf=") for value in set_cookies)
    assert any(value.startswith("souverain_session_oidc=") and "Max-Age=0" in value for value in set_cookies)

    chat = client.get("/chat")
    assert chat.status_code == 200 and "jeanne.martin" in chat.text
    me = client.get("/api/me").json()
    assert (me["username"], me["role"], me["display_name"], me["auth_method"]) == (
        "jeanne.martin",
        "agent",
        "Jeanne Martin",
        "session",
    )
    # The token request proved possession of the PKCE verifier and authenticated the client (Basic by default).
    method, _path, form = next(request for request in idp.requests if request[1].endswith("/token"))
    assert method == "POST"
    assert form["grant_type"] == "authorization_code" and len(form["code_verifier"]) >= 43
    assert "client_secret" not in form
    assert ("success", {"method": "oidc", "flow": "authorization_code"}) in _events(client, app)

    # The CSRF token of the session guards writes as for a password sign-in; logout ends the session.
    csrf = client.cookies["souverain_csrf"]
    out = client.post("/deconnexion", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/connexion?deconnecte=1"
    client.cookies.clear()
    assert client.get("/chat").status_code == 303


def test_unsafe_next_path_falls_back_to_the_chat(client: TestClient) -> None:
    back = _sign_in(client, "//evil.example/phish")
    assert back.status_code == 303 and back.headers["location"] == "/chat"


def test_the_provider_stays_the_source_of_roles(settings_factory, idp: FakeOidcProvider) -> None:  # type: ignore[no-untyped-def]
    app = _app(settings_factory, idp, oidc_default_role=None)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        idp.user["realm_access"] = {"roles": ["souverain-auditeur"]}
        idp.user["groups"] = ["/drees"]
        assert _sign_in(client).status_code == 303
        me = client.get("/api/me").json()
        assert (me["role"], me["groups"]) == ("auditeur", ["drees"])
        assert client.get("/chat").status_code == 403, "deny by default: an auditor has no chat"

        client.cookies.clear()
        idp.user.update(sub="sub-paul", preferred_username="paul.sans.role", realm_access={"roles": ["autre"]})
        refused = _sign_in(client)
        assert refused.status_code == 403
        assert "Aucun rôle Souverain" in _alert(refused)
        assert "souverain_session=" not in refused.headers.get("set-cookie", "")
        assert ("failure", {"method": "oidc", "flow": "authorization_code", "reason": "no_role"}) in [
            (outcome, {k: v for k, v in details.items() if k != "message"}) for outcome, details in _events(client, app)
        ]


def test_client_secret_post_is_supported(settings_factory) -> None:  # type: ignore[no-untyped-def]
    with FakeOidcProvider(redirect_uri=REDIRECT, auth_method="client_secret_post") as idp:
        app = _app(settings_factory, idp, oidc_client_auth_method="client_secret_post")
        with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
            assert _sign_in(client).status_code == 303
            token_request = next(request for request in idp.requests if request[1].endswith("/token"))
            assert token_request[2]["client_secret"] == CLIENT_SECRET


def _reason(client: TestClient, app: FastAPI) -> str:
    outcome, details = _events(client, app)[0]
    assert outcome == "failure"
    return str(details["reason"])


def test_state_mismatch_is_refused(client: TestClient, app: FastAPI) -> None:
    back = _back_from_provider(_to_provider(client))
    forged = re.sub(r"state=[^&]+", "state=pas-le-bon", back)
    response = client.get(forged)
    assert response.status_code == 400
    assert "ne correspond pas à votre demande" in _alert(response)
    assert "souverain_session=" not in response.headers.get("set-cookie", "")
    assert _reason(client, app) == "state_mismatch"


def test_a_callback_from_another_browser_or_replayed_is_refused(client: TestClient, app: FastAPI) -> None:
    back = _back_from_provider(_to_provider(client))
    assert client.get(back).status_code == 303
    # The flow cookie was used up: the same answer again (replay) finds no flow.
    replay = client.get(back)
    assert replay.status_code == 400
    assert "a expiré ou a été commencée dans un autre navigateur" in _alert(replay)
    assert _reason(client, app) == "login_flow_expired"


def test_nonce_mismatch_is_refused(client: TestClient, app: FastAPI, idp: FakeOidcProvider) -> None:
    idp.id_token_overrides = {"nonce": "un-autre-nonce"}
    response = _sign_in(client)
    assert response.status_code == 401
    assert "nonce inattendu" in _alert(response)
    assert _reason(client, app) == "invalid_token"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"aud": "une-autre-application"}, "audience (aud) inattendue"),
        ({"iss": "https://usurpateur.example"}, "émetteur (iss) inattendu"),
        ({"exp": int(time.time()) - 600}, "expiré"),
        ({"aud": [CLIENT_ID, "autre"], "azp": "autre"}, "azp"),
    ],
    ids=["audience", "issuer", "expired", "azp"],
)
def test_invalid_id_tokens_are_refused(
    client: TestClient, idp: FakeOidcProvider, overrides: dict[str, object], message: str
) -> None:
    idp.id_token_overrides = overrides
    response = _sign_in(client)
    assert response.status_code == 401
    assert message in _alert(response)


def test_the_user_cancelling_at_the_provider_is_explained(
    client: TestClient, app: FastAPI, idp: FakeOidcProvider
) -> None:
    idp.deny = True
    response = _sign_in(client)
    assert response.status_code == 401
    assert "Connexion annulée ou refusée" in _alert(response)
    assert "annulé la connexion" in _alert(response)
    assert _reason(client, app) == "provider_refused"


def test_token_endpoint_failure_is_a_bad_gateway(client: TestClient, app: FastAPI, idp: FakeOidcProvider) -> None:
    idp.token_error = True
    response = _sign_in(client)
    assert response.status_code == 502
    assert "a refusé la demande : HTTP 400 (invalid_grant)" in _alert(response)
    assert _reason(client, app) == "identity_provider_error"


def test_provider_down_or_slow_gives_a_clear_page_quickly(settings_factory, idp: FakeOidcProvider) -> None:  # type: ignore[no-untyped-def]
    app = _app(settings_factory, idp, oidc_http_timeout_seconds=0.5)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        idp.down = True
        response = client.get("/connexion/oidc")
        assert response.status_code == 503
        assert "Le fournisseur d&#39;identité est indisponible (HTTP 503)" in _alert(response)
        idp.down, idp.slow = False, 3.0
        started = time.monotonic()
        response = client.get("/connexion/oidc")
        elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"the configured timeout (0.5 s) bounds the wait, not the provider: {elapsed:.2f} s"
    assert response.status_code == 503
    assert "ne répond pas à temps" in _alert(response)
    # The password form is still there: the local accounts keep working.
    assert 'name="mot_de_passe"' in response.text


def test_proconnect_profile_comes_from_the_signed_userinfo(settings_factory, idp: FakeOidcProvider) -> None:  # type: ignore[no-untyped-def]
    # ProConnect's shape: no role claim, the login name is the e-mail, the names are given_name + usual_name.
    app = _app(settings_factory, idp, oidc_username_claim="email", oidc_roles_claim=None, oidc_groups_claim=None)
    idp.proconnect = True
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        assert _sign_in(client).status_code == 303
        me = client.get("/api/me").json()
        assert (me["username"], me["display_name"], me["email"]) == (
            "jeanne.martin@exemple.gouv.fr",
            "Jeanne Martin",
            "jeanne.martin@exemple.gouv.fr",
        )
        assert idp.paths()[-1].endswith("/userinfo")

        client.cookies.clear()
        idp.userinfo_overrides = {"sub": "quelqu-un-d-autre"}
        refused = _sign_in(client)
        assert refused.status_code == 401
        assert "ne concernent pas la personne connectée" in _alert(refused)
