"""L6 — what is typed in the username field of a failed sign-in never reaches the immutable log verbatim.

People type their password there. An unknown name is logged as a keyed hash: the same name gives the same
label (repeated tries stay visible to an auditor), the name itself cannot be read back.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.services.governance.audit_log import search_events
from assistant.store.models import Role
from tests.factories import PASSWORD, make_account, run, runtime_of

TYPED_PASSWORD = "MonMotDePasse-Secret-2026!"


def test_an_unknown_name_is_logged_as_a_keyed_hash(client: TestClient, app: FastAPI) -> None:
    auditor = make_account(client, app, "alain.auditeur", Role.AUDITEUR)
    for _ in range(2):
        refused = client.post("/api/auth/login", json={"username": TYPED_PASSWORD, "password": PASSWORD})
        assert refused.status_code == 401
    other = client.post("/api/auth/login", json={"username": "quelqu.un", "password": PASSWORD})
    assert other.status_code == 401
    make_account(client, app, "agent.connu", Role.AGENT)
    known = client.post("/api/auth/login", json={"username": "agent.connu", "password": "pas-le-bon-mot"})
    assert known.status_code == 401

    events = run(client, search_events(runtime_of(app), action_prefix="login"))
    labels = [event.actor_label or "" for event in events if event.details.get("reason") == "unknown_user"]
    assert len(labels) == 3 and all(label.startswith("inconnu:") for label in labels)
    assert labels[1] == labels[2] != labels[0], "the same name, the same label; another name, another one"
    assert [e.actor_label for e in events if e.details.get("reason") == "bad_password"] == ["agent.connu"]

    everything = client.get("/api/audit/events/export", params={"format": "json"}, headers=auditor.bearer)
    assert everything.status_code == 200
    assert TYPED_PASSWORD not in everything.text and TYPED_PASSWORD.lower() not in everything.text
    assert "quelqu.un" not in everything.text
