"""The charter in a real browser: publication with preview, the gate and acceptance, the guard-rule editor."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.assistant.web.browser import Site, serious_violations
from tests.assistant.web.governance_site import governance_site
from tests.factories import PASSWORD
from tests.fakes import FakeUpstream


@pytest.fixture(scope="module")
def charter_site(tmp_path_factory: pytest.TempPathFactory, _openai_upstream_server: FakeUpstream) -> Iterator[Site]:
    with governance_site(tmp_path_factory.mktemp("charter-web"), _openai_upstream_server) as site:
        yield site


@pytest.fixture
def new_page(browser: Browser, charter_site: Site) -> Iterator[Page]:
    context = browser.new_context(base_url=charter_site.url, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _log_in(page: Page, username: str, start: str) -> None:
    page.goto(start)
    page.get_by_label("Identifiant", exact=True).fill(username)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def test_publish_then_every_user_accepts_before_use(new_page: Page, browser: Browser, charter_site: Site) -> None:
    page = new_page
    _log_in(page, "referent.gouv", "/admin/charte")
    expect(page.get_by_role("heading", level=1)).to_have_text("Charte d'utilisation")
    assert serious_violations(page, "admin-charte") == []

    page.locator("#titre").fill("Charte de la préfecture")
    page.get_by_label("Résumé des règles (obligatoire)").fill("- Vérifiez tout.\n- Pas de données sensibles.")
    page.get_by_label("Texte complet (obligatoire)").fill(
        "# Charte\n\n## Article 1 — Vérifier\n\nRelisez **toujours** les réponses. <script>alert(1)</script>"
    )
    page.get_by_role("button", name="Prévisualiser").click()
    preview = page.locator("#apercu")
    expect(preview.get_by_role("heading", name="Article 1 — Vérifier")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("toujours")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    assert serious_violations(page, "admin-charte-apercu") == []

    page.get_by_role("button", name="Publier la nouvelle version").click()
    expect(page.get_by_role("status")).to_contain_text("Version 1 publiée")
    expect(page.locator("table").first).to_contain_text("Charte de la préfecture")

    agent_context = browser.new_context(base_url=charter_site.url, locale="fr-FR", bypass_csp=True)
    agent = agent_context.new_page()
    agent.set_default_timeout(10_000)
    _log_in(agent, "agent.gouv", "/chat")
    expect(agent).to_have_url(re.compile(r"/charte\?suivant=%2Fchat$"))
    expect(agent.get_by_role("heading", level=1)).to_have_text("Charte de la préfecture")
    expect(agent.locator(".fr-callout")).to_contain_text("Pas de données sensibles.")
    expect(agent.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Charte")).to_have_attribute(
        "aria-current", "page"
    )
    assert serious_violations(agent, "charte-a-accepter") == []

    button = agent.get_by_role("button", name="J'accepte la charte")
    button.focus()
    agent.keyboard.press("Enter")  # keyboard alone is enough
    expect(agent).to_have_url(re.compile(r"/chat$"))
    expect(agent.get_by_role("heading", level=1)).to_have_text("Assistant")
    agent.goto("/charte")
    expect(agent.locator("#charte-statut")).to_contain_text("Vous avez accepté cette version (version 1) le")
    assert serious_violations(agent, "charte-acceptee") == []
    agent_context.close()

    page.reload()
    expect(page.locator("table").first.locator("tbody tr").first).to_contain_text("33,3 %")


def test_guard_rule_editor(new_page: Page) -> None:
    page = new_page
    _log_in(page, "referent.gouv", "/admin/garde-fou")
    expect(page.get_by_role("heading", level=1)).to_have_text("Garde-fou des usages interdits")
    assert serious_violations(page, "garde-fou") == []

    page.get_by_role("link", name="Ajouter une règle").click()
    page.get_by_label("Identifiant").fill("essai-navigateur")
    page.locator("#titre").fill("Règle d'essai")
    page.get_by_label("Action").select_option("warn")
    page.get_by_label("Message à l'utilisateur").fill("Rappel (charte, article 2).")
    page.get_by_label("Motifs (expressions régulières, une par ligne)").fill("essai(")
    page.get_by_role("button", name="Enregistrer la règle").click()
    expect(page.get_by_role("alert")).to_contain_text("expression régulière invalide « essai( »")
    field = page.get_by_label("Motifs (expressions régulières, une par ligne)")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("essai(")
    assert serious_violations(page, "garde-fou-erreur") == []

    field.fill("essai\\b")
    page.get_by_role("button", name="Enregistrer la règle").click()
    expect(page.get_by_role("status")).to_contain_text("Règles enregistrées")
    row = page.locator("tbody tr", has_text="essai-navigateur")
    expect(row).to_contain_text("Avertir")
    row.get_by_role("button", name="Désactiver la règle « Règle d'essai »").click()
    expect(page.locator("tbody tr", has_text="essai-navigateur")).to_contain_text("désactivée")
