"""Data-subject rights: export everything one produced, rectify, erase with an audited receipt."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.provenance import AI_LABEL
from assistant.services.governance.rgpd import ERASE_CONFIRMATION
from assistant.store.audit import query_events
from assistant.store.models import AuditEvent, Role, Transcription
from tests.assistant.rag.helpers import ingest, search
from tests.factories import make_account, run, runtime_of, upstream_backend
from tests.fakes import FakeUpstream


@pytest.fixture
def app(settings_factory, openai_upstream: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(
        settings_factory(llm_backends=[upstream_backend(openai_upstream.url)], default_requests_per_minute=10_000)
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_export_rectify_and_erase(client: TestClient, app: FastAPI, tmp_path: Path) -> None:
    alice = make_account(client, app, "alice.rgpd", Role.AGENT)
    bob = make_account(client, app, "bob.rgpd", Role.AGENT)
    conversation = client.post("/api/conversations", json={"title": "Congés"}, headers=alice.bearer).json()
    sent = client.post(
        f"/api/conversations/{conversation['id']}/messages",
        json={"content": "Combien de jours ?"},
        headers=alice.bearer,
    )
    assert sent.status_code in (200, 201), sent.text
    collection = client.post("/api/collections", json={"name": "Notes"}, headers=alice.bearer).json()
    note = "Le télétravail est ouvert trois jours par semaine aux agents volontaires.".encode()
    [document] = ingest(client, alice.bearer, collection["id"], [("note.txt", note, "text/plain")])
    assert document["status"] == "ready"
    bobs = client.post("/api/conversations", json={"title": "À Bob"}, headers=bob.bearer).json()
    pending = run(client, _pending_transcription(app, alice.id))

    patched = client.patch("/api/me", json={"email": "alice@exemple.gouv.fr"}, headers=alice.bearer)
    assert patched.status_code == 200 and patched.json()["email"] == "alice@exemple.gouv.fr"
    assert client.patch("/api/me", json={"email": "pas un courriel"}, headers=alice.bearer).status_code == 422

    export = client.get("/api/me/export", headers=alice.bearer)
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        names = set(archive.namelist())
        assert {"LISEZMOI.txt", "profil.json", "collections.json", "consommation.json"} <= names
        assert f"conversations/{conversation['id']}.json" in names
        assert AI_LABEL in archive.read(f"conversations/{conversation['id']}.md").decode()
        assert json.loads(archive.read("profil.json"))["courriel"] == "alice@exemple.gouv.fr"
        assert json.loads(archive.read("collections.json"))[0]["documents"][0]["fichier"] == "note.txt"
        assert not any(bobs["id"] in name for name in names), "nobody else's data"
        # A transcription still waiting for its job is exported as its state, without a transcript.
        assert f"transcriptions/{pending}.json" in names and f"transcriptions/{pending}.txt" not in names
        assert json.loads(archive.read(f"transcriptions/{pending}.json"))["title"] == "Réunion à venir"
        usage = json.loads(archive.read("consommation.json"))
        assert usage["last_30_days"]["requests"] >= 1, usage

    refused = client.post("/api/me/erase", json={"confirmation": "oui"}, headers=alice.bearer)
    assert refused.status_code == 400 and ERASE_CONFIRMATION in refused.json()["error"]["message"]
    assert client.get(f"/api/conversations/{conversation['id']}", headers=alice.bearer).status_code == 200

    stored_files = Path(runtime_of(app).settings.data_dir) / "uploads" / collection["id"]
    assert stored_files.exists(), "the uploaded file is on disk before erasure"
    receipt = client.post("/api/me/erase", json={"confirmation": ERASE_CONFIRMATION}, headers=alice.bearer)
    assert receipt.status_code == 200, receipt.text
    body = receipt.json()
    assert (body["conversations"], body["collections"], body["transcriptions"], body["api_keys_revoked"]) == (
        1,
        1,
        1,
        1,
    )
    assert body["kept"]
    erase = [event for event in run(client, _events(app)) if event.action == "rgpd.erase"]
    assert erase and erase[0].hash == body["audit_event_hash"]

    # Her key is revoked with the rest; a référent sees the data is gone.
    assert client.get("/api/conversations", headers=alice.bearer).status_code == 401
    assert not stored_files.exists()
    assert client.get(f"/api/conversations/{bobs['id']}", headers=bob.bearer).status_code == 200
    assert search(client, bob.bearer, "télétravail") == []


async def _events(app: FastAPI) -> list[AuditEvent]:
    async with runtime_of(app).session_factory() as session:
        return await query_events(session=session, limit=1000)


async def _pending_transcription(app: FastAPI, owner_id: uuid.UUID) -> str:
    async with runtime_of(app).session_factory.begin() as session:
        row = Transcription(owner_id=owner_id, title="Réunion à venir", filename="reunion.wav")
        session.add(row)
        await session.flush()
        return str(row.id)
