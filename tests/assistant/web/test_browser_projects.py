"""Projects in a real browser: create one on /projets, open it in the assistant (its instructions reach the
model, its conversations are filed in it), filter and search the history, move a conversation out, delete the
project keeping its conversations — with an axe-core scan of each state."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.assistant.web.browser import Site, serious_violations
from tests.fakes import fake_reply

INSTRUCTIONS = "Tu rédiges pour des usagers, en langage clair."
QUESTION = "Comment obtenir un duplicata de carte grise ?"


def _api(page: Page, method: str, path: str, **options: Any) -> Any:
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    response = page.request.fetch(path, method=method, headers={"X-CSRF-Token": token}, **options)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def test_a_project_files_its_conversations_and_applies_its_instructions(page: Page, site: Site) -> None:
    page.goto("/projets")
    expect(page.get_by_role("heading", name="Projets", level=1)).to_be_visible()
    expect(page.get_by_text("Vous n'avez encore aucun projet.")).to_be_visible()
    assert serious_violations(page, "projets-vide") == []
    create = page.locator("form[action='/projets']")
    create.get_by_label("Nom du projet").fill("Réponses aux usagers")
    create.get_by_label("Consignes permanentes (facultatives)").fill(INSTRUCTIONS)
    create.get_by_role("button", name="Créer le projet").click()
    expect(page.get_by_role("status")).to_contain_text("Le projet a été créé")
    expect(page.get_by_role("heading", name="Réponses aux usagers", level=3)).to_be_visible()
    assert serious_violations(page, "projets-un-projet") == []

    page.get_by_role("link", name="Ouvrir dans l'assistant : Réponses aux usagers").click()
    expect(page).to_have_url(re.compile(r"/chat\?projet=[0-9a-f-]{36}$"))
    project_id = page.url.rsplit("=", 1)[1]
    expect(page.get_by_label("Projet")).to_have_value(project_id)
    expect(page.locator("#projet-consignes")).to_contain_text(INSTRUCTIONS)
    expect(page.locator("#historique-vide")).to_contain_text("la prochaine que vous commencerez y sera rangée")

    page.get_by_label("Votre message").fill(QUESTION)
    page.get_by_role("button", name="Envoyer").click()
    answer = page.locator(".sv-message--assistant").last
    expect(answer.locator(".sv-message__text")).to_have_text(fake_reply(QUESTION), timeout=15_000)
    sent = site.upstream.chat_requests()[-1].body
    assert sent is not None and INSTRUCTIONS in sent["messages"][0]["content"]
    conversation_id = re.search(r"conversation=([0-9a-f-]{36})", page.url).group(1)  # type: ignore[union-attr]
    assert _api(page, "GET", f"/api/conversations/{conversation_id}")["project_id"] == project_id
    history = page.get_by_role("navigation", name="Mes conversations")
    expect(history.get_by_role("link", name=re.compile("duplicata"))).to_be_visible()
    expect(page.get_by_label("Ranger la conversation dans")).to_have_value(project_id)
    assert serious_violations(page, "chat-projet") == []

    page.get_by_label("Projet").select_option(label="Hors projet")
    expect(history.get_by_role("link", name=re.compile("duplicata"))).to_have_count(0)
    page.get_by_label("Projet").select_option(label="Toutes mes conversations")
    expect(history.get_by_role("link", name=re.compile("duplicata"))).to_contain_text("Réponses aux usagers")

    page.get_by_label("Rechercher dans mes conversations").fill("CARTE GRISE")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#historique-vide")).to_contain_text("1 conversation contient « CARTE GRISE »")
    expect(history.locator(".sv-history__match")).to_contain_text("duplicata de carte grise")
    assert serious_violations(page, "chat-recherche") == []
    page.get_by_label("Rechercher dans mes conversations").fill("inexistant-xyz")
    page.get_by_label("Rechercher dans mes conversations").press("Enter")
    expect(page.locator("#historique-vide")).to_contain_text("Aucune conversation ne contient « inexistant-xyz »")
    page.get_by_role("button", name="Effacer la recherche").click()
    expect(history.get_by_role("link", name=re.compile("duplicata"))).to_be_visible()
    expect(page.get_by_label("Rechercher dans mes conversations")).to_be_focused()

    page.get_by_label("Ranger la conversation dans").select_option(label="Aucun projet")
    expect(page.locator("#annonce")).to_have_text("Conversation sortie de son projet.")
    assert _api(page, "GET", f"/api/conversations/{conversation_id}")["project_id"] is None
    page.get_by_label("Ranger la conversation dans").select_option(label="Réponses aux usagers")
    expect(page.locator("#annonce")).to_have_text("Conversation rangée dans le projet « Réponses aux usagers ».")

    page.goto("/projets")
    page.locator("summary", has_text="Supprimer le projet").click()
    page.locator("label", has_text="Les garder, hors projet").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Supprimer le projet Réponses aux usagers").click()
    expect(page.get_by_role("status")).to_have_text("Le projet a été supprimé.")
    assert _api(page, "GET", f"/api/conversations/{conversation_id}")["project_id"] is None, "kept, unfiled"
    assert serious_violations(page, "projets-supprime") == []
