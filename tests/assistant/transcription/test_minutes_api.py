"""Minutes of a transcribed meeting through the model registry: labelled, signed, exportable; refusals too."""

from __future__ import annotations

import io
from pathlib import Path

import docx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.llm import ModelConfig
from assistant.provenance import AI_LABEL, Manifest
from assistant.services.meetings.minutes import minutes_content
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import Account, runtime_of, upstream_backend
from tests.fakes import FakeUpstream, NoteTaker


def _transcribed(client: TestClient, agent: Account, french_wav: Path) -> str:
    job = upload(client, agent, french_wav, language="fr", title="Conseil").json()
    assert wait_until_finished(client, agent, job["id"])["status"] == "succeeded"
    return str(job["id"])


def test_minutes_are_written_labelled_signed_stored_and_exported(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    runtime = runtime_of(app)
    runtime.models.add_backend(
        "redaction", NoteTaker(NoteTaker.Options()), models=[ModelConfig(id="redacteur")], sovereign=True
    )
    transcription_id = _transcribed(client, agent, french_wav)

    created = client.post(
        f"/api/transcriptions/{transcription_id}/minutes", json={"model": "redacteur"}, headers=agent.bearer
    )
    assert created.status_code == 201, created.text
    assert created.headers["X-AI-Generated"] == "true" and created.headers["X-AI-Model"] == "redacteur"
    body = created.json()
    assert body["ai_generated"] is True and body["label"] == AI_LABEL
    minutes = body["minutes"]
    assert "conseil" in minutes["summary"].lower()
    decision = next(d for d in minutes["decisions"] if "bibliothèque" in d["text"].lower())
    # the decision is tied to the passage where it was said, for the side-by-side check
    transcript = client.get(f"/api/transcriptions/{transcription_id}/result", headers=agent.bearer).json()
    said = [transcript["segments"][i] for i in decision["segments"]]
    assert said and any("biblioth" in s["text"].lower() for s in said)
    assert decision["start"] == said[0]["start"] and decision["end"] == said[-1]["end"]
    assert minutes["version"] == 2 and minutes["pipeline"] == "v2" and minutes["meeting_date"]
    assert minutes["next_meeting"] is None and minutes["actions"] == []
    assert body["provenance"]["model_id"] == "redacteur" and body["provenance"]["sovereign"] is True
    assert body["provenance"]["sources"][0]["document_id"] == transcription_id
    manifest = Manifest.model_validate(body["provenance_manifest"])
    assert runtime.signer.verify(manifest, minutes_content(minutes)).valid
    assert not runtime.signer.verify(manifest, minutes_content({**minutes, "summary": "autre"})).valid

    assert client.get(f"/api/transcriptions/{transcription_id}/minutes", headers=agent.bearer).json() == body

    markdown = client.get(
        f"/api/transcriptions/{transcription_id}/minutes/export", params={"format": "md"}, headers=agent.bearer
    )
    assert markdown.status_code == 200 and markdown.headers["X-AI-Generated"] == "true"
    assert AI_LABEL in markdown.text and "## Décisions" in markdown.text and "bibliothèque" in markdown.text
    exported = client.get(
        f"/api/transcriptions/{transcription_id}/minutes/export", params={"format": "docx"}, headers=agent.bearer
    )
    document = docx.Document(io.BytesIO(exported.content))
    assert any(AI_LABEL in paragraph.text for paragraph in document.paragraphs)
    assert AI_LABEL in (document.core_properties.subject or "")
    as_json = client.get(
        f"/api/transcriptions/{transcription_id}/minutes/export", params={"format": "json"}, headers=agent.bearer
    ).json()
    assert as_json["label"] == AI_LABEL and as_json["metadata"]["model"] == "redacteur"


def test_minutes_through_the_upstream_model_fail_cleanly_when_it_answers_no_json(
    client: TestClient, agent: Account, french_wav: Path, openai_upstream: FakeUpstream
) -> None:
    transcription_id = _transcribed(client, agent, french_wav)
    response = client.post(f"/api/transcriptions/{transcription_id}/minutes", headers=agent.bearer)
    # The fake upstream answers the prompt's words reversed: never the JSON asked for, even after retries.
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "minutes_failed"
    prompts = [str(r.body["messages"][-1]["content"]) for r in openai_upstream.chat_requests() if r.body]
    assert prompts and "conseil" in prompts[0].lower(), "the transcript was sent to the default model"
    assert client.get(f"/api/transcriptions/{transcription_id}/minutes", headers=agent.bearer).status_code == 404


def test_a_non_sovereign_model_never_sees_the_transcript(
    transcription_app, french_wav: Path, openai_upstream: FakeUpstream
) -> None:  # type: ignore[no-untyped-def]
    from assistant.store.models import Role
    from tests.factories import make_account

    app = transcription_app(
        llm_backends=[
            upstream_backend(openai_upstream.url, context_length=8192),
            upstream_backend(openai_upstream.url, name="externe", sovereign=False, context_length=8192),
        ]
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "secretaire", Role.AGENT)
        transcription_id = _transcribed(client, agent, french_wav)
        refused = client.post(
            f"/api/transcriptions/{transcription_id}/minutes", json={"model": "externe-model"}, headers=agent.bearer
        )
        assert refused.status_code == 403, refused.text
        assert openai_upstream.chat_requests() == []
        early = client.post("/api/transcriptions/00000000-0000-0000-0000-000000000001/minutes", headers=agent.bearer)
        assert early.status_code == 404
