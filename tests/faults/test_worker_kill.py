"""A worker process SIGKILLed in the middle of a document ingestion or of a transcription: another worker resumes
the job once its lease expires, and the work is done exactly once — one set of chunks in the database and in the
index, one transcript — with the audit chain intact.

Production layout: the API (in this process) enqueues on Redis with PostgreSQL as the job store and no worker of
its own; ``assistant worker`` processes run the jobs. The model calls go to a fake upstream that holds the call
the first worker makes (``_gated_upstream``), so the kill lands at a known point of the job.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistant.app import create_app
from assistant.store import collections as collection_store
from assistant.store.models import DocumentChunk, Job, JobStatus, Role
from rag import IndexStore
from tests.assistant.rag.helpers import create_collection, upload, wait_ready
from tests.factories import REDIS_URL, Account, make_account, make_settings, run, runtime_of
from tests.faults._gated_upstream import SPOKEN, GatedUpstream
from tests.faults._processes import start_worker, stop, upstream_backends, wait_until
from tests.transcription.factories import tone, write_wav

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Long enough for several embedding batches (32 passages each) once cut into passages of 32 tokens.
TEXT = "\n\n".join(
    f"Article {n}. Le délai de recours contentieux contre la décision numéro {n} est de deux mois à compter "
    f"de sa notification ; le recours gracieux le prolonge, la commission {n} statue en séance publique."
    for n in range(1, 61)
)


@pytest.fixture
def gated() -> Iterator[GatedUpstream]:
    with GatedUpstream() as server:
        yield server


@pytest.fixture
def production(postgres_url: str, gated: GatedUpstream, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Settings shared by the API and the worker processes: PostgreSQL, a Redis queue of this test's own."""
    queue = f"faults-{uuid.uuid4().hex[:10]}"
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": postgres_url,
        "jobs_backend": "redis",
        "redis_url": REDIS_URL,
        "jobs_queue_name": queue,
        "run_worker_in_process": False,
        "job_lease_seconds": 1.0,
        "job_recovery_interval_seconds": 0.3,
        "llm_backends": upstream_backends(gated.url),
        "default_model": "vllm-model",
        "default_requests_per_minute": 100_000,
        "rag_embedder": "openai",
        "rag_embedding_url": gated.url,
        "rag_embedding_model": "fake-model",
        "rag_embedding_dim": 32,
        "rag_chunk_tokens": 32,
        "rag_chunk_overlap_tokens": 0,
        "transcription_remote_url": gated.url,
        "transcription_diarization": False,
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
    return make_account(client, app, "agent.greffe", Role.AGENT)


def _jobs(client: TestClient, app: FastAPI, kind: str) -> list[Job]:
    async def query() -> list[Job]:
        async with runtime_of(app).session_factory() as session:
            return list((await session.scalars(select(Job).where(Job.kind == kind))).all())

    return run(client, query())


def _audit_ok(client: TestClient, app: FastAPI) -> bool:
    async def verify() -> bool:
        return (await runtime_of(app).audit.verify()).ok

    return run(client, verify())


def _kill_mid_job(gated: GatedUpstream, production: dict[str, Any], tmp_path: Path) -> None:
    """Start a worker, wait until its model call is held, SIGKILL it, then let calls through again."""
    first = start_worker(production, tmp_path / "worker1.log")
    try:
        wait_until(gated.held.is_set, timeout=45, what="the first worker's model call")
    finally:
        exit_code = stop(first, signal.SIGKILL)
    assert exit_code == -signal.SIGKILL, (tmp_path / "worker1.log").read_text()
    gated.release()


