"""The same scenarios against a real WsgiDAV and a real smbd: listing, synchronisations, failures."""

from __future__ import annotations

import socket
import time
import traceback
from datetime import UTC, datetime

import pytest

from rag.sources import PathPatterns, errors
from tests.rag.sources.servers import PASSWORD, Share, WebDavServer, count_reads, free_port, synchronise

T0 = 1_741_944_600  # 2025-03-14 09:30 UTC, whole seconds (WsgiDAV's entity tags and dates have no fraction)
PATTERNS = PathPatterns(include=["**/*.pdf", "**/*.txt"], exclude=["archives/**"])


def _fill(share: Share) -> None:
    share.write("a.pdf", b"%PDF-1.4 A", mtime=T0)
    share.write("b.txt", b"to be deleted", mtime=T0)
    share.write("RH/Congés 2025.pdf", b"%PDF-1.4 conges", mtime=T0)
    share.write("RH/notes #1.txt", b"notes", mtime=T0)
    share.write("RH/tableau.ods", b"not included", mtime=T0)
    share.write("RH/~$Congés 2025.docx", b"office lock", mtime=T0)
    share.write("archives/2019/old.pdf", b"excluded folder", mtime=T0)
    share.write(".cache/x.pdf", b"hidden folder", mtime=T0)


async def test_listing_applies_the_patterns_and_reports_metadata(share: Share) -> None:
    _fill(share)
    async with share.make_source() as source:
        files = await source.list_files(PATTERNS)
        everything = await source.list_files()
    assert [f.path for f in files] == ["RH/Congés 2025.pdf", "RH/notes #1.txt", "a.pdf", "b.txt"]
    first = files[0]
    assert first.size == len(b"%PDF-1.4 conges")
    assert first.modified == datetime.fromtimestamp(T0, UTC)
    assert first.modified.tzinfo is not None
    assert (first.etag is not None) is (share.kind == "webdav")  # SMB has no entity tag
    # No patterns: everything but the default exclusions (hidden entries, Office lock files).
    assert {f.path for f in everything} == {
        "RH/Congés 2025.pdf",
        "RH/notes #1.txt",
        "RH/tableau.ods",
        "a.pdf",
        "archives/2019/old.pdf",
        "b.txt",
    }


async def test_add_change_delete_and_rename_between_synchronisations(share: Share) -> None:
    _fill(share)
    async with share.make_source() as source:
        reads = count_reads(source)
        plan, changes = await synchronise(source, {}, PATTERNS)
        assert [f.path for f in changes.added] == ["RH/Congés 2025.pdf", "RH/notes #1.txt", "a.pdf", "b.txt"]
        assert len(reads) == 4

        # Nothing moved on the share: nothing is read.
        reads.clear()
        plan, nothing = await synchronise(source, changes.state, PATTERNS)
        assert plan.is_empty and plan.unchanged == sorted(changes.state)
        assert reads == []
        assert nothing.state == changes.state

        share.write("a.pdf", b"%PDF-1.4 A, second edition", mtime=T0 + 60)  # edited
        share.write("RH/notes #1.txt", b"notes", mtime=T0 + 60)  # saved again, same bytes
        (share.folder / "b.txt").unlink()  # deleted
        (share.folder / "Procédures").mkdir()
        (share.folder / "RH/Congés 2025.pdf").rename(share.folder / "Procédures/Congés 2025.pdf")  # moved
        share.write("Procédures/nouveau.txt", b"new", mtime=T0 + 60)  # added
        share.write("archives/2020.pdf", b"excluded", mtime=T0 + 60)
        reads.clear()
        plan, after = await synchronise(source, changes.state, PATTERNS)
        assert [f.path for f in plan.to_fetch] == [
            "Procédures/Congés 2025.pdf",
            "Procédures/nouveau.txt",
            "RH/notes #1.txt",
            "a.pdf",
        ]
        assert sorted(reads) == sorted(f.path for f in plan.to_fetch)
        assert [f.path for f in after.added] == ["Procédures/nouveau.txt"]
        assert [f.path for f in after.updated] == ["a.pdf"]
        assert [(old.path, new) for old, new in after.renamed] == [("RH/Congés 2025.pdf", "Procédures/Congés 2025.pdf")]
        assert [f.path for f in after.removed] == ["b.txt"]
        assert [f.path for f in after.unchanged_after_fetch] == ["RH/notes #1.txt"]
        assert sorted(after.state) == [
            "Procédures/Congés 2025.pdf",
            "Procédures/nouveau.txt",
            "RH/notes #1.txt",
            "a.pdf",
        ]

        # Same size, new bytes: seen through the entity tag (WebDAV) or the modification time (SMB).
        share.write("a.pdf", b"%PDF-1.4 A, second EDITION", mtime=T0 + 120)
        reads.clear()
        plan, last = await synchronise(source, after.state, PATTERNS)
        assert reads == ["a.pdf"]
        assert [f.path for f in last.updated] == ["a.pdf"]
        assert await source.read("a.pdf", max_bytes=100) == b"%PDF-1.4 A, second EDITION"


