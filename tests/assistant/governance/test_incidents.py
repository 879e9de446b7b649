"""Incident and bias reports: manifest verification, ownership, triage lifecycle, audit, counts."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.services.governance.audit_log import search_events
from assistant.store.models import Role
from tests.assistant.governance.helpers import MODEL, OTHER_MODEL, answer, backends, report_body
from tests.factories import Account, make_account, run, runtime_of
from tests.fakes import FakeUpstream


@pytest.fixture
def app(settings_factory, openai_upstream: FakeUpstream, database_url: str) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app(settings_factory(database_url=database_url, llm_backends=backends(openai_upstream.url)))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def people(client: TestClient, app: FastAPI) -> dict[str, Account]:
    return {
        "agent": make_account(client, app, "agent.a", Role.AGENT),
        "other": make_account(client, app, "agent.b", Role.AGENT),
        "referent": make_account(client, app, "referent.r", Role.REFERENT),
        "auditeur": make_account(client, app, "auditeur.x", Role.AUDITEUR),
    }


def test_manifest_validity_is_recorded_for_genuine_partial_and_tampered_answers(
    client: TestClient, people: dict[str, Account]
) -> None:
    agent = people["agent"].bearer
    text, manifest = answer(client, agent)

    genuine = client.post("/api/incidents", json=report_body(text, manifest), headers=agent)
    assert genuine.status_code == 201, genuine.text
    body = genuine.json()
    assert (body["manifest_valid"], body["manifest_content_matches"]) == (True, True)
    assert body["model_id"] == MODEL and body["status"] == "open" and body["category_label"] == "Erreur factuelle"

    partial = client.post("/api/incidents", json=report_body(text[: len(text) // 2], manifest), headers=agent).json()
    assert (partial["manifest_valid"], partial["manifest_content_matches"]) == (True, False)

    forged = copy.deepcopy(manifest)
    forged["provenance"]["model_id"] = OTHER_MODEL  # blame another model
    tampered = client.post("/api/incidents", json=report_body(text, forged), headers=agent).json()
    assert tampered["manifest_valid"] is False and tampered["manifest_content_matches"] is None
    assert "modifié" in tampered["manifest_check"]

    bare = client.post(
        "/api/incidents", json={**report_body(text, None), "model": MODEL, "message_id": "msg-42"}, headers=agent
    ).json()
    assert bare["manifest_valid"] is None and bare["manifest_attached"] is False and bare["message_id"] == "msg-42"

    invalid = client.post("/api/incidents", json={**report_body(text, None), "category": "panne"}, headers=agent)
    assert invalid.status_code == 422 and "error" in invalid.json()


def test_reporters_see_only_their_own_reports(client: TestClient, people: dict[str, Account]) -> None:
    text, manifest = answer(client, people["agent"].bearer)
    mine = client.post("/api/incidents", json=report_body(text, manifest), headers=people["agent"].bearer).json()
    theirs = client.post("/api/incidents", json=report_body(text, None), headers=people["other"].bearer).json()

    listed = client.get("/api/incidents", headers=people["agent"].bearer).json()
    assert [item["id"] for item in listed] == [mine["id"]]
    assert client.get(f"/api/incidents/{mine['id']}", headers=people["agent"].bearer).status_code == 200
    foreign = client.get(f"/api/incidents/{theirs['id']}", headers=people["agent"].bearer)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    assert client.get("/api/governance/incidents", headers=people["agent"].bearer).status_code == 403
    everything = client.get("/api/governance/incidents", headers=people["referent"].bearer).json()
    assert {item["id"] for item in everything} == {mine["id"], theirs["id"]}


def test_triage_lifecycle_is_audited_and_auditors_only_read(
    client: TestClient, app: FastAPI, people: dict[str, Account]
) -> None:
    referent, auditor = people["referent"].bearer, people["auditeur"].bearer
    text, manifest = answer(client, people["agent"].bearer)
    report = client.post("/api/incidents", json=report_body(text, manifest), headers=people["agent"].bearer).json()
    url = f"/api/governance/incidents/{report['id']}"

    started = client.patch(
        url, json={"status": "in_progress", "assignee_id": str(people["referent"].id)}, headers=referent
    )
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert started.json()["assignee_id"] == str(people["referent"].id)
    refused = client.patch(url, json={"status": "closed"}, headers=referent)
    assert refused.status_code == 400 and "commentaire" in refused.json()["error"]["message"]
    closed = client.patch(url, json={"status": "closed", "comment": "Corpus corrigé."}, headers=referent).json()
    assert closed["status"] == "closed" and closed["closed_at"] and closed["triage_comment"] == "Corpus corrigé."
    backwards = client.patch(url, json={"status": "open"}, headers=referent)
    assert backwards.status_code == 400
    reopened = client.patch(url, json={"status": "in_progress", "assignee_id": None}, headers=referent).json()
    assert reopened["closed_at"] is None and reopened["assignee_id"] is None

    assert client.get(url, headers=auditor).json()["status"] == "in_progress"
    assert client.patch(url, json={"status": "closed", "comment": "x"}, headers=auditor).status_code == 403
    assert client.get(f"/api/incidents/{report['id']}", headers=people["agent"].bearer).json()["status"] == (
        "in_progress"
    )

    events = run(client, search_events(runtime_of(app), action_prefix="incident."))
    actions = [(event.action, event.actor_label) for event in reversed(events)]
    assert actions == [
        ("incident.report", "agent.a"),
        ("incident.triage", "referent.r"),
        ("incident.triage", "referent.r"),
        ("incident.triage", "referent.r"),
    ]
    assert all(text not in str(event.details) for event in events), "the log never holds the reported content"
    assert events[1].details["status"] == {"from": "in_progress", "to": "closed"}


def test_counts_per_model_and_category(client: TestClient, people: dict[str, Account]) -> None:
    agent = people["agent"].bearer
    for model, category in [(MODEL, "biais"), (MODEL, "biais"), (MODEL, "autre"), (OTHER_MODEL, "biais")]:
        text, manifest = answer(client, agent, model)
        created = client.post("/api/incidents", json=report_body(text, manifest, category), headers=agent).json()
    client.patch(
        f"/api/governance/incidents/{created['id']}",
        json={"status": "closed", "comment": "Doublon."},
        headers=people["referent"].bearer,
    )
    stats = client.get("/api/governance/incidents/stats", headers=people["auditeur"].bearer).json()
    cells = {(cell["model_id"], cell["category"]): (cell["total"], cell["unresolved"]) for cell in stats}
    assert cells == {(MODEL, "biais"): (2, 2), (MODEL, "autre"): (1, 1), (OTHER_MODEL, "biais"): (1, 0)}
    filtered = client.get(
        "/api/governance/incidents", params={"model": MODEL, "category": "biais"}, headers=people["referent"].bearer
    ).json()
    assert len(filtered) == 2
