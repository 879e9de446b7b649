from __future__ import annotations

import asyncio
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant import __version__
from assistant.app import create_app
from assistant.errors import ServiceUnavailableError
from assistant.runtime import _speech_check
from tests.databases import drop_database


def test_healthz_says_the_process_is_up(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_readyz_checks_database_and_queue(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert {check["name"]: check["ok"] for check in body["checks"]} == {
        "database": True,
        "job_queue": True,
        "llm_weights": True,
        "llm:embarque": True,
        "transcription_weights": True,
    }


def test_readyz_is_503_naming_the_failing_dependency(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:

        async def model_down() -> None:
            raise ServiceUnavailableError("vLLM ne répond pas")

        app.state.runtime.readiness_checks["llm:mistral"] = model_down
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "not_ready"
    assert "llm:mistral" in body["error"]["message"]
    failing = [check for check in body["checks"] if not check["ok"]]
    assert failing == [{"name": "llm:mistral", "ok": False, "detail": "vLLM ne répond pas"}]


def test_readyz_fails_when_the_database_goes_away(settings_factory, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings_factory(database_url=postgres_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/readyz").status_code == 200
        asyncio.run(drop_database(postgres_url.rsplit("/", 1)[1]))
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200, "liveness must not depend on the database"
    assert response.status_code == 503
    assert [check["name"] for check in response.json()["checks"] if not check["ok"]] == ["database"]


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/healthz")
    client.get("/absent")
    text = client.get("/metrics").text
    assert 'souverain_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "souverain_http_request_duration_seconds_bucket" in text


async def test_probes_that_overlap_share_one_weights_hash() -> None:
    """A probe that times out leaves its hash running; the next probes wait for it rather than hash again."""

    class SlowWeights:
        def __init__(self) -> None:
            self.hashes = 0

        def check_weights(self) -> str:
            self.hashes += 1
            time.sleep(0.3)
            return "ok"

    weights = SlowWeights()
    check = _speech_check(weights)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(check(), timeout=0.05)
    await asyncio.gather(check(), check(), check())
    assert weights.hashes == 1
    await check()
    assert weights.hashes == 2, "a finished verdict is not pinned: the engine's own cache decides"
