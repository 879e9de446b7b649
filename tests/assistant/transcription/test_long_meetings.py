"""Long meetings through the real job path: progress in minutes, cancel and delete between windows, and the
checkpoint of finished windows removed with the audio.

The app cuts recordings into 6 s windows (``transcription_window_seconds``) so that the minute-long
``meeting_wav`` behaves like an hour cut into ten-minute windows. The kill-and-resume path runs with real worker
processes in ``tests/faults/test_transcription_resume.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.services.meetings.jobs import _message
from assistant.store.models import Role
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import Account, make_account, runtime_of

WINDOW_S = 6.0


@pytest.fixture
def app(transcription_app: Callable[..., FastAPI]) -> FastAPI:
    return transcription_app(transcription_window_seconds=WINDOW_S)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def agent(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "secretaire", Role.AGENT)


def _folder(app: FastAPI) -> Path:
    return runtime_of(app).settings.data_dir / "transcriptions" / "audio"


def _checkpoint(app: FastAPI, transcription_id: str) -> Path:
    return _folder(app) / f"{transcription_id}.checkpoint.jsonl"


def _running_with_windows_done(client: TestClient, agent: Account, app: FastAPI, job: dict[str, Any]) -> dict[str, Any]:
    """Wait until the job runs and has checkpointed a first window (header plus one line)."""
    deadline = time.monotonic() + 90
    checkpoint = _checkpoint(app, job["id"])
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get(f"/api/transcriptions/{job['id']}", headers=agent.bearer).json()
        assert state["status"] in ("queued", "running"), state
        lines = checkpoint.read_text(encoding="utf-8").splitlines() if checkpoint.is_file() else []
        if state["status"] == "running" and len(lines) >= 2 and "traitées" in (state["progress_message"] or ""):
            return state
        time.sleep(0.05)
    raise AssertionError("no window was checkpointed in time")


def test_progress_is_told_in_minutes_of_audio_processed_then_speaker_identification() -> None:
    assert _message(0.2, False, 3600.0) == "Transcription : 12 min traitées sur 60"
    assert _message(0.85 * 0.5, True, 3600.0) == "Transcription : 30 min traitées sur 60"
    assert _message(0.925, True, 3600.0) == "Identification des intervenants : 50 %"
    assert _message(0.5, False, 61.0) == "Transcription : 30 s traitées sur 61"
    assert _message(0.5, False, None) == "Transcription en cours : 50 %"


def test_cancelling_between_windows_stops_the_worker_and_removes_audio_and_checkpoint(
    client: TestClient, app: FastAPI, agent: Account, meeting_wav: Path, caplog: pytest.LogCaptureFixture
) -> None:
    job = upload(client, agent, meeting_wav, language="fr").json()
    state = _running_with_windows_done(client, agent, app, job)
    assert re.fullmatch(r"Transcription : \d+ s traitées sur \d+", state["progress_message"]), state
    assert 0 < state["progress"] < 1

    cancelled = client.post(f"/api/transcriptions/{job['id']}/cancel", headers=agent.bearer)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    deadline = time.monotonic() + 60
    while "outcome discarded" not in caplog.text:
        assert time.monotonic() < deadline, "the worker did not stop"
        time.sleep(0.1)
    final = wait_until_finished(client, agent, job["id"])
    assert final["status"] == "cancelled" and final["progress"] < 1.0
    assert "done:" not in caplog.text, "nothing was stored"
    assert list(_folder(app).iterdir()) == [], "neither the audio nor the windows transcribed so far remain"


def test_deleting_a_running_transcription_removes_its_checkpoint(
    client: TestClient, app: FastAPI, agent: Account, meeting_wav: Path, caplog: pytest.LogCaptureFixture
) -> None:
    job = upload(client, agent, meeting_wav, language="fr", keep_audio=True).json()
    _running_with_windows_done(client, agent, app, job)
    assert client.delete(f"/api/transcriptions/{job['id']}", headers=agent.bearer).status_code == 204
    # The worker sees the job gone at its next poll; a window it finishes meanwhile is removed by it on the way out.
    deadline = time.monotonic() + 60
    while "outcome discarded" not in caplog.text:
        assert time.monotonic() < deadline, "the worker did not stop"
        time.sleep(0.1)
    assert list(_folder(app).iterdir()) == []


def test_a_finished_transcription_keeps_the_audio_asked_for_but_not_its_checkpoint(
    client: TestClient, app: FastAPI, agent: Account, meeting_wav: Path
) -> None:
    job = upload(client, agent, meeting_wav, language="fr", keep_audio=True).json()
    done = wait_until_finished(client, agent, job["id"], timeout=180)
    assert done["status"] == "succeeded" and done["progress_message"] == "Transcription terminée.", done
    assert done["audio_available"] is True
    assert [path.name for path in _folder(app).iterdir()] == [f"{job['id']}.wav"]
    result = client.get(f"/api/transcriptions/{job['id']}/result", headers=agent.bearer).json()
    assert "bibliothèque" in result["text"].lower()
