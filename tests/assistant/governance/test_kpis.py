"""KPIs and supervision read the usage records that every generation leaves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.llm import ModelCard
from assistant.store.models import Role
from tests.factories import make_account, run, upstream_backend
from tests.fakes import FakeUpstream


@pytest.fixture
def app(settings_factory, database_url: str, openai_upstream: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    backend = upstream_backend(openai_upstream.url, model_id="albert", card=ModelCard(name="A", parameters="8B"))
    return create_app(settings_factory(database_url=database_url, llm_backends=[backend]))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_kpis_sum_usage_by_service_model_and_day(client: TestClient, app: FastAPI) -> None:
    agents = [make_account(client, app, f"agent.{index}", Role.AGENT) for index in range(2)]
    referent = make_account(client, app, "referent.kpi", Role.REFERENT)
    body = {"model": "albert", "messages": [{"role": "user", "content": "Rédige une note sur les congés"}]}
    for agent in agents:
        assert client.post("/v1/chat/completions", json=body, headers=agent.bearer).status_code == 200
    assert (
        client.post("/v1/chat/completions", json={**body, "stream": True}, headers=agents[0].bearer).status_code == 200
    )
    run(client, app.state.runtime.background.drain())  # the gateway writes its records after the answer

    kpis = client.get("/api/governance/kpis?days=7", headers=referent.bearer).json()
    assert kpis["total"]["requests"] == 3
    assert kpis["active_users"] == 2
    assert kpis["total"]["completion_tokens"] == 3 * len(body["messages"][0]["content"].split())
    assert kpis["total"]["energy_wh"] > 0 and kpis["total"]["gco2e"] > 0
    assert [row["key"] for row in kpis["by_model"]] == ["albert"]
    assert sum(row["requests"] for row in kpis["by_service"]) == 3
    assert len(kpis["by_day"]) == 1
    assert client.get("/api/governance/kpis", headers=agents[0].bearer).status_code == 403

    rows = client.get("/api/governance/models", headers=referent.bearer).json()
    supervision = {row["id"]: row for row in rows}
    assert supervision["albert"]["requests"] == 3
