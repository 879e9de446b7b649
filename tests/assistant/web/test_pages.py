"""The web pages over HTTP (no browser): policies, sign-in and out, CSRF, static files, headers, French formats."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import assistant.web
from assistant.app import create_app
from assistant.store.models import Role
from assistant.web import WebAssets, format_date_fr, format_number_fr, safe_next_path
from tests.factories import PASSWORD, make_account


@pytest.fixture
def app(settings_factory) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(settings_factory())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        make_account(test_client, app, "agent.web", Role.AGENT)
        make_account(test_client, app, "auditeur.web", Role.AUDITEUR)
        yield test_client


def _login_token(html: str) -> str:
    match = re.search(r'name="jeton" value="([^"]+)"', html)
    assert match, "the login form carries its anti-CSRF token"
    return match.group(1)


def _sign_in(client: TestClient, username: str, *, next_path: str = "/chat") -> str:
    """Sign in through the form; returns the page's anti-CSRF token."""
    form = client.get("/connexion", params={"suivant": next_path})
    response = client.post(
        "/connexion",
        data={
            "identifiant": username,
            "mot_de_passe": PASSWORD,
            "jeton": _login_token(form.text),
            "suivant": next_path,
        },
    )
    assert response.status_code == 303, response.text
    page = client.get("/mes-donnees")
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert match
    return match.group(1)


def test_public_surface() -> None:
    assert set(assistant.web.__all__) == {
        "LoginRequiredError",
        "PageForbiddenError",
        "RequirePage",
        "WebAssets",
        "WebCaller",
        "WebPageError",
        "format_date_fr",
        "format_number_fr",
        "install_web",
        "safe_next_path",
    }


@pytest.mark.parametrize("path", ["/chat", "/mes-donnees"])
def test_anonymous_visitors_are_sent_to_the_login_page_and_back(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/connexion?suivant=%2F{path[1:]}"
    form = client.get(response.headers["location"])
    assert f'name="suivant" value="{path}"' in form.text


def test_sign_in_opens_a_session_and_returns_to_the_page(client: TestClient) -> None:
    form = client.get("/connexion", params={"suivant": "/mes-donnees"})
    assert form.status_code == 200 and '<html lang="fr"' in form.text
    response = client.post(
        "/connexion",
        data={
            "identifiant": "agent.web",
            "mot_de_passe": PASSWORD,
            "jeton": _login_token(form.text),
            "suivant": "/mes-donnees",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/mes-donnees"
    set_cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in set_cookies if c.startswith("souverain_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    page = client.get("/mes-donnees")
    assert page.status_code == 200
    assert "<dd>agent.web</dd>" in page.text and "<dd>Agent</dd>" in page.text
    assert "500\u202f000" in page.text, "numbers in French format"


def test_wrong_password_shows_a_french_error_and_keeps_the_username(client: TestClient) -> None:
    form = client.get("/connexion")
    response = client.post(
        "/connexion", data={"identifiant": "agent.web", "mot_de_passe": "faux", "jeton": _login_token(form.text)}
    )
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in response.text
    assert 'value="agent.web"' in response.text and 'role="alert"' in response.text
    assert "souverain_session" not in response.headers.get("set-cookie", "")


def test_login_form_refuses_a_post_without_its_token(client: TestClient) -> None:
    # Login CSRF: another site posting its own credentials into the user's browser.
    client.get("/connexion")
    response = client.post("/connexion", data={"identifiant": "agent.web", "mot_de_passe": PASSWORD, "jeton": "forged"})
    assert response.status_code == 400 and "expiré" in response.text
    assert client.get("/chat").status_code == 303, "no session was opened"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/mes-donnees", "/mes-donnees"),
        ("https://evil.example/", "/chat"),
        ("//evil.example/", "/chat"),
        ("/\\evil.example", "/chat"),
        ("", "/chat"),
        ("/chat\r\nSet-Cookie: x=1", "/chat"),
    ],
)
def test_only_local_paths_are_followed_after_sign_in(target: str, expected: str) -> None:
    assert safe_next_path(target) == expected


def test_sign_out_needs_the_csrf_token_then_ends_the_session(client: TestClient) -> None:
    csrf = _sign_in(client, "agent.web")
    refused = client.post("/deconnexion", data={})
    assert refused.status_code == 403 and "formulaire a expiré" in refused.text
    assert client.get("/chat").status_code == 200, "a refused sign-out leaves the session alone"
    response = client.post("/deconnexion", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/connexion?deconnecte=1"
    assert client.get("/chat").status_code == 303
    assert "Vous êtes déconnecté·e." in client.get("/connexion?deconnecte=1").text


def test_a_role_without_the_permission_gets_a_french_403_page(client: TestClient) -> None:
    _sign_in(client, "auditeur.web", next_path="/mes-donnees")
    response = client.get("/chat")
    assert response.status_code == 403
    assert "Accès refusé" in response.text and "référent IA" in response.text
    assert response.headers["content-type"].startswith("text/html")
    # Navigation only offers what the role may open.
    page = client.get("/mes-donnees").text
    assert 'href="/chat"' not in page and 'href="/mes-donnees"' in page
    assert client.get("/").headers["location"] == "/mes-donnees"


def test_pages_send_security_headers_and_no_inline_script(client: TestClient) -> None:
    _sign_in(client, "agent.web")
    response = client.get("/chat")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, flags=re.S)
    assert scripts and all("src=" in attributes and not body.strip() for attributes, body in scripts)


def test_public_pages_render_for_anonymous_visitors(client: TestClient) -> None:
    for path, heading in [("/accessibilite", "Déclaration d'accessibilité"), ("/bonnes-pratiques", "Bonnes pratiques")]:
        response = client.get(path)
        assert response.status_code == 200
        assert f"<h1>{heading}</h1>" in response.text.replace("&#39;", "'")
        assert "Se déconnecter" not in response.text
    assert "partiellement conforme" in client.get("/accessibilite").text


def test_static_files_are_served_and_confined(client: TestClient) -> None:
    css = client.get("/static/souverain.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/static/chat.js").headers["content-type"].startswith("text/javascript")
    for escape in ["/static/%2e%2e/_pages.py", "/static/dsfr/%2e%2e/%2e%2e/%2e%2e/package.json", "/static/nope.css"]:
        assert client.get(escape).status_code == 404, escape


def test_missing_front_end_packages_fall_back_to_plain_pages(settings_factory, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "absent"
    app = create_app(settings_factory(web_assets_dir=missing))
    # configure_logging (in create_app) replaced the root handlers, caplog's included: listen on ours directly.
    web_logger = logging.getLogger("assistant.web")
    web_logger.addHandler(caplog.handler)
    try:
        WebAssets(root=missing).warn_if_missing()
    finally:
        web_logger.removeHandler(caplog.handler)
    assert "DSFR introuvable" in caplog.text and "build.sh" in caplog.text
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/connexion")
        assert page.status_code == 200
        assert "/static/dsfr/" not in page.text and "/static/souverain.css" in page.text


def test_french_formats() -> None:
    assert format_date_fr(datetime(2026, 12, 3, 13, 5, tzinfo=UTC)) == "3 décembre 2026 à 14:05"
    assert format_date_fr(None) == "—"
    assert format_number_fr(1234.567) == "1\u202f234,57"
    assert format_number_fr(500000, 0) == "500\u202f000"
