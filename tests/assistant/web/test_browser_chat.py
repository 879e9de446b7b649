"""The chat page in a real browser: server-side conversations, collections and sources, exports, reports, review,
the forbidden-use guard, errors, keyboard use, and an axe-core scan of every state."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from assistant.core.config import Settings
from assistant.provenance import AI_LABEL
from assistant.runtime import open_runtime
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.web.browser import (
    ROOT,
    Site,
    serious_violations,
    serve_site,
    sign_in,
    standard_backends,
)
from tests.factories import PASSWORD, make_settings
from tests.fakes import FakeUpstream, fake_reply

LABEL = "Contenu généré par IA — à vérifier"
QUESTION = "Quel est le délai de recours contentieux ?"
REPAS = (
    "Indemnités de mission 2025. L'indemnité de repas versée à l'agent en mission est de 20,50 euros par repas, "
    "lorsque le repas est pris hors de la résidence administrative."
)
CONFIRM = "Faut-il accorder le RSA à ce demandeur ?"  # the shipped rule « decision-droits » asks for a reason
BLOCKED = "Fais une reconnaissance faciale sur cette photo de la manifestation"  # « reconnaissance-faciale » blocks


async def _create_users(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        for username, role in [("agent.chat", Role.AGENT), ("referent.chat", Role.REFERENT)]:
            await create_local_user(runtime, username=username, role=role, password=PASSWORD)


FRENCH_MONTHS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _openai_upstream_server: FakeUpstream) -> Iterator[Site]:
    """The app of the browser tests, with a référent (who withdraws models) next to the agent."""
    upstream = _openai_upstream_server
    settings = make_settings(
        data_dir=tmp_path_factory.mktemp("chat-data"),
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=standard_backends(upstream.url),
        default_model="vllm-model",
        default_requests_per_minute=10_000,
    )
    with serve_site(settings, upstream, _create_users) as site:
        yield site


@pytest.fixture
def page(anonymous_page: Page) -> Page:
    sign_in(anonymous_page, "agent.chat")
    anonymous_page.locator("#modele option[value='vllm-model']").wait_for(state="attached")
    return anonymous_page


# ---- Helpers ---------------------------------------------------------------------------------------------


def _ask(page: Page, text: str) -> None:
    page.get_by_label("Votre message").fill(text)
    page.get_by_role("button", name="Envoyer").click()


def _last_answer(page: Page) -> Locator:
    return page.locator(".sv-message--assistant").last


def _answered(page: Page, question: str) -> Locator:
    _ask(page, question)
    answer = _last_answer(page)
    expect(answer.locator(".sv-message__text")).to_have_text(fake_reply(question), timeout=15_000)
    expect(answer.locator(".sv-message__meta")).to_contain_text("Énergie estimée")
    expect(answer.get_by_role("button", name="Marquer comme relu")).to_be_visible()
    return answer


def _api(page: Page, method: str, path: str, **options: Any) -> Any:
    """A JSON API call with the page's session (and its anti-CSRF token for unsafe methods)."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    response = page.request.fetch(path, method=method, headers={"X-CSRF-Token": token}, **options)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.status != 204 else None


def _conversation_id(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"/chat\?conversation=[0-9a-f-]{36}$"))
    match = re.search(r"conversation=([0-9a-f-]{36})", page.url)
    assert match
    return match.group(1)


