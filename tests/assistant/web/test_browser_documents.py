"""« Documents » and « Tâches » in a real browser: collections, uploads with progress, ingestion followed to the end,
sharing, deletion, document tasks streamed from the fake upstream, errors in French, axe-core on every state."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.security import Principal, permissions_for
from assistant.services.governance.admin import add_group_member, create_group
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.web.browser import (
    ROOT,
    Site,
    serious_violations,
    serve_site,
    sign_in,
    sovereign_backend,
)
from tests.factories import PASSWORD, embedded_test_config, make_settings
from tests.fakes import FakeUpstream, fake_reply

LABEL = "Contenu généré par IA — à vérifier"
MAX_DOCUMENT_BYTES = 4096
NOTE = "Les congés annuels doivent être posés quinze jours avant le départ. Le télétravail est ouvert deux jours."


async def _populate(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await create_local_user(runtime, username="agent.web", role=Role.AGENT, password=PASSWORD)
        colleague = await create_local_user(runtime, username="agent.collegue", role=Role.AGENT, password=PASSWORD)
        referent = await create_local_user(runtime, username="referent.web", role=Role.REFERENT, password=PASSWORD)
        actor = Principal(referent.id, referent.username, Role.REFERENT, "session", permissions_for(Role.REFERENT))
        group = await create_group(runtime, name="juristes", description="Service juridique", actor=actor)
        await add_group_member(runtime, group_id=group.id, user_id=colleague.id, actor=actor)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _openai_upstream_server: FakeUpstream) -> Iterator[Site]:
    """The browser tests' site, with small limits (so that refusals are cheap to provoke) and a shared group."""
    upstream = _openai_upstream_server
    settings = make_settings(
        data_dir=tmp_path_factory.mktemp("web-work"),
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=[
            sovereign_backend(upstream.url),
            embedded_test_config(),
        ],
        default_model="vllm-model",
        default_requests_per_minute=10_000,
        rag_max_document_bytes=MAX_DOCUMENT_BYTES,
        rag_max_files_per_upload=3,
        task_chunk_tokens=100,  # ~300 characters: a few paragraphs already go through map-reduce
        job_recovery_interval_seconds=0.5,
    )
    with serve_site(settings, upstream, _populate) as site:
        yield site


