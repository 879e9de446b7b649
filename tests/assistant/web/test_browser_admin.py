"""The administration pages in a real browser: a référent's everyday actions, and axe-core on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.security import Principal, Scope, permissions_for
from assistant.services.governance.incidents import report_incident
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import IncidentCategory, Role
from tests.assistant.web.browser import (
    ROOT,
    Site,
    serious_violations,
    serve_site,
    sign_in,
    standard_backends,
)
from tests.factories import PASSWORD, make_settings
from tests.fakes import FakeUpstream

REFERENT = "referent.web"
EXCERPT = "Le délai de recours est de six mois."


async def _create_world(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        agent = await create_local_user(runtime, username="agent.web", role=Role.AGENT, password=PASSWORD)
        await create_local_user(runtime, username="auditeur.web", role=Role.AUDITEUR, password=PASSWORD)
        await create_local_user(runtime, username=REFERENT, role=Role.REFERENT, password=PASSWORD)
        await create_api_key(runtime, owner_id=agent.id, name="clé de script", scopes=[Scope.CHAT])
        reporter = Principal(agent.id, agent.username, Role.AGENT, "session", permissions_for(Role.AGENT))
        await report_incident(
            runtime,
            reporter=reporter,
            category=IncidentCategory.FACTUAL_ERROR,
            description="Le délai cité est faux : il est de deux mois.",
            excerpt=EXCERPT,
            model_id="vllm-model",
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _openai_upstream_server: FakeUpstream) -> Iterator[Site]:
    """As the shared site, with a référent, an agent's API key and a report to triage."""
    upstream = _openai_upstream_server
    settings = make_settings(
        data_dir=tmp_path_factory.mktemp("web-admin-data"),
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=standard_backends(upstream.url),
        default_model="vllm-model",
        default_requests_per_minute=10_000,
    )
    with serve_site(settings, upstream, _create_world) as site:
        yield site


@pytest.fixture
def admin(browser: Browser, site: Site) -> Iterator[Page]:
    """A référent's browser, signed in on the administration home; confirmation dialogs are accepted."""
    context = browser.new_context(base_url=site.url, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, REFERENT, start="/admin")
    yield page
    context.close()


def _ask(page: Page, text: str) -> None:
    page.get_by_label("Votre message").fill(text)
    page.get_by_role("button", name="Envoyer").click()


def test_every_admin_page_is_accessible(admin: Page) -> None:
    expect(admin.get_by_role("link", name="Administration", exact=True).first).to_be_visible()
    assert serious_violations(admin, "admin") == []
    for label in ("Comptes", "Groupes", "Clés d'API", "Quotas", "Modèles", "Signalements", "Indicateurs"):
        admin.get_by_role("navigation", name="Administration").get_by_role("link", name=label, exact=True).click()
        expect(admin.get_by_role("heading", level=1)).to_be_visible()
        assert serious_violations(admin, f"admin-{label}") == [], label
    for path in ("/admin/registre", "/admin/conformite"):
        admin.goto(path)
        expect(admin.get_by_role("heading", level=1)).to_be_visible()
        assert serious_violations(admin, path.replace("/", "-")) == [], path
    admin.goto("/admin/signalements")
    admin.get_by_role("link", name=re.compile("ouvrir le signalement")).first.click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Signalement du")
    assert serious_violations(admin, "admin-signalement") == []


def test_create_an_account_then_change_its_role_and_disable_it(admin: Page) -> None:
    admin.goto("/admin/comptes")
    admin.get_by_role("textbox", name=re.compile("^Identifiant")).fill("claire.martin")
    admin.get_by_label("Nom affiché (facultatif)").fill("Claire Martin")
    admin.get_by_label("Rôle", exact=True).select_option("agent")
    admin.get_by_label("Mot de passe initial (facultatif)", exact=False).fill(PASSWORD)
    admin.get_by_role("button", name="Créer le compte").click()
    expect(admin.get_by_role("status")).to_contain_text("Le compte a été créé.")
    row = admin.get_by_role("row").filter(has_text="claire.martin")
    expect(row).to_contain_text("Agent")

    row.get_by_label("Rôle de claire.martin").select_option("referent")
    row.get_by_role("button", name="Changer le rôle de claire.martin").click()
    expect(admin.get_by_role("status")).to_contain_text("Le rôle a été modifié")
    expect(admin.get_by_role("row").filter(has_text="claire.martin")).to_contain_text("Référent IA")

    admin.get_by_role("row").filter(has_text="claire.martin").get_by_role(
        "button", name="Désactiver claire.martin"
    ).click()
    expect(admin.get_by_role("status")).to_contain_text("Le compte a été désactivé")
    expect(admin.get_by_role("row").filter(has_text="claire.martin")).to_contain_text("Désactivé")
    assert serious_violations(admin, "admin-comptes-apres") == []