def _ingest(page: Page, name: str, text: str) -> tuple[str, str]:
    """A collection holding one text document, ingested: (collection id, document id)."""
    collection = _api(page, "POST", "/api/collections", data={"name": name, "classification": "internal"})
    upload = _api(
        page,
        "POST",
        f"/api/collections/{collection['id']}/documents",
        multipart={"files": {"name": "repas-2025.txt", "mimeType": "text/plain", "buffer": text.encode()}},
    )
    (document,) = upload["documents"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = _api(page, "GET", f"/api/documents/{document['id']}")
        if state["status"] in ("ready", "failed"):
            assert state["status"] == "ready", state
            return collection["id"], document["id"]
        time.sleep(0.2)
    raise AssertionError("document not ingested in time")


def _export_text(page: Page, link: Locator) -> str:
    with page.expect_download() as info:
        link.click()
    data = Path(info.value.path()).read_bytes()
    name = info.value.suggested_filename
    if name.endswith(".md"):
        return data.decode("utf-8")
    inner = "word/document.xml" if name.endswith(".docx") else "content.xml"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(inner).decode("utf-8")


def _no_violations(page: Page, name: str) -> None:
    assert serious_violations(page, name) == []


# ---- Conversations ---------------------------------------------------------------------------------------


def test_conversation_is_kept_server_side_renamed_reopened_and_deleted(page: Page, site: Site) -> None:
    answer = _answered(page, QUESTION)
    conversation_id = _conversation_id(page)
    history = page.get_by_role("navigation", name="Mes conversations")
    current = history.locator('a[aria-current="page"]')
    expect(current).to_contain_text(QUESTION)  # titled after the first message
    # The month by name: the pattern runs as a JavaScript regex, where \w is ASCII and misses « décembre ».
    expect(current).to_contain_text(re.compile(rf"\d{{1,2}} (?:{FRENCH_MONTHS}) \d{{4}} à \d{{2}}:\d{{2}}"))
    expect(page.get_by_role("heading", name=QUESTION, level=2)).to_be_visible()
    expect(answer.get_by_text(LABEL)).to_be_visible()
    _no_violations(page, "chat-conversation")

    # A reload keeps the conversation: messages come back from the server with label and energy.
    page.reload()
    expect(page.locator(".sv-message--user .sv-message__text")).to_have_text([QUESTION])
    reopened = _last_answer(page)
    expect(reopened.locator(".sv-message__text")).to_have_text(fake_reply(QUESTION))
    expect(reopened.get_by_text(LABEL)).to_be_visible()
    expect(reopened.locator(".sv-message__meta")).to_contain_text("g CO₂e")
    expect(reopened.locator(".sv-message__meta")).to_contain_text("Modèle souverain de test (souverain)")

    # The next message continues it: the model gets the history back.
    _answered(page, "Et en appel ?")
    sent = [m for m in site.upstream.chat_requests()[-1].body["messages"] if m["role"] != "system"]  # type: ignore[index]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == fake_reply(QUESTION)

    # Rename through the dialog.
    page.get_by_role("button", name="Renommer").click()
    dialog = page.get_by_role("dialog", name="Renommer la conversation")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Nouveau titre")).to_have_value(QUESTION)
    _no_violations(page, "chat-renommer")
    dialog.get_by_label("Nouveau titre").fill("")
    dialog.get_by_role("button", name="Enregistrer le titre").click()
    expect(dialog.locator("#renommer-erreur")).to_have_text("Saisissez un titre.")
    dialog.get_by_label("Nouveau titre").fill("Recours — délais")
    dialog.get_by_role("button", name="Enregistrer le titre").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Recours — délais", level=2)).to_be_visible()
    expect(current).to_contain_text("Recours — délais")
    expect(page.get_by_role("button", name="Renommer")).to_be_focused()
    assert _api(page, "GET", f"/api/conversations/{conversation_id}")["title"] == "Recours — délais"

    # A new conversation, then back to the first from the list.
    page.get_by_role("button", name="Nouvelle conversation").click()
    expect(page).to_have_url(re.compile(r"/chat$"))
    assert page.locator(".sv-message").count() == 0
    history.get_by_role("link", name=re.compile("Recours — délais")).click()
    expect(page).to_have_url(re.compile(conversation_id))
    expect(page.locator(".sv-message--assistant")).to_have_count(2)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/chat$"))
    expect(page.locator(".sv-message")).to_have_count(0)
    page.go_forward()
    expect(page.locator(".sv-message--assistant")).to_have_count(2)

    # Delete, after a confirmation.
    page.get_by_role("button", name="Supprimer").click()
    confirm = page.get_by_role("dialog", name="Supprimer la conversation")
    expect(confirm).to_contain_text("« Recours — délais »")
    _no_violations(page, "chat-supprimer")
    confirm.get_by_role("button", name="Annuler").click()
    expect(confirm).to_be_hidden()
    assert _api(page, "GET", f"/api/conversations/{conversation_id}")["id"] == conversation_id
    page.get_by_role("button", name="Supprimer").click()
    confirm.get_by_role("button", name="Supprimer définitivement").click()
    expect(confirm).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/chat$"))
    expect(history.get_by_role("link", name=re.compile("Recours — délais"))).to_have_count(0)
    expect(page.locator("#annonce")).to_have_text("Conversation « Recours — délais » supprimée.")
    assert page.request.get(f"/api/conversations/{conversation_id}").status == 404

    page.goto(f"/chat?conversation={conversation_id}")
    expect(page.locator("#erreur")).to_contain_text("introuvable")
    _no_violations(page, "chat-introuvable")


def test_stop_keeps_the_partial_answer_marked_incomplete(page: Page, site: Site) -> None:
    site.upstream.faults.tokens_per_second = 4
    question = " ".join(f"mot{i}" for i in range(40))
    _ask(page, question)
    answer = _last_answer(page)
    expect(answer.locator(".sv-message__text")).to_contain_text("mot39", timeout=15_000)
    page.get_by_role("button", name="Arrêter").click()
    expect(answer.get_by_text("Réponse incomplète")).to_be_visible()
    expect(page.locator("#annonce")).to_have_text("Génération arrêtée ; la réponse partielle est conservée.")
    partial = answer.locator(".sv-message__text").inner_text()
    assert 0 < len(partial) < len(fake_reply(question))
    # Saved on the server side, signed: once it is, export and review appear; a reload shows it incomplete.
    expect(answer.get_by_role("button", name="Marquer comme relu")).to_be_visible(timeout=10_000)
    page.reload()
    reopened = _last_answer(page)
    expect(reopened.get_by_text("Réponse incomplète")).to_be_visible()
    expect(reopened.get_by_text(LABEL)).to_be_visible()
    assert fake_reply(question).startswith(reopened.locator(".sv-message__text").inner_text().strip())


# ---- Collections and sources -----------------------------------------------------------------------------


def test_answer_from_a_collection_cites_its_sources(page: Page, site: Site) -> None:
    collection_id, document_id = _ingest(page, "Frais de mission", REPAS)
    page.reload()
    picker = page.get_by_role("group", name=re.compile("Répondre à partir de mes documents"))
    box = picker.get_by_label(re.compile("^Frais de mission"))
    expect(box).not_to_be_checked()
    picker.locator(f"label[for='collection-{collection_id}']").click()  # the DSFR draws the box on its label
    expect(box).to_be_checked()
    question = "Quel est le montant de l'indemnité de repas en mission en 2025 ?"
    answer = _answered(page, question)
    sent = site.upstream.chat_requests()[-1].body
    assert sent is not None and "20,50 euros" in str(sent["messages"])
    sources = answer.locator(".sv-message__sources")
    expect(sources).to_be_visible()
    expect(sources).to_contain_text("collection « Frais de mission »")
    expect(sources.locator("blockquote")).to_be_hidden()
    sources.get_by_text("Voir l'extrait cité").first.click()
    expect(sources.locator("blockquote").first).to_contain_text("20,50 euros")
    _no_violations(page, "chat-sources")
    stored = _api(page, "GET", f"/api/conversations/{_conversation_id(page)}")["messages"][-1]
    assert stored["provenance"]["sources"][0]["document_id"] == document_id
    assert stored["provenance"]["sources"][0]["collection_id"] == collection_id

    # Reopened later, the sources are still there.
    page.reload()
    expect(_last_answer(page).locator(".sv-message__sources")).to_contain_text("Voir l'extrait cité")


# ---- Exports, review, report -----------------------------------------------------------------------------


def test_exports_carry_the_label(page: Page, site: Site) -> None:
    # Nothing to export before a stored answer: the conversation's export links wait for one.
    site.upstream.faults.status = 503
    _ask(page, QUESTION)
    expect(page.locator("#erreur")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="Renommer")).to_be_visible()
    expect(page.locator("#export-conversation")).to_be_hidden()
    site.upstream.faults.status = None
    page.get_by_label("Votre message").fill("")
    answer = _answered(page, QUESTION)
    expect(page.locator("#export-conversation")).to_be_visible()
    for name in ["Markdown", "Word (DOCX)", "OpenDocument (ODT)"]:
        text = _export_text(page, answer.get_by_role("link", name=name))
        assert AI_LABEL in text and fake_reply(QUESTION) in text, name
    whole = page.locator("#export-conversation")
    text = _export_text(page, whole.get_by_role("link", name="Markdown"))
    assert AI_LABEL in text and QUESTION in text and fake_reply(QUESTION) in text