def _new_page(browser: Browser, site: Site) -> Page:
    context = browser.new_context(
        base_url=site.url, locale="fr-FR", bypass_csp=True, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _csrf(page: Page) -> str:
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    return token


def _row(page: Page, filename: str):  # type: ignore[no-untyped-def]
    return page.locator("#documents tr", has=page.get_by_role("rowheader", name=filename, exact=True))


def _pick(page: Page, radio_id: str) -> None:
    """Click a DSFR radio button's label, as a user does (the styled label covers the input)."""
    page.locator(f'label[for="{radio_id}"]').click()
    expect(page.locator(f"#{radio_id}")).to_be_checked()


def _choose(page: Page, files: list[tuple[str, bytes, str]]) -> None:
    page.get_by_label("Fichiers à ajouter").set_input_files(
        [{"name": name, "mimeType": mime, "buffer": data} for name, data, mime in files]
    )


def test_collection_life_cycle(anonymous_page: Page, browser: Browser, site: Site) -> None:
    page = anonymous_page
    sign_in(page, "agent.web", start="/documents")
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents")
    expect(
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Documents")
    ).to_have_attribute("aria-current", "page")
    assert serious_violations(page, "documents-vide") == []

    # Create.
    page.get_by_label("Nom de la collection").fill("Notes RH")
    page.get_by_label("Description (facultative)").fill("Circulaires du service")
    page.get_by_role("button", name="Créer la collection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notes RH")
    expect(page.get_by_role("status").filter(has_text="La collection a été créée.")).to_be_visible()
    assert serious_violations(page, "collection-creee") == []

    # First upload: the reminder first, then a real progress bar, then the status followed until « Prêt ».
    _choose(page, [("note.txt", NOTE.encode(), "text/plain")])
    page.get_by_role("button", name="Envoyer").click()
    reminder = page.get_by_role("dialog", name="Avant votre premier envoi")
    expect(reminder).to_be_visible()
    expect(reminder).to_contain_text("interne à l'administration")
    assert serious_violations(page, "rappel-premier-envoi") == []
    reminder.get_by_role("button", name="J'ai compris, envoyer").click()
    expect(page.locator("#envoi-progression")).to_be_visible()
    expect(page.locator("#envoi-libelle")).to_have_text("Envoi terminé")
    expect(page.locator("#envoi-barre")).to_have_attribute("value", "100")
    row = _row(page, "note.txt")
    expect(row.locator(".fr-badge")).to_have_text("Prêt", timeout=90_000)
    passages = int(row.locator("td").nth(3).inner_text())
    assert passages >= 1
    expect(page.locator("#annonce")).to_have_text("« note.txt » est prêt.")
    assert serious_violations(page, "document-pret") == []

    # The document answers a search over the collection, its text shown as text.
    page.get_by_label("Question ou mots-clés").fill("Combien de jours de télétravail ?")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="1 passage(s) trouvé(s)")).to_be_focused(timeout=30_000)
    expect(page.locator(".sv-passages li").first).to_contain_text("note.txt")
    expect(page.locator(".sv-passage").first).to_contain_text("deux jours")
    assert serious_violations(page, "recherche") == []

    # Refusals, each with the server's French message; the reminder is not shown a second time.
    _choose(page, [(f"f{i}.txt", f"Fichier {i}".encode(), "text/plain") for i in range(4)])
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("alert")).to_have_text("Trop de fichiers : 3 au plus par envoi.")
    _choose(
        page,
        [
            ("programme.exe", b"MZ\x90\x00binaire", "application/octet-stream"),
            ("gros.txt", b"a " * MAX_DOCUMENT_BYTES, "text/plain"),
            ("casse.pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer garbage", "application/pdf"),
        ],
    )
    page.get_by_role("button", name="Envoyer").click()
    expect(_row(page, "gros.txt")).to_contain_text("dépasse la taille maximale autorisée")
    expect(_row(page, "programme.exe").locator(".fr-badge")).to_have_text("Échec", timeout=60_000)
    expect(_row(page, "programme.exe")).to_contain_text("non pris en charge")
    expect(_row(page, "casse.pdf").locator(".fr-badge")).to_have_text("Échec", timeout=60_000)
    expect(_row(page, "casse.pdf")).to_contain_text("casse.pdf")
    assert serious_violations(page, "documents-refuses") == []

    # Share with a group: its member sees the collection, read-only.
    page.get_by_label("Accès du groupe juristes").select_option(label="Lecture")
    page.get_by_role("button", name="Enregistrer le partage").click()
    expect(page.get_by_role("status").filter(has_text="Le partage de la collection a été enregistré.")).to_be_visible()
    expect(page.get_by_label("Accès du groupe juristes")).to_have_value("read")
    colleague = _new_page(browser, site)
    try:
        sign_in(colleague, "agent.collegue", start="/documents")
        shared = colleague.get_by_role("table", name="Collections partagées avec vous ou vos groupes")
        expect(shared.get_by_role("row", name=re.compile("Notes RH"))).to_contain_text("agent.web")
        expect(shared.get_by_role("row", name=re.compile("Notes RH"))).to_contain_text("Lecture seule")
        shared.get_by_role("link", name="Notes RH").click()
        expect(_row(colleague, "note.txt")).to_contain_text("Prêt")
        expect(colleague.get_by_label("Fichiers à ajouter")).to_have_count(0)
        assert serious_violations(colleague, "collection-partagee") == []
    finally:
        colleague.context.close()

    # Delete a document (confirmed in a dialog), then the collection (DSFR modal).
    _row(page, "casse.pdf").get_by_role("button", name="Supprimer casse.pdf").click()
    confirm = page.get_by_role("dialog", name="Supprimer ce document ?")
    expect(confirm).to_contain_text("casse.pdf")
    assert serious_violations(page, "confirmer-suppression-document") == []
    confirm.get_by_role("button", name="Supprimer le document").click()
    expect(_row(page, "casse.pdf")).to_have_count(0)
    expect(page.locator("#annonce")).to_have_text("« casse.pdf » a été supprimé.")
    expect(_row(page, "note.txt")).to_have_count(1)

    page.get_by_role("button", name="Supprimer la collection").click()
    modal = page.get_by_role("dialog", name="Supprimer « Notes RH » ?")
    expect(modal).to_be_visible()
    assert serious_violations(page, "confirmer-suppression-collection") == []
    modal.get_by_role("button", name="Supprimer définitivement").click()
    expect(page).to_have_url(re.compile(r"/documents\?fait=supprimee$"))
    expect(page.get_by_role("status")).to_contain_text("La collection a été supprimée")
    expect(page.get_by_role("link", name="Notes RH")).to_have_count(0)


def test_keyboard_only_creation_and_french_form_errors(page_on_documents: Page) -> None:
    page = page_on_documents
    page.get_by_label("Nom de la collection").fill("   ")
    page.get_by_label("Nom de la collection").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("de 1 à 150 caractères")
    assert serious_violations(page, "documents-erreur") == []


@pytest.fixture
def page_on_documents(anonymous_page: Page) -> Page:
    sign_in(anonymous_page, "agent.web", start="/documents")
    return anonymous_page


@pytest.fixture
def tasks_page(anonymous_page: Page) -> Page:
    sign_in(anonymous_page, "agent.web", start="/taches")
    return anonymous_page


