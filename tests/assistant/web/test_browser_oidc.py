"""«Se connecter avec ProConnect» in a real browser: the button, the provider's round trip, the chat, axe-core."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.app import create_app
from tests.assistant.web.browser import ROOT, serious_violations
from tests.factories import make_settings
from tests.fakes.live_app import LiveServer
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider


@dataclass
class OidcSite:
    url: str
    idp: FakeOidcProvider


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def oidc_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcSite]:
    # The provider must know our callback before the app starts: the app gets a port chosen in advance.
    port = _free_port()
    redirect = f"http://127.0.0.1:{port}/connexion/oidc/retour"
    with FakeOidcProvider(redirect_uri=redirect) as idp:
        settings = make_settings(
            data_dir=tmp_path_factory.mktemp("oidc-web-data"),
            web_assets_dir=ROOT / ".build" / "web",
            oidc_issuer=idp.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_redirect_url=redirect,
            default_requests_per_minute=10_000,
        )
        with LiveServer(create_app(settings), port=port) as server:
            yield OidcSite(url=server.url, idp=idp)


@pytest.fixture
def visitor(browser: Browser, oidc_site: OidcSite) -> Iterator[Page]:
    oidc_site.idp.reset()
    context = browser.new_context(base_url=oidc_site.url, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_sign_in_with_the_provider_button_reaches_the_chat(visitor: Page, oidc_site: OidcSite) -> None:
    page = visitor
    page.goto("/chat")
    expect(page).to_have_url(re.compile(r"/connexion\?suivant=%2Fchat$"))
    button = page.get_by_role("link", name="Se connecter avec ProConnect")
    expect(button).to_be_visible()
    assert serious_violations(page, "connexion-proconnect") == []

    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/chat$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Assistant")
    expect(page.locator(".sv-user").first).to_have_text("jeanne.martin")
    paths = [path.rsplit("/", 1)[-1] for path in oidc_site.idp.paths()]
    assert "authorize" in paths and "token" in paths


def test_a_refusal_at_the_provider_comes_back_as_an_accessible_alert(visitor: Page, oidc_site: OidcSite) -> None:
    oidc_site.idp.deny = True
    page = visitor
    page.goto("/connexion")
    page.get_by_role("link", name="Se connecter avec ProConnect").click()
    page.wait_for_url(re.compile(r"/connexion/oidc/retour\?"))
    expect(page.get_by_role("alert")).to_contain_text("Connexion annulée ou refusée chez le fournisseur d'identité.")
    expect(page.get_by_label("Identifiant", exact=True)).to_be_visible()
    assert serious_violations(page, "connexion-proconnect-refus") == []
