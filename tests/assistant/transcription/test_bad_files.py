"""Files that cannot be transcribed are refused with a clear French message, and nothing else is affected."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.store.models import Role
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import Account, make_account, runtime_of
from tests.transcription.factories import video_without_audio


def _stored(app: FastAPI) -> list[Path]:
    folder = runtime_of(app).settings.data_dir / "transcriptions" / "audio"
    return list(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def bad_files(tmp_path: Path, french_wav: Path) -> dict[str, Path]:
    empty = tmp_path / "vide.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp3"
    text.write_text("Ceci n'est pas un enregistrement.\n" * 20, encoding="utf-8")
    corrupt = tmp_path / "abime.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\xff" * 40)
    return {"empty": empty, "text": text, "corrupt": corrupt, "video": video_without_audio(tmp_path / "video.mp4")}


@pytest.mark.parametrize(
    ("name", "status", "code", "words"),
    [
        ("empty", 400, "empty_audio", "vide"),
        ("text", 415, "unsupported_audio", "pris en charge"),
        ("corrupt", 400, "corrupt_audio", "endommagé"),
        ("video", 415, "unsupported_audio", "aucune piste audio"),
    ],
)
def test_unusable_files_are_refused_at_upload(
    client: TestClient,
    app: FastAPI,
    agent: Account,
    bad_files: dict[str, Path],
    name: str,
    status: int,
    code: str,
    words: str,
) -> None:
    response = upload(client, agent, bad_files[name])
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], words in error["message"]) == (code, True), error
    assert _stored(app) == [] and client.get("/api/transcriptions", headers=agent.bearer).json() == []


def test_too_long_is_413(transcription_app, long_wav: Path, french_wav: Path) -> None:  # type: ignore[no-untyped-def]
    app = transcription_app(transcription_max_duration_seconds=10)
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "secretaire", Role.AGENT)
        too_long = upload(client, agent, long_wav)
        assert too_long.status_code == 413 and "minutes" in too_long.json()["error"]["message"]
        assert too_long.json()["error"]["code"] == "audio_too_long"
        assert _stored(app) == []
        assert upload(client, agent, french_wav).status_code == 202, "shorter than the limit: accepted"


def test_upload_size_limit(transcription_app, french_wav: Path) -> None:  # type: ignore[no-untyped-def]
    app = transcription_app(transcription_max_upload_bytes=50_000)
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "secretaire", Role.AGENT)
        response = upload(client, agent, french_wav)
        assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_large"
        assert "49 Ko" in response.json()["error"]["message"]
        assert _stored(app) == []


def test_bad_options_are_400(client: TestClient, agent: Account, french_wav: Path) -> None:
    wrong_language = upload(client, agent, french_wav, language="français")
    assert wrong_language.status_code == 400 and "auto" in wrong_language.json()["error"]["message"]
    speakers_alone = upload(client, agent, french_wav, num_speakers=2)
    assert speakers_alone.status_code == 400
    unavailable = upload(client, agent, french_wav, diarize=True)  # diarization switched off in these tests
    assert unavailable.status_code == 400 and unavailable.json()["error"]["code"] == "diarization_unavailable"


def test_silence_fails_the_job_with_a_clear_message_and_deletes_the_audio(
    client: TestClient, app: FastAPI, agent: Account, silent_wav: Path, french_wav: Path
) -> None:
    silent = upload(client, agent, silent_wav)
    assert silent.status_code == 202
    done = wait_until_finished(client, agent, silent.json()["id"])
    assert done["status"] == "failed" and "Aucune parole" in done["error"]
    assert done["audio_available"] is False
    failed = client.get(f"/api/transcriptions/{done['id']}/result", headers=agent.bearer)
    assert failed.status_code == 409

    speech = upload(client, agent, french_wav)
    assert wait_until_finished(client, agent, speech.json()["id"])["status"] == "succeeded", "nothing else affected"
    assert _stored(app) == []
