"""Projects: folders of conversations with standing instructions; move, rename, delete; search my conversations."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.store.audit import query_events
from tests.factories import Account, run, runtime_of
from tests.fakes import FakeUpstream

INSTRUCTIONS = "Tu rédiges pour des usagers, en langage clair, sans sigle non expliqué."


def _project(client: TestClient, who: Account, name: str = "Usagers", **extra: Any) -> dict[str, Any]:
    response = client.post("/api/projects", json={"name": name, **extra}, headers=who.bearer)
    assert response.status_code == 201, response.text
    return response.json()


def _conversation(client: TestClient, who: Account, **body: Any) -> dict[str, Any]:
    response = client.post("/api/conversations", json=body, headers=who.bearer)
    assert response.status_code == 201, response.text
    return response.json()


def _say(client: TestClient, who: Account, conversation_id: str, content: str) -> dict[str, Any]:
    response = client.post(
        f"/api/conversations/{conversation_id}/messages", json={"content": content}, headers=who.bearer
    )
    assert response.status_code == 200, response.text
    return response.json()


def _system_prompt(upstream: FakeUpstream) -> str:
    body = upstream.chat_requests()[-1].body
    assert body is not None
    return " ".join(m["content"] for m in body["messages"] if m["role"] == "system")


def test_project_instructions_reach_every_answer_of_its_conversations(
    client: TestClient, alice: Account, openai_upstream: FakeUpstream
) -> None:
    project = _project(client, alice, instructions=f"  {INSTRUCTIONS}  ")
    assert project["instructions"] == INSTRUCTIONS and project["conversations"] == 0
    inside = _conversation(client, alice, project_id=project["id"])
    assert inside["project_id"] == project["id"]
    _say(client, alice, inside["id"], "Comment demander une carte grise ?")
    assert INSTRUCTIONS in _system_prompt(openai_upstream) and "« Usagers »" in _system_prompt(openai_upstream)

    outside = _conversation(client, alice)
    _say(client, alice, outside["id"], "Comment demander une carte grise ?")
    assert INSTRUCTIONS not in _system_prompt(openai_upstream), "only the project's conversations get them"

    moved = client.patch(
        f"/api/conversations/{outside['id']}", json={"project_id": project["id"]}, headers=alice.bearer
    )
    assert moved.status_code == 200 and moved.json()["project_id"] == project["id"]
    _say(client, alice, outside["id"], "Et pour un duplicata ?")
    assert INSTRUCTIONS in _system_prompt(openai_upstream), "moved in: the instructions apply from the next answer"

    changed = client.patch(
        f"/api/projects/{project['id']}",
        json={"instructions": "Réponds en trois phrases au plus."},
        headers=alice.bearer,
    )
    assert changed.status_code == 200 and changed.json()["conversations"] == 2
    _say(client, alice, inside["id"], "Quel délai ?")
    assert "trois phrases" in _system_prompt(openai_upstream) and INSTRUCTIONS not in _system_prompt(openai_upstream)

    out = client.patch(f"/api/conversations/{outside['id']}", json={"project_id": None}, headers=alice.bearer)
    assert out.status_code == 200 and out.json()["project_id"] is None
    renamed = client.patch(f"/api/conversations/{inside['id']}", json={"title": "Carte grise"}, headers=alice.bearer)
    assert renamed.json()["project_id"] == project["id"], "renaming does not move it"


def test_projects_are_private_and_inputs_are_checked(client: TestClient, alice: Account, bob: Account) -> None:
    project = _project(client, alice)
    assert client.get(f"/api/projects/{project['id']}", headers=bob.bearer).status_code == 404
    assert client.patch(f"/api/projects/{project['id']}", json={"name": "x"}, headers=bob.bearer).status_code == 404
    deleted = client.delete(f"/api/projects/{project['id']}", params={"conversations": "delete"}, headers=bob.bearer)
    assert deleted.status_code == 404
    assert client.get("/api/projects", headers=bob.bearer).json() == []
    refused = client.post("/api/conversations", json={"project_id": project["id"]}, headers=bob.bearer)
    assert refused.status_code == 404, "nobody files a conversation in someone else's project"
    mine = _conversation(client, bob)
    moved = client.patch(f"/api/conversations/{mine['id']}", json={"project_id": project["id"]}, headers=bob.bearer)
    assert moved.status_code == 404
    assert client.get("/api/conversations", params={"project": project["id"]}, headers=bob.bearer).status_code == 404

    blank = client.post("/api/projects", json={"name": "   "}, headers=alice.bearer)
    assert blank.status_code == 400 and "Donnez un nom" in blank.json()["error"]["message"]
    too_long = client.post("/api/projects", json={"name": "P", "instructions": "x" * 4001}, headers=alice.bearer)
    assert too_long.status_code == 422
    unknown = client.post("/api/projects", json={"name": "P", "collections": [str(uuid.uuid4())]}, headers=alice.bearer)
    assert unknown.status_code == 404 and "Collection introuvable" in unknown.json()["error"]["message"]
    no_choice = client.delete(f"/api/projects/{project['id']}", headers=alice.bearer)
    assert no_choice.status_code == 422, "deleting says what happens to the conversations"
    assert [p["name"] for p in client.get("/api/projects", headers=alice.bearer).json()] == ["Usagers"]


def test_delete_a_project_with_or_without_its_conversations(client: TestClient, app: FastAPI, alice: Account) -> None:
    kept = _project(client, alice, "À garder")
    gone = _project(client, alice, "À supprimer")
    first = _conversation(client, alice, project_id=kept["id"])
    doomed = [_conversation(client, alice, project_id=gone["id"]) for _ in range(2)]
    _say(client, alice, doomed[0]["id"], "Bonjour")

    detached = client.delete(f"/api/projects/{kept['id']}", params={"conversations": "detach"}, headers=alice.bearer)
    assert detached.status_code == 200 and detached.json() == {"deleted_conversations": 0}
    still = client.get(f"/api/conversations/{first['id']}", headers=alice.bearer)
    assert still.status_code == 200 and still.json()["project_id"] is None

    removed = client.delete(f"/api/projects/{gone['id']}", params={"conversations": "delete"}, headers=alice.bearer)
    assert removed.status_code == 200 and removed.json() == {"deleted_conversations": 2}
    for conversation in doomed:
        assert client.get(f"/api/conversations/{conversation['id']}", headers=alice.bearer).status_code == 404
    assert client.get("/api/projects", headers=alice.bearer).json() == []

    async def actions() -> list[tuple[str, dict[str, Any]]]:
        async with runtime_of(app).session_factory() as session:
            return [
                (e.action, dict(e.details or {}))
                for e in await query_events(session=session)
                if e.action.startswith("project.")
            ]

    logged = run(client, actions())
    assert ("project.delete", {"conversations_deleted": 2}) in logged
    assert ("project.delete", {"conversations_deleted": 0}) in logged


def test_search_my_conversations_by_title_and_content(client: TestClient, alice: Account, bob: Account) -> None:
    project = _project(client, alice)
    titled = _conversation(client, alice, title="Congés bonifiés 2026")
    talked = _conversation(client, alice, project_id=project["id"])
    _say(client, alice, talked["id"], "Quelles pièces pour une demande de naturalisation par décret ?")
    other = _conversation(client, alice)
    _say(client, alice, other["id"], "Rédige un courriel de relance.")
    theirs = _conversation(client, bob, title="Naturalisation (Bob)")

    def found(who: Account, **params: str) -> list[str]:
        response = client.get("/api/conversations", params=params, headers=who.bearer)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert found(alice, q="CONGÉS bonifiés") == [titled["id"]], "case-insensitive, accented capitals included"
    hits = client.get("/api/conversations", params={"q": "naturalisation"}, headers=alice.bearer).json()
    assert [item["id"] for item in hits["items"]] == [talked["id"]] and hits["total"] == 1
    assert "naturalisation par décret" in hits["items"][0]["match"]
    assert theirs["id"] not in found(bob, q="courriel"), "Bob never finds Alice's messages"
    assert found(bob, q="Naturalisation") == [theirs["id"]]
    assert found(alice, q="100%_") == [], "wildcards are searched literally"
    assert found(alice, project=project["id"]) == [talked["id"]]
    assert set(found(alice, project="none")) == {titled["id"], other["id"]}
    assert found(alice, project=project["id"], q="courriel") == []
    assert client.get("/api/conversations", params={"q": "x" * 201}, headers=alice.bearer).status_code == 422


def test_projects_in_the_export_the_erasure_and_retention(client: TestClient, app: FastAPI, alice: Account) -> None:
    project = _project(client, alice, instructions=INSTRUCTIONS)
    _conversation(client, alice, project_id=project["id"])
    archive = client.get("/api/me/export", headers=alice.bearer)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as exported:
        projects = json.loads(exported.read("projets.json"))
        conversations = [
            json.loads(exported.read(n)) for n in exported.namelist() if n.endswith(".json") and "conversations/" in n
        ]
    assert [(p["name"], p["instructions"]) for p in projects] == [("Usagers", INSTRUCTIONS)]
    assert [c["project_id"] for c in conversations] == [project["id"]]

    erased = client.post("/api/me/erase", json={"confirmation": "SUPPRIMER MES DONNÉES"}, headers=alice.bearer)
    assert erased.status_code == 200, erased.text
    assert erased.json()["projects"] == 1 and erased.json()["conversations"] == 1
