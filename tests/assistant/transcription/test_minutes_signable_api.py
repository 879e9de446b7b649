"""Minutes of the first version, stored before items had times and dates, still load, display and export."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import docx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.llm import ModelConfig
from assistant.provenance import AI_LABEL
from assistant.store import transcriptions as store
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import Account, runtime_of
from tests.fakes import NoteTaker

OLD_MINUTES = {
    "summary": "Le conseil a examiné le budget.",
    "decisions": ["Rénover la bibliothèque avant juin."],
    "actions": [{"task": "Envoyer le planning", "owner": "Madame Dupont", "due": "vendredi"}],
    "participants": ["Intervenant 1"],
    "open_questions": ["Qui finance la cantine ?"],
}


def test_minutes_stored_by_the_first_version_still_read_and_export(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    runtime = runtime_of(app)
    runtime.models.add_backend(
        "redaction", NoteTaker(NoteTaker.Options()), models=[ModelConfig(id="redacteur")], sovereign=True
    )
    job = upload(client, agent, french_wav, language="fr", title="Conseil").json()
    assert wait_until_finished(client, agent, job["id"])["status"] == "succeeded"
    base = f"/api/transcriptions/{job['id']}/minutes"
    created = client.post(base, json={"model": "redacteur"}, headers=agent.bearer).json()

    async def store_old_shape() -> None:
        owner_id = await _owner(runtime, job["id"])
        async with runtime.session_factory.begin() as session:
            await store.put_minutes(
                session=session,
                transcription_id=uuid.UUID(job["id"]),
                owner_id=owner_id,
                minutes=OLD_MINUTES,
                provenance=created["provenance"],
                manifest=created["provenance_manifest"],
            )

    assert client.portal is not None
    client.portal.call(store_old_shape)  # on the app's event loop, where its database engine lives
    body = client.get(base, headers=agent.bearer).json()
    assert body["minutes"] == OLD_MINUTES and body["ai_generated"] is True

    markdown = client.get(f"{base}/export", params={"format": "md"}, headers=agent.bearer)
    assert markdown.status_code == 200 and AI_LABEL in markdown.text
    assert "- Rénover la bibliothèque avant juin." in markdown.text
    assert "| Envoyer le planning | Madame Dupont | « vendredi » | — |" in markdown.text
    exported = client.get(f"{base}/export", params={"format": "docx"}, headers=agent.bearer)
    document = docx.Document(io.BytesIO(exported.content))
    assert any(AI_LABEL in p.text for p in document.paragraphs)
    assert any("Qui finance la cantine ?" in p.text for p in document.paragraphs)
    for fmt in ("odt", "json"):
        assert client.get(f"{base}/export", params={"format": fmt}, headers=agent.bearer).status_code == 200


async def _owner(runtime, transcription_id: str) -> uuid.UUID:  # type: ignore[no-untyped-def]
    from assistant.store.models import Transcription

    async with runtime.session_factory() as session:
        row = await session.get(Transcription, uuid.UUID(transcription_id))
        assert row is not None
        return row.owner_id