def test_review_is_shown_and_persisted(page: Page) -> None:
    answer = _answered(page, QUESTION)
    answer.get_by_role("button", name="Marquer comme relu").click()
    expect(answer.get_by_text("Relu et validé", exact=True)).to_be_visible()
    expect(answer.get_by_text("Relu et validé", exact=True)).to_be_focused()
    expect(answer.locator(".sv-message__meta")).to_contain_text("Relu et validé par agent.chat le ")
    expect(answer.get_by_role("button", name="Marquer comme relu")).to_be_hidden()
    expect(answer.get_by_text(LABEL)).to_be_visible()  # the AI label stays
    page.reload()
    reopened = _last_answer(page)
    expect(reopened.get_by_text("Relu et validé", exact=True)).to_be_visible()
    expect(reopened.get_by_role("button", name="Marquer comme relu")).to_be_hidden()
    stored = _api(page, "GET", f"/api/conversations/{_conversation_id(page)}")["messages"][-1]
    assert stored["human_reviewed"] is True and stored["ai_generated"] is True
    _no_violations(page, "chat-relu")


def test_report_creates_an_incident_with_the_answer_and_its_provenance(page: Page) -> None:
    answer = _answered(page, QUESTION)
    button = answer.get_by_role("button", name="Signaler un problème ou un biais")
    button.click()
    dialog = page.get_by_role("dialog", name="Signaler un problème ou un biais")
    expect(dialog).to_be_visible()
    _no_violations(page, "chat-signaler")
    dialog.get_by_role("button", name="Envoyer le signalement").click()
    expect(dialog.locator("#signaler-erreur")).to_have_text("Décrivez le problème en quelques mots.")
    dialog.get_by_text("Biais ou discrimination").click()
    dialog.get_by_label("Décrivez le problème").fill("La réponse suppose que l'agent est un homme.")
    dialog.get_by_role("button", name="Envoyer le signalement").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#succes")).to_contain_text("signalement a été transmis")
    expect(button).to_be_focused()
    message = _api(page, "GET", f"/api/conversations/{_conversation_id(page)}")["messages"][-1]
    (report,) = [r for r in _api(page, "GET", "/api/incidents") if r["message_id"] == message["id"]]
    assert report["category"] == "biais" and report["excerpt"] == fake_reply(QUESTION)
    assert report["manifest_valid"] is True and report["manifest_content_matches"] is True
    assert report["model_id"] == "vllm-model" and report["provenance"]["ai_generated"] is True


