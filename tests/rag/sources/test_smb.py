"""SMB specifics against the real smbd: shares, accounts, paths and the connection pool."""

from __future__ import annotations

import socket
import threading

import pytest

from rag.sources import SmbSource, errors
from tests.rag.sources.servers import PASSWORD, Share


async def test_a_missing_share_is_not_found(smb: Share) -> None:
    async with smb.make_source(share="inexistant") as source:
        with pytest.raises(errors.SourceNotFoundError, match="introuvable"):
            await source.list_files()


async def test_an_unknown_account_is_an_authentication_error(smb: Share) -> None:
    async with smb.make_source(username="MAIRIE\\inconnu") as source:
        with pytest.raises(errors.SourceAuthError, match="avec son domaine"):
            await source.list_files()


async def test_files_are_listed_without_entity_tag_and_with_precise_times(smb: Share) -> None:
    smb.write("a.pdf", b"x")
    stat = (smb.folder / "a.pdf").stat()
    async with smb.make_source() as source:
        (listed,) = await source.list_files()
    assert listed.etag is None
    # Sub-second precision: two saves within one second still differ for the planner.
    assert listed.modified.timestamp() == pytest.approx(stat.st_mtime_ns / 1e9, abs=1e-5)  # datetime keeps microseconds


async def test_a_backslash_never_reaches_the_server_as_a_separator(smb: Share) -> None:
    async with smb.make_source() as source:
        with pytest.raises(ValueError, match="source SMB"):
            await source.read("RH\\..\\..\\autre partage.pdf", max_bytes=10)


async def test_each_source_has_its_own_session(smb: Share) -> None:
    # The same server and account with a wrong password must not borrow the good source's session.
    smb.write("a.pdf", b"x")
    async with smb.make_source() as good, smb.make_source(password="faux") as bad:
        assert [f.path for f in await good.list_files()] == ["a.pdf"]
        with pytest.raises(errors.SourceAuthError):
            await bad.list_files()
        assert await good.read("a.pdf", max_bytes=10) == b"x"


async def test_the_source_reconnects_after_being_closed(smb: Share) -> None:
    smb.write("a.pdf", b"x")
    source = smb.make_source()
    assert await source.read("a.pdf", max_bytes=10) == b"x"
    await source.aclose()
    assert await source.read("a.pdf", max_bytes=10) == b"x"
    await source.aclose()


@pytest.mark.parametrize(
    ("server", "share"), [("", "docs"), ("serveur", ""), ("serveur\\x", "docs"), ("serveur", "docs/RH")]
)
def test_bad_server_or_share_names_are_refused(server: str, share: str) -> None:
    with pytest.raises(ValueError, match="Serveur ou partage SMB invalide"):
        SmbSource(server=server, share=share, username="u", password=PASSWORD)


def test_the_description_is_the_unc_path_without_credentials() -> None:
    source = SmbSource(server="fichiers", share="Services", root_path="RH/Procédures", username="u", password=PASSWORD)
    assert source.description == "\\\\fichiers\\Services\\RH\\Procédures"
    assert PASSWORD not in repr(source)


def _workers(port: int) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"msg_worker-127.0.0.1:{port}"]


async def test_failed_connections_leave_no_socket_or_thread_behind(smb: Share) -> None:
    # smbclient.register_session would keep both after a refused logon or a negotiation that timed out.
    async with smb.make_source(password="faux") as source:
        with pytest.raises(errors.SourceAuthError):
            await source.list_files()
        assert _workers(smb.server.port) == []
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        async with smb.make_source(port=port, timeout=1.0) as source:
            with pytest.raises(errors.SourceUnreachableError):
                await source.list_files()
            assert _workers(port) == []
