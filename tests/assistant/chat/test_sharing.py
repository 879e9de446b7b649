"""Sharing a conversation inside the administration: with agents and groups, read-only or as a copy to continue,
with the AI label, provenance and signed manifests; revocable, audited; cited passages never reach a reader who
may not read their collection."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.store.audit import query_events
from assistant.store.models import Role
from tests.assistant.rag.helpers import create_collection, ingest
from tests.factories import Account, make_account, run, runtime_of

REPAS = (
    "Indemnités de mission 2025. L'indemnité de repas versée à l'agent en mission est de 20,50 euros par repas, "
    "lorsque le repas est pris hors de la résidence administrative."
)


def _conversation(client: TestClient, who: Account, *questions: str, **message: Any) -> str:
    created = client.post("/api/conversations", json={"title": "Congés"}, headers=who.bearer)
    assert created.status_code == 201, created.text
    conversation_id: str = created.json()["id"]
    for question in questions or ("Quelles sont les règles de congés ?",):
        said = client.post(
            f"/api/conversations/{conversation_id}/messages", json={"content": question, **message}, headers=who.bearer
        )
        assert said.status_code == 200, said.text
    return conversation_id


def _share(client: TestClient, who: Account, conversation_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/conversations/{conversation_id}/shares", json=body, headers=who.bearer)
    assert response.status_code == 201, response.text
    shared: dict[str, Any] = response.json()
    return shared


def _group(client: TestClient, app: FastAPI, name: str, *members: Account) -> None:
    referent = make_account(client, app, f"referent.{uuid.uuid4().hex[:6]}", Role.REFERENT)
    created = client.post("/api/admin/groups", json={"name": name}, headers=referent.bearer)
    assert created.status_code == 201, created.text
    for member in members:
        added = client.put(f"/api/admin/groups/{created.json()['id']}/members/{member.id}", headers=referent.bearer)
        assert added.status_code == 204, added.text


def _events(client: TestClient, app: FastAPI) -> list[tuple[str, str | None]]:
    async def actions() -> list[tuple[str, str | None]]:
        async with runtime_of(app).session_factory() as session:
            events = await query_events(session=session, action_prefix="conversation.share", limit=1000)
            return [(event.action, event.actor_label) for event in events]

    return run(client, actions())


def _verifies(client: TestClient, who: Account, message: dict[str, Any]) -> bool:
    response = client.post(
        "/api/provenance/verify",
        json={"content": message["content"], "manifest": message["provenance_manifest"]},
        headers=who.bearer,
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["valid"])


def test_a_snapshot_shared_with_an_agent_keeps_label_provenance_and_a_verifiable_manifest(
    client: TestClient, app: FastAPI, alice: Account, bob: Account
) -> None:
    conversation_id = _conversation(client, alice)
    share = _share(client, alice, conversation_id, users=[bob.username])
    assert (share["mode"], share["mode_label"], share["users"], share["groups"]) == (
        "snapshot",
        "Lecture seule",
        [bob.username],
        [],
    )
    # Later messages of the owner change nothing of what was shared.
    client.post(f"/api/conversations/{conversation_id}/messages", json={"content": "Et après ?"}, headers=alice.bearer)

    (received,) = client.get("/api/shares/received", headers=bob.bearer).json()
    assert (received["id"], received["owner"], received["message_count"]) == (share["id"], alice.username, 2)
    read = client.get(f"/api/shares/{share['id']}", headers=bob.bearer)
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["title"] == "Congés" and body["masked_sources"] == 0 and len(body["messages"]) == 2
    question, answer = body["messages"]
    assert question["role"] == "user" and question["ai_generated"] is False
    assert answer["ai_generated"] is True and answer["provenance"]["model_id"] == "vllm-model"
    assert answer["provenance_manifest"]["schema"] == "souverain.provenance/1"
    assert _verifies(client, bob, answer)
    assert client.get("/api/shares/received", headers=alice.bearer).json() == [], "not shared with oneself"
    assert client.get(f"/api/shares/{share['id']}", headers=alice.bearer).status_code == 200, "its owner previews it"
    assert client.post(f"/api/shares/{share['id']}/copy", headers=bob.bearer).status_code == 403, "read-only"

    listed = client.get(f"/api/conversations/{conversation_id}/shares", headers=alice.bearer).json()
    assert [s["id"] for s in listed] == [share["id"]]
    assert client.get(f"/api/conversations/{conversation_id}/shares", headers=bob.bearer).status_code == 404


def test_a_group_share_reaches_its_members_only_and_revocation_ends_it(
    client: TestClient, app: FastAPI, alice: Account, bob: Account
) -> None:
    carol = make_account(client, app, "carol.agent", Role.AGENT)
    stranger = make_account(client, app, "dan.agent", Role.AGENT)
    _group(client, app, "Service RH", bob, carol)
    share = _share(client, alice, _conversation(client, alice), groups=["Service RH"])
    assert share["groups"] == ["Service RH"]
    for member in (bob, carol):
        assert client.get(f"/api/shares/{share['id']}", headers=member.bearer).status_code == 200
    assert client.get(f"/api/shares/{share['id']}", headers=stranger.bearer).status_code == 404
    assert client.get("/api/shares/received", headers=stranger.bearer).json() == []
    assert client.delete(f"/api/shares/{share['id']}", headers=bob.bearer).status_code == 404, "only its owner"

    revoked = client.delete(f"/api/shares/{share['id']}", headers=alice.bearer)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"], revoked.text
    for member in (bob, carol):
        assert client.get(f"/api/shares/{share['id']}", headers=member.bearer).status_code == 404
        assert client.get("/api/shares/received", headers=member.bearer).json() == []
    assert client.post(f"/api/shares/{share['id']}/copy", headers=bob.bearer).status_code == 404
    assert client.get(f"/api/shares/{uuid.uuid4()}", headers=bob.bearer).status_code == 404

    events = _events(client, app)
    assert ("conversation.share", alice.username) in events
    assert ("conversation.share_read", bob.username) in events
    assert ("conversation.share_revoke", alice.username) in events


def test_recipients_are_checked(client: TestClient, app: FastAPI, alice: Account, bob: Account) -> None:
    conversation_id = _conversation(client, alice)

    def refused(**body: Any) -> str:
        response = client.post(f"/api/conversations/{conversation_id}/shares", json=body, headers=alice.bearer)
        assert response.status_code == 400, response.text
        message: str = response.json()["error"]["message"]
        return message

    assert "inconnu" in refused(users=["personne.inconnue"])
    assert "Groupe inconnu" in refused(groups=["Nulle part"])
    assert "vous-même" in refused(users=[alice.username])
    assert "au moins un" in refused()
    assert (
        client.post(
            f"/api/conversations/{conversation_id}/shares", json={"users": [alice.username]}, headers=bob.bearer
        ).status_code
        == 404
    ), "another's conversation"
    empty = client.post("/api/conversations", json={"title": "Vide"}, headers=alice.bearer).json()
    response = client.post(
        f"/api/conversations/{empty['id']}/shares", json={"users": [bob.username]}, headers=alice.bearer
    )
    assert response.status_code == 400 and "aucune réponse" in response.json()["error"]["message"]


def test_a_copy_becomes_the_recipients_own_conversation(
    client: TestClient, app: FastAPI, alice: Account, bob: Account
) -> None:
    share = _share(client, alice, _conversation(client, alice), users=[bob.username], mode="copy")
    assert share["mode_label"] == "Copie à poursuivre"
    copied = client.post(f"/api/shares/{share['id']}/copy", headers=bob.bearer)
    assert copied.status_code == 201, copied.text
    copy = copied.json()
    assert copy["title"] == "Congés (copie)" and len(copy["messages"]) == 2
    answer = copy["messages"][1]
    assert answer["ai_generated"] is True and _verifies(client, bob, answer)
    assert client.get(f"/api/conversations/{copy['id']}", headers=alice.bearer).status_code == 404, "bob's own"
    said = client.post(
        f"/api/conversations/{copy['id']}/messages", json={"content": "Et les RTT ?"}, headers=bob.bearer
    )
    assert said.status_code == 200, said.text
    assert len(client.get(f"/api/conversations/{copy['id']}", headers=bob.bearer).json()["messages"]) == 4
    assert client.post(f"/api/shares/{share['id']}/copy", headers=alice.bearer).status_code == 400, "her own"

    client.delete(f"/api/shares/{share['id']}", headers=alice.bearer)
    assert client.get(f"/api/conversations/{copy['id']}", headers=bob.bearer).status_code == 200, "the copy stays"
    assert ("conversation.share_copy", bob.username) in _events(client, app)


def test_sources_of_a_collection_the_reader_cannot_read_are_masked(
    client: TestClient, app: FastAPI, alice: Account, bob: Account
) -> None:
    collection = create_collection(client, alice.bearer, "Missions")
    (document,) = ingest(client, alice.bearer, collection, [("repas-2025.txt", REPAS.encode(), "text/plain")])
    assert document["status"] == "ready", document
    conversation_id = _conversation(
        client, alice, "Quel est le montant de l'indemnité de repas en mission ?", collections=[collection]
    )
    own = client.get(f"/api/conversations/{conversation_id}", headers=alice.bearer).json()["messages"][1]
    assert own["provenance"]["sources"] and own["provenance"]["sources"][0]["passage"]
    share = _share(client, alice, conversation_id, users=[bob.username], mode="copy")

    body = client.get(f"/api/shares/{share['id']}", headers=bob.bearer).json()
    answer = body["messages"][1]
    assert body["masked_sources"] == len(own["provenance"]["sources"])
    assert answer["content"] == own["content"], "the owner's answer stays"
    for source in answer["provenance"]["sources"]:
        assert source["title"] == "source non accessible" and source["passage"] is None
        assert source["collection_id"] is None and not source["document_id"]
    leaked = json.dumps(answer, ensure_ascii=False)
    assert "20,50 euros" not in leaked.replace(answer["content"], "") and "repas-2025" not in leaked
    assert _verifies(client, bob, answer), "re-signed over the same content"
    assert answer["provenance_manifest"]["provenance"]["sources"] == answer["provenance"]["sources"]

    copy = client.post(f"/api/shares/{share['id']}/copy", headers=bob.bearer).json()
    copied = copy["messages"][1]
    assert all(source["title"] == "source non accessible" for source in copied["provenance"]["sources"])
    assert _verifies(client, bob, copied)

    # Once bob may read the collection, the same share shows him the sources.
    granted = client.put(
        f"/api/collections/{collection}/access", json={"users": {bob.username: "read"}}, headers=alice.bearer
    )
    assert granted.status_code == 200, granted.text
    again = client.get(f"/api/shares/{share['id']}", headers=bob.bearer).json()
    assert again["masked_sources"] == 0
    assert again["messages"][1]["provenance"]["sources"] == own["provenance"]["sources"]
    assert again["messages"][1]["provenance_manifest"] == own["provenance_manifest"]


def test_shares_in_the_export_the_erasure_and_with_their_conversation(
    client: TestClient, app: FastAPI, alice: Account, bob: Account
) -> None:
    conversation_id = _conversation(client, alice)
    share = _share(client, alice, conversation_id, users=[bob.username])
    with zipfile.ZipFile(io.BytesIO(client.get("/api/me/export", headers=alice.bearer).content)) as exported:
        given = json.loads(exported.read("partages.json"))
    assert [s["id"] for s in given["donnes"]] == [share["id"]] and given["recus"] == []
    with zipfile.ZipFile(io.BytesIO(client.get("/api/me/export", headers=bob.bearer).content)) as exported:
        received = json.loads(exported.read("partages.json"))
    assert [s["id"] for s in received["recus"]] == [share["id"]]

    # Deleting the conversation takes its shares with it.
    client.delete(f"/api/conversations/{conversation_id}", headers=alice.bearer)
    assert client.get(f"/api/shares/{share['id']}", headers=bob.bearer).status_code == 404

    second = _share(client, alice, _conversation(client, alice), users=[bob.username])
    erased = client.post("/api/me/erase", json={"confirmation": "SUPPRIMER MES DONNÉES"}, headers=alice.bearer)
    assert erased.status_code == 200, erased.text
    assert erased.json()["shares"] == 1
    assert client.get(f"/api/shares/{second['id']}", headers=bob.bearer).status_code == 404