def test_feedback_thumbs_up_and_down_from_the_keyboard_then_reported(page: Page) -> None:
    answer = _answered(page, QUESTION)
    useful = answer.get_by_role("button", name="Réponse utile")
    improve = answer.get_by_role("button", name="Réponse à améliorer")
    expect(useful).to_have_attribute("aria-pressed", "false")

    # 👍 at once, from the keyboard; pressing it again withdraws it.
    useful.focus()
    page.keyboard.press("Enter")
    expect(useful).to_have_attribute("aria-pressed", "true")
    expect(answer.locator(".sv-message__meta")).to_contain_text("Votre avis : réponse utile")
    page.keyboard.press("Space")
    expect(useful).to_have_attribute("aria-pressed", "false")
    expect(answer.locator(".sv-message__meta")).not_to_contain_text("Votre avis")

    # 👎 asks why, and can go to the référent in the same step.
    improve.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Réponse à améliorer")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Commentaire")).to_be_focused()
    _no_violations(page, "chat-avis")
    dialog.get_by_text("Incomplet", exact=True).click()
    dialog.get_by_label("Commentaire").fill("Il manque le délai de recours gracieux.")
    dialog.get_by_text("Transmettre aussi au référent IA comme signalement").click()
    dialog.get_by_role("button", name="Envoyer mon avis").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#succes")).to_contain_text("votre signalement a été transmis au référent IA")
    expect(improve).to_be_focused()
    expect(improve).to_have_attribute("aria-pressed", "true")

    # Kept server-side: shown again after a reload; the report is there once, with the answer.
    page.reload()
    reopened = _last_answer(page)
    expect(reopened.get_by_role("button", name="Réponse à améliorer")).to_have_attribute("aria-pressed", "true")
    message = _api(page, "GET", f"/api/conversations/{_conversation_id(page)}")["messages"][-1]
    feedback = message["feedback"]
    assert (feedback["rating"], feedback["reason"]) == ("down", "incomplet") and feedback["incident_id"]
    (report,) = [r for r in _api(page, "GET", "/api/incidents") if r["message_id"] == message["id"]]
    assert report["id"] == feedback["incident_id"]
    assert report["description"] == "Il manque le délai de recours gracieux."
    # Pressing it again withdraws the feedback; the report stays with the référent.
    reopened.get_by_role("button", name="Réponse à améliorer").click()
    expect(reopened.get_by_role("button", name="Réponse à améliorer")).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_role("dialog", name="Réponse à améliorer")).to_be_hidden()
    assert [r["id"] for r in _api(page, "GET", "/api/incidents") if r["message_id"] == message["id"]] == [report["id"]]


