"""Live transcription in a real browser: Chromium's fake microphone plays espeak-ng French, the page streams it
over the WebSocket, partial and final text appear while « recording », then « Terminer » hands the meeting to
the usual transcription, whose result page shows the text — and an axe-core scan of each state.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.assistant.web.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, serious_violations, sign_in
from tests.factories import PASSWORD, make_settings
from tests.fakes.live_app import LiveServer
from tests.transcription.factories import silence, speak, write_wav
from transcription import load_audio

USER = "agent.direct"
SPEECH = "Bonjour à tous. Nous avons décidé de rénover la bibliothèque."


async def _create_user(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await create_local_user(runtime, username=USER, role=Role.AGENT, password=PASSWORD)


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory, whisper_dir: Path) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("web-live")
    (data_dir / "models").mkdir()
    (data_dir / "models" / "whisper-base").symlink_to(whisper_dir, target_is_directory=True)
    settings = make_settings(
        data_dir=data_dir,
        web_assets_dir=ROOT / ".build" / "web",
        default_requests_per_minute=10_000,
        transcription_beam_size=1,
        transcription_cpu_threads=2,
        transcription_device="cpu",
        transcription_diarization=False,
        job_recovery_interval_seconds=0.5,
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _create_user(settings)).result()
    with LiveServer(create_app(settings)) as server:
        yield server.url


@pytest.fixture(scope="module")
def microphone(speech_dir: Path) -> Path:
    """What the fake microphone hears, in a loop: the sentence, then two seconds of silence."""
    samples = load_audio(speak(SPEECH, speech_dir / "direct.wav"))
    return write_wav(np.concatenate([silence(0.5), samples, silence(2.0)]), speech_dir / "micro.wav")


@pytest.fixture(scope="module")
def browser(microphone: Path) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium est requis pour les tests du navigateur : apt-get install -y chromium")
    fake_microphone = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *fake_microphone])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, site_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=site_url, locale="fr-FR", bypass_csp=True, permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, USER, start="/transcription-en-direct")
    yield page
    context.close()


def test_speak_see_the_text_live_then_finish_into_a_transcription(page: Page) -> None:
    expect(page.get_by_role("heading", name="Nouvelle réunion")).to_be_visible()
    assert serious_violations(page, "direct-reglages") == []

    page.get_by_label("Titre (facultatif)").fill("Point d'équipe")
    page.get_by_label("Langue parlée").select_option("fr")
    page.get_by_role("button", name="Démarrer l'enregistrement").click()
    expect(page.locator("#seance")).to_be_visible()
    expect(page.locator("#etat")).to_have_text("Enregistrement en cours")
    # Whisper base on two cores: the first words come within seconds, the confirmed sentence a little later.
    page.wait_for_function(
        "() => (document.getElementById('provisoire').textContent + document.getElementById('final').textContent)"
        ".trim() !== ''",
        timeout=30_000,
    )
    expect(page.locator("#final")).to_contain_text(re.compile("biblioth", re.IGNORECASE), timeout=60_000)
    expect(page.locator("#recu")).not_to_have_text("00:00:00")
    assert serious_violations(page, "direct-en-cours") == []

    page.get_by_role("button", name="Terminer").click()
    expect(page.get_by_role("heading", name="Réunion terminée")).to_be_focused(timeout=30_000)
    assert serious_violations(page, "direct-fin") == []
    page.get_by_role("link", name="Voir la transcription").click()
    page.wait_for_url(re.compile(r"/transcriptions/[0-9a-f-]{36}$"))
    # The whole recording (the sentence looped by the fake microphone) is transcribed again offline, with cuts
    # of its own: any word of the sentence shows the recorded audio reached the usual transcription.
    expect(page.locator("#segments")).to_contain_text(
        re.compile("bonjour|biblioth|rénov|décid", re.IGNORECASE), timeout=120_000
    )
