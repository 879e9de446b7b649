"""Fixtures of the source tests: one WsgiDAV and one smbd per test process, a fresh folder on them per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.rag.sources.servers import (
    SambaServer,
    ServerUnavailable,
    Share,
    WebDavServer,
    smb_share,
    webdav_share,
)


@pytest.fixture(scope="session")
def webdav_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDavServer]:
    server = WebDavServer(tmp_path_factory.mktemp("webdav"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def samba_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaServer]:
    try:
        server = SambaServer(tmp_path_factory.mktemp("samba"))
    except ServerUnavailable as exc:
        pytest.skip(f"Samba cannot run here: {exc}")
    try:
        yield server
    finally:
        server.stop()


def _folder() -> str:
    # A space and an accent in every root: percent-encoding and UNC paths are exercised by every test.
    return f"Dossier partagé {uuid.uuid4().hex[:8]}"


@pytest.fixture
def webdav(webdav_server: WebDavServer) -> Share:
    return webdav_share(webdav_server, _folder())


@pytest.fixture
def smb(samba_server: SambaServer) -> Share:
    return smb_share(samba_server, _folder())


@pytest.fixture(params=["webdav", "smb"])
def share(request: pytest.FixtureRequest) -> Share:
    """The same scenario on both protocols."""
    value: Share = request.getfixturevalue(request.param)
    return value
