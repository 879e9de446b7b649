"""The prompt library in a real browser: save a prompt with a variable on /prompts, then in the chat box type
« / », fill the variable and insert it (the use counts), edit it into a new version, and use it from the tasks
page — with an axe-core scan of each state."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.assistant.web.browser import serious_violations

BODY = "Rédige une réponse à un usager qui demande {{demande}}, en langage clair."


def test_save_a_prompt_then_insert_it_with_slash_in_the_chat_box(page: Page) -> None:
    page.goto("/prompts")
    expect(page.get_by_text("Vous n'avez encore aucun prompt personnel.")).to_be_visible()
    assert serious_violations(page, "prompts-vide") == []
    create = page.locator("form[action='/prompts']")
    create.get_by_label("Titre").fill("Réponse à un usager")
    create.get_by_label("Texte du prompt").fill(BODY)
    create.get_by_role("button", name="Enregistrer le prompt").click()
    expect(page.get_by_role("status")).to_contain_text("Le prompt a été enregistré")
    expect(page.get_by_text("Champs à remplir : demande")).to_be_visible()
    assert serious_violations(page, "prompts-un-prompt") == []

    page.goto("/chat")
    message = page.get_by_label("Votre message")
    message.click()
    message.press("/")
    picker = page.get_by_role("group", name="Bibliothèque de prompts")
    expect(picker).to_be_visible()
    expect(picker.get_by_label("Prompt", exact=True)).to_be_focused()
    expect(message).to_have_value("")
    assert serious_violations(page, "chat-prompts") == []
    picker.get_by_role("button", name="Insérer dans le texte").click()
    expect(picker.locator(".sv-prompts__error")).to_have_text("Remplissez « demande ».")
    picker.get_by_label("Demande").fill("le renouvellement de son titre de séjour")
    picker.get_by_role("button", name="Insérer dans le texte").click()
    expect(picker).to_be_hidden()
    expect(message).to_have_value(
        "Rédige une réponse à un usager qui demande le renouvellement de son titre de séjour, en langage clair."
    )
    expect(message).to_be_focused()

    message.fill("")
    page.get_by_role("button", name="Insérer un prompt de la bibliothèque").click()
    expect(picker.get_by_label("Prompt", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(message).to_be_focused()

    page.goto("/prompts")
    page.locator("summary", has_text="Modifier").click()
    edit = page.locator("form[action$='/modifier']")
    edit.get_by_label("Texte du prompt").fill("Réponds à {{demande}} en trois phrases.")
    edit.get_by_role("button", name="Enregistrer une nouvelle version").click()
    expect(page.get_by_role("status")).to_contain_text("une nouvelle version est enregistrée")
    expect(page.get_by_text("Version 2")).to_be_visible()
    page.locator("summary", has_text="Versions précédentes").click()
    expect(page.locator("li", has_text="Version 1")).to_contain_text("en langage clair")
    assert serious_violations(page, "prompts-versions") == []

    page.goto("/taches")
    page.get_by_role("button", name="Insérer un prompt de la bibliothèque").click()
    tasks_picker = page.get_by_role("group", name="Bibliothèque de prompts")
    tasks_picker.get_by_label("Demande").fill("une attestation")
    tasks_picker.get_by_role("button", name="Insérer dans le texte").click()
    expect(page.get_by_label("Texte à traiter")).to_have_value("Réponds à une attestation en trois phrases.")
    assert serious_violations(page, "taches-prompts") == []
