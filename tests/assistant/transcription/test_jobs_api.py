"""Transcription jobs end to end: French speech uploaded, transcribed by the in-process worker, exported."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.provenance import AI_LABEL, Manifest
from assistant.store.models import Role
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import Account, make_account, run, runtime_of


def _audio_files(app: FastAPI) -> list[Path]:
    folder = runtime_of(app).settings.data_dir / "transcriptions" / "audio"
    return sorted(folder.iterdir()) if folder.exists() else []


def _events(client: TestClient, account: Account, transcription_id: str) -> list[tuple[str, dict[str, object]]]:
    events: list[tuple[str, dict[str, object]]] = []
    with client.stream("GET", f"/api/transcriptions/{transcription_id}/events", headers=account.bearer) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def test_french_recording_is_transcribed_with_progress_labelled_and_its_audio_deleted(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    created = upload(client, agent, french_wav, language="fr", title="Conseil municipal")
    assert created.status_code == 202, created.text
    job = created.json()
    assert job["status"] in ("queued", "running") and job["title"] == "Conseil municipal"
    assert job["language"] == "fr" and job["audio_available"] is True
    assert 5 < job["duration_seconds"] < 10

    events = _events(client, agent, job["id"])
    assert events[-1][0] == "done", "the stream ends with the job"
    assert events[-1][1]["status"] == "succeeded" and events[-1][1]["progress"] == 1.0
    assert [name for name, _ in events[:-1]] == ["progress"] * (len(events) - 1)
    fractions = [float(str(data["progress"])) for _, data in events]
    assert fractions == sorted(fractions), "progress never goes back"

    done = wait_until_finished(client, agent, job["id"])
    assert done["status"] == "succeeded" and done["progress"] == 1.0
    assert done["progress_message"] == "Transcription terminée."
    assert done["detected_language"] == "fr"
    assert done["audio_available"] is False and _audio_files(app) == [], "audio deleted once transcribed"

    result = client.get(f"/api/transcriptions/{job['id']}/result", headers=agent.bearer)
    assert result.status_code == 200 and result.headers["X-AI-Generated"] == "true"
    body = result.json()
    text = body["text"].lower()
    assert "conseil" in text and "bibliothèque" in text
    assert body["ai_generated"] is True and body["label"] == AI_LABEL
    assert body["provenance"]["model_id"] == "whisper-base" and body["provenance"]["sovereign"] is True
    words = [word for segment in body["segments"] for word in segment["words"]]
    assert words and all(w["start"] <= w["end"] for w in words), "word timestamps are kept"
    manifest = Manifest.model_validate(body["provenance_manifest"])
    assert runtime_of(app).signer.verify(manifest, body["text"]).valid

    listed = client.get("/api/transcriptions", headers=agent.bearer).json()
    assert [item["id"] for item in listed] == [job["id"]]


def test_every_export_carries_the_label_in_body_and_metadata(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    job = upload(client, agent, french_wav, title="Séance").json()
    assert wait_until_finished(client, agent, job["id"])["status"] == "succeeded"
    for fmt in ("txt", "srt", "vtt", "json", "md"):
        response = client.get(f"/api/transcriptions/{job['id']}/export", params={"format": fmt}, headers=agent.bearer)
        assert response.status_code == 200, (fmt, response.text)
        assert response.headers["X-AI-Generated"] == "true" and response.headers["X-AI-Model"] == "whisper-base"
        assert "attachment" in response.headers["content-disposition"]
        assert AI_LABEL in response.text, fmt
        assert "whisper-base" in response.text, f"{fmt}: the model is named in the metadata"
    exported = client.get(f"/api/transcriptions/{job['id']}/export", params={"format": "docx"}, headers=agent.bearer)
    document = docx.Document(io.BytesIO(exported.content))
    assert any(AI_LABEL in paragraph.text for paragraph in document.paragraphs)
    properties = document.core_properties
    assert AI_LABEL in f"{properties.subject} {properties.comments} {properties.keywords} {properties.title}"
    unknown = client.get(f"/api/transcriptions/{job['id']}/export", params={"format": "pdf"}, headers=agent.bearer)
    assert unknown.status_code == 422


def test_someone_else_s_transcription_is_not_found(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    job = upload(client, agent, french_wav).json()
    other = make_account(client, app, "voisin", Role.AGENT)
    base = f"/api/transcriptions/{job['id']}"
    for method, path in [
        ("GET", base),
        ("GET", f"{base}/events"),
        ("GET", f"{base}/result"),
        ("GET", f"{base}/export"),
        ("POST", f"{base}/cancel"),
        ("POST", f"{base}/minutes"),
        ("GET", f"{base}/minutes"),
        ("GET", f"{base}/minutes/export"),
        ("DELETE", base),
    ]:
        response = client.request(method, path, headers=other.bearer)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "not_found"
    assert client.get("/api/transcriptions", headers=other.bearer).json() == []
    assert wait_until_finished(client, agent, job["id"])["status"] == "succeeded", "the owner's job is untouched"


def test_delete_removes_transcript_job_and_audio(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    job = upload(client, agent, french_wav, keep_audio=True).json()
    done = wait_until_finished(client, agent, job["id"])
    assert done["audio_available"] is True and len(_audio_files(app)) == 1, "kept when asked"

    assert client.delete(f"/api/transcriptions/{job['id']}", headers=agent.bearer).status_code == 204
    assert client.get(f"/api/transcriptions/{job['id']}", headers=agent.bearer).status_code == 404
    assert _audio_files(app) == []


def test_result_before_completion_is_a_conflict_and_cancel_stops_a_queued_job(
    transcription_app, french_wav: Path
) -> None:  # type: ignore[no-untyped-def]
    app = transcription_app(run_worker_in_process=False)  # nothing consumes the queue: the job stays queued
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "secretaire", Role.AGENT)
        job = upload(client, agent, french_wav).json()
        early = client.get(f"/api/transcriptions/{job['id']}/result", headers=agent.bearer)
        assert early.status_code == 409 and early.json()["error"]["code"] == "not_ready"

        cancelled = client.post(f"/api/transcriptions/{job['id']}/cancel", headers=agent.bearer)
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled" and cancelled.json()["audio_available"] is False
        assert _audio_files(app) == []
        again = client.post(f"/api/transcriptions/{job['id']}/cancel", headers=agent.bearer)
        assert again.status_code == 409

        events = _events(client, agent, job["id"])
        assert events == [
            ("done", {"status": "cancelled", "progress": 0.0, "message": None, "error": events[0][1]["error"]})
        ]


def test_concurrent_jobs_quota(transcription_app, french_wav: Path) -> None:  # type: ignore[no-untyped-def]
    app = transcription_app(run_worker_in_process=False, default_concurrent_jobs=1)
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "secretaire", Role.AGENT)
        assert upload(client, agent, french_wav).status_code == 202
        refused = upload(client, agent, french_wav)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_jobs"
        assert len(_audio_files(app)) == 1, "the refused upload is not stored"


@pytest.mark.parametrize("suffix", ["mp3", "ogg", "webm", "m4a"])
def test_compressed_formats_are_accepted(
    client: TestClient, agent: Account, french_wav: Path, tmp_path: Path, suffix: str
) -> None:
    from tests.transcription.factories import convert

    encoded = convert(french_wav, tmp_path / f"conseil.{suffix}")
    created = upload(client, agent, encoded)
    assert created.status_code == 202, created.text
    assert 5 < created.json()["duration_seconds"] < 10
    assert client.post(f"/api/transcriptions/{created.json()['id']}/cancel", headers=agent.bearer).status_code in (
        200,
        409,
    )


def test_runs_on_the_app_loop(client: TestClient, app: FastAPI) -> None:
    # The worker holds the runtime: the handler is registered and finds it.
    runtime = runtime_of(app)
    assert "transcriptions.transcribe" in runtime.job_registry.kinds()
    assert run(client, _noop()) is None


async def _noop() -> None:
    return None