# ---- The forbidden-use guard -----------------------------------------------------------------------------


def test_guard_confirmation_asks_a_reason_then_answers(page: Page, site: Site) -> None:
    _ask(page, CONFIRM)
    dialog = page.get_by_role("dialog", name="Confirmation requise par la charte")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("article 3")
    expect(page.get_by_label("Votre message")).to_have_value(CONFIRM)  # nothing typed is lost
    assert site.upstream.chat_requests() == []
    _no_violations(page, "chat-garde-confirmer")
    dialog.get_by_label(re.compile("Pourquoi votre demande")).fill("court")
    dialog.get_by_role("button", name="Confirmer et envoyer").click()
    expect(dialog.locator("#garde-erreur")).to_contain_text("10 caractères")
    dialog.get_by_label(re.compile("Pourquoi votre demande")).fill("Brouillon d'analyse que je vérifierai moi-même.")
    dialog.get_by_role("button", name="Confirmer et envoyer").click()
    expect(dialog).to_be_hidden()
    answer = _last_answer(page)
    expect(answer.locator(".sv-message__text")).to_have_text(fake_reply(CONFIRM), timeout=15_000)
    expect(answer.locator(".sv-message__guard")).to_contain_text("confirmé avec votre motif")
    expect(answer.locator(".sv-message__guard")).to_contain_text("article 3")
    expect(page.get_by_label("Votre message")).to_have_value("")
    _no_violations(page, "chat-garde-confirme")


def test_guard_reminder_is_shown_with_the_answer(page: Page) -> None:
    question = "Traduis en anglais ma réponse à cet usager"  # « traduction-usagers » warns
    answer = _answered(page, question)
    expect(answer.locator(".sv-message__guard")).to_contain_text("Rappel de la charte : Traduire des échanges")
    expect(answer.locator(".sv-message__guard")).to_contain_text("article 5")


def test_guard_block_says_why_and_a_false_positive_can_be_reported(page: Page, site: Site) -> None:
    _ask(page, BLOCKED)
    notice = page.locator("#garde")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Demande refusée : Reconnaissance faciale")
    expect(notice).to_contain_text("article 6")
    expect(page.get_by_label("Votre message")).to_have_value(BLOCKED)
    assert site.upstream.chat_requests() == [] and page.locator(".sv-message").count() == 0
    # The conversation opened for this first message is not left behind, empty.
    expect(page).to_have_url(re.compile(r"/chat$"))
    expect(page.locator("#fil-vide")).to_be_visible()
    assert all(item["title"] != "Nouvelle conversation" for item in _api(page, "GET", "/api/conversations")["items"])
    _no_violations(page, "chat-garde-refus")
    notice.get_by_role("button", name="Signaler une alerte injustifiée").click()
    dialog = page.get_by_role("dialog", name="Signaler une alerte injustifiée")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("group", name="Nature du problème")).to_be_hidden()
    dialog.get_by_label("Décrivez le problème").fill("Il s'agit de flouter les visages avant publication.")
    dialog.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.locator("#succes")).to_contain_text("signalement a été transmis")
    reports = [r for r in _api(page, "GET", "/api/incidents") if r["category"] == "faux_positif_garde"]
    assert reports and reports[0]["excerpt"] == BLOCKED and "reconnaissance-faciale" in reports[0]["description"]


# ---- Models and errors -----------------------------------------------------------------------------------


