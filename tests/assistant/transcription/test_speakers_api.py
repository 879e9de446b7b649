"""Naming speakers: names proposed from the introductions, confirmed by the owner, then used everywhere.

The recording is transcribed for real; its transcript is then replaced by a meeting with three speakers (the
synthetic voice cannot hold a conversation), exactly as a diarized transcription stores it.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import docx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.provenance import Manifest
from assistant.services.governance.audit_log import search_events
from assistant.store.models import Role, Transcription
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import Account, make_account, run, runtime_of
from tests.fakes import FakeUpstream
from transcription import Segment, Transcript

MEETING = (
    ("SPEAKER_1", 0.0, "Bonjour à tous, la séance est ouverte."),
    ("SPEAKER_2", 12.0, "Marie Kerdraon, cheffe du bureau des affaires générales. Le budget est prêt."),
    ("SPEAKER_1", 30.0, "Merci. Je donne la parole à Paul Martin."),
    ("SPEAKER_3", 41.0, "Merci madame, le calendrier tient."),
)


def _meeting(client: TestClient, app: FastAPI, agent: Account, french_wav: Path) -> str:
    job = upload(client, agent, french_wav, language="fr", title="Comité").json()
    assert wait_until_finished(client, agent, job["id"])["status"] == "succeeded"
    transcript = Transcript(
        segments=tuple(Segment(start, start + 9.0, text, speaker=speaker) for speaker, start, text in MEETING),
        language="fr",
        duration=50.0,
        model="whisper-base",
    )

    async def replace() -> None:
        async with runtime_of(app).session_factory.begin() as session:
            row = await session.get(Transcription, uuid.UUID(job["id"]))
            assert row is not None
            row.transcript = transcript.to_dict()

    run(client, replace())
    return str(job["id"])


def _by_label(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {speaker["label"]: speaker for speaker in body["speakers"]}


def test_proposals_come_from_the_introductions(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    transcription_id = _meeting(client, app, agent, french_wav)
    response = client.get(f"/api/transcriptions/{transcription_id}/speakers", headers=agent.bearer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ai_generated"] is True and "à confirmer" in body["label"] and body["reviewed"] is False
    speakers = _by_label(body)
    assert list(speakers) == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_3"]
    marie = speakers["SPEAKER_2"]["proposal"]
    assert (marie["name"], marie["role"], marie["start"]) == (
        "Marie Kerdraon",
        "cheffe du bureau des affaires générales",
        12.0,
    )
    paul = speakers["SPEAKER_3"]["proposal"]
    assert paul["name"] == "Paul Martin" and paul["source"] == "passage de parole"
    assert paul["confidence"] < marie["confidence"]
    assert speakers["SPEAKER_1"]["proposal"] is None, "who hands the floor over is not the one named"
    assert speakers["SPEAKER_1"]["segments"] == 2


def test_confirmed_names_are_signed_as_reviewed_audited_and_used_in_exports_and_minutes(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path, openai_upstream: FakeUpstream
) -> None:
    transcription_id = _meeting(client, app, agent, french_wav)
    path = f"/api/transcriptions/{transcription_id}/speakers"
    names = {"SPEAKER_1": "Claire Bernard", "SPEAKER_2": "Marie Kerdraon", "SPEAKER_3": "Paul Martin"}
    response = client.put(path, json={"names": names}, headers=agent.bearer)
    assert response.status_code == 200, response.text
    assert response.headers["x-ai-generated"] == "true"
    body = response.json()
    assert body["speakers"] == ["Claire Bernard", "Marie Kerdraon", "Paul Martin"]
    assert [segment["speaker"] for segment in body["segments"]] == [
        "Claire Bernard",
        "Marie Kerdraon",
        "Claire Bernard",
        "Paul Martin",
    ]
    assert body["ai_generated"] is True
    assert body["provenance"]["human_reviewed"] is True and body["provenance"]["reviewed_by"] == agent.username
    manifest = Manifest.model_validate(body["provenance_manifest"])
    assert runtime_of(app).signer.verify(manifest).signature_valid and manifest.provenance.human_reviewed
    assert client.get(path, headers=agent.bearer).json()["reviewed"] is True

    events = run(client, search_events(runtime_of(app), action_prefix="transcription.edit", limit=10))
    assert [(e.resource_id, e.details["speakers_renamed"]) for e in events] == [(transcription_id, 3)]

    export = f"/api/transcriptions/{transcription_id}/export"
    for fmt in ("txt", "srt", "vtt", "md"):
        text = client.get(export, params={"format": fmt}, headers=agent.bearer).text
        assert "Marie Kerdraon" in text and "Paul Martin" in text, fmt
        assert "SPEAKER_" not in text, fmt
    document = docx.Document(io.BytesIO(client.get(export, params={"format": "docx"}, headers=agent.bearer).content))
    words = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "Marie Kerdraon : " in words and "SPEAKER_" not in words

    # The minutes prompt names the participants (the fake upstream never answers the JSON asked for: 503).
    assert client.post(f"/api/transcriptions/{transcription_id}/minutes", headers=agent.bearer).status_code == 503
    prompts = [str(r.body["messages"][-1]["content"]) for r in openai_upstream.chat_requests() if r.body]
    assert prompts and "Marie Kerdraon :" in prompts[0] and "SPEAKER_" not in prompts[0]


def test_bad_labels_names_and_other_users_are_refused(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    transcription_id = _meeting(client, app, agent, french_wav)
    path = f"/api/transcriptions/{transcription_id}/speakers"
    unknown = client.put(path, json={"names": {"SPEAKER_9": "Paul Martin"}}, headers=agent.bearer)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["message"] == "Intervenant(s) inconnu(s) dans cette transcription : SPEAKER_9."
    unchanged = client.put(path, json={"names": {"SPEAKER_1": "SPEAKER_1"}}, headers=agent.bearer)
    assert unchanged.status_code == 400 and "Aucun nom modifié" in unchanged.json()["error"]["message"]
    blank = client.put(path, json={"names": {"SPEAKER_1": "  "}}, headers=agent.bearer)
    assert blank.status_code == 400 and "vide" in blank.json()["error"]["message"]
    assert client.put(path, json={"names": {}}, headers=agent.bearer).status_code == 422
    stored = client.get(f"/api/transcriptions/{transcription_id}/result", headers=agent.bearer).json()
    assert stored["speakers"] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_3"] and not stored["provenance"]["human_reviewed"]

    other = make_account(client, app, "agent.autre", Role.AGENT)
    assert client.get(path, headers=other.bearer).status_code == 404
    refused = client.put(path, json={"names": {"SPEAKER_1": "X"}}, headers=other.bearer)
    assert refused.status_code == 404
    assert client.get(f"/api/transcriptions/{uuid.uuid4()}/speakers", headers=agent.bearer).status_code == 404