async def test_a_synchronisation_without_change_downloads_nothing(webdav: Share) -> None:
    # Counted by the server itself: listing is PROPFIND only, and an unchanged share costs no GET.
    _fill(webdav)
    async with webdav.make_source() as source:
        _, changes = await synchronise(source, {}, PATTERNS)
        assert isinstance(webdav.server, WebDavServer)
        before = len(webdav.server.requests())
        plan, _ = await synchronise(source, changes.state, PATTERNS)
    assert plan.is_empty
    during = webdav.server.requests()[before:]
    assert during and all(line.startswith("PROPFIND ") for line in during), during
    # Folders the patterns exclude are not even listed.
    assert not any("archives" in line or ".cache" in line for line in during), during


async def test_wrong_password_is_an_authentication_error_that_never_shows_the_password(share: Share) -> None:
    share.write("a.pdf", b"x")
    async with share.make_source(password="pas le bon") as source:
        with pytest.raises(errors.SourceAuthError) as caught:
            await source.list_files()
    assert isinstance(caught.value, errors.SourceError)
    assert "refuse l'accès" in str(caught.value)
    # The real password is the one the server knows; neither it nor the one tried appears anywhere.
    dump = "".join(traceback.format_exception(caught.value))
    assert PASSWORD not in dump and "pas le bon" not in dump
    assert "pas le bon" not in repr(source)


async def test_a_missing_root_folder_is_not_found(share: Share) -> None:
    async with share.make_source(root_path="Dossier qui n'existe pas") as source:
        with pytest.raises(errors.SourceNotFoundError, match="introuvable"):
            await source.list_files()


async def test_a_closed_port_is_unreachable_at_once(share: Share) -> None:
    port = free_port()  # nothing listens there any more
    overrides = {"base_url": f"http://127.0.0.1:{port}/dav/"} if share.kind == "webdav" else {"port": port}
    started = time.monotonic()
    async with share.make_source(**overrides, timeout=2.0) as source:
        with pytest.raises(errors.SourceUnreachableError) as caught:
            await source.list_files()
    assert time.monotonic() - started < 2.0
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))


async def test_a_server_that_never_answers_times_out(share: Share) -> None:
    # The kernel completes the TCP handshake from the backlog, then nothing ever comes back.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        overrides = {"base_url": f"http://127.0.0.1:{port}/dav/"} if share.kind == "webdav" else {"port": port}
        started = time.monotonic()
        async with share.make_source(**overrides, timeout=1.0) as source:
            with pytest.raises(errors.SourceUnreachableError, match="ne répond pas"):
                await source.list_files()
        assert time.monotonic() - started < 4.0


async def test_reading_is_bounded_and_a_vanished_file_is_not_found(share: Share) -> None:
    share.write("gros.pdf", b"x" * 5000)
    share.write("parti.pdf", b"y")
    async with share.make_source() as source:
        files = {f.path: f for f in await source.list_files()}
        assert await source.read("gros.pdf", max_bytes=5000) == b"x" * 5000
        with pytest.raises(errors.SourceFileTooLargeError, match="taille maximale de 4999 octets"):
            await source.read("gros.pdf", max_bytes=4999)
        (share.folder / "parti.pdf").unlink()
        with pytest.raises(errors.SourceNotFoundError):
            await source.read(files["parti.pdf"].path, max_bytes=100)
        for bad in ("../secret.pdf", "/etc/passwd", "a//b", ""):
            with pytest.raises(ValueError, match="Chemin de fichier invalide"):
                await source.read(bad, max_bytes=100)


async def test_a_folder_removed_during_the_walk_is_an_empty_folder(share: Share) -> None:
    share.write("garde.pdf", b"k")
    share.write("vide/a.pdf", b"a")
    async with share.make_source() as source:
        original = source._list_folder

        async def list_then_remove(folder: str):  # type: ignore[no-untyped-def]
            entries = await original(folder)
            if folder == "":
                (share.folder / "vide/a.pdf").unlink()
                (share.folder / "vide").rmdir()
            return entries

        source._list_folder = list_then_remove  # type: ignore[method-assign]
        assert [f.path for f in await source.list_files()] == ["garde.pdf"]


async def test_the_number_of_files_is_capped(share: Share) -> None:
    for i in range(4):
        share.write(f"f{i}.txt", b"x")
    async with share.make_source() as source:
        assert len(await source.list_files(max_files=4)) == 4
        with pytest.raises(errors.SourceError, match="Plus de 3 fichiers"):
            await source.list_files(max_files=3)
