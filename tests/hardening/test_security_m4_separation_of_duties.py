"""M4 — separation of duties: a référent administers collections and accounts without reading content or handing
out privilege quietly.

The attacks, as a référent: grant themself read access to an agent's collection (directly, through a group they
are in, or by joining the group that has access), then read it; create an auditor account, promote an agent.
The defences: content access needs the owner's grant (manage ≠ read), widening role changes are alerted in the
audit log and listed in the compliance report for a second person to review.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.store.models import Role
from tests.assistant.rag.helpers import create_collection
from tests.factories import Account, make_account

REVIEW = "Séparation des tâches (rôles élargis)"


def _report(client: TestClient, auditor: Account) -> dict[str, dict[str, object]]:
    response = client.get("/api/governance/compliance", params={"format": "json"}, headers=auditor.bearer)
    assert response.status_code == 200, response.text
    return {check["requirement"]: check for check in response.json()["checks"]}


def test_a_referent_cannot_grant_themself_the_content_of_a_collection(
    client: TestClient, app: FastAPI, alice: Account
) -> None:
    referent = make_account(client, app, "rose.referente", Role.REFERENT)
    other = make_account(client, app, "paul.referent", Role.REFERENT)
    collection = create_collection(client, alice.bearer, "Dossiers RH")
    access = f"/api/collections/{collection}/access"

    def reads() -> bool:  # reading the content: searching its passages (refused as if it did not exist)
        body = {"query": "congés", "collection_ids": [collection]}
        answer = client.post("/api/search", json=body, headers=referent.bearer)
        assert answer.status_code in (200, 404), answer.text
        return answer.status_code == 200

    groups = {}
    for name in ("rh", "equipe"):
        created = client.post("/api/admin/groups", json={"name": name}, headers=other.bearer)
        assert created.status_code == 201, created.text
        groups[name] = created.json()["id"]
    member = f"/api/admin/groups/{groups['equipe']}/members/{referent.id}"
    assert client.put(member, headers=other.bearer).status_code == 204

    # Manage: the référent sees the collection and its access list, not its content.
    assert client.get(access, headers=referent.bearer).status_code == 200
    assert not reads()

    # Directly, or through a group they are in: refused, the access list unchanged.
    for body in ({"users": {referent.username: "read"}}, {"groups": {"equipe": "read"}}):
        refused = client.put(access, json=body, headers=referent.bearer)
        assert refused.status_code == 403, refused.text
        assert "propriétaire" in refused.json()["error"]["message"]
    listed = client.get(access, headers=alice.bearer).json()
    assert listed["users"] == {} and listed["groups"] == {}

    # Sharing with a group they are not in is ordinary administration; joining that group is refused.
    assert client.put(access, json={"groups": {"rh": "read"}}, headers=referent.bearer).status_code == 200
    joined = client.put(f"/api/admin/groups/{groups['rh']}/members/{referent.id}", headers=referent.bearer)
    assert joined.status_code == 403, joined.text
    assert "vous-même" in joined.json()["error"]["message"]
    members = client.get(f"/api/admin/groups/{groups['rh']}", headers=other.bearer).json()["members"]
    assert referent.username not in [account["username"] for account in members]
    assert not reads()

    # The owner opens the content to them: then they read it.
    shared = client.put(access, json={"users": {referent.username: "read"}}, headers=alice.bearer)
    assert shared.status_code == 200, shared.text
    assert reads()


def test_role_widenings_are_alerted_and_listed_for_review(client: TestClient, app: FastAPI, alice: Account) -> None:
    referent = make_account(client, app, "rose.referente", Role.REFERENT)
    auditor = make_account(client, app, "alain.auditeur", Role.AUDITEUR)
    assert _report(client, auditor)[REVIEW]["status"] == "ok", "accounts made outside the API are not flagged"

    created = client.post(
        "/api/admin/users", json={"username": "complice.audit", "role": "auditeur"}, headers=referent.bearer
    )
    assert created.status_code == 201, created.text
    promoted = client.patch(f"/api/admin/users/{alice.id}", json={"role": "referent"}, headers=referent.bearer)
    assert promoted.status_code == 200, promoted.text
    ordinary = client.post("/api/admin/users", json={"username": "nouvel.agent"}, headers=referent.bearer)
    assert ordinary.status_code == 201, ordinary.text
    demoted = client.patch(f"/api/admin/users/{alice.id}", json={"role": "agent"}, headers=referent.bearer)
    assert demoted.status_code == 200, demoted.text

    events = client.get("/api/audit/events", params={"action": "access.role_widened"}, headers=auditor.bearer).json()
    widened = sorted((event["details"]["user"], event["details"]["to"]) for event in events)
    assert widened == [("alice.agent", "referent"), ("complice.audit", "auditeur")]
    assert all(event["outcome"] == "alert" and event["actor_label"] == referent.username for event in events)

    check = _report(client, auditor)[REVIEW]
    assert check["status"] == "warning"
    evidence = "\n".join(check["evidence"])  # type: ignore[arg-type]
    assert "2 élargissement(s)" in evidence
    assert "rose.referente a donné le rôle « auditeur » à complice.audit (nouveau compte)" in evidence
    assert "rose.referente a donné le rôle « referent » à alice.agent (agent)" in evidence