def test_revoke_an_agent_s_key(admin: Page) -> None:
    admin.goto("/admin/cles")
    admin.get_by_label("Compte").select_option(label="agent.web")
    admin.get_by_role("button", name="Filtrer").click()
    row = admin.get_by_role("row").filter(has_text="clé de script")
    expect(row).to_contain_text("Active")
    row.get_by_role("button", name=re.compile("^Révoquer")).click()
    expect(admin.get_by_role("status")).to_contain_text("La clé a été révoquée")
    expect(admin.get_by_role("row").filter(has_text="clé de script")).to_contain_text("Révoquée")


def test_triage_an_incident(admin: Page) -> None:
    admin.goto("/admin/signalements")
    admin.get_by_label("Statut").select_option("open")
    admin.get_by_label("Catégorie").select_option("erreur_factuelle")
    admin.get_by_role("button", name="Filtrer").click()
    admin.get_by_role("link", name=re.compile("ouvrir le signalement")).first.click()
    expect(admin.locator(".sv-excerpt")).to_have_text(EXCERPT)
    expect(admin.get_by_text("Contenu généré par IA — à vérifier")).to_be_visible()
    admin.get_by_label("Statut").select_option("closed")
    admin.get_by_role("button", name="Enregistrer").click()
    expect(admin.get_by_role("alert")).to_contain_text("avant de clore")
    admin.get_by_label("Statut").select_option("closed")
    admin.get_by_label("Commentaire", exact=False).fill("Délai corrigé dans la base documentaire.")
    admin.get_by_role("button", name="Enregistrer").click()
    expect(admin.get_by_role("status")).to_contain_text("Le signalement a été mis à jour.")
    expect(admin.locator(".sv-facts")).to_contain_text("Clos")
    expect(admin.get_by_text("Délai corrigé dans la base documentaire.").first).to_be_visible()


def test_withdraw_then_reinstate_a_model_as_agents_see_it_on_the_chat(page: Page, admin: Page) -> None:
    # The agent's chat is open on the model when the référent withdraws it.
    picker = page.get_by_role("combobox", name=re.compile("^Modèle"))
    expect(picker).to_have_value("vllm-model")
    reason = "Réponses erronées sur le droit du travail : utilisez le modèle externe pour les questions publiques."

    admin.goto("/admin/modeles")
    admin.get_by_label("Motif du retrait de vllm-model", exact=False).fill(reason)
    admin.get_by_role("button", name="Retirer du service vllm-model").click()
    expect(admin.get_by_role("status")).to_contain_text("Le modèle a été retiré du service")
    expect(admin.locator(".sv-withdrawn-reason")).to_have_text(reason)
    assert serious_violations(admin, "admin-modele-retire") == []

    _ask(page, "Combien de jours de congés ?")
    expect(page.locator("#erreur")).to_contain_text(reason)
    page.reload()
    page.locator("#modele option").first.wait_for(state="attached")
    expect(page.locator("#modele option[value='vllm-model']")).to_have_count(0)
    listed = page.request.get("/v1/models").json()["data"]
    assert "vllm-model" not in {model["id"] for model in listed}

    admin.get_by_role("button", name="Remettre en service vllm-model").click()
    expect(admin.get_by_role("status")).to_contain_text("Le modèle a été remis en service.")
    page.reload()
    expect(page.locator("#modele option[value='vllm-model']")).to_have_count(1)


def test_kpi_page_shows_charts_and_the_same_data_as_a_table(page: Page, admin: Page) -> None:
    _ask(page, "Bonjour, résume la note de service.")
    expect(page.locator(".sv-message__meta").last).to_contain_text("Énergie", timeout=15_000)

    admin.goto("/admin/indicateurs")
    charts = admin.locator("svg[role='img']")
    expect(charts).to_have_count(6)
    expect(admin.get_by_role("img", name=re.compile("^Requêtes par modèle"))).to_be_visible()
    expect(admin.locator("svg[role='img'] rect.sv-chart__bar").first).to_be_visible()
    table = admin.get_by_role("table", name="Usage par modèle")
    expect(table.get_by_role("row").filter(has_text="vllm-model")).to_be_visible()
    assert serious_violations(admin, "admin-indicateurs-donnees") == []