def test_synthesis_of_pasted_text(tasks_page: Page, site: Site, tmp_path: Path) -> None:
    page = tasks_page
    expect(page.get_by_role("heading", level=1)).to_have_text("Tâches")
    expect(page.get_by_role("radio", name=re.compile("^Synthèse"))).to_be_checked()
    expect(page.get_by_label("Langue cible")).to_be_hidden()
    assert serious_violations(page, "taches") == []

    text = "Le conseil municipal a voté le budget. Les travaux de la médiathèque commencent en mars."
    page.get_by_label("Texte à traiter").fill(text)
    page.get_by_role("button", name="Lancer la tâche").click()
    result = page.locator("#resultat")
    expect(page.locator("#annonce")).to_have_text(f"Tâche terminée. {LABEL}.", timeout=30_000)
    expect(result.locator("#resultat-texte")).to_have_text(fake_reply(text))
    expect(result.get_by_text(LABEL)).to_be_visible()
    meta = result.locator("#resultat-meta").inner_text()
    assert "Énergie estimée" in meta and "g CO₂e" in meta and "Tâche : Synthèse (synthese.v1)" in meta
    sent = site.upstream.chat_requests()[-1].body
    assert sent is not None and sent["messages"][-1]["content"] == text
    assert serious_violations(page, "tache-resultat") == []

    result.get_by_role("button", name="Copier le résultat").click()
    expect(page.locator("#annonce")).to_have_text("Résultat copié dans le presse-papiers.")
    assert LABEL in page.evaluate("() => navigator.clipboard.readText()")

    with page.expect_download() as download:
        result.get_by_role("button", name="Télécharger (Markdown)").click()
    path = tmp_path / "resultat.md"
    download.value.save_as(path)
    exported = path.read_text(encoding="utf-8")
    assert "ai_generated: true" in exported and fake_reply(text) in exported
    # The download is an export the service itself recognises as signed and unmodified.
    verified = page.request.post(
        "/api/provenance/verify",
        multipart={"file": {"name": "resultat.md", "mimeType": "text/markdown", "buffer": path.read_bytes()}},
        headers={"X-CSRF-Token": _csrf(page)},
    )
    assert verified.ok, verified.text()
    assert verified.json()["valid"] is True, verified.json()


def test_long_text_goes_through_parts_with_progress(tasks_page: Page) -> None:
    page = tasks_page
    paragraph = "Le service instruit chaque demande de subvention dans un délai de deux mois après dépôt. "
    page.get_by_label("Texte à traiter").fill("\n\n".join(paragraph * 2 for _ in range(6)))
    page.get_by_role("button", name="Lancer la tâche").click()
    expect(page.locator("#annonce")).to_have_text(f"Tâche terminée. {LABEL}.", timeout=60_000)
    meta = page.locator("#resultat-meta").inner_text()
    assert re.search(r"\d+ parties, \d+ appels au modèle", meta), meta


def test_translation_of_a_file_and_errors_in_french(tasks_page: Page, site: Site) -> None:
    page = tasks_page
    _pick(page, "preset-traduction")
    expect(page.get_by_label("Langue cible")).to_be_visible()
    page.get_by_label("Langue cible").select_option("de")
    _pick(page, "source-fichier")
    expect(page.get_by_label("Texte à traiter")).to_be_hidden()

    # Nothing chosen: said in French, focus on the field.
    page.get_by_role("button", name="Lancer la tâche").click()
    expect(page.get_by_role("alert")).to_have_text("Choisissez le fichier à traiter.")
    expect(page.get_by_label("Fichier à traiter")).to_be_focused()

    content = "Bonjour à tous les agents du service."
    page.get_by_label("Fichier à traiter").set_input_files(
        {"name": "note.txt", "mimeType": "text/plain", "buffer": content.encode()}
    )
    page.get_by_role("button", name="Lancer la tâche").click()
    expect(page.locator("#annonce")).to_have_text(f"Tâche terminée. {LABEL}.", timeout=30_000)
    expect(page.locator("#resultat-texte")).to_have_text(fake_reply(content))
    expect(page.locator("#resultat-meta")).to_contain_text("Source : note.txt")
    sent = site.upstream.chat_requests()[-1].body
    assert sent is not None and "allemand" in sent["messages"][0]["content"]
    assert serious_violations(page, "tache-fichier") == []

    # A file the service cannot read: the server's French message.
    page.get_by_label("Fichier à traiter").set_input_files(
        {"name": "casse.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\ngarbage"}
    )
    page.get_by_role("button", name="Lancer la tâche").click()
    expect(page.get_by_role("alert")).to_contain_text("casse.pdf")
    expect(page.locator("#resultat")).to_be_hidden()
    assert serious_violations(page, "tache-erreur") == []

    # The upstream down: said in French, nothing invented.
    _pick(page, "source-texte")
    page.get_by_label("Texte à traiter").fill("Un texte court.")
    site.upstream.stop()
    try:
        page.get_by_role("button", name="Lancer la tâche").click()
        expect(page.get_by_role("alert")).not_to_be_empty(timeout=30_000)
        assert re.search(r"[éèàç]|indisponible|joindre", page.get_by_role("alert").inner_text())
    finally:
        site.upstream.start()
