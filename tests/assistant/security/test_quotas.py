"""Rate limits and quotas: 429 with Retry-After, on the database counters and on Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.audit import ClientInfo
from assistant.errors import RateLimitedError
from assistant.security import Scope
from assistant.services.gateway.quotas import ensure_job_slot, ensure_tokens_available, record_tokens
from assistant.services.identity.authentication import authenticate_bearer
from assistant.store.models import Job, Role
from tests.factories import REDIS_URL, make_account, new_key, run, runtime_of


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def app(request: pytest.FixtureRequest, settings_factory) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(
        settings_factory(
            rate_limit_backend=request.param,
            redis_url=REDIS_URL,
            rate_limit_key_prefix=f"souverain-test:{uuid.uuid4().hex}:",
            default_requests_per_minute=5,
        )
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_requests_per_minute_per_user_and_per_key(client: TestClient, app: FastAPI) -> None:
    referent = make_account(client, app, "ref", Role.REFERENT)
    agent = make_account(client, app, "agent", Role.AGENT)
    statuses = [client.get("/api/me", headers=agent.bearer).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = client.get("/api/me", headers=agent.bearer)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert client.get("/api/me", headers=referent.bearer).status_code == 200, "limits are per user"
    raised = client.put(
        f"/api/admin/users/{agent.id}/quota", json={"requests_per_minute": 100}, headers=referent.bearer
    )
    assert raised.json() == {
        "requests_per_minute": 100,
        "tokens_per_day": 500_000,
        "concurrent_jobs": 4,
        "overridden": ["requests_per_minute"],
    }
    assert client.get("/api/me", headers=agent.bearer).status_code == 200


def test_tokens_per_day_and_concurrent_jobs(client: TestClient, app: FastAPI) -> None:
    referent = make_account(client, app, "ref", Role.REFERENT)
    agent = make_account(client, app, "agent", Role.AGENT, scopes=[Scope.CHAT])
    client.put(
        f"/api/admin/users/{agent.id}/quota",
        json={"tokens_per_day": 1000, "concurrent_jobs": 1},
        headers=referent.bearer,
    )
    runtime = runtime_of(app)
    principal = run(client, authenticate_bearer(runtime, agent.key, client=ClientInfo()))
    assert run(client, ensure_tokens_available(runtime, principal)) == 1000
    assert run(client, record_tokens(runtime, principal, 600)).count == 600
    assert run(client, ensure_tokens_available(runtime, principal)) == 400
    run(client, record_tokens(runtime, principal, 500))
    with pytest.raises(RateLimitedError) as exhausted:
        run(client, ensure_tokens_available(runtime, principal))
    assert 0 < exhausted.value.retry_after <= 86_400 and exhausted.value.code == "token_quota_exceeded"

    run(client, ensure_job_slot(runtime, agent.id))

    async def add_job() -> None:
        async with runtime.session_factory.begin() as session:
            session.add(Job(kind="test", owner_id=agent.id))

    run(client, add_job())
    with pytest.raises(RateLimitedError, match="maximum 1"):
        run(client, ensure_job_slot(runtime, agent.id))


def test_a_key_can_have_its_own_lower_limit(client: TestClient, app: FastAPI) -> None:
    agent = make_account(client, app, "agent", Role.AGENT)
    runtime = runtime_of(app)

    async def slow_key() -> str:
        from assistant.services.identity.api_keys import create_api_key

        created = await create_api_key(
            runtime, owner_id=agent.id, name="ci", scopes=[Scope.CHAT], requests_per_minute=2
        )
        return created.secret

    key = run(client, slow_key())
    statuses = [client.get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/me", headers=agent.bearer).status_code == 200, "the user's other keys still work"
    assert new_key(client, app, agent, [Scope.CHAT]).startswith("sk-souv-")
