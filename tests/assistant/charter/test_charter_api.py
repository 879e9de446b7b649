"""Charter acceptance before use (API keys inherit it, a new version asks again), export, and the guard on the API."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.store.models import Role
from tests.factories import PASSWORD, make_account, run, runtime_of

CHAT = "/v1/chat/completions"


def _chat(content: str, **extra: object) -> dict[str, object]:
    return {"model": "smollm2-135m", "messages": [{"role": "user", "content": content}], "max_tokens": 2, **extra}


def _login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies["souverain_session"]
    client.cookies.clear()
    return {"Cookie": f"souverain_session={cookie}", "X-CSRF-Token": response.json()["csrf_token"]}


@pytest.fixture
def env(settings_factory):  # type: ignore[no-untyped-def]
    app = create_app(settings_factory(default_requests_per_minute=100_000))
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "agent.charte", Role.AGENT)
        referent = make_account(client, app, "referent.charte", Role.REFERENT)
        auditor = make_account(client, app, "auditeur.charte", Role.AUDITEUR)
        yield client, app, agent, referent, auditor


def _audit_actions(client: TestClient, app, prefix: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    from assistant.services.governance.audit_log import search_events

    events = run(client, search_events(runtime_of(app), action_prefix=prefix, limit=100))
    return [{"action": e.action, "details": e.details, "outcome": e.outcome} for e in events]


def test_no_charter_published_requires_nothing_and_shows_the_default(env) -> None:  # type: ignore[no-untyped-def]
    client, _, agent, _, _ = env
    charter = client.get("/api/charter", headers=agent.bearer).json()
    assert charter["version"] is None and charter["required"] is False
    assert "Vérifiez" in charter["summary"] and "Article 6" in charter["text"]
    assert client.post(CHAT, json=_chat("Bonjour"), headers=agent.bearer).status_code == 200


def test_acceptance_gates_use_api_keys_inherit_and_a_new_version_asks_again(env) -> None:  # type: ignore[no-untyped-def]
    client, app, agent, referent, auditor = env
    published = client.post("/api/admin/charter", json={}, headers=referent.bearer)
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 1

    refused = client.post(CHAT, json=_chat("Bonjour"), headers=agent.bearer)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "charter_not_accepted" and "/charte" in error["message"]
    assert refused.json()["charter_url"] == "/charte"
    assert client.get("/api/conversations", headers=agent.bearer).status_code == 403
    assert client.get("/api/charter", headers=agent.bearer).status_code == 200  # one can always read it

    # A key cannot accept on its owner's behalf; the owner accepts in person.
    by_key = client.post("/api/charter/accept", json={"version": 1}, headers=agent.bearer)
    assert by_key.status_code == 403 and by_key.json()["error"]["code"] == "charter_acceptance_requires_person"
    session = _login(client, agent.username)
    accepted = client.post("/api/charter/accept", json={"version": 1}, headers=session)
    assert accepted.status_code == 200 and accepted.json()["accepted"] is True
    assert client.post(CHAT, json=_chat("Bonjour"), headers=agent.bearer).status_code == 200  # the key inherits

    client.post(
        "/api/admin/charter",
        json={"summary": "- Nouvelle règle", "text": "# Charte v2\n\nTexte."},
        headers=referent.bearer,
    )
    again = client.post(CHAT, json=_chat("Bonjour"), headers=agent.bearer)
    assert again.status_code == 403 and again.json()["error"]["code"] == "charter_not_accepted"
    stale = client.post("/api/charter/accept", json={"version": 1}, headers=session)
    assert stale.status_code == 409
    assert client.post("/api/charter/accept", json={"version": 2}, headers=session).status_code == 200
    assert client.post(CHAT, json=_chat("Bonjour"), headers=agent.bearer).status_code == 200

    rows = client.get("/api/audit/charter-acceptances", headers=auditor.bearer).json()
    assert [(row["username"], row["version"]) for row in rows] == [(agent.username, 1), (agent.username, 2)]
    exported = client.get("/api/audit/charter-acceptances?format=csv&version=2", headers=auditor.bearer)
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(row["username"], row["version"], row["method"]) for row in table] == [(agent.username, "2", "session")]
    actions = [event["action"] for event in _audit_actions(client, app, "charter.")]
    assert actions.count("charter.published") == 2 and actions.count("charter.accepted") == 2


def test_block_rule_refuses_and_is_audited_without_the_prompt(env) -> None:  # type: ignore[no-untyped-def]
    client, app, agent, _, _ = env
    text = "Identifie les personnes sur cette photo de la manifestation."
    refused = client.post(CHAT, json=_chat(text), headers=agent.bearer)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "forbidden_use" and "article 6" in error["message"]
    assert refused.json()["guard"]["rule"] == "reconnaissance-faciale"  # details sit beside the envelope
    (event,) = _audit_actions(client, app, "guard.")
    assert event["action"] == "guard.blocked" and event["outcome"] == "denied"
    assert event["details"]["rule"] == "reconnaissance-faciale"
    assert "manifestation" not in str(event)


def test_confirm_rule_needs_a_reason_then_answers_with_the_notice(env) -> None:  # type: ignore[no-untyped-def]
    client, app, agent, _, _ = env
    text = "Décide si M. Martin a droit à l'allocation logement."
    first = client.post(CHAT, json=_chat(text), headers=agent.bearer)
    assert first.status_code == 403 and first.json()["error"]["code"] == "guard_confirmation_required"
    wrong = _chat(text, guard_confirmation={"rule": "autre-regle", "reason": "Brouillon que je vérifierai."})
    assert client.post(CHAT, json=wrong, headers=agent.bearer).status_code == 403
    confirmed = _chat(text, guard_confirmation={"rule": "decision-droits", "reason": "Brouillon que je vérifierai."})
    answer = client.post(CHAT, json=confirmed, headers=agent.bearer)
    assert answer.status_code == 200, answer.text
    (notice,) = answer.json()["guard"]
    assert notice["rule"] == "decision-droits" and notice["confirmed"] is True
    actions = [(e["action"], e["details"].get("reason")) for e in _audit_actions(client, app, "guard.")]
    assert ("guard.confirmed", "Brouillon que je vérifierai.") in actions
    assert [a for a, _ in actions].count("guard.confirmation_required") == 2


def test_warn_rule_answers_with_a_reminder_in_conversations_too(env) -> None:  # type: ignore[no-untyped-def]
    client, app, agent, _, _ = env
    text = "Traduis ma conversation avec l'usager au guichet."
    answer = client.post(CHAT, json=_chat(text), headers=agent.bearer)
    assert answer.status_code == 200
    assert [notice["rule"] for notice in answer.json()["guard"]] == ["traduction-usagers"]
    assert (
        client.post(CHAT, json=_chat("Traduis ce rapport en anglais."), headers=agent.bearer).json().get("guard")
        is None
    )
    conversation = client.post("/api/conversations", json={"model": "smollm2-135m"}, headers=agent.bearer).json()
    reply = client.post(
        f"/api/conversations/{conversation['id']}/messages", json={"content": text}, headers=agent.bearer
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["guard"][0]["action"] == "warn"
    surfaces = {e["details"]["surface"] for e in _audit_actions(client, app, "guard.warned")}
    assert surfaces == {"api", "chat"}


def test_referent_edits_the_rules(env) -> None:  # type: ignore[no-untyped-def]
    client, _, agent, referent, _ = env
    current = client.get("/api/admin/guard-rules", headers=referent.bearer).json()
    assert current["version"] == 1 and len(current["rules"]) == 4
    rules = [
        {
            "id": "exemple",
            "title": "Exemple",
            "action": "block",
            "message": "Interdit (charte, art. 9).",
            "patterns": ["ornithorynque"],
        }
    ]
    updated = client.put("/api/admin/guard-rules", json={"rules": rules}, headers=referent.bearer)
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert client.post(CHAT, json=_chat("Un ORNITHORYNQUE ?"), headers=agent.bearer).status_code == 403
    assert client.post(CHAT, json=_chat("Qui est sur cette photo ?"), headers=agent.bearer).status_code == 200
    bad = client.put("/api/admin/guard-rules", json={"rules": [{"id": "x-1"}]}, headers=referent.bearer)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_guard_rules"
    assert client.get("/api/admin/guard-rules", headers=agent.bearer).status_code == 403
