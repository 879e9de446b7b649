"""The transcription pages over HTTP (no browser), and the route that serves a kept recording.

The pages: who may see them, what they show of a finished transcription, a French 404 for someone else's. The
audio route: owner only, partial content for players that seek, nothing when the audio was not kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.store.models import Role
from assistant.web._pages_transcriptions import format_duration
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import PASSWORD, Account, make_account


@pytest.fixture
def app(transcription_app) -> FastAPI:  # type: ignore[no-untyped-def]
    return transcription_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def agent(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "secretaire", Role.AGENT)


def _session(client: TestClient, username: str) -> dict[str, str]:
    """A browser's session cookie, sent explicitly (the client keeps no cookie between callers)."""
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies["souverain_session"]
    client.cookies.clear()
    return {"Cookie": f"souverain_session={cookie}"}


def _transcribed(client: TestClient, agent: Account, wav: Path, **options: object) -> str:
    job = upload(client, agent, wav, language="fr", **options).json()
    assert wait_until_finished(client, agent, job["id"])["status"] == "succeeded"
    return str(job["id"])


@pytest.mark.parametrize(("seconds", "shown"), [(None, "—"), (0, "00:00:00"), (7.4, "00:00:07"), (3725.6, "01:02:06")])
def test_durations_are_shown_as_hours_minutes_seconds(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_pages_need_a_session_with_the_transcription_permission(
    client: TestClient, app: FastAPI, agent: Account
) -> None:
    anonymous = client.get("/transcriptions")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/connexion?suivant=%2Ftranscriptions"
    assert client.get("/transcriptions", headers=agent.bearer).status_code == 303, "API keys never open pages"

    make_account(client, app, "auditeur.t", Role.AUDITEUR)
    refused = client.get("/transcriptions", headers=_session(client, "auditeur.t"))
    assert refused.status_code == 403 and "Accès refusé" in refused.text
    assert 'href="/transcriptions"' not in refused.text, "no navigation entry without the permission"

    page = client.get("/transcriptions", headers=_session(client, agent.username))
    assert page.status_code == 200
    assert re.search(
        r'<a class="fr-nav__link" href="/transcriptions" aria-current="page">Transcriptions</a>', page.text
    )
    assert "Aucune transcription pour le moment." in page.text
    for field in ('id="fichier"', 'id="langue"', 'id="intervenants"', 'id="nombre"', 'id="conserver"'):
        assert field in page.text
    # Diarization is switched off in these tests' settings: the option says so instead of failing at upload.
    assert re.search(r'id="intervenants" [^>]*disabled', page.text) and "Non disponible sur ce serveur." in page.text
    assert "Content-Security-Policy" in page.headers and "<script>" not in page.text and " style=" not in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_list_and_detail_pages_show_my_transcription_and_only_mine(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    transcription_id = _transcribed(client, agent, french_wav, title="Conseil <municipal>", keep_audio=True)
    session = _session(client, agent.username)

    listing = client.get("/transcriptions", headers=session)
    assert listing.status_code == 200
    assert f'href="/transcriptions/{transcription_id}"' in listing.text
    assert "Conseil &lt;municipal&gt;" in listing.text and "Conseil <municipal>" not in listing.text, "escaped"
    assert "Terminée" in listing.text and "français" in listing.text
    assert re.search(r"\b00:00:0\d\b", listing.text), "the duration as hh:mm:ss"
    assert re.search(r"\d{1,2} \w+ 20\d\d à \d\d:\d\d", listing.text), "the date in French"

    detail = client.get(f"/transcriptions/{transcription_id}", headers=session)
    assert detail.status_code == 200
    assert "<h1>Conseil &lt;municipal&gt;</h1>" in detail.text
    assert 'data-status="succeeded"' in detail.text
    assert f'src="/api/transcriptions/{transcription_id}/audio"' in detail.text, "a player: the audio was kept"
    for fmt in ("txt", "srt", "vtt", "json", "md", "docx"):
        assert f"/api/transcriptions/{transcription_id}/export?format={fmt}" in detail.text
    for fmt in ("md", "docx", "odt", "json"):
        assert f"/api/transcriptions/{transcription_id}/minutes/export?format={fmt}" in detail.text
    assert "Contenu généré par IA — à vérifier" in detail.text

    make_account(client, app, "agent.autre", Role.AGENT)
    other = _session(client, "agent.autre")
    foreign = client.get(f"/transcriptions/{transcription_id}", headers=other)
    assert foreign.status_code == 404 and "Transcription introuvable" in foreign.text
    assert "Conseil" not in foreign.text
    assert transcription_id not in client.get("/transcriptions", headers=other).text
    assert client.get("/transcriptions/pas-un-identifiant", headers=session).status_code == 404


def test_no_player_when_the_audio_was_not_kept(client: TestClient, agent: Account, french_wav: Path) -> None:
    transcription_id = _transcribed(client, agent, french_wav, keep_audio=False)
    detail = client.get(f"/transcriptions/{transcription_id}", headers=_session(client, agent.username))
    assert detail.status_code == 200 and "<audio" not in detail.text
    gone = client.get(f"/api/transcriptions/{transcription_id}/audio", headers=agent.bearer)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "audio_not_kept"


def test_kept_audio_is_served_to_its_owner_with_ranges(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    transcription_id = _transcribed(client, agent, french_wav, keep_audio=True)
    path = f"/api/transcriptions/{transcription_id}/audio"
    original = french_wav.read_bytes()

    whole = client.get(path, headers=agent.bearer)
    assert whole.status_code == 200 and whole.content == original
    # Uploaded as application/octet-stream: the player gets the type the file name tells.
    assert whole.headers["content-type"] in ("audio/x-wav", "audio/wav")
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"].startswith("inline")
    assert whole.headers["cache-control"] == "private, no-cache"

    part = client.get(path, headers={**agent.bearer, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == original[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(original)}"
    beyond = client.get(path, headers={**agent.bearer, "Range": f"bytes={len(original) + 10}-"})
    assert beyond.status_code == 416

    other = make_account(client, app, "agent.autre", Role.AGENT)
    assert client.get(path, headers=other.bearer).status_code == 404, "someone else's recording is not found"
    assert client.get(path).status_code == 401
    assert client.delete(f"/api/transcriptions/{transcription_id}", headers=agent.bearer).status_code == 204
    assert client.get(path, headers=agent.bearer).status_code == 404
