"""Usage records: one per generation (chat, task, /v1 gateway), with energy; the caller's summary."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.store.models import UsageRecord, UsageService
from tests.factories import Account, run
from tests.fakes import FakeUpstream

TEXT = "Combien de jours de congés annuels pour un agent à temps plein ?"


def _records(client: TestClient, app: FastAPI) -> list[UsageRecord]:
    async def load() -> list[UsageRecord]:
        await app.state.runtime.background.drain()  # the gateway writes its records after the answer
        async with app.state.runtime.session_factory() as session:
            return list(await session.scalars(select(UsageRecord).order_by(UsageRecord.created_at)))

    return run(client, load())


def test_every_generation_is_recorded_with_energy(
    client: TestClient, app: FastAPI, alice: Account, bob: Account, openai_upstream: FakeUpstream
) -> None:
    conversation = client.post("/api/conversations", json={}, headers=alice.bearer).json()
    client.post(f"/api/conversations/{conversation['id']}/messages", json={"content": TEXT}, headers=alice.bearer)
    client.post(
        "/api/tasks/synthese",
        json={"text": TEXT, "model": "externe-model", "sensitivity": "public"},
        headers=alice.bearer,
    )
    gateway = {"model": "vllm-model", "messages": [{"role": "user", "content": TEXT}]}
    client.post("/v1/chat/completions", json=gateway, headers=alice.bearer)
    streamed = client.post("/v1/chat/completions", json={**gateway, "stream": True}, headers=alice.bearer)
    assert streamed.status_code == 200
    client.post("/v1/chat/completions", json=gateway, headers=bob.bearer)

    records = [r for r in _records(client, app) if r.user_id == alice.id]
    assert [r.service for r in records] == [UsageService.CHAT, UsageService.TASK, UsageService.API, UsageService.API]
    words = len(TEXT.split())
    for record in records:
        assert record.completion_tokens == words and record.prompt_tokens >= words
        assert record.energy_wh > 0 and record.gco2e > 0 and record.energy_method == "ecologits"
        assert record.latency_ms > 0 and record.incomplete is False
        assert record.api_key_id is not None
    assert records[1].preset == "synthese.v1" and records[1].model_id == "externe-model"
    assert all(r.preset is None for r in records if r.service is not UsageService.TASK)

    summary = client.get("/api/me/usage", headers=alice.bearer).json()
    assert summary["today"]["requests"] == 4 == summary["last_30_days"]["requests"]
    assert summary["today"]["completion_tokens"] == 4 * words
    assert summary["today"]["energy_wh"] > 0
    by_model = {row["model"]: row for row in summary["by_model"]}
    assert by_model["vllm-model"]["requests"] == 3 and by_model["externe-model"]["requests"] == 1
    assert client.get("/api/me/usage", headers=bob.bearer).json()["today"]["requests"] == 1


def test_an_interrupted_stream_is_recorded_as_incomplete(
    client: TestClient, app: FastAPI, alice: Account, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.die_after_tokens = 2
    gateway = {"model": "vllm-model", "messages": [{"role": "user", "content": TEXT}], "stream": True}
    client.post("/v1/chat/completions", json=gateway, headers=alice.bearer)
    conversation = client.post("/api/conversations", json={}, headers=alice.bearer).json()
    client.post(
        f"/api/conversations/{conversation['id']}/messages",
        json={"content": TEXT, "stream": True},
        headers=alice.bearer,
    )
    records = _records(client, app)
    assert [(r.service, r.incomplete) for r in records] == [(UsageService.API, True), (UsageService.CHAT, True)]
    assert all(r.completion_tokens > 0 for r in records)


def test_an_empty_summary_is_all_zeros(client: TestClient, alice: Account) -> None:
    summary = client.get("/api/me/usage", headers=alice.bearer).json()
    assert summary["today"] == {
        "requests": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "energy_wh": 0.0,
        "gco2e": 0.0,
        "latency_ms": 0.0,
    }
    assert summary["by_model"] == []
