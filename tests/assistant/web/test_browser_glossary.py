"""The « Glossaire » page in a real browser: an agent adds, edits and removes terms of their own glossary (errors
announced), reads their group's without being able to change it; a référent edits the group's — with an axe-core
scan of each state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.security import Principal, permissions_for
from assistant.services.governance.admin import add_group_member, create_group
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.web.browser import ROOT, Site, serious_violations, serve_site, sign_in, standard_backends
from tests.factories import PASSWORD, make_settings
from tests.fakes import FakeUpstream

AGENT = "agent.glossaire"
REFERENT = "referent.glossaire"
GROUP = "Cabinet du préfet"


async def _prepare(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        agent = await create_local_user(runtime, username=AGENT, role=Role.AGENT, password=PASSWORD)
        referent = await create_local_user(runtime, username=REFERENT, role=Role.REFERENT, password=PASSWORD)
        actor = Principal(referent.id, REFERENT, Role.REFERENT, "session", permissions_for(Role.REFERENT))
        group = await create_group(runtime, name=GROUP, description="", actor=actor)
        await add_group_member(runtime, group_id=group.id, user_id=agent.id, actor=actor)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _openai_upstream_server: FakeUpstream) -> Iterator[Site]:
    settings = make_settings(
        data_dir=tmp_path_factory.mktemp("web-glossary"),
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=standard_backends(_openai_upstream_server.url),
        default_model="vllm-model",
        default_requests_per_minute=10_000,
    )
    with serve_site(settings, _openai_upstream_server, _prepare) as site:
        yield site


def test_an_agent_keeps_a_personal_glossary_and_reads_the_group_one(anonymous_page: Page) -> None:
    page = anonymous_page
    sign_in(page, AGENT, start="/transcriptions")
    page.get_by_role("link", name="glossaire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Glossaire")
    expect(page.get_by_role("heading", name=f"Glossaire du groupe {GROUP}")).to_be_visible()
    expect(page.get_by_text("Seuls les référents peuvent modifier ce glossaire.")).to_be_visible()
    assert serious_violations(page, "glossaire-vide") == []

    add = page.locator("form[aria-labelledby='ajouter-perso']")
    add.get_by_label("Terme, tel qu'il doit être écrit").fill("SGAMI")
    add.get_by_label("Variantes (facultatives)").fill("esse gé ami\nesse gamie")
    add.get_by_label("Note (facultative)").fill("Secrétariat général pour l'administration du ministère de l'Intérieur")
    add.get_by_role("button", name="Ajouter le terme").click()
    expect(page.get_by_role("status")).to_contain_text("Le terme a été ajouté")
    row = page.get_by_role("row", name="SGAMI")
    expect(row.get_by_role("cell").nth(1)).to_have_text("esse gé ami, esse gamie")
    assert serious_violations(page, "glossaire-un-terme") == []

    # The same term again, written differently: refused, the error announced next to the form, input kept.
    add = page.locator("form[aria-labelledby='ajouter-perso']")
    add.get_by_label("Terme, tel qu'il doit être écrit").fill("S.G.A.M.I.")
    add.get_by_role("button", name="Ajouter le terme").click()
    alert = add.get_by_role("alert")
    expect(alert).to_have_text("« SGAMI » est déjà dans ce glossaire : modifiez-le.")
    expect(add.get_by_label("Terme, tel qu'il doit être écrit")).to_have_value("S.G.A.M.I.")
    assert serious_violations(page, "glossaire-erreur") == []

    page.goto("/glossaire")
    page.locator("summary", has_text="Modifier").click()
    edit = page.locator("form[action$='/modifier']")
    edit.get_by_label("Variantes (facultatives)").fill("esse gamie")
    edit.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Le terme a été modifié")
    expect(page.get_by_role("row", name="SGAMI").get_by_role("cell").nth(1)).to_have_text("esse gamie")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Retirer le terme SGAMI").click()
    expect(page.get_by_role("status")).to_contain_text("Le terme a été retiré du glossaire")
    expect(page.get_by_role("row", name="SGAMI")).to_have_count(0)


def test_a_referent_edits_the_group_glossary(anonymous_page: Page) -> None:
    page = anonymous_page
    sign_in(page, REFERENT, start="/glossaire")
    form = page.locator("form[aria-labelledby='ajouter-groupe-1']")
    expect(form.get_by_role("heading")).to_have_text(f"Ajouter un terme au glossaire du groupe {GROUP}")
    form.get_by_label("Terme, tel qu'il doit être écrit").fill("Kerdraon")
    form.get_by_role("button", name="Ajouter le terme").click()
    expect(page.get_by_role("status")).to_contain_text("Le terme a été ajouté")
    table = page.get_by_role("table", name=f"Glossaire du groupe {GROUP}")
    expect(table.get_by_role("row", name="Kerdraon")).to_be_visible()
    assert serious_violations(page, "glossaire-groupe") == []
