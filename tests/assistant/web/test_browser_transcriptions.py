"""The transcription pages in a real browser: upload with progress, the job followed to the end, the labelled
transcript with speakers and times, corrections, the audio player in step, exports, minutes, delete — and an
axe-core scan of each state.

The site here has its own data directory and the session's prepared Whisper base; speech comes from espeak-ng
and is kept to a few seconds.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docx
import numpy as np
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.llm import ModelConfig
from assistant.provenance import AI_LABEL
from assistant.runtime import Runtime, open_runtime
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.web.browser import ROOT, Site, serious_violations, sign_in
from tests.factories import PASSWORD, make_settings, upstream_backend
from tests.fakes import FakeUpstream, NoteTaker
from tests.fakes.live_app import LiveServer
from tests.transcription.factories import silence, speak, write_wav
from transcription import diarization_available, load_audio

USER = "agent.transcriptions"
UI_LABEL = "Contenu généré par IA — à vérifier"  # the badge; exports carry the long form, AI_LABEL
SPEECH = "Bonjour à tous. Nous avons décidé de rénover la bibliothèque."
TRANSCRIPT_EXPORTS = {"txt": "Texte", "srt": "Sous-titres SRT", "vtt": "Sous-titres WebVTT", "md": "Markdown"}
DIARIZE = diarization_available()
UNTHROTTLED = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


@dataclass
class TranscriptionSite(Site):
    app: FastAPI


async def _create_user(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await create_local_user(runtime, username=USER, role=Role.AGENT, password=PASSWORD)


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, whisper_dir: Path, _openai_upstream_server: FakeUpstream
) -> Iterator[TranscriptionSite]:
    data_dir = tmp_path_factory.mktemp("web-transcriptions")
    (data_dir / "models").mkdir()
    (data_dir / "models" / "whisper-base").symlink_to(whisper_dir, target_is_directory=True)
    settings = make_settings(
        data_dir=data_dir,
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=[upstream_backend(_openai_upstream_server.url, context_length=8192)],
        default_model="vllm-model",
        default_requests_per_minute=10_000,
        transcription_beam_size=1,
        transcription_cpu_threads=2,
        transcription_device="cpu",
        transcription_diarization=DIARIZE,
        job_recovery_interval_seconds=0.5,
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _create_user(settings)).result()
    app = create_app(settings)
    with LiveServer(app) as server:
        runtime: Runtime = app.state.runtime
        # Minutes need a model that answers the JSON asked for; the fake upstream answers words reversed.
        runtime.models.add_backend(
            "redaction", NoteTaker(NoteTaker.Options()), models=[ModelConfig(id="redacteur")], sovereign=True
        )
        yield TranscriptionSite(url=server.url, upstream=_openai_upstream_server, app=app)


@pytest.fixture(scope="module")
def short_wav(speech_dir: Path) -> Path:
    return speak(SPEECH, speech_dir / "court.wav")


@pytest.fixture(scope="module")
def long_wav(speech_dir: Path, short_wav: Path) -> Path:
    """About forty seconds of speech: still being transcribed when the tests cancel it."""
    samples = load_audio(short_wav)
    return write_wav(np.concatenate([np.concatenate([samples, silence(0.5)])] * 9), speech_dir / "long-web.wav")


@pytest.fixture
def page(anonymous_page: Page) -> Page:
    sign_in(anonymous_page, USER, start="/transcriptions")
    return anonymous_page


def _choose_and_send(page: Page, wav: Path, *, title: str) -> None:
    page.get_by_label("Enregistrement audio ou vidéo").set_input_files(str(wav))
    page.get_by_label("Titre (facultatif)").fill(title)
    page.get_by_label("Langue parlée").select_option("fr")
    page.get_by_role("button", name="Transcrire", exact=True).click()


def _row(page: Page, title: str):  # type: ignore[no-untyped-def]
    return page.locator("#lignes tr").filter(has=page.get_by_role("link", name=title, exact=True))


def _download(page: Page, link_name: str, scope: str) -> bytes:
    with page.expect_download() as download:
        page.locator(scope).get_by_role("link", name=link_name).click()
    path = download.value.path()
    assert path is not None
    return Path(path).read_bytes()


def _labelled(content: bytes, file_format: str) -> bool:
    if file_format == "docx":
        document = docx.Document(io.BytesIO(content))
        return any(AI_LABEL in paragraph.text for paragraph in document.paragraphs)
    if file_format == "odt":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return AI_LABEL in archive.read("content.xml").decode()
    if file_format == "json":
        return AI_LABEL in json.dumps(json.loads(content), ensure_ascii=False)
    return AI_LABEL in content.decode()


def test_upload_follow_read_correct_export_summarise_and_delete(
    page: Page, site: TranscriptionSite, short_wav: Path
) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Transcriptions")
    expect(
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Transcriptions", exact=True)
    ).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Aucune transcription pour le moment.")).to_be_visible()
    assert serious_violations(page, "transcriptions-vide") == []

    # Nothing chosen: a French error on the field, nothing sent.
    page.get_by_role("button", name="Transcrire", exact=True).click()
    expect(page.locator("#fichier-erreur")).to_have_text("Choisissez un enregistrement audio ou vidéo.")
    expect(page.get_by_label("Enregistrement audio ou vidéo")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Enregistrement audio ou vidéo")).to_be_focused()

    if DIARIZE:
        page.get_by_label("Identifier les intervenants").check(force=True)  # the DSFR label covers the box
        page.get_by_label("Nombre d'intervenants (facultatif)").fill("1")
    else:
        expect(page.get_by_label("Identifier les intervenants")).to_be_disabled()
    page.get_by_label("Conserver l'audio").check(force=True)
    # A slow uplink, so that the upload's own progress can be seen before the file is received.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {**UNTHROTTLED, "uploadThroughput": 60_000},
    )
    _choose_and_send(page, short_wav, title="Conseil de quartier")

    # First audio upload: the reminder comes first.
    reminder = page.get_by_role("dialog", name="Avant de déposer un enregistrement")
    expect(reminder).to_be_visible()
    expect(reminder).to_contain_text("informés")
    expect(reminder.get_by_role("link", name="Bonnes pratiques")).to_have_attribute("href", "/bonnes-pratiques")
    assert serious_violations(page, "transcriptions-rappel") == []
    reminder.get_by_role("button", name="J'ai compris, transcrire").click()

    expect(page.locator("#envoi")).to_be_visible()
    page.wait_for_function(
        "() => { const bar = document.getElementById('envoi-barre'); return bar.value > 0 && bar.value < 100; }"
    )
    expect(page.locator("#envoi-texte")).to_contain_text("Mo")
    cdp.send("Network.emulateNetworkConditions", {**UNTHROTTLED, "uploadThroughput": -1})

    row = _row(page, "Conseil de quartier")
    expect(row).to_be_visible(timeout=30_000)
    expect(page.locator("#envoi")).to_be_hidden()
    assert serious_violations(page, "transcriptions-en-cours") == []
    expect(row.locator('[data-role="badge"]')).to_have_text("Terminée", timeout=120_000)
    expect(row.locator('[data-role="suivi"]')).to_be_hidden()
    expect(row.locator('[data-role="duree"]')).to_have_text(re.compile(r"^00:00:0\d$"))
    expect(page.locator("#annonce")).to_have_text("Transcription « Conseil de quartier » terminée.")
    assert serious_violations(page, "transcriptions-liste") == []

    # The transcript: label, times, speakers, player.
    row.get_by_role("link", name="Conseil de quartier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conseil de quartier")
    segments = page.locator("#segments > li")
    expect(segments.first).to_be_visible()
    expect(page.locator("#resultat").get_by_text(UI_LABEL).first).to_be_visible()
    expect(segments.first.locator(".sv-time")).to_have_text(re.compile(r"00:00:0\d"))
    assert "biblioth" in page.locator("#segments").inner_text().lower()
    player = page.locator("audio#lecteur")
    expect(player).to_be_attached()
    page.wait_for_function("() => document.getElementById('lecteur').readyState >= 1", timeout=15_000)
    assert page.evaluate("() => document.getElementById('lecteur').duration") > 1
    assert serious_violations(page, "transcription-texte") == []

    # The player follows the transcript, without taking the focus.
    last = segments.last
    start = float(last.get_attribute("data-start") or "0")
    seek = last.get_by_role("button", name=re.compile(r"^Écouter à partir de"))
    seek.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(start) => Math.abs(document.getElementById('lecteur').currentTime - start) < 0.6", arg=start
    )
    expect(last).to_have_attribute("aria-current", "time")
    expect(last).to_have_class(re.compile(r"sv-segment--current"))
    expect(page.locator("#segments > li[aria-current]")).to_have_count(1)
    expect(seek).to_be_focused()
    page.evaluate("() => document.getElementById('lecteur').pause()")
    if segments.count() > 1:  # a click on a passage's text plays from there too
        segments.first.locator(".sv-segment__text").click()
        expect(segments.first).to_have_attribute("aria-current", "time")
        expect(page.locator("#segments > li[aria-current]")).to_have_count(1)
        page.evaluate("() => document.getElementById('lecteur').pause()")

    if DIARIZE:
        expect(segments.first.locator(".sv-speaker")).to_have_text("Intervenant 1")
        page.get_by_label("Intervenant n° 1", exact=True).fill("Mme la Présidente")
        page.get_by_role("button", name="Renommer l'intervenant n° 1").click()
        expect(segments.first.locator(".sv-speaker")).to_have_text("Mme la Présidente")
        expect(page.get_by_label("Intervenant n° 1", exact=True)).to_be_focused()
        expect(page.locator("#relecture")).to_contain_text(f"Relue et corrigée par {USER}")

    first = segments.first
    # Whisper may keep the whole sentence in one passage: the correction must not erase the decision the
    # minutes below are expected to find.
    corrected = "Bonjour à toutes et à tous."
    if "décid" in first.locator(".sv-segment__text").inner_text().lower():
        corrected += " Nous avons décidé de rénover la bibliothèque."
    first.get_by_role("button", name=re.compile(r"^Corriger")).click()
    editor = first.get_by_role("textbox")
    expect(editor).to_be_focused()
    editor.fill(corrected)
    first.get_by_role("button", name="Enregistrer la correction").click()
    expect(first.locator(".sv-segment__text")).to_have_text(corrected)
    expect(first.get_by_role("button", name=re.compile(r"^Corriger"))).to_be_focused()
    expect(page.locator("#relecture")).to_be_visible()
    expect(page.locator("#resultat").get_by_text(UI_LABEL).first).to_be_visible()
    assert serious_violations(page, "transcription-corrigee") == []

    # Exports carry the label (and the correction).
    for file_format, name in {**TRANSCRIPT_EXPORTS, "docx": "Word (DOCX)", "json": "JSON"}.items():
        content = _download(page, f"{name} {file_format.upper()}", "#exports")
        assert _labelled(content, file_format), file_format
    assert "Bonjour à toutes et à tous." in _download(page, "Texte TXT", "#exports").decode()

    # Minutes: the fake upstream's answer is no minutes — a French error; the note-taker writes them.
    page.get_by_label("Modèle de rédaction").select_option("vllm-model")
    page.get_by_role("button", name="Rédiger le compte rendu").click()
    expect(page.locator("#erreur")).to_be_visible(timeout=30_000)
    expect(page.locator("#erreur")).not_to_have_text("")
    expect(page.locator("#cr-contenu")).to_be_hidden()
    page.get_by_label("Modèle de rédaction").select_option("redacteur")
    page.get_by_role("button", name="Rédiger le compte rendu").click()
    minutes = page.locator("#cr-contenu")
    expect(minutes).to_be_visible(timeout=30_000)
    expect(page.locator("#erreur")).to_be_hidden()
    expect(page.get_by_role("heading", name="Compte rendu", exact=True)).to_be_focused()
    expect(minutes.get_by_text(UI_LABEL)).to_be_visible()
    expect(page.locator("#cr-decisions")).to_contain_text("bibliothèque")
    # side by side: the decision beside the passage it cites; the button leads to that passage in the transcript
    decision = page.locator("#cr-decisions li.sv-minute").first
    expect(decision.locator("blockquote")).to_contain_text("bibliothèque")
    decision.get_by_role("button", name=re.compile(r"^Voir dans la transcription \(\d\d:\d\d:\d\d\)$")).click()
    expect(page.locator("#segments li.sv-segment--cited").first).to_be_focused()
    expect(page.locator("#cr-actions")).to_contain_text("Aucune action relevée.")
    # The participants are the speakers as named in the transcript, not a list the model wrote.
    expect(page.locator("#cr-participants")).to_contain_text("Mme la Présidente" if DIARIZE else "Non précisés.")
    expect(page.locator("#cr-provenance")).to_contain_text("redacteur")
    assert serious_violations(page, "transcription-compte-rendu") == []
    minutes_exports = {"md": "Markdown", "docx": "Word (DOCX)", "odt": "OpenDocument (ODT)", "json": "JSON"}
    for file_format, name in minutes_exports.items():
        assert _labelled(_download(page, f"{name} {file_format.upper()}", "#cr-contenu"), file_format), file_format

    # Delete, after a confirmation.
    page.get_by_role("button", name="Supprimer la transcription", exact=True).click()
    dialog = page.get_by_role("dialog", name="Supprimer la transcription ?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("« Conseil de quartier »")
    assert serious_violations(page, "transcription-suppression") == []
    dialog.get_by_role("button", name="Supprimer définitivement").click()
    page.wait_for_url(re.compile(r"/transcriptions\?supprimee=1$"))
    expect(page.get_by_text("La transcription a été supprimée.")).to_be_visible()
    expect(_row(page, "Conseil de quartier")).to_have_count(0)


def test_cancel_then_delete_from_the_list_without_a_second_reminder(page: Page, long_wav: Path) -> None:
    page.evaluate("() => localStorage.setItem('souverain.transcriptions.rappel-lu', 'oui')")
    _choose_and_send(page, long_wav, title="Longue réunion")
    expect(page.get_by_role("dialog", name="Avant de déposer un enregistrement")).to_be_hidden()
    row = _row(page, "Longue réunion")
    expect(row).to_be_visible(timeout=30_000)
    row.get_by_role("button", name="Annuler « Longue réunion »").click()
    expect(row.locator('[data-role="badge"]')).to_have_text("Annulée", timeout=30_000)
    expect(row.get_by_role("button", name="Annuler « Longue réunion »")).to_be_hidden()

    row.get_by_role("button", name="Supprimer « Longue réunion »").click()
    dialog = page.get_by_role("dialog", name="Supprimer la transcription ?")
    expect(dialog).to_contain_text("« Longue réunion »")
    dialog.get_by_role("button", name="Supprimer définitivement").click()
    expect(dialog).to_be_hidden()
    expect(row).to_have_count(0)
    expect(page.locator("#annonce")).to_have_text("Transcription « Longue réunion » supprimée.")
    expect(page.get_by_role("heading", name="Mes transcriptions")).to_be_focused()


def test_a_running_transcription_is_followed_and_cancelled_from_its_page(page: Page, long_wav: Path) -> None:
    page.evaluate("() => localStorage.setItem('souverain.transcriptions.rappel-lu', 'oui')")
    _choose_and_send(page, long_wav, title="Réunion à suivre")
    row = _row(page, "Réunion à suivre")
    expect(row).to_be_visible(timeout=30_000)
    row.get_by_role("link", name="Réunion à suivre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réunion à suivre")
    tracker = page.locator("#suivi")
    expect(tracker).to_be_visible()
    expect(page.locator("#suivi-texte")).to_contain_text("%")
    expect(page.locator("#resultat")).to_be_hidden()
    assert serious_violations(page, "transcription-en-cours") == []

    page.get_by_role("button", name="Annuler la transcription").click()
    expect(page.locator("#etat")).to_have_text("Annulée", timeout=30_000)
    expect(tracker).to_be_hidden()
    expect(page.locator("#echec")).to_contain_text("Transcription annulée")
    expect(page.get_by_role("button", name="Supprimer la transcription", exact=True)).to_be_focused()
    assert serious_violations(page, "transcription-annulee") == []


def test_a_file_that_is_not_audio_is_refused_in_french(page: Page, tmp_path: Path) -> None:
    page.evaluate("() => localStorage.setItem('souverain.transcriptions.rappel-lu', 'oui')")
    fake = tmp_path / "note.wav"
    fake.write_text("Ceci n'est pas un enregistrement.", encoding="utf-8")
    _choose_and_send(page, fake, title="Pas un son")
    alert = page.locator("#depot-erreur")
    expect(alert).to_be_visible(timeout=15_000)
    expect(alert).to_have_attribute("role", "alert")
    assert re.search(r"[éèà]|audio|fichier", alert.inner_text(), re.IGNORECASE)
    expect(_row(page, "Pas un son")).to_have_count(0)
    assert serious_violations(page, "transcriptions-refus") == []
