"""L3 — a flood of bad bearer tokens costs the chained audit log a handful of rows, and is slowed down.

Before: every unknown API key wrote one audit row under the chain's global lock, so a scanner sending random
keys serialised every legitimate audited action behind it and grew the immutable log without bound.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.services.governance.audit_log import search_events
from assistant.store.models import Role
from tests.factories import make_account, run, runtime_of

LIMIT = 150


@pytest.fixture
def app(settings_factory) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(settings_factory(auth_max_anonymous_failures_per_minute=LIMIT))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_bad_keys_are_logged_aggregated_then_refused_with_429(client: TestClient, app: FastAPI) -> None:
    agent = make_account(client, app, "agent.honnete", Role.AGENT)
    # One fixed instant: the whole flood falls in one counting minute, whenever the test runs.
    runtime_of(app).counters._now = lambda: 1_800_000_030.0
    statuses = [
        client.get("/api/me", headers={"Authorization": f"Bearer sk-souv-{n:08d}_{'x' * 32}"}).status_code
        for n in range(LIMIT + 5)
    ]
    assert statuses == [401] * LIMIT + [429] * 5
    limited = client.get("/api/me", headers={"Authorization": "Bearer sk-souv-00000000_" + "y" * 32})
    assert limited.json()["error"]["code"] == "auth_failures_limited" and int(limited.headers["Retry-After"]) > 0

    rows = [
        event
        for event in run(client, search_events(runtime_of(app), action_prefix="api_key.use"))
        if event.outcome == "failure"
    ]
    counts = sorted(int(event.details["count_in_minute"]) for event in rows)
    assert counts == [1, 10, 100], "the first, the 10th and the 100th of the minute; not one row per try"
    assert all(event.details["reason"] == "unknown_key" for event in rows)

    # The honest caller with a real key is not affected.
    assert client.get("/api/me", headers=agent.bearer).status_code == 200
