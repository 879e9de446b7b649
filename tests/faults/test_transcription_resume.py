"""A worker SIGKILLed in the middle of a long recording: the next worker resumes after the last finished window.

Production layout as in ``test_worker_kill.py`` (PostgreSQL, Redis, ``assistant worker`` processes), with the
recording cut into 6 s windows. The speech-to-text server is the gated fake upstream: it lets two windows through
and holds the third while the worker is killed, so the checkpoint holds exactly two windows when the kill lands.
"""

from __future__ import annotations

import json
import re
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.app import create_app
from assistant.store.models import Job, JobStatus, Role
from tests.factories import REDIS_URL, Account, make_account, make_settings, run, runtime_of
from tests.faults._gated_upstream import SPOKEN, GatedUpstream
from tests.faults._processes import start_worker, stop, wait_until
from tests.transcription.factories import silence, tone, write_wav
from transcription import RemoteTranscriber, iter_audio_windows

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

WINDOW_S = 6.0


@pytest.fixture
def gated() -> Iterator[GatedUpstream]:
    with GatedUpstream() as server:
        yield server


@pytest.fixture
def production(postgres_url: str, gated: GatedUpstream, tmp_path: Path) -> Iterator[dict[str, Any]]:
    queue = f"resume-{uuid.uuid4().hex[:10]}"
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": postgres_url,
        "jobs_backend": "redis",
        "redis_url": REDIS_URL,
        "jobs_queue_name": queue,
        "run_worker_in_process": False,
        "job_lease_seconds": 1.0,
        "job_recovery_interval_seconds": 0.3,
        "default_requests_per_minute": 100_000,
        "transcription_remote_url": gated.url,
        "transcription_diarization": False,
        "transcription_window_seconds": WINDOW_S,
        "log_level": "INFO",
    }
    client = redis.Redis.from_url(REDIS_URL)
    try:
        yield values
    finally:
        for key in client.scan_iter(f"huey.*{queue}*"):
            client.delete(key)
        client.close()


@pytest.fixture
def app(production: dict[str, Any]) -> FastAPI:
    return create_app(make_settings(**production))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def agent(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "secretaire.mairie", Role.AGENT)


def _meeting(path: Path) -> Path:
    """Thirty seconds: six 4 s "speeches" (tones) with a second of silence between them, where windows are cut."""
    parts = []
    for n in range(6):
        parts += [tone(220 + 40 * n, 4.0), silence(1.0)]
    return write_wav(np.concatenate(parts), path)


def test_a_killed_transcription_resumes_after_its_last_finished_window(
    client: TestClient, app: FastAPI, agent: Account, gated: GatedUpstream, production: dict[str, Any], tmp_path: Path
) -> None:
    recording = _meeting(tmp_path / "conseil.wav")
    windows = [w.start for w in iter_audio_windows(recording, window_s=WINDOW_S)]
    assert len(windows) >= 4, windows
    gated.gate("/v1/audio/transcriptions", after=2)
    with recording.open("rb") as handle:
        response = client.post(
            "/api/transcriptions",
            files={"file": (recording.name, handle, "audio/wav")},
            data={"language": "fr"},
            headers=agent.bearer,
        )
    assert response.status_code == 202, response.text
    job = response.json()
    checkpoint = Path(production["data_dir"]) / "transcriptions" / "audio" / f"{job['id']}.checkpoint.jsonl"

    first = start_worker(production, tmp_path / "worker1.log")
    try:
        wait_until(gated.held.is_set, timeout=60, what="the first worker's third window")
    finally:
        assert stop(first, signal.SIGKILL) == -signal.SIGKILL, (tmp_path / "worker1.log").read_text()
    recorded = [json.loads(line) for line in checkpoint.read_text(encoding="utf-8").splitlines()[1:]]
    assert [record["index"] for record in recorded] == [0, 1], "two windows on disk when the worker died"
    caught = client.get(f"/api/transcriptions/{job['id']}", headers=agent.bearer).json()
    assert caught["status"] == "running", caught
    assert re.fullmatch(r"Transcription : \d+ s traitées sur 30", caught["progress_message"] or ""), caught
    gated.release()

    second = start_worker(production, tmp_path / "worker2.log")
    try:

        def finished() -> bool:
            state = client.get(f"/api/transcriptions/{job['id']}", headers=agent.bearer).json()
            return state["status"] in ("succeeded", "failed", "cancelled")

        wait_until(finished, timeout=60, interval=0.1, what="the transcription")
    finally:
        assert stop(second) == 0, (tmp_path / "worker2.log").read_text()
    final = client.get(f"/api/transcriptions/{job['id']}", headers=agent.bearer).json()
    assert final["status"] == "succeeded" and final["progress"] == 1.0, final
    # Two windows, the one the kill interrupted, then the rest: the two finished windows were not sent again.
    assert gated.calls["/v1/audio/transcriptions"] == 2 + 1 + (len(windows) - 2)
    assert "after 2 recorded window(s)" in (tmp_path / "worker2.log").read_text()
    assert not checkpoint.exists(), "the checkpoint goes once the transcript is stored"
    assert not final["audio_available"]

    result = client.get(f"/api/transcriptions/{job['id']}/result", headers=agent.bearer).json()
    remote = RemoteTranscriber(base_url=gated.url, model="fake-model", window_s=WINDOW_S)
    try:
        one_go = remote.transcribe(recording, language="fr")
    finally:
        remote.close()  # its HTTP connection, or the warning it leaves fails the test (filterwarnings = error)
    assert [(s["start"], s["end"], s["text"]) for s in result["segments"]] == [
        (s.start, s.end, s.text) for s in one_go.segments
    ]
    assert [s["text"] for s in result["segments"]] == [SPOKEN] * len(windows)

    async def jobs() -> list[Job]:
        async with runtime_of(app).session_factory() as session:
            kind = Job.kind == "transcriptions.transcribe"
            return list((await session.scalars(select(Job).where(kind))).all())

    [row] = run(client, jobs())
    assert (row.status, row.attempts) == (JobStatus.SUCCEEDED, 2)
