"""« Comparer » in a real browser: a blind comparison, the vote by keyboard announced with the models revealed, a
named one, then the référent's preference tables — with an axe-core scan of each state."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.web.browser import (
    ROOT,
    Site,
    external_backend,
    serious_violations,
    serve_site,
    sign_in,
    sovereign_backend,
)
from tests.factories import PASSWORD, make_settings, model_card, upstream_backend
from tests.fakes import FakeUpstream, fake_reply

REFERENT = "referent.web"
QUESTION = "Comment obtenir un duplicata de carte grise ?"
LABEL = "Contenu généré par IA — à vérifier"


async def _create_users(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await create_local_user(runtime, username="agent.web", role=Role.AGENT, password=PASSWORD)
        await create_local_user(runtime, username=REFERENT, role=Role.REFERENT, password=PASSWORD)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _openai_upstream_server: FakeUpstream) -> Iterator[Site]:
    """Two sovereign models on the fake upstream (so a blind draw never reaches the embedded one) and an external."""
    upstream = _openai_upstream_server
    second = upstream_backend(upstream.url, name="second", card=model_card("Second modèle souverain"))
    settings = make_settings(
        data_dir=tmp_path_factory.mktemp("web-comparisons-data"),
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=[sovereign_backend(upstream.url), second, external_backend(upstream.url)],
        default_model="vllm-model",
        default_requests_per_minute=10_000,
    )
    with serve_site(settings, upstream, _create_users) as site:
        yield site


def _answer(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.locator("section").filter(has=page.get_by_role("heading", name=f"Réponse {label}", level=2))


def test_compare_two_models_vote_and_see_the_preferences(page: Page, site: Site, browser: Browser) -> None:
    page.get_by_role("link", name="Comparer").click()
    expect(page.get_by_role("heading", name="Comparer deux modèles", level=1)).to_be_visible()
    expect(page.get_by_text("Vous n'avez encore fait aucune comparaison.")).to_be_visible()
    expect(page.get_by_label("Afficher le nom des modèles avant le vote")).not_to_be_checked()
    assert serious_violations(page, "comparer-vide") == []

    page.get_by_label("Votre question").fill(QUESTION)
    page.get_by_role("button", name="Comparer les réponses").click()
    expect(page).to_have_url(re.compile(r"/comparer/[0-9a-f-]{36}$"))
    for label in ("A", "B"):
        answer = _answer(page, label)
        expect(answer.get_by_text(LABEL)).to_be_visible()
        expect(answer.get_by_text("Modèle masqué jusqu'à votre vote")).to_be_visible()
        expect(answer.locator(".sv-comparison__text")).to_have_text(fake_reply(QUESTION))
        expect(answer.get_by_text(re.compile(r"Énergie estimée : .+ Wh"))).to_be_visible()
    assert len(site.upstream.chat_requests()) == 2
    assert serious_violations(page, "comparaison-aveugle") == []

    # By keyboard: the vote buttons are reachable and pressed like any button.
    page.get_by_role("button", name="A est meilleure").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?fait=vote$"))
    status = page.get_by_role("status")
    expect(status).to_contain_text("Vote enregistré : A est meilleure.")
    expect(status).to_contain_text(re.compile(r"Réponse A : (vllm|second)-model ; réponse B : (vllm|second)-model"))
    expect(page.get_by_role("button", name="B est meilleure")).to_have_count(0)
    expect(_answer(page, "A").get_by_text(re.compile(r"Modèle : (vllm|second)-model"))).to_be_visible()
    assert serious_violations(page, "comparaison-votee") == []

    page.get_by_role("link", name="Nouvelle comparaison").click()
    page.get_by_label("Votre question").fill("Quels sont les horaires de la préfecture ?")
    page.locator("label[for='nommer']").click()  # the DSFR draws the box over the input: click its label
    expect(page.get_by_label("Afficher le nom des modèles avant le vote")).to_be_checked()
    page.get_by_label("Modèle A").select_option("second-model")
    page.get_by_label("Modèle B").select_option("vllm-model")
    page.get_by_role("button", name="Comparer les réponses").click()
    expect(_answer(page, "A").get_by_text("Modèle : second-model")).to_be_visible()
    expect(_answer(page, "B").get_by_text("Modèle : vllm-model")).to_be_visible()
    page.get_by_role("button", name="Équivalentes").click()
    expect(page.get_by_role("status")).to_contain_text("Vote enregistré : Équivalentes.")

    page.goto("/comparer")
    recent = page.get_by_role("link", name=re.compile("duplicata de carte grise"))
    expect(recent).to_be_visible()
    assert serious_violations(page, "comparer-historique") == []

    context = browser.new_context(base_url=site.url, locale="fr-FR", bypass_csp=True)
    referent = context.new_page()
    referent.set_default_timeout(10_000)
    sign_in(referent, REFERENT, start="/admin/modeles")
    table = referent.get_by_role("table", name=re.compile("Votes des agents en comparaison côte à côte"))
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name=re.compile("^second-model"))).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(3)  # the header and one row per compared model
    assert serious_violations(referent, "admin-modeles-preferences") == []
    referent.goto("/admin/indicateurs")
    expect(referent.get_by_role("heading", name="Comparaisons côte à côte", level=2)).to_be_visible()
    expect(referent.get_by_role("table", name=re.compile("Votes des agents")).get_by_role("row")).to_have_count(3)
    assert serious_violations(referent, "admin-indicateurs-preferences") == []
    context.close()
