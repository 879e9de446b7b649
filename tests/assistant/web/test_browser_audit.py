"""The auditors' pages in a real browser: filters, paging, verification, access review (axe-core)."""

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
def audit_site(tmp_path_factory: pytest.TempPathFactory, _openai_upstream_server: FakeUpstream) -> Iterator[Site]:
    with governance_site(tmp_path_factory.mktemp("audit-web"), _openai_upstream_server) as site:
        yield site


@pytest.fixture
def auditor_page(browser: Browser, audit_site: Site) -> Iterator[Page]:
    context = browser.new_context(base_url=audit_site.url, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/audit")
    page.get_by_label("Identifiant", exact=True).fill("auditeur.gouv")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/audit")
    yield page
    context.close()


def test_event_log_filters(auditor_page: Page) -> None:
    page = auditor_page
    expect(page.get_by_role("heading", level=1)).to_have_text("Journal d'audit")
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav.get_by_role("link", name="Audit")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Assistant")).to_have_count(0)
    expect(page.locator("tbody")).to_contain_text("auditeur.gouv")
    assert serious_violations(page, "audit-journal") == []

    page.get_by_label("Type d'événement").select_option("connection")
    page.get_by_label("Utilisateur").fill("auditeur.gouv")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r"/audit\?categorie=connection&action=&utilisateur=auditeur\.gouv&du=&au=$"))
    for row in page.locator("tbody tr").all():
        expect(row).to_contain_text("Connexions")
    page.locator("#du").fill("2026-02-01")
    page.locator("#au").fill("2026-01-01")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("alert")).to_have_text("La date de début doit précéder la date de fin.")
    assert serious_violations(page, "audit-journal-erreur") == []

    with page.expect_download() as download:
        page.get_by_role("link", name="Journal (CSV)").click()
    assert download.value.suggested_filename == "journal-connection.csv"


def test_verification_and_access_review(auditor_page: Page) -> None:
    page = auditor_page
    page.get_by_role("link", name="Intégrité du journal").click()
    expect(page.get_by_role("heading", name="Journal intègre")).to_be_visible()
    assert serious_violations(page, "audit-verification") == []
    page.get_by_role("link", name="Revue des accès").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revue des accès")
    expect(page.locator("#comptes-titre + .fr-table")).to_contain_text("referent.gouv")
    assert serious_violations(page, "audit-revue") == []
