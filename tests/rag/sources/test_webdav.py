"""WebDAV specifics: what servers other than WsgiDAV send (httpx.MockTransport), and the real server's edges."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import httpx
import pytest

from rag.sources import WebDavSource, errors
from tests.rag.sources.servers import PASSWORD, Share, WebDavServer

BASE = "https://cloud.example.fr/remote.php/dav/files/rh/"
ROOT = "/remote.php/dav/files/rh/Proc%C3%A9dures%20RH/"


def _response(href: str, *, folder: bool = False, props: str = "", status: str = "HTTP/1.1 200 OK") -> str:
    kind = "<d:resourcetype><d:collection/></d:resourcetype>" if folder else "<d:resourcetype/>"
    return (
        f"<d:response><d:href>{href}</d:href>"
        f"<d:propstat><d:prop>{kind}{props}</d:prop><d:status>{status}</d:status></d:propstat>"
        "<d:propstat><d:prop><d:getcontenttype/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>"
        "</d:response>"
    )


def _multistatus(*responses: str) -> bytes:
    return ('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">' + "".join(responses) + "</d:multistatus>").encode()


NEXTCLOUD_ROOT = _multistatus(
    _response(ROOT, folder=True),
    _response(
        ROOT + "Cong%C3%A9s%202025.pdf",
        props='<d:getcontentlength>1234</d:getcontentlength><d:getetag>"5f3c9a"</d:getetag>'
        "<d:getlastmodified>Fri, 14 Mar 2025 09:30:00 GMT</d:getlastmodified>",
    ),
    _response("https://cloud.example.fr" + ROOT + "Sous%20dossier/", folder=True),  # an absolute URL
    _response(ROOT + "sans-date.txt", props="<d:getcontentlength>3</d:getcontentlength>"),
    _response("/somewhere/else.pdf", props="<d:getcontentlength>3</d:getcontentlength>"),  # outside: ignored
)
SUBFOLDER = _multistatus(
    _response(ROOT + "Sous%20dossier/", folder=True),
    _response(
        ROOT + "Sous%20dossier/100%25%20%23%C3%A9t%C3%A9.odt", props="<d:getcontentlength>7</d:getcontentlength>"
    ),
)


def _source(handler, **overrides) -> WebDavSource:  # type: ignore[no-untyped-def]
    args = {
        "base_url": BASE,
        "root_path": "Procédures RH",
        "username": "rh",
        "password": PASSWORD,
        "transport": httpx.MockTransport(handler),
    }
    return WebDavSource(**(args | overrides))  # type: ignore[arg-type]


async def test_a_nextcloud_like_listing_is_walked_one_folder_at_a_time() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = SUBFOLDER if "Sous%20dossier" in request.url.raw_path.decode() else NEXTCLOUD_ROOT
        return httpx.Response(207, content=body)

    async with _source(handler) as source:
        files = await source.list_files()
    assert [(f.path, f.size, f.etag) for f in files] == [
        ("Congés 2025.pdf", 1234, '"5f3c9a"'),
        ("Sous dossier/100% #été.odt", 7, None),
        ("sans-date.txt", 3, None),
    ]
    assert files[0].modified == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    assert files[2].modified == datetime.fromtimestamp(0, UTC)  # no date: the size (and a tag if any) decide
    assert [r.method for r in seen] == ["PROPFIND", "PROPFIND"]
    assert {r.headers["Depth"] for r in seen} == {"1"}  # many servers refuse "infinity"
    assert seen[0].url.raw_path.decode() == ROOT
    assert seen[1].url.raw_path.decode() == ROOT + "Sous%20dossier/"
    assert seen[0].headers["Authorization"].startswith("Basic ")
    assert b"getetag" in seen[0].content and b"getlastmodified" in seen[0].content


async def test_reading_percent_encodes_the_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, content=b"contenu")

    async with _source(handler) as source:
        assert await source.read("Sous dossier/100% #été.odt", max_bytes=10) == b"contenu"
    assert seen == [ROOT + "Sous%20dossier/100%25%20%23%C3%A9t%C3%A9.odt"]


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (httpx.Response(401), errors.SourceAuthError, "erreur 401"),
        (httpx.Response(403), errors.SourceAuthError, "erreur 403"),
        (httpx.Response(404), errors.SourceNotFoundError, "introuvable"),
        (httpx.Response(500), errors.SourceError, "erreur 500"),
        (httpx.Response(200, text="<html>Bienvenue</html>"), errors.SourceError, "n'est pas un dossier WebDAV"),
        (httpx.Response(405), errors.SourceError, "n'est pas un dossier WebDAV"),
        (
            httpx.Response(301, headers={"Location": "https://cloud.example.fr/remote.php/webdav/"}),
            errors.SourceError,
            "redirige .* vers https://cloud.example.fr/remote.php/webdav/ : corrigez",
        ),
        (httpx.Response(207, content=b"<not xml"), errors.SourceError, "illisible"),
        (
            httpx.Response(207, content=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'),
            errors.SourceError,
            "DTD",
        ),
        (
            httpx.Response(
                207, content=_multistatus(_response(ROOT, props="<d:getcontentlength>1</d:getcontentlength>"))
            ),
            errors.SourceNotFoundError,
            "n'est pas un dossier",
        ),
    ],
)
async def test_unusable_answers_become_french_source_errors(
    response: httpx.Response, error: type[errors.SourceError], message: str
) -> None:
    async with _source(lambda request: response) as source:
        with pytest.raises(error, match=message) as caught:
            await source.list_files()
    assert type(caught.value) is error
    assert caught.value.source == "https://cloud.example.fr/remote.php/dav/files/rh/Procédures RH/"
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("exc", "error", "message"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), errors.SourceUnreachableError, "injoignable"),
        (httpx.ReadTimeout("timed out"), errors.SourceUnreachableError, "délai de 30 s dépassé"),
        (httpx.ReadError("reset"), errors.SourceUnreachableError, "interrompue"),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            errors.SourceError,
            "certificat TLS .*autorité de certification",
        ),
        (httpx.RemoteProtocolError("illegal header"), errors.SourceError, "RemoteProtocolError"),
    ],
)
async def test_transport_errors_are_translated_at_the_seam(
    exc: httpx.HTTPError, error: type[errors.SourceError], message: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    async with _source(handler) as source:
        with pytest.raises(error, match=message) as caught:
            await source.read("a.pdf", max_bytes=10)
    assert type(caught.value) is error and caught.value.__cause__ is exc


async def test_a_compressed_answer_counts_at_its_decompressed_size() -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 10_000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})

    async with _source(handler) as source:
        with pytest.raises(errors.SourceFileTooLargeError, match="1000000 octets"):
            await source.read("bombe.pdf", max_bytes=1_000_000)


async def test_a_declared_length_over_the_limit_is_refused_before_downloading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 2000)  # Content-Length: 2000

    async with _source(handler) as source:
        with pytest.raises(errors.SourceFileTooLargeError):
            await source.read("a.pdf", max_bytes=1999)
        assert await source.read("a.pdf", max_bytes=2000) == b"x" * 2000


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("https://rh:secret@cloud.example.fr/dav/", "ne doit pas contenir d'identifiants"),
        ("ftp://cloud.example.fr/dav/", "Adresse WebDAV invalide"),
        ("cloud.example.fr/dav", "Adresse WebDAV invalide"),
    ],
)
def test_bad_addresses_are_refused_without_echoing_credentials(base_url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        WebDavSource(base_url=base_url, username="rh", password=PASSWORD)
    assert "secret" not in str(caught.value)


async def test_proxy_variables_of_the_environment_are_ignored(webdav: Share, monkeypatch: pytest.MonkeyPatch) -> None:
    webdav.write("a.pdf", b"x")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: nothing answers there
    async with webdav.make_source() as source:
        assert [f.path for f in await source.list_files()] == ["a.pdf"]


async def test_the_source_reconnects_after_being_closed(webdav: Share) -> None:
    webdav.write("a.pdf", b"x")
    source = webdav.make_source()
    assert await source.read("a.pdf", max_bytes=10) == b"x"
    await source.aclose()
    assert await source.read("a.pdf", max_bytes=10) == b"x"
    await source.aclose()
    assert isinstance(webdav.server, WebDavServer)
    assert repr(source) == f"WebDavSource('{webdav.server.base_url}{webdav.folder.name}/')"
