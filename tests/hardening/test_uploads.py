"""Upload attacks on document upload and document tasks: each ends in a clear 4xx or a failed document.

Path-traversal names, decompression bombs dressed as DOCX/ODT, files over the size limit, lying MIME types and
malformed PDF/DOCX. Nothing may be written outside the upload directory, nothing may answer 5xx or hang.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.assistant.rag.helpers import create_collection, ingest, upload
from tests.factories import Account

_DOCX_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bomb_payload(megabytes: int) -> bytes:
    # One paragraph repeated: deflates about 1000:1, so a few hundred KB unpack to hundreds of MB.
    return b"<w:p><w:r><w:t>" + b"A" * (megabytes * 1024 * 1024) + b"</w:t></w:r></w:p>"


def _docx_bomb(megabytes: int = 400) -> bytes:
    return _zip({"[Content_Types].xml": _DOCX_TYPES.encode(), "word/document.xml": _bomb_payload(megabytes)})


def _odt_bomb(megabytes: int = 400) -> bytes:
    return _zip({"mimetype": ODT.encode(), "content.xml": _bomb_payload(megabytes)})


def _files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def collection(client: TestClient, alice: Account) -> str:
    return create_collection(client, alice.bearer, "Dépôt")


def test_path_traversal_names_stay_inside_the_upload_directory(
    client: TestClient, alice: Account, collection: str, tmp_path: Path
) -> None:
    before = _files_under(tmp_path)
    names = [
        "../../../../tmp/evil.md",
        "..\\..\\windows\\evil.md",
        "/etc/passwd.md",
        "sous/../../evil.md",
        "....//x.md",
    ]
    files = [
        (name, f"# Titre {index}\n\nContenu {index}.".encode(), "text/markdown") for index, name in enumerate(names)
    ]
    documents = ingest(client, alice.bearer, collection, files)
    assert [d["status"] for d in documents] == ["ready"] * len(names)
    # Only the base name is kept for display; no separator and no parent reference survives.
    assert all("/" not in d["filename"] and "\\" not in d["filename"] and d["filename"] != ".." for d in documents)
    created = _files_under(tmp_path) - before
    uploads = tmp_path / "data" / "uploads"
    assert len([p for p in created if p.is_relative_to(uploads)]) == len(names)
    assert all(p.is_relative_to(tmp_path / "data") for p in created)
    assert not Path("/tmp/evil.md").exists()


@pytest.mark.parametrize(("name", "build", "mime"), [("bombe.docx", _docx_bomb, DOCX), ("bombe.odt", _odt_bomb, ODT)])
def test_decompression_bombs_fail_cleanly(
    client: TestClient,
    alice: Account,
    collection: str,
    name: str,
    build,
    mime: str,  # type: ignore[no-untyped-def]
) -> None:
    payload = build()
    assert len(payload) < 2_000_000  # small on the wire, 400 MB once unpacked
    (document,) = ingest(client, alice.bearer, collection, [(name, payload, mime)])
    assert document["status"] == "failed" and document["error"]
    # The same file as a document task: a clear refusal, not a crash.
    response = client.post("/api/tasks/synthese", files={"file": (name, payload, mime)}, headers=alice.bearer)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["message"]


def test_files_over_the_size_limit_are_refused_without_being_stored(
    hardened_settings,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from assistant.app import create_app
    from assistant.store.models import Role
    from tests.factories import make_account

    app = create_app(hardened_settings(rag_max_document_bytes=4096, task_max_upload_bytes=4096))
    with TestClient(app, raise_server_exceptions=False) as client:
        account = make_account(client, app, "carol.agent", Role.AGENT)
        collection = create_collection(client, account.bearer, "Limites")
        (document,) = upload(client, account.bearer, collection, [("gros.txt", b"mot " * 10_000, "text/plain")])
        assert document["status"] == "failed" and "taille maximale" in document["error"]
        uploads = tmp_path / "data" / "uploads"
        assert not uploads.exists() or not _files_under(uploads)
        response = client.post(
            "/api/tasks/synthese", files={"file": ("gros.txt", b"mot " * 10_000, "text/plain")}, headers=account.bearer
        )
        assert response.status_code in (400, 413), response.text
        assert "octets" in response.json()["error"]["message"] or "volumineux" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("rapport.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage without xref", "application/pdf"),
        ("note.docx", b"PK\x03\x04 not really a zip archive", DOCX),
        ("note.docx", _zip({"word/other.xml": b"<x/>"}), DOCX),
        ("programme.pdf", b"MZ\x90\x00" + bytes(range(256)) * 8, "application/pdf"),
        ("image.png", b"%PDF-1.4 pretending to be an image", "image/png"),
        ("script.exe", b"MZ\x90\x00\x03", "application/x-msdownload"),
    ],
)
def test_malformed_or_mislabelled_files_fail_with_a_reason(
    client: TestClient, alice: Account, collection: str, name: str, data: bytes, mime: str
) -> None:
    (document,) = ingest(client, alice.bearer, collection, [(name, data, mime)])
    assert document["status"] == "failed" and document["error"], document
    assert "Traceback" not in document["error"]
    response = client.post("/api/tasks/synthese", files={"file": (name, data, mime)}, headers=alice.bearer)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["message"]
