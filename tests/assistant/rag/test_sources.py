"""Collections kept in sync with real shared drives started here on 127.0.0.1 (WsgiDAV, Samba's smbd): add,
change, rename and delete files between syncs and check the index each time; a drive that is down or refuses the
credentials gives a clear status and loses nothing; a sync killed mid-way resumes without indexing twice."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.services.knowledge import source_sync
from assistant.store.models import Document, KnowledgeSource, Role, SourceFile
from tests.assistant.rag.helpers import create_collection, search, wait_ready
from tests.factories import Account, make_account, run, runtime_of
from tests.rag.sources.servers import (
    PASSWORD,
    SMB_USER,
    USER,
    SambaServer,
    ServerUnavailable,
    Share,
    WebDavServer,
    free_port,
    smb_share,
    webdav_share,
)

CONGES = "Congés annuels 2026. Chaque agent à temps plein bénéficie de vingt-cinq jours ouvrés de congés annuels."
TELETRAVAIL = "Télétravail. L'agent peut télétravailler deux jours par semaine après accord de son chef de service."
TELETRAVAIL_V2 = "Télétravail. Depuis le 1er mars, l'agent peut télétravailler trois jours par semaine."
FORMATION = "Formation. Le compte personnel de formation est crédité de 500 euros par an."


@pytest.fixture(scope="module")
def webdav_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDavServer]:
    server = WebDavServer(tmp_path_factory.mktemp("webdav"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def samba_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaServer]:
    try:
        server = SambaServer(tmp_path_factory.mktemp("samba"))
    except ServerUnavailable as exc:
        pytest.skip(f"Samba ne peut pas tourner ici : {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["webdav", "smb"])
def share(request: pytest.FixtureRequest) -> Share:
    folder = f"Partage {uuid.uuid4().hex[:6]} é"
    if request.param == "webdav":
        return webdav_share(request.getfixturevalue("webdav_server"), folder)
    return smb_share(request.getfixturevalue("samba_server"), folder)


def _source_body(share: Share, **overrides: Any) -> dict[str, Any]:
    if share.kind == "webdav":
        assert isinstance(share.server, WebDavServer)
        body: dict[str, Any] = {"kind": "webdav", "location": share.server.base_url, "username": USER}
    else:
        assert isinstance(share.server, SambaServer)
        body = {
            "kind": "smb",
            "location": "127.0.0.1",
            "port": share.server.port,
            "share": "docs",
            "username": SMB_USER,
        }
    return {"name": "Dossier RH", "root_path": share.folder.name, "password": PASSWORD, **body, **overrides}


def _sync(client: TestClient, who: Account, source_id: str, timeout: float = 60) -> dict[str, Any]:
    started = client.post(f"/api/sources/{source_id}/sync", headers=who.bearer)
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        source: dict[str, Any] = client.get(f"/api/sources/{source_id}", headers=who.bearer).json()
        if source["status"] in ("ok", "failed"):
            return source
        time.sleep(0.1)
    raise AssertionError(f"synchronisation not finished in {timeout}s: {source}")


def _documents(client: TestClient, who: Account, collection_id: str) -> dict[str, dict[str, Any]]:
    listed = client.get(f"/api/collections/{collection_id}/documents", headers=who.bearer).json()
    ready = {d["id"]: wait_ready(client, who.bearer, d["id"]) for d in listed}
    return {d["filename"]: d for d in ready.values()}


def test_incremental_sync_follows_the_drive(client: TestClient, app: FastAPI, owner: Account, share: Share) -> None:
    collection = create_collection(client, owner.bearer, "Ressources humaines")
    share.write("RH/conges.txt", CONGES.encode(), mtime=1_700_000_000)
    share.write("RH/teletravail.txt", TELETRAVAIL.encode(), mtime=1_700_000_000)
    share.write("archives/vieux.txt", b"Ancienne note.", mtime=1_700_000_000)
    share.write(".cache/tmp.txt", b"cache", mtime=1_700_000_000)
    created = client.post(
        f"/api/collections/{collection}/sources",
        json=_source_body(share, exclude=["archives/**"]),
        headers=owner.bearer,
    )
    assert created.status_code == 201, created.text
    source = created.json()
    assert source["has_password"] is True and "password" not in source and source["status"] == "never"
    stored = run(client, _row(app, source["id"]))
    assert stored.secret and PASSWORD not in stored.secret, "the password is sealed, never stored in clear"

    first = _sync(client, owner, source["id"])
    assert first["status"] == "ok", first
    assert {k: first["last_result"][k] for k in ("added", "updated", "renamed", "removed")} == {
        "added": 2,
        "updated": 0,
        "renamed": 0,
        "removed": 0,
    }
    documents = _documents(client, owner, collection)
    assert set(documents) == {"conges.txt", "teletravail.txt"}, "excluded and hidden files stay out"
    assert all(d["status"] == "ready" for d in documents.values())
    assert "vingt-cinq jours" in search(client, owner.bearer, "combien de jours de congés annuels")[0]["text"]

    if isinstance(share.server, WebDavServer):
        before = len([r for r in share.server.requests() if r.startswith("GET ")])
    again = _sync(client, owner, source["id"])
    assert again["last_result"]["unchanged"] == 2 and again["last_result"]["added"] == 0
    if isinstance(share.server, WebDavServer):
        after = len([r for r in share.server.requests() if r.startswith("GET ")])
        assert after == before, "a sync where nothing changed reads no file"

    renamed_id = documents["conges.txt"]["id"]
    (share.folder / "RH/conges.txt").rename(share.folder / "RH/Congés 2026.txt")
    share.write("RH/teletravail.txt", TELETRAVAIL_V2.encode(), mtime=1_700_000_500)
    share.write("RH/formation.txt", FORMATION.encode(), mtime=1_700_000_500)
    changed = _sync(client, owner, source["id"])
    result = changed["last_result"]
    assert (result["added"], result["updated"], result["renamed"], result["removed"]) == (1, 1, 1, 0), result
    documents = _documents(client, owner, collection)
    assert set(documents) == {"Congés 2026.txt", "teletravail.txt", "formation.txt"}
    assert documents["Congés 2026.txt"]["id"] == renamed_id, "a renamed file keeps its document and passages"
    assert "trois jours" in search(client, owner.bearer, "combien de jours de télétravail par semaine")[0]["text"]

    (share.folder / "RH/formation.txt").unlink()
    removed = _sync(client, owner, source["id"])
    assert removed["last_result"]["removed"] == 1
    assert set(_documents(client, owner, collection)) == {"Congés 2026.txt", "teletravail.txt"}
    assert all("500 euros" not in p["text"] for p in search(client, owner.bearer, "compte personnel de formation"))


def test_a_drive_down_or_refusing_the_password_loses_nothing(
    client: TestClient, app: FastAPI, owner: Account, share: Share
) -> None:
    collection = create_collection(client, owner.bearer, "Procédures")
    share.write("note.txt", CONGES.encode(), mtime=1_700_000_000)
    source = client.post(f"/api/collections/{collection}/sources", json=_source_body(share), headers=owner.bearer)
    source_id = source.json()["id"]
    assert _sync(client, owner, source_id)["status"] == "ok"
    assert set(_documents(client, owner, collection)) == {"note.txt"}

    patched = client.patch(f"/api/sources/{source_id}", json={"password": "mauvais"}, headers=owner.bearer)
    assert patched.status_code == 200
    refused = _sync(client, owner, source_id)
    assert refused["status"] == "failed" and refused["status_label"] == "Échec de la dernière synchronisation"
    assert "identifiants" in refused["last_error"].lower() or "refus" in refused["last_error"].lower()
    assert "mauvais" not in refused["last_error"] and PASSWORD not in refused["last_error"]
    assert set(_documents(client, owner, collection)) == {"note.txt"}, "nothing indexed before is lost"

    body = _source_body(share, name="Injoignable")
    if share.kind == "webdav":
        body["location"] = f"http://127.0.0.1:{free_port()}/dav/"
    else:
        body["port"] = free_port()
    down = client.post(f"/api/collections/{collection}/sources", json=body, headers=owner.bearer).json()
    failed = _sync(client, owner, down["id"])
    assert failed["status"] == "failed" and failed["last_error"], failed
    assert set(_documents(client, owner, collection)) == {"note.txt"}


def test_a_sync_killed_mid_way_resumes_without_indexing_twice(
    client: TestClient, app: FastAPI, owner: Account, webdav_server: WebDavServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = webdav_share(webdav_server, f"Reprise {uuid.uuid4().hex[:6]}")
    collection = create_collection(client, owner.bearer, "Reprise")
    for index in range(4):
        share.write(f"note-{index}.txt", f"Note numéro {index} sur les congés.".encode(), mtime=1_700_000_000)
    source = client.post(f"/api/collections/{collection}/sources", json=_source_body(share), headers=owner.bearer)
    source_id = uuid.UUID(source.json()["id"])
    runtime = runtime_of(app)
    real = source_sync._add_document
    calls = 0

    async def dies_on_the_third(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("worker killed")
        return await real(*args, **kwargs)

    monkeypatch.setattr(source_sync, "_add_document", dies_on_the_third)
    with pytest.raises(RuntimeError):
        run(client, source_sync.synchronise(runtime, source_id))
    monkeypatch.setattr(source_sync, "_add_document", real)
    resumed = run(client, source_sync.synchronise(runtime, source_id))
    assert resumed["status"] == "ok" and resumed["added"] == 2 and resumed["unchanged"] == 2, resumed
    files, documents = run(client, _files_and_documents(app, source_id))
    assert sorted(files) == [f"note-{index}.txt" for index in range(4)]
    assert len(documents) == 4 and len(set(documents)) == 4, "each file indexed once"
    assert set(_documents(client, owner, collection)) == {f"note-{index}.txt" for index in range(4)}


def test_only_owners_and_referents_manage_sources(
    client: TestClient, app: FastAPI, owner: Account, webdav_server: WebDavServer
) -> None:
    share = webdav_share(webdav_server, f"Droits {uuid.uuid4().hex[:6]}")
    collection = create_collection(client, owner.bearer, "Privée")
    other = make_account(client, app, "agent.autre", Role.AGENT)
    assert (
        client.post(
            f"/api/collections/{collection}/sources", json=_source_body(share), headers=other.bearer
        ).status_code
        == 404
    )
    bad = client.post(
        f"/api/collections/{collection}/sources",
        json=_source_body(share, location="ftp://serveur/dossier"),
        headers=owner.bearer,
    )
    assert bad.status_code == 400 and "Adresse WebDAV invalide" in bad.json()["error"]["message"]
    leaky = client.post(
        f"/api/collections/{collection}/sources",
        json=_source_body(share, location="http://alice:secret@127.0.0.1/dav/"),
        headers=owner.bearer,
    )
    assert leaky.status_code == 400 and "identifiants" in leaky.json()["error"]["message"]
    source = client.post(f"/api/collections/{collection}/sources", json=_source_body(share), headers=owner.bearer)
    source_id = source.json()["id"]
    for method, path in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/sync")]:
        response = client.request(method, f"/api/sources/{source_id}{path}", json={}, headers=other.bearer)
        assert response.status_code == 404, (method, path, response.text)
    assert client.delete(f"/api/sources/{source_id}", headers=owner.bearer).json() == {"documents_removed": 0}


async def _row(app: FastAPI, source_id: str) -> KnowledgeSource:
    async with runtime_of(app).session_factory() as session:
        source = await session.get(KnowledgeSource, uuid.UUID(source_id))
        assert source is not None
        return source


async def _files_and_documents(app: FastAPI, source_id: uuid.UUID) -> tuple[list[str], list[str]]:
    async with runtime_of(app).session_factory() as session:
        files = list(await session.scalars(select(SourceFile.path).where(SourceFile.source_id == source_id)))
        hashes = list(await session.scalars(select(Document.content_hash)))
    return files, hashes
