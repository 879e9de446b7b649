"""Uploads of every format through the API, ingestion by the in-process worker, search with pages, deletion."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistant.store.models import DocumentChunk
from tests.assistant.rag.helpers import create_collection, ingest, search, upload, wait_ready
from tests.factories import Account, run, runtime_of
from tests.fakes import FakeUpstream
from tests.rag.factories import make_docx, make_pdf, make_png

PDF_PAGES = [
    ("Introduction", "Le présent guide décrit les démarches administratives des agents."),
    ("Congés", "Les congés annuels doivent être posés au moins quinze jours avant le départ en vacances."),
    ("Télétravail", "Le télétravail est autorisé deux jours par semaine après accord du chef de service."),
]


def _chunk_count(app: FastAPI, client: TestClient, document_id: str) -> int:
    async def count() -> int:
        async with runtime_of(app).session_factory() as session:
            total = await session.scalar(
                select(func.count())
                .select_from(DocumentChunk)
                .where(DocumentChunk.document_id == uuid.UUID(document_id))
            )
            return int(total or 0)

    return run(client, count())


def test_every_format_is_ingested_and_found_with_its_page(client: TestClient, owner: Account, font: Path) -> None:
    collection = create_collection(client, owner.bearer, "Ressources humaines")
    files = [
        ("guide.pdf", make_pdf(PDF_PAGES, font=font, title="Guide de l'agent"), "application/pdf"),
        (
            "note.docx",
            make_docx(
                title="Note de service",
                blocks=[(1, "Restauration"), (None, "La cantine ferme exceptionnellement le vendredi 12 juin.")],
            ),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("memo.txt", "Le parking du bâtiment B sera repeint durant le mois d'août.".encode(), "text/plain"),
        ("affiche.png", make_png(["Exercice d'évacuation incendie", "mardi à dix heures"], font=font), "image/png"),
    ]
    documents = ingest(client, owner.bearer, collection, files)
    assert [d["status"] for d in documents] == ["ready"] * 4, [d["error"] for d in documents]
    pdf, docx, txt, png = documents
    assert pdf["pages"] == 3 and pdf["progress"] == 1.0 and pdf["chunk_count"] >= 3
    assert png["ocr_pages"] == 1

    hit = search(client, owner.bearer, "Combien de jours de télétravail par semaine ?", k=3)[0]
    assert (hit["document_id"], hit["page"], hit["filename"]) == (pdf["id"], 3, "guide.pdf")
    assert "deux jours par semaine" in hit["text"] and hit["section"] == "Télétravail"
    assert search(client, owner.bearer, "Quand ferme la cantine ?", k=1)[0]["document_id"] == docx["id"]
    assert search(client, owner.bearer, "peinture du parking", k=1)[0]["document_id"] == txt["id"]
    assert search(client, owner.bearer, "exercice d'évacuation incendie", k=1)[0]["document_id"] == png["id"]
    listed = client.get(f"/api/collections/{collection}/documents", headers=owner.bearer).json()
    assert {d["filename"] for d in listed} == {"guide.pdf", "note.docx", "memo.txt", "affiche.png"}


def test_a_corrupt_file_fails_alone_with_a_french_message(client: TestClient, owner: Account) -> None:
    collection = create_collection(client, owner.bearer, "Lot")
    good, corrupt, empty = ingest(
        client,
        owner.bearer,
        collection,
        [
            ("bon.txt", "Les horaires d'ouverture de la mairie sont de neuf heures à midi.".encode(), "text/plain"),
            ("casse.pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer garbage", "application/pdf"),
            ("vide.txt", b"   ", "text/plain"),
        ],
    )
    assert good["status"] == "ready"
    assert corrupt["status"] == "failed" and "casse.pdf" in corrupt["error"]
    assert empty["status"] == "failed" and "vide" in empty["error"]
    assert search(client, owner.bearer, "horaires de la mairie", k=1)[0]["document_id"] == good["id"]


def test_same_bytes_twice_is_a_no_op(client: TestClient, owner: Account, app: FastAPI) -> None:
    collection = create_collection(client, owner.bearer, "Doublons")
    data = "La médiathèque prête dix livres par lecteur pour trois semaines.".encode()
    (first,) = ingest(client, owner.bearer, collection, [("a.txt", data, "text/plain")])
    version = client.get(f"/api/collections/{collection}", headers=owner.bearer).json()["version"]
    (again,) = upload(client, owner.bearer, collection, [("copie.txt", data, "text/plain")])
    assert again["duplicate"] is True and again["id"] == first["id"] and again["status"] == "ready"
    assert client.get(f"/api/collections/{collection}", headers=owner.bearer).json()["version"] == version
    assert len(client.get(f"/api/collections/{collection}/documents", headers=owner.bearer).json()) == 1
    assert _chunk_count(app, client, first["id"]) == first["chunk_count"]


def test_delete_removes_chunks_vectors_and_file(client: TestClient, owner: Account, app: FastAPI) -> None:
    collection = create_collection(client, owner.bearer, "Éphémère")
    keep, gone = ingest(
        client,
        owner.bearer,
        collection,
        [
            ("garde.txt", b"La piscine municipale ouvre ses bassins le samedi matin.", "text/plain"),
            ("jete.txt", "Le marché de Noël se tient sur la place de la cathédrale.".encode(), "text/plain"),
        ],
    )
    assert search(client, owner.bearer, "marché de Noël", k=1)[0]["document_id"] == gone["id"]
    stored = runtime_of(app).settings.data_dir / "uploads" / collection / gone["id"]
    assert stored.is_file()
    version = client.get(f"/api/collections/{collection}", headers=owner.bearer).json()["version"]

    assert client.delete(f"/api/documents/{gone['id']}", headers=owner.bearer).status_code == 204
    assert not stored.exists()
    assert _chunk_count(app, client, gone["id"]) == 0
    assert client.get(f"/api/collections/{collection}", headers=owner.bearer).json()["version"] == version + 1
    assert client.get(f"/api/documents/{gone['id']}", headers=owner.bearer).status_code == 404
    hits = search(client, owner.bearer, "marché de Noël cathédrale", k=5)
    assert {h["document_id"] for h in hits} == {keep["id"]}, "no vector of the deleted document remains"

    # A fresh replica (empty cache) rebuilds the index from the database: the deleted document stays gone.
    runtime = runtime_of(app)
    run(client, runtime.rag.drop(uuid.UUID(collection)))
    hits = search(client, owner.bearer, "marché de Noël cathédrale", k=5)
    assert {h["document_id"] for h in hits} == {keep["id"]}


def test_storage_quota_and_size_limit(rag_settings) -> None:  # type: ignore[no-untyped-def]
    from assistant.app import create_app
    from assistant.store.models import Role
    from tests.factories import make_account

    app = create_app(rag_settings(rag_storage_quota_bytes=1000, rag_max_document_bytes=1024))
    with TestClient(app, raise_server_exceptions=False) as client:
        account = make_account(client, app, "agent.quota", Role.AGENT)
        collection = create_collection(client, account.bearer, "Quota")
        small, big = upload(
            client,
            account.bearer,
            collection,
            [("petit.txt", b"Texte court " * 5, "text/plain"), ("gros.txt", b"x" * 1500, "text/plain")],
        )
        assert big["status"] == "failed" and "taille maximale" in big["error"]
        assert wait_ready(client, account.bearer, small["id"])["status"] == "ready"
        refused = client.post(
            f"/api/collections/{collection}/documents",
            files=[("files", ("encore.txt", b"Autre texte " * 80, "text/plain"))],
            headers=account.bearer,
        )
        assert refused.status_code == 413
        assert refused.json()["error"]["code"] == "storage_quota_exceeded"
        assert "Quota de stockage" in refused.json()["error"]["message"]


def test_openai_compatible_embedding_server(rag_settings, openai_upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    from assistant.app import create_app
    from assistant.store.models import Role
    from tests.factories import make_account

    settings = rag_settings(
        rag_embedder="openai",
        rag_embedding_url=openai_upstream.url,
        rag_embedding_model="fake-embedder",
        rag_embedding_dim=32,
        rag_embedding_passage_prefix="passage: ",
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        account = make_account(client, app, "agent.tei", Role.AGENT)
        collection = create_collection(client, account.bearer, "Distante")
        (document,) = ingest(
            client, account.bearer, collection, [("n.txt", b"Le gymnase ferme en juillet.", "text/plain")]
        )
        assert document["status"] == "ready", document["error"]
        sent = [r.body for r in openai_upstream.requests if r.path == "/v1/embeddings"]
        assert sent and sent[0] is not None and sent[0]["model"] == "fake-embedder"
        assert sent[0]["input"][0].startswith("passage: ")
        assert search(client, account.bearer, "gymnase", k=1)[0]["document_id"] == document["id"]
