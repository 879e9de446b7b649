"""Naming speakers on the transcription page in a real browser: the names heard in the introductions are proposed
under each speaker, confirmed or corrected, and then shown in the transcript — with an axe-core scan of each state.

The transcription is stored as the worker stores a diarized one (signed, labelled), so no audio is needed.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.services.gateway.labelling import speech_provenance
from assistant.services.identity.users import create_local_user
from assistant.store import transcriptions as store
from assistant.store.models import Role
from tests.assistant.web.browser import ROOT, Site, serious_violations, sign_in
from tests.factories import PASSWORD, make_settings, upstream_backend
from tests.fakes import FakeUpstream
from tests.fakes.live_app import LiveServer
from transcription import Segment, Transcript

USER = "agent.intervenants"
MEETING = (
    ("Intervenant 1", 0.0, "Bonjour à tous, la séance est ouverte."),
    ("Intervenant 2", 12.0, "Marie Kerdraon, cheffe du bureau des affaires générales. Le budget est prêt."),
    ("Intervenant 1", 30.0, "Merci. Je donne la parole à Paul Martin."),
    ("Intervenant 3", 41.0, "Merci madame, le calendrier tient."),
)


@dataclass
class SpeakersSite(Site):
    transcription_id: uuid.UUID


async def _seed(settings: Settings) -> uuid.UUID:
    """A user and one finished, diarized transcription of theirs."""
    async with open_runtime(settings, with_worker=False) as runtime:
        user = await create_local_user(runtime, username=USER, role=Role.AGENT, password=PASSWORD)
        transcript = Transcript(
            segments=tuple(Segment(start, start + 9.0, text, speaker=speaker) for speaker, start, text in MEETING),
            language="fr",
            duration=50.0,
            model=runtime.speech.model.model_id,
        )
        provenance = speech_provenance(runtime.speech.model, request_id=None)
        manifest = runtime.signer.sign(transcript.text, provenance, content_type="text/plain")
        async with runtime.session_factory.begin() as session:
            row = await store.add_transcription(
                session=session,
                owner_id=user.id,
                job_id=None,
                title="Comité de direction",
                filename="comite.wav",
                size_bytes=1000,
                duration_seconds=50.0,
                language="fr",
                diarize=True,
                num_speakers=3,
                transcript=transcript.to_dict(),
                provenance=provenance.model_dump(mode="json"),
                manifest=manifest.model_dump(mode="json", by_alias=True),
            )
            return row.id


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, whisper_dir: Path, _openai_upstream_server: FakeUpstream
) -> Iterator[SpeakersSite]:
    data_dir = tmp_path_factory.mktemp("web-speakers")
    (data_dir / "models").mkdir()
    (data_dir / "models" / "whisper-base").symlink_to(whisper_dir, target_is_directory=True)
    settings = make_settings(
        data_dir=data_dir,
        web_assets_dir=ROOT / ".build" / "web",
        llm_backends=[upstream_backend(_openai_upstream_server.url)],
        default_model="vllm-model",
        transcription_device="cpu",
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        transcription_id = pool.submit(asyncio.run, _seed(settings)).result()
    with LiveServer(create_app(settings)) as server:
        yield SpeakersSite(url=server.url, upstream=_openai_upstream_server, transcription_id=transcription_id)


def test_proposed_names_are_confirmed_or_corrected(site: SpeakersSite, anonymous_page: Page) -> None:
    transcription_id = site.transcription_id
    page = anonymous_page
    sign_in(page, USER, start=f"/transcriptions/{transcription_id}")
    segments = page.locator("#segments > li")
    expect(segments).to_have_count(4)
    section = page.locator("#intervenants")
    expect(section.get_by_role("heading", name="Intervenants")).to_be_visible()

    marie = section.get_by_label(re.compile(r"^Intervenant n° 2"))
    expect(marie).to_have_value("Marie Kerdraon")
    expect(section.locator("label[for=intervenant-1]")).to_contain_text(
        "proposé : Marie Kerdraon, cheffe du bureau des affaires générales (entendu à 00:12)"
    )
    expect(section.locator("label[for=intervenant-2]")).to_contain_text(
        "proposé : Paul Martin (entendu à 00:41, quand la parole lui a été donnée)"
    )
    # Who hands the floor over is not named after the person they call.
    expect(section.get_by_label("Intervenant n° 1", exact=True)).to_have_value("Intervenant 1")
    expect(section.locator("label[for=intervenant-0] .sv-speaker-proposal")).to_have_count(0)
    # Nothing is applied before it is confirmed.
    expect(segments.nth(1).locator(".sv-speaker")).to_have_text("Intervenant 2")
    expect(page.locator("#relecture")).to_be_hidden()
    assert serious_violations(page, "intervenants-proposes") == []

    page.get_by_role("button", name="Renommer l'intervenant n° 2").click()
    expect(segments.nth(1).locator(".sv-speaker")).to_have_text("Marie Kerdraon")
    expect(page.locator("#relecture")).to_contain_text(f"Relue et corrigée par {USER}")

    paul = section.get_by_label(re.compile(r"^Intervenant n° 3"))
    expect(paul).to_have_value("Paul Martin")
    paul.fill("Paul Martin-Durand")
    page.get_by_role("button", name="Renommer l'intervenant n° 3").click()
    expect(segments.nth(3).locator(".sv-speaker")).to_have_text("Paul Martin-Durand")
    expect(segments.nth(0).locator(".sv-speaker")).to_have_text("Intervenant 1")
    # Once named, a speaker's proposal is no longer shown as pending.
    expect(section.get_by_label("Intervenant n° 2", exact=True)).to_have_value("Marie Kerdraon")
    assert serious_violations(page, "intervenants-nommes") == []

    text = page.request.get(f"/api/transcriptions/{transcription_id}/export?format=txt").text()
    assert "Marie Kerdraon : " in text and "Paul Martin-Durand : " in text