def test_ingestion_resumes_after_the_worker_is_killed(
    client: TestClient, app: FastAPI, agent: Account, gated: GatedUpstream, production: dict[str, Any], tmp_path: Path
) -> None:
    collection_id = create_collection(client, agent.bearer, "Recours")
    gated.gate("/v1/embeddings", after=1)  # the first batch goes through, the second is held
    document = upload(client, agent.bearer, collection_id, [("recours.txt", TEXT.encode(), "text/plain")])[0]

    _kill_mid_job(gated, production, tmp_path)
    caught = client.get(f"/api/documents/{document['id']}", headers=agent.bearer).json()
    assert caught["status"] == "processing" and 0.3 < caught["progress"] < 1, caught

    second = start_worker(production, tmp_path / "worker2.log")
    try:
        done = wait_ready(client, agent.bearer, document["id"], timeout=45)
    finally:
        assert stop(second) == 0, (tmp_path / "worker2.log").read_text()
    assert done["status"] == "ready", done
    passages = done["chunk_count"]
    assert passages > 32, "the document must span several embedding batches"

    [job] = _jobs(client, app, "documents.ingest")
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)

    async def stored() -> tuple[int, int, int]:
        async with runtime_of(app).session_factory() as session:
            rows = select(DocumentChunk).where(DocumentChunk.document_id == uuid.UUID(document["id"])).subquery()
            count = await session.scalar(select(func.count()).select_from(rows))
            ordinals = await session.scalar(select(func.count(func.distinct(rows.c.ordinal))))
            collection = await collection_store.get_collection(session=session, collection_id=uuid.UUID(collection_id))
            assert collection is not None
            return int(count or 0), int(ordinals or 0), collection.version

    count, ordinals, version = run(client, stored())
    assert count == ordinals == passages, "chunks duplicated or missing in the database"

    # The index, as searches see it, holds each passage once.
    found = client.post(
        "/api/search",
        json={"query": "délai de recours contentieux", "collection_ids": [collection_id], "k": 50, "mode": "vector"},
        headers=agent.bearer,
    )
    assert found.status_code == 200, found.text
    ids = [(p["document_id"], p["text"]) for p in found.json()["passages"]]
    assert len(ids) == len(set(ids)) == min(passages, 50)

    def no_rebuild() -> list[Any]:
        raise AssertionError("the index snapshot of the current version should be on disk")

    model_id = run(client, runtime_of(app).rag.model_id())
    index = IndexStore(Path(production["data_dir"]) / "index", dim=32, model_id=model_id)
    on_disk = index.open(collection_id, version=version, rows=no_rebuild)
    assert len(on_disk) == passages and on_disk.document_ids == {document["id"]}
    assert _audit_ok(client, app)


def _upload_recording(client: TestClient, agent: Account, path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        response = client.post(
            "/api/transcriptions",
            files={"file": (path.name, handle, "audio/wav")},
            data={"language": "fr"},
            headers=agent.bearer,
        )
    assert response.status_code == 202, response.text
    return dict(response.json())


def test_transcription_resumes_after_the_worker_is_killed(
    client: TestClient, app: FastAPI, agent: Account, gated: GatedUpstream, production: dict[str, Any], tmp_path: Path
) -> None:
    recording = write_wav(tone(300, 2.5), tmp_path / "seance.wav")
    gated.gate("/v1/audio/transcriptions", after=0)
    job = _upload_recording(client, agent, recording)

    _kill_mid_job(gated, production, tmp_path)
    caught = client.get(f"/api/transcriptions/{job['id']}", headers=agent.bearer).json()
    assert caught["status"] == "running", caught

    second = start_worker(production, tmp_path / "worker2.log")
    try:

        def finished() -> bool:
            state = client.get(f"/api/transcriptions/{job['id']}", headers=agent.bearer).json()
            return state["status"] in ("succeeded", "failed", "cancelled")

        wait_until(finished, timeout=45, interval=0.1, what="the transcription")
    finally:
        assert stop(second) == 0, (tmp_path / "worker2.log").read_text()
    final = client.get(f"/api/transcriptions/{job['id']}", headers=agent.bearer).json()
    assert final["status"] == "succeeded" and final["progress"] == 1.0, final
    result = client.get(f"/api/transcriptions/{job['id']}/result", headers=agent.bearer)
    assert result.status_code == 200, result.text
    assert [segment["text"] for segment in result.json()["segments"]] == [SPOKEN], "one transcript, not two"
    assert gated.calls["/v1/audio/transcriptions"] == 2, "the killed attempt and the one that finished"

    [row] = _jobs(client, app, "transcriptions.transcribe")
    assert (row.status, row.attempts) == (JobStatus.SUCCEEDED, 2)
    assert not final["audio_available"], "the recording is deleted once transcribed"
    assert _audit_ok(client, app)
