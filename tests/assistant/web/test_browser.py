"""The interface in a real browser: sign-in, streamed and labelled answers, stop, keyboard use, axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.assistant.web.browser import Site, serious_violations, sign_in
from tests.fakes import fake_reply

QUESTION = "Quel est le délai de recours contentieux ?"
LABEL = "Contenu généré par IA — à vérifier"


def _ask(page: Page, text: str) -> None:
    page.get_by_label("Votre message").fill(text)
    page.get_by_role("button", name="Envoyer").click()


def _last_answer(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".sv-message--assistant").last


def test_sign_in_through_the_form(anonymous_page: Page) -> None:
    page = anonymous_page
    page.goto("/chat")
    expect(page).to_have_url(re.compile(r"/connexion\?suivant=%2Fchat$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_title("Connexion — Souverain — Assistant IA")
    assert serious_violations(page, "connexion") == []

    page.get_by_label("Identifiant", exact=True).fill("agent.web")
    page.get_by_label("Mot de passe", exact=True).fill("pas-le-bon")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    expect(page.get_by_label("Identifiant", exact=True)).to_have_value("agent.web")
    expect(page.get_by_label("Mot de passe", exact=True)).to_be_focused()
    assert serious_violations(page, "connexion-erreur") == []

    sign_in(page, "agent.web")
    expect(page.get_by_role("heading", level=1)).to_have_text("Assistant")
    expect(
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Assistant")
    ).to_have_attribute("aria-current", "page")


def test_streamed_answer_is_labelled_measured_and_announced(page: Page, site: Site) -> None:
    _ask(page, QUESTION)
    answer = _last_answer(page)
    expect(answer.locator(".sv-message__meta")).to_contain_text("Énergie estimée", timeout=15_000)
    expect(answer.locator(".sv-message__text")).to_have_text(fake_reply(QUESTION))
    expect(answer.locator(".sv-message__text")).to_have_attribute("aria-busy", "false")
    # The label is real text inside the answer, so screen readers read it with it.
    expect(answer.get_by_text(LABEL)).to_be_visible()
    meta = answer.locator(".sv-message__meta").inner_text()
    assert re.search(r"Énergie estimée : \d+(,\d+)?(e-\d+)? Wh", meta) or "Wh" in meta
    assert "g CO₂e" in meta and "Modèle souverain de test (souverain)" in meta
    assert re.search(r"\d,\d", meta), f"French decimal comma: {meta}"
    expect(page.locator("#annonce")).to_have_text(f"Réponse reçue. {LABEL}.")
    expect(page.locator(".sv-message--user .sv-message__text").last).to_have_text(QUESTION)
    sent = site.upstream.chat_requests()[-1].body
    assert sent is not None and sent["stream"] is True and sent["model"] == "fake-model"
    assert serious_violations(page, "chat-reponse") == []

    # History goes back to the model with the next question.
    _ask(page, "Et en appel ?")
    expect(_last_answer(page).locator(".sv-message__text")).to_have_text(fake_reply("Et en appel ?"), timeout=15_000)
    # The conversation lives on the server, which puts its system prompt first.
    messages = [m for m in site.upstream.chat_requests()[-1].body["messages"] if m["role"] != "system"]  # type: ignore[index]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == fake_reply(QUESTION)


def test_copy_puts_the_answer_and_its_label_on_the_clipboard(page: Page) -> None:
    _ask(page, QUESTION)
    answer = _last_answer(page)
    expect(page.locator("#annonce")).to_have_text(f"Réponse reçue. {LABEL}.", timeout=15_000)
    answer.get_by_role("button", name="Copier la réponse").click()
    expect(page.locator("#annonce")).to_have_text("Réponse copiée dans le presse-papiers.")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith(fake_reply(QUESTION)) and LABEL in copied


def test_markdown_is_rendered_and_html_is_neutralised(page: Page) -> None:
    # The fake answers the words in reverse order: this question comes back as Markdown with an HTML trap.
    _ask(page, "onerror=window.__pwned=1> src=x <img **gras**")
    answer = _last_answer(page).locator(".sv-message__text")
    expect(answer.locator("strong")).to_have_text("gras", timeout=15_000)
    assert answer.locator("img[onerror]").count() == 0
    assert page.evaluate("() => window.__pwned") is None


def test_stop_button_interrupts_the_stream(page: Page, site: Site) -> None:
    site.upstream.faults.tokens_per_second = 4
    question = " ".join(f"mot{i}" for i in range(40))
    _ask(page, question)
    answer = _last_answer(page)
    expect(answer.locator(".sv-message__text")).to_contain_text("mot39", timeout=15_000)
    stop = page.get_by_role("button", name="Arrêter")
    expect(stop).to_be_enabled()
    stop.click()
    expect(answer.locator(".sv-message__meta")).to_contain_text("Réponse interrompue")
    expect(page.locator("#annonce")).to_have_text("Génération arrêtée ; la réponse partielle est conservée.")
    expect(page.get_by_label("Votre message")).to_be_focused()
    expect(page.get_by_role("button", name="Envoyer")).to_be_enabled()
    expect(stop).to_be_disabled()
    partial = answer.locator(".sv-message__text").inner_text()
    assert 0 < len(partial) < len(fake_reply(question)), "stopped before the end, what came is kept"
    expect(answer.get_by_text(LABEL)).to_be_visible()


def test_chat_by_keyboard_only(page: Page) -> None:
    page.goto("/chat")
    page.locator("#modele option[value='vllm-model']").wait_for(state="attached")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Contenu")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#contenu")).to_be_focused()

    # Tab order from the content: new conversation, the list, the settings, then the message box.
    order: list[str] = []
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()")
        order.append(focused)
        if focused == "message":
            break
    # One stop for the radio group (arrows move inside it), on the checked, safe default.
    assert order[0] == "nouvelle", order
    settings = [focused for focused in order if focused in {"modele", "bouton-fiche", "sensibilite-internal"}]
    assert settings == ["modele", "bouton-fiche", "sensibilite-internal"], order
    assert "sensibilite-public" not in order and order[-1] == "message", order

    page.keyboard.type("Bonjour à tous")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("deuxième ligne")
    expect(page.get_by_label("Votre message")).to_have_value("Bonjour à tous\ndeuxième ligne")
    page.keyboard.press("Enter")
    expect(_last_answer(page).locator(".sv-message__text")).to_have_text(
        fake_reply("Bonjour à tous\ndeuxième ligne"), timeout=15_000
    )
    expect(page.get_by_label("Votre message")).to_be_focused()
    expect(page.get_by_label("Votre message")).to_have_value("")

    # The model card opens and closes from the keyboard, and focus comes back to its button.
    card_button = page.get_by_role("button", name="Fiche du modèle")
    card_button.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(card_button).to_be_focused()


def test_model_picker_shows_sovereignty_and_the_card(page: Page) -> None:
    picker = page.get_by_role("combobox", name=re.compile("^Modèle"))
    expect(picker).to_have_value("vllm-model")
    expect(page.locator("#souverainete")).to_have_text("Souverain")

    picker.select_option("externe-model")
    expect(page.locator("#souverainete")).to_contain_text("Non souverain")
    expect(page.locator("#souverainete")).to_contain_text("aucune donnée personnelle ou sensible")

    picker.select_option("smollm2-135m")
    page.get_by_role("button", name="Fiche du modèle").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Fiche du modèle : SmolLM2-135M-Instruct (GGUF Q4_1)")
    expect(dialog).to_contain_text("son français est incorrect")
    expect(dialog).to_contain_text("Apache-2.0")
    expect(dialog).to_contain_text("anglais")
    assert serious_violations(page, "chat-fiche-modele") == []
    dialog.get_by_role("button", name="Fermer").click()
    expect(dialog).to_be_hidden()


def test_sensitive_data_is_refused_for_a_non_sovereign_model(page: Page, site: Site) -> None:
    page.get_by_role("combobox", name=re.compile("^Modèle")).select_option("externe-model")
    _ask(page, "Mon IBAN est FR76 3000 6000 0112 3456 7890 189, que faire ?")
    alert = page.locator("#erreur")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("souverain")
    assert page.locator(".sv-message").count() == 0, "neither the refused question nor an empty answer stay"
    expect(page.get_by_label("Votre message")).to_have_value(re.compile("^Mon IBAN est"))
    assert site.upstream.chat_requests() == [], "nothing left for the external model"
    assert serious_violations(page, "chat-refus") == []


def test_every_page_is_accessible(page: Page) -> None:
    assert serious_violations(page, "chat") == []
    for path, name in [
        ("/mes-donnees", "mes-donnees"),
        ("/bonnes-pratiques", "bonnes-pratiques"),
        ("/accessibilite", "accessibilite"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert serious_violations(page, name) == [], path
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/connexion\?deconnecte=1$"))
    expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté·e.")
    assert serious_violations(page, "deconnecte") == []
    page.goto("/chat")
    expect(page).to_have_url(re.compile(r"/connexion"))


def test_forbidden_page_is_french_and_accessible(anonymous_page: Page) -> None:
    sign_in(anonymous_page, "auditeur.web", start="/mes-donnees")
    response = anonymous_page.goto("/chat")
    assert response is not None and response.status == 403
    expect(anonymous_page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    assert serious_violations(anonymous_page, "acces-refuse") == []


def test_declared_sensitivity_decides_whether_a_non_sovereign_model_may_answer(page: Page, site: Site) -> None:
    page.get_by_role("combobox", name=re.compile("^Modèle")).select_option("externe-model")
    expect(page.get_by_label("Internes à l'administration")).to_be_checked()  # the safe default
    _ask(page, "Quelle est la capitale de la France ?")
    expect(page.locator("#erreur")).to_contain_text("souverain")
    assert site.upstream.chat_requests() == []

    page.get_by_label("Votre message").fill("")
    page.get_by_text("Publiques", exact=True).click()  # the DSFR draws the radio on its label
    expect(page.get_by_label("Publiques")).to_be_checked()
    _ask(page, "Quelle est la capitale de la France ?")
    answer = _last_answer(page)
    expect(answer.locator(".sv-message__text")).to_have_text(fake_reply("Quelle est la capitale de la France ?"))
    expect(answer.locator(".sv-message__meta")).to_contain_text("Modèle externe de test (non souverain)")
    expect(page.locator("#erreur")).to_be_hidden()
    assert site.upstream.chat_requests()[-1].body["messages"][-1]["content"].startswith("Quelle")  # type: ignore[index]


def test_a_stream_cut_upstream_keeps_the_labelled_beginning_and_says_so(page: Page, site: Site) -> None:
    site.upstream.faults.die_after_tokens = 3
    question = "un deux trois quatre cinq six sept huit"
    _ask(page, question)
    answer = _last_answer(page)
    expect(page.locator("#erreur")).to_be_visible(timeout=15_000)
    expect(answer.locator(".sv-message__meta")).to_contain_text("Réponse interrompue")
    expect(answer.get_by_text(LABEL)).to_be_visible()
    assert fake_reply(question).startswith(answer.locator(".sv-message__text").inner_text())
    expect(page.locator("#annonce")).to_have_text("La génération a échoué ; le début de la réponse est conservé.")


def test_new_conversation_forgets_the_history(page: Page, site: Site) -> None:
    _ask(page, QUESTION)
    expect(_last_answer(page).locator(".sv-message__meta")).to_contain_text("Énergie", timeout=15_000)
    page.get_by_role("button", name="Nouvelle conversation").click()
    assert page.locator(".sv-message").count() == 0
    expect(page.get_by_label("Votre message")).to_be_focused()
    _ask(page, "Nouvelle question")
    expect(_last_answer(page).locator(".sv-message__meta")).to_contain_text("Énergie", timeout=15_000)
    messages = [m for m in site.upstream.chat_requests()[-1].body["messages"] if m["role"] != "system"]  # type: ignore[index]
    assert messages == [{"role": "user", "content": "Nouvelle question"}]
