"""Access lists before retrieval: owner, reader, writer, group member, référent, stranger; nothing leaks upstream."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.security import Principal, permissions_for
from assistant.services.governance.admin import add_group_member, create_group
from assistant.store.models import Role
from tests.assistant.rag.helpers import create_collection, ingest, search
from tests.factories import Account, make_account, run, runtime_of
from tests.fakes import FakeUpstream

SECRET = "Le projet Hirondelle prévoit la fermeture du site de Montluçon en mars."
PUBLIC_TEXT = "La bibliothèque municipale ouvre le dimanche après-midi de quatorze à dix-huit heures."


@dataclass
class Cast:
    owner: Account
    reader: Account
    writer: Account
    member: Account
    referent: Account
    stranger: Account
    collection: str


def _setup(client: TestClient, app: FastAPI) -> Cast:
    accounts = {
        name: make_account(client, app, f"agent.{name}", Role.REFERENT if name == "referent" else Role.AGENT)
        for name in ("owner", "reader", "writer", "member", "referent", "stranger")
    }
    runtime = runtime_of(app)
    referent = accounts["referent"]
    admin = Principal(referent.id, referent.username, Role.REFERENT, "session", permissions_for(Role.REFERENT))

    async def group() -> None:
        created = await create_group(runtime, name="direction", description="", actor=admin)
        await add_group_member(runtime, group_id=created.id, user_id=accounts["member"].id, actor=admin)

    run(client, group())
    owner = accounts["owner"]
    collection = create_collection(client, owner.bearer, "Projets confidentiels")
    shared = client.put(
        f"/api/collections/{collection}/access",
        json={"users": {"agent.reader": "read", "agent.writer": "write"}, "groups": {"direction": "read"}},
        headers=owner.bearer,
    )
    assert shared.status_code == 200, shared.text
    assert shared.json()["groups"] == {"direction": "read"}
    ingest(client, owner.bearer, collection, [("hirondelle.txt", SECRET.encode(), "text/plain")])
    return Cast(**accounts, collection=collection)


@pytest.fixture
def cast(client: TestClient, app: FastAPI) -> Cast:
    return _setup(client, app)


def _found(client: TestClient, account: Account) -> bool:
    passages = search(client, account.bearer, "fermeture du site de Montluçon", k=5)
    return any("Hirondelle" in p["text"] for p in passages)


def test_search_follows_the_access_list(client: TestClient, cast: Cast) -> None:
    assert _found(client, cast.owner) and _found(client, cast.reader)
    assert _found(client, cast.writer) and _found(client, cast.member)
    assert not _found(client, cast.stranger)
    assert not _found(client, cast.referent), "référents administer collections but do not read them"
    named = client.post(
        "/api/search", json={"query": "Montluçon", "collection_ids": [cast.collection]}, headers=cast.stranger.bearer
    )
    assert named.status_code == 404 and named.json()["error"]["code"] == "not_found"


def test_rights_per_caller(client: TestClient, cast: Cast) -> None:
    path = f"/api/collections/{cast.collection}"
    document = client.get(f"{path}/documents", headers=cast.owner.bearer).json()[0]
    txt = [("files", ("autre.txt", b"Une note de plus pour la collection.", "text/plain"))]

    assert client.get(path, headers=cast.stranger.bearer).status_code == 404
    assert client.get(f"/api/documents/{document['id']}", headers=cast.stranger.bearer).status_code == 404
    assert client.delete(f"/api/documents/{document['id']}", headers=cast.stranger.bearer).status_code == 404
    assert client.post(f"{path}/documents", files=txt, headers=cast.stranger.bearer).status_code == 404

    assert client.get(path, headers=cast.reader.bearer).json()["your_access"] == "read"
    assert client.post(f"{path}/documents", files=txt, headers=cast.reader.bearer).status_code == 403
    assert client.delete(f"/api/documents/{document['id']}", headers=cast.member.bearer).status_code == 403
    assert client.patch(path, json={"name": "x"}, headers=cast.writer.bearer).status_code == 403
    assert client.put(f"{path}/access", json={}, headers=cast.reader.bearer).status_code == 403

    assert client.post(f"{path}/documents", files=txt, headers=cast.writer.bearer).status_code == 202
    assert client.get(path, headers=cast.referent.bearer).json()["your_access"] == "manage"
    renamed = client.patch(path, json={"name": "Projets (archivés)"}, headers=cast.referent.bearer)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Projets (archivés)"
    assert client.post(f"{path}/documents", files=txt, headers=cast.referent.bearer).status_code == 403

    listed = {c["id"] for c in client.get("/api/collections", headers=cast.stranger.bearer).json()}
    assert cast.collection not in listed
    assert cast.collection in {c["id"] for c in client.get("/api/collections", headers=cast.member.bearer).json()}

    # Revoking the share takes effect at once.
    client.put(f"{path}/access", json={"users": {"agent.writer": "write"}}, headers=cast.owner.bearer)
    assert not _found(client, cast.reader) and not _found(client, cast.member)
    assert client.get(path, headers=cast.reader.bearer).status_code == 404


def test_forbidden_text_never_reaches_the_model(client: TestClient, cast: Cast, openai_upstream: FakeUpstream) -> None:
    stranger_collection = create_collection(client, cast.stranger.bearer, "Mes notes")
    ingest(client, cast.stranger.bearer, stranger_collection, [("biblio.txt", PUBLIC_TEXT.encode(), "text/plain")])
    openai_upstream.reset()
    response = client.post(
        "/api/rag/answer",
        json={"query": "Que prévoit le projet Hirondelle pour le site de Montluçon ?"},
        headers=cast.stranger.bearer,
    )
    assert response.status_code == 200, response.text
    # Nothing the stranger may read answers it: declined, labelled, naming only the stranger's own collection.
    body = response.json()
    assert body["grounding"]["declined"] is True and body["ai_generated"] is True
    assert body["grounding"]["collections"] == ["Mes notes"] and "Hirondelle" not in body["answer"]
    assert openai_upstream.chat_requests() == []
    response = client.post(
        "/api/rag/answer",
        json={"query": "Quand la bibliothèque municipale ouvre-t-elle le dimanche ?"},
        headers=cast.stranger.bearer,
    )
    assert response.status_code == 200, response.text
    (recorded,) = openai_upstream.chat_requests()
    prompt = " ".join(str(m["content"]) for m in recorded.body["messages"])  # type: ignore[index]
    assert "fermeture du site" not in prompt and "bibliothèque municipale" in prompt
    assert all(s["collection_id"] == stranger_collection for s in response.json()["provenance"]["sources"])


def test_deleting_a_collection_removes_everything(client: TestClient, cast: Cast, app: FastAPI) -> None:
    path = f"/api/collections/{cast.collection}"
    assert _found(client, cast.reader)
    assert (runtime_of(app).settings.data_dir / "index" / cast.collection).is_dir()
    assert client.delete(path, headers=cast.reader.bearer).status_code == 403
    assert client.delete(path, headers=cast.owner.bearer).status_code == 204
    assert client.get(path, headers=cast.owner.bearer).status_code == 404
    uploads = runtime_of(app).settings.data_dir / "uploads" / cast.collection
    assert not uploads.exists()
    assert not (runtime_of(app).settings.data_dir / "index" / cast.collection).exists(), "index cache dropped"
    assert not _found(client, cast.reader)


def test_access_lists_on_postgresql(rag_settings, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    app = create_app(rag_settings(database_url=postgres_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        cast = _setup(client, app)
        assert _found(client, cast.member) and _found(client, cast.writer)
        assert not _found(client, cast.stranger) and not _found(client, cast.referent)
        document = client.get(f"/api/collections/{cast.collection}/documents", headers=cast.owner.bearer).json()[0]
        assert client.delete(f"/api/documents/{document['id']}", headers=cast.writer.bearer).status_code == 204
        assert not _found(client, cast.owner)