def test_model_picker_reminds_and_withdrawn_models_cannot_be_picked(page: Page, browser: Browser, site: Site) -> None:
    expect(page.locator("#rappel")).to_contain_text("Vérifiez toujours les réponses")
    expect(page.locator("#rappel")).to_contain_text("non souverain")
    page.get_by_role("combobox", name=re.compile("^Modèle")).select_option("externe-model")
    referent = browser.new_context(base_url=site.url, locale="fr-FR", bypass_csp=True)
    admin = referent.new_page()
    sign_in(admin, "referent.chat")
    reason = "Retiré après des erreurs répétées ; utilisez le modèle souverain."
    _api(admin, "POST", "/api/governance/models/withdraw", data={"model": "externe-model", "reason": reason})
    try:
        # Who supervises models sees the withdrawn one in the picker, with the référent's message, not selectable.
        admin.reload()
        option = admin.locator("#modele option[value='externe-model']")
        expect(option).to_be_disabled()
        expect(option).to_contain_text("retiré du service")
        expect(admin.locator("#modeles-retires")).to_contain_text(reason)
        expect(admin.get_by_role("combobox", name=re.compile("^Modèle"))).to_have_value("vllm-model")
        _no_violations(admin, "chat-modele-retire")

        # An agent who had picked it before the withdrawal is told why, and the picker drops it.
        page.get_by_text("Publiques", exact=True).click()
        _ask(page, "Quelle est la capitale de la France ?")
        expect(page.locator("#erreur")).to_contain_text(reason)
        expect(page.get_by_label("Votre message")).to_have_value("Quelle est la capitale de la France ?")
        expect(page.locator("#modele option[value='externe-model']")).to_have_count(0)
        expect(page.get_by_role("combobox", name=re.compile("^Modèle"))).to_have_value("vllm-model")
    finally:
        _api(admin, "POST", "/api/governance/models/reinstate", data={"model": "externe-model"})
        referent.close()


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected", "link"),
    [
        (
            429,
            {"error": {"message": "Quota journalier atteint.", "code": "quota"}},
            {"Retry-After": "30"},
            "Quota journalier atteint. Réessayez dans 30 secondes.",
            None,
        ),
        (
            403,
            {"error": {"message": "Acceptez la charte d'utilisation.", "code": "charter_not_accepted"}},
            {},
            "Acceptez la charte d'utilisation.",
            "/charte",
        ),
        (504, {"error": {"message": "Délai dépassé.", "code": "timeout"}}, {}, "trop de temps à répondre", None),
        (503, {"error": {"message": "Serveur arrêté.", "code": "unavailable"}}, {}, "momentanément indisponible", None),
    ],
)
def test_refusals_are_explained_in_french_and_keep_the_message(
    page: Page, status: int, body: dict[str, Any], headers: dict[str, str], expected: str, link: str | None
) -> None:
    page.route(
        "**/api/conversations/*/messages",
        lambda route: route.fulfill(status=status, json=body, headers=headers),
    )
    _ask(page, "Une question importante")
    alert = page.locator("#erreur")
    expect(alert).to_contain_text(expected)
    if link:
        expect(alert.get_by_role("link")).to_have_attribute("href", link)
    expect(page.get_by_label("Votre message")).to_have_value("Une question importante")
    assert page.locator(".sv-message").count() == 0
    _no_violations(page, f"chat-erreur-{status}")


def test_a_model_server_failure_keeps_the_question(page: Page, site: Site) -> None:
    site.upstream.faults.status = 503
    _ask(page, "Question sans réponse")
    expect(page.locator("#erreur")).to_be_visible(timeout=15_000)
    expect(page.get_by_label("Votre message")).to_have_value("Question sans réponse")
    expect(page.locator("#annonce")).to_have_text(
        "La génération a échoué ; votre message est remis dans la zone de saisie."
    )


# ---- Keyboard only ---------------------------------------------------------------------------------------


def _tab_to(page: Page, accessible: Locator, limit: int = 200) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if accessible.evaluate("(element) => element === document.activeElement"):
            return
    raise AssertionError("not reached by Tab")


def test_keyboard_only(page: Page) -> None:
    page.keyboard.press("Tab")
    _tab_to(page, page.get_by_role("button", name="Nouvelle conversation"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Votre message")).to_be_focused()
    page.keyboard.type("Bonjour au clavier")
    page.keyboard.press("Enter")
    answer = _last_answer(page)
    expect(answer.locator(".sv-message__text")).to_have_text(fake_reply("Bonjour au clavier"), timeout=15_000)
    expect(answer.get_by_role("button", name="Marquer comme relu")).to_be_visible()

    # Report from the keyboard: the dialog takes focus, Escape closes it, focus comes back.
    report = answer.get_by_role("button", name="Signaler un problème ou un biais")
    report.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Signaler un problème ou un biais")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Décrivez le problème")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(report).to_be_focused()

    # Rename from the keyboard.
    rename = page.get_by_role("button", name="Renommer")
    rename.focus()
    page.keyboard.press("Enter")
    field = page.get_by_label("Nouveau titre")
    expect(field).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Au clavier")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Au clavier", level=2)).to_be_visible()
    expect(rename).to_be_focused()

    # Review from the keyboard; focus lands on the new state.
    answer.get_by_role("button", name="Marquer comme relu").focus()
    page.keyboard.press("Enter")
    expect(answer.get_by_text("Relu et validé", exact=True)).to_be_focused()
