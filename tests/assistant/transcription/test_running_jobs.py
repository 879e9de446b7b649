"""Jobs caught while running: cancellation stops Whisper; diarization labels the speakers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.store.models import Role
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import Account, make_account, runtime_of
from transcription import diarization_available


def test_cancelling_a_running_transcription_stops_the_worker(
    client: TestClient, app: FastAPI, agent: Account, meeting_wav: Path, caplog: pytest.LogCaptureFixture
) -> None:
    job = upload(client, agent, meeting_wav).json()
    deadline = time.monotonic() + 60
    state = job
    while state["status"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = client.get(f"/api/transcriptions/{job['id']}", headers=agent.bearer).json()
    assert state["status"] == "running", state
    cancelled = client.post(f"/api/transcriptions/{job['id']}/cancel", headers=agent.bearer)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    # The worker sees the cancellation within a poll and stops at the next segment; the runner then
    # discards the outcome of a job that is no longer running.
    while "outcome discarded" not in caplog.text:
        assert time.monotonic() < deadline, "the worker did not stop"
        time.sleep(0.1)
    final = wait_until_finished(client, agent, job["id"])
    assert final["status"] == "cancelled" and final["progress"] < 1.0
    assert client.get(f"/api/transcriptions/{job['id']}/result", headers=agent.bearer).status_code == 409
    assert "done:" not in caplog.text, "nothing was stored"
    folder = runtime_of(app).settings.data_dir / "transcriptions" / "audio"
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(not diarization_available(), reason="diarization extra (Resemblyzer, torch) not installed")
def test_diarization_labels_every_segment(transcription_app, french_wav: Path) -> None:  # type: ignore[no-untyped-def]
    app = transcription_app(transcription_diarization=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "secretaire", Role.AGENT)
        job = upload(client, agent, french_wav, diarize=True, num_speakers=1).json()
        done = wait_until_finished(client, agent, job["id"], timeout=240)
        assert done["status"] == "succeeded", done
        result = client.get(f"/api/transcriptions/{job['id']}/result", headers=agent.bearer).json()
    assert result["speakers"] == ["Intervenant 1"]
    assert {segment["speaker"] for segment in result["segments"]} == {"Intervenant 1"}
