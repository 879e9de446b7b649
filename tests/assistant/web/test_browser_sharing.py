"""Sharing in a real browser: share the open conversation from the chat (« Partager »), find it in « Partagés avec
moi », read it with the AI label, continue a copy, revoke — with an axe-core scan of each state."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.web.browser import ROOT, Site, serious_violations, serve_site, sign_in, standard_backends
from tests.factories import PASSWORD, make_settings
from tests.fakes import FakeUpstream, fake_reply

QUESTION = "Quelles sont les règles du compte épargne-temps ?"
LABEL = "Contenu généré par IA — à vérifier"


async def _create_users(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await create_local_user(runtime, username="agent.web", role=Role.AGENT, password=PASSWORD)
        await create_local_user(runtime, username="collegue.web", role=Role.AGENT, password=PASSWORD)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _openai_upstream_server: FakeUpstream) -> Iterator[Site]:
    """The standard site, with a second agent to share with."""
    upstream = _openai_upstream_server
    settings = make_settings(
        data_dir=tmp_path_factory.mktemp("web-sharing"),
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=standard_backends(upstream.url),
        default_model="vllm-model",
        default_requests_per_minute=10_000,
    )
    with serve_site(settings, upstream, _create_users) as served:
        yield served


@pytest.fixture
def colleague(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, locale="fr-FR", bypass_csp=True)
    other = context.new_page()
    other.set_default_timeout(10_000)
    sign_in(other, "collegue.web", start="/partages")
    yield other
    context.close()


def test_share_read_copy_and_revoke(page: Page, colleague: Page) -> None:
    page.get_by_label("Votre message").fill(QUESTION)
    page.get_by_role("button", name="Envoyer").click()
    answer = page.locator(".sv-message--assistant").last
    expect(answer.locator(".sv-message__text")).to_have_text(fake_reply(QUESTION), timeout=15_000)

    share_button = page.get_by_role("button", name="Partager", exact=True)
    share_button.click()
    dialog = page.get_by_role("dialog", name="Partager la conversation")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Cette conversation n'est partagée avec personne.")).to_be_visible()
    expect(dialog.get_by_label("Agents destinataires")).to_be_focused()
    assert serious_violations(page, "partager-vide") == []
    dialog.get_by_role("button", name="Partager", exact=True).click()
    expect(dialog.locator("#partager-erreur")).to_have_text("Saisissez au moins un agent ou un groupe.")
    dialog.get_by_label("Agents destinataires").fill("personne.inconnue")
    dialog.get_by_role("button", name="Partager", exact=True).click()
    expect(dialog.locator("#partager-erreur")).to_contain_text("« personne.inconnue »")
    assert serious_violations(page, "partager-erreur") == []

    dialog.get_by_label("Agents destinataires").fill("collegue.web")
    dialog.locator("label", has_text="Copie à poursuivre").click()
    dialog.get_by_role("button", name="Partager", exact=True).click()
    expect(dialog.locator("#partages-liste li")).to_contain_text("Copie à poursuivre — collegue.web")
    expect(page.locator("#annonce")).to_have_text("Conversation partagée (copie à poursuivre).")
    assert serious_violations(page, "partager-un-partage") == []
    dialog.get_by_role("button", name="Fermer", exact=True).last.click()
    expect(dialog).to_be_hidden()
    expect(share_button).to_be_focused()

    colleague.goto("/partages")
    expect(colleague.get_by_role("heading", name="Partagés avec moi", level=1)).to_be_visible()
    link = colleague.get_by_role("row").get_by_role("link")
    expect(link).to_have_count(1)
    assert serious_violations(colleague, "partages-recus") == []
    link.click()
    expect(colleague).to_have_url(re.compile(r"/partages/[0-9a-f-]{36}$"))
    share_url = colleague.url
    expect(colleague.get_by_text(LABEL)).to_have_count(1)
    expect(colleague.get_by_text(fake_reply(QUESTION))).to_be_visible()
    expect(colleague.get_by_text("Partagée par")).to_contain_text("agent.web")
    assert serious_violations(colleague, "partage-lecture") == []

    colleague.get_by_role("button", name="Poursuivre une copie").click()
    expect(colleague).to_have_url(re.compile(r"/chat\?conversation=[0-9a-f-]{36}$"))
    copied = colleague.locator(".sv-message--assistant")
    expect(copied.locator(".sv-message__text")).to_have_text(fake_reply(QUESTION))
    expect(copied.locator(".sv-ai-badge")).to_have_text(LABEL)
    expect(colleague.locator("#conversation-titre")).to_contain_text("(copie)")
    assert serious_violations(colleague, "partage-copie") == []

    share_button.click()
    expect(dialog.locator("#partages-liste li")).to_have_count(1)
    dialog.get_by_role("button", name="Révoquer le partage avec collegue.web").click()
    expect(dialog.get_by_text("Cette conversation n'est partagée avec personne.")).to_be_visible()
    expect(dialog.get_by_role("heading", name="Partages en cours")).to_be_focused()
    assert serious_violations(page, "partager-revoque") == []

    colleague.goto(share_url)
    expect(colleague.get_by_role("heading", name="Partage introuvable", level=1)).to_be_visible()
    colleague.goto("/partages")
    expect(colleague.get_by_text("Aucune conversation n'est partagée avec vous pour le moment.")).to_be_visible()
