"""Auditors export the log and the access review; 200 concurrent writers on PostgreSQL keep one chain."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.audit import chain_hash
from assistant.core.config import Settings
from assistant.runtime import open_runtime
from assistant.store.models import AuditEvent, Role
from tests.factories import PASSWORD, make_account


@pytest.fixture
def app(settings_factory) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(settings_factory())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_auditor_exports_the_log_with_its_hashes(client: TestClient, app: FastAPI) -> None:
    agent = make_account(client, app, "agent.audite", Role.AGENT)
    auditor = make_account(client, app, "auditeur.a", Role.AUDITEUR)
    client.post("/api/auth/login", json={"username": "agent.audite", "password": "mauvais mot de passe"})
    client.post("/api/auth/login", json={"username": "agent.audite", "password": PASSWORD})
    client.cookies.clear()

    as_json = client.get("/api/audit/events/export?format=json", headers=auditor.bearer)
    assert as_json.status_code == 200
    events = as_json.json()
    assert [event["outcome"] for event in events if event["action"] == "login"] == ["failure", "success"]
    # The export carries what is needed to re-verify the chain away from the service.
    previous = "0" * 64
    for event in events:
        assert event["prev_hash"] == previous
        previous = event["hash"]
    rebuilt = AuditEvent(**{k: v for k, v in events[0].items() if k not in ("id", "hash", "occurred_at")})
    rebuilt.occurred_at = datetime.fromisoformat(events[0]["occurred_at"])
    rebuilt.actor_id = None if events[0]["actor_id"] is None else uuid.UUID(events[0]["actor_id"])
    assert chain_hash(events[0]["prev_hash"], rebuilt) == events[0]["hash"]

    as_csv = client.get("/api/audit/events/export?format=csv&category=connection", headers=auditor.bearer)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows and {row["category"] for row in rows} == {"connection"}
    assert "mauvais mot de passe" not in as_csv.text and PASSWORD not in as_csv.text
    assert client.get("/api/audit/events/export", headers=agent.bearer).status_code == 403


def test_access_review_lists_rights_model_use_and_last_logins(client: TestClient, app: FastAPI) -> None:
    owner = make_account(client, app, "proprietaire", Role.AGENT)
    reader = make_account(client, app, "lecteur", Role.AGENT)
    referent = make_account(client, app, "referent.rev", Role.REFERENT)
    auditor = make_account(client, app, "auditeur.rev", Role.AUDITEUR)
    group = client.post("/api/admin/groups", json={"name": "juristes"}, headers=referent.bearer).json()
    client.put(f"/api/admin/groups/{group['id']}/members/{reader.id}", headers=referent.bearer)
    collection = client.post("/api/collections", json={"name": "Notes RH"}, headers=owner.bearer).json()
    shared = client.put(
        f"/api/collections/{collection['id']}/access",
        json={"users": {"lecteur": "read"}, "groups": {"juristes": "write"}},
        headers=owner.bearer,
    )
    assert shared.status_code == 200, shared.text
    client.post("/api/auth/login", json={"username": "lecteur", "password": PASSWORD})
    client.cookies.clear()

    review = client.get("/api/audit/access-review", headers=auditor.bearer).json()
    users = {row["username"]: row for row in review["users"]}
    assert users["lecteur"]["groups"] == ["juristes"] and users["lecteur"]["last_login"]
    assert users["proprietaire"]["last_login"] is None
    grants = {(row["grantee"], row["access"]) for row in review["collections"] if row["collection"] == "Notes RH"}
    assert grants == {("proprietaire", "owner"), ("lecteur", "read"), ("juristes", "write")}
    csv_review = client.get("/api/audit/access-review?format=csv&section=collections", headers=auditor.bearer)
    assert "Notes RH" in csv_review.content.decode("utf-8-sig")
    assert client.get("/api/audit/access-review", headers=referent.bearer).status_code == 403


async def _append_concurrently(settings: Settings, writers: int, replicas: int) -> tuple[bool, int]:
    async with open_runtime(settings, with_worker=False) as first:
        runtimes = [first]
        others = [open_runtime(settings, with_worker=False, migrate=False) for _ in range(replicas - 1)]
        opened = [await context.__aenter__() for context in others]
        runtimes.extend(opened)
        try:
            await asyncio.gather(
                *(
                    runtimes[index % replicas].audit.record(
                        category="audit", action="test.write", resource_id=str(index)
                    )
                    for index in range(writers)
                )
            )
            report = await first.audit.verify()
        finally:
            for context in others:
                await context.__aexit__(None, None, None)
    return report.ok, report.events


def test_two_hundred_concurrent_writers_on_postgresql_keep_one_valid_chain(settings_factory, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    settings = settings_factory(database_url=postgres_url, database_pool_size=10)
    ok, events = asyncio.run(_append_concurrently(settings, writers=200, replicas=4))
    assert ok and events == 200
