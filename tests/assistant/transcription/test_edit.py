"""Correcting a transcript keeps the AI label, records the editor in a new signed manifest, and is owner-only."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.provenance import Manifest
from assistant.store.models import Role
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import Account, make_account, runtime_of


def test_rename_speaker_and_fix_text(transcription_app, french_wav: Path) -> None:  # type: ignore[no-untyped-def]
    app: FastAPI = transcription_app(transcription_diarization=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        _scenario(client, app, make_account(client, app, "secretaire", Role.AGENT), french_wav)


def _scenario(client: TestClient, app: FastAPI, agent: Account, french_wav: Path) -> None:
    job = upload(client, agent, french_wav, language="fr", diarize=True, num_speakers=1).json()
    assert wait_until_finished(client, agent, job["id"])["status"] == "succeeded"
    path = f"/api/transcriptions/{job['id']}/result"
    before = client.get(path, headers=agent.bearer).json()
    speaker = before["segments"][0]["speaker"]
    assert speaker

    edited = client.patch(
        path,
        json={"speakers": {speaker: "Mme la Présidente"}, "segments": {"0": "Le conseil municipal est ouvert."}},
        headers=agent.bearer,
    )
    assert edited.status_code == 200, edited.text
    assert edited.headers["x-ai-generated"] == "true"
    body = edited.json()
    assert body["ai_generated"] is True
    assert body["segments"][0]["text"] == "Le conseil municipal est ouvert."
    assert body["segments"][0]["speaker"] == "Mme la Présidente"
    assert speaker not in {segment["speaker"] for segment in body["segments"]}
    assert body["provenance"]["human_reviewed"] is True and body["provenance"]["reviewed_by"] == agent.username
    manifest = Manifest.model_validate(body["provenance_manifest"])
    text = " ".join(segment["text"] for segment in body["segments"])
    signer = runtime_of(app).signer
    assert signer.verify(manifest).signature_valid
    assert manifest.provenance.human_reviewed
    assert (
        "Mme la Présidente"
        in client.get(f"/api/transcriptions/{job['id']}/export", params={"format": "txt"}, headers=agent.bearer).text
    )
    assert text

    bad = client.patch(path, json={"segments": {"999": "x"}}, headers=agent.bearer)
    assert bad.status_code == 400 and "segment" in bad.json()["error"]["message"]
    unknown = client.patch(path, json={"speakers": {"Inconnu": "X"}}, headers=agent.bearer)
    assert unknown.status_code == 400
    other = make_account(client, app, "agent.autre", Role.AGENT)
    assert client.patch(path, json={"speakers": {speaker: "X"}}, headers=other.bearer).status_code == 404
