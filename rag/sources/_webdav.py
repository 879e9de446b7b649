"""WebDAV shares (Nextcloud, ownCloud, SharePoint's WebDAV, Apache mod_dav...) over httpx."""

from __future__ import annotations

import logging
import re
import ssl
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote, urlsplit

import httpx

from rag.sources._base import FolderEntry, Source, check_relative_path
from rag.sources.errors import (
    SourceAuthError,
    SourceError,
    SourceFileTooLargeError,
    SourceNotFoundError,
    SourceUnreachableError,
)

__all__ = ["WebDavSource"]

logger = logging.getLogger(__name__)

MAX_LISTING_BYTES = 64 * 1024 * 1024
"""Largest PROPFIND answer read for one folder (about 150,000 entries): a runaway server cannot exhaust memory."""

_DAV = "{DAV:}"
_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<d:propfind xmlns:d="DAV:"><d:prop>'
    b"<d:resourcetype/><d:getcontentlength/><d:getlastmodified/><d:getetag/>"
    b"</d:prop></d:propfind>"
)
# A multistatus never needs a DTD; refusing one keeps entity expansion (billion laughs) out of the parser.
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class WebDavSource(Source):
    """A folder of a WebDAV server, listed with ``PROPFIND Depth: 1`` folder by folder and read with ``GET``.

    ``base_url`` is the user's WebDAV root (Nextcloud: ``https://cloud.example.fr/remote.php/dav/files/<user>/``)
    and ``root_path`` the folder under it to synchronise. Basic authentication, as Nextcloud app passwords use.
    ``verify`` takes an ``ssl.SSLContext`` for a server signed by an internal authority. Proxy variables of the
    environment are ignored (a library is configured by its arguments only); ``transport`` is for tests.

    Example::

        source = WebDavSource(base_url="https://cloud.example.fr/remote.php/dav/files/rh/", root_path="Procédures",
                              username="rh", password=app_password, timeout=20)
    """

    def __init__(
        self,
        *,
        base_url: str,
        root_path: str = "",
        username: str,
        password: str,
        timeout: float = 30.0,
        verify: ssl.SSLContext | bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Adresse WebDAV invalide : {base_url!r} (attendu : https://serveur/chemin/).")
        if parts.username or parts.password:
            # Credentials in the URL would end up in every message that names the source.
            raise ValueError("L'adresse WebDAV ne doit pas contenir d'identifiants : passez username et password.")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        base_path = unquote(parts.path).rstrip("/")
        root = "/".join(p for p in root_path.replace("\\", "/").split("/") if p)
        # Decoded, with a trailing slash: hrefs are decoded before being compared with it.
        self._root = f"{base_path}/{root}/" if root else f"{base_path}/"
        self.description = self._origin + self._root
        self._timeout = timeout
        self._auth = httpx.BasicAuth(username, password)
        self._verify = verify
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"WebDavSource({self.description!r})"

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                follow_redirects=False,  # a redirect is a configuration to fix, reported as such
                trust_env=False,
                headers={"User-Agent": "Souverain (synchronisation de sources)"},
                auth=self._auth,
                verify=self._verify,
                transport=self._transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _url(self, path: str, *, folder: bool) -> str:
        encoded = quote(self._root + path, safe="/")
        return self._origin + (encoded.rstrip("/") + "/" if folder else encoded)

    async def _list_folder(self, folder: str) -> list[FolderEntry]:
        headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        async with self._request("PROPFIND", self._url(folder, folder=True), headers=headers, content=_PROPFIND) as r:
            if r.status_code == 404 and folder:
                logger.info("folder %s vanished from %s during the listing", folder, self.description)
                return []
            self._check_status(r, folder or None, expected=207)
            body = await _read_capped(r, MAX_LISTING_BYTES)
        if body is None:
            raise SourceError(
                f"Le dossier « {folder} » de {self.description} est trop grand pour être listé.",
                source=self.description,
            )
        return self._parse_multistatus(body, folder)

    async def read(self, path: str, *, max_bytes: int) -> bytes:
        async with self._request("GET", self._url(check_relative_path(path), folder=False)) as response:
            self._check_status(response, path, expected=200)
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise self._too_large(path, max_bytes)
            data = await _read_capped(response, max_bytes)
        if data is None:
            raise self._too_large(path, max_bytes)
        return data

    def _too_large(self, path: str, max_bytes: int) -> SourceFileTooLargeError:
        return SourceFileTooLargeError(
            f"Le fichier « {path} » de {self.description} dépasse la taille maximale de {max_bytes} octets.",
            source=self.description,
        )

    @asynccontextmanager
    async def _request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, content: bytes | None = None
    ) -> AsyncIterator[httpx.Response]:
        """One streamed request, with httpx's errors translated (the response body is read inside)."""
        try:
            request = self._http().build_request(method, url, headers=headers, content=content)
            response = await self._http().send(request, stream=True)
            try:
                yield response
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise SourceUnreachableError(
                f"Le serveur WebDAV {self.description} ne répond pas (délai de {self._timeout:g} s dépassé).",
                source=self.description,
            ) from exc
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise SourceError(
                    f"Le certificat TLS de {self.description} n'est pas reconnu : fournissez l'autorité de "
                    "certification qui l'a signé (paramètre verify).",
                    source=self.description,
                ) from exc
            raise SourceUnreachableError(
                f"Le serveur WebDAV {self.description} est injoignable.", source=self.description
            ) from exc
        except httpx.NetworkError as exc:
            raise SourceUnreachableError(
                f"La connexion au serveur WebDAV {self.description} a été interrompue.", source=self.description
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceError(
                f"Échange impossible avec le serveur WebDAV {self.description} : {type(exc).__name__}.",
                source=self.description,
            ) from exc

    def _check_status(self, response: httpx.Response, path: str | None, *, expected: int) -> None:
        status = response.status_code
        if status == expected:
            return
        where = f"« {path} » sur {self.description}" if path else self.description
        if status in (401, 403):
            raise SourceAuthError(
                f"Le serveur WebDAV refuse l'accès à {where} (erreur {status}) : vérifiez l'identifiant, le mot de "
                "passe (mot de passe d'application pour Nextcloud) et les droits du compte.",
                source=self.description,
            )
        if status == 404:
            raise SourceNotFoundError(f"Dossier ou fichier introuvable : {where}.", source=self.description)
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            raise SourceError(
                f"Le serveur WebDAV redirige {where} vers {location} : corrigez l'adresse de la source.",
                source=self.description,
            )
        if status in (200, 405, 501) and expected == 207:
            raise SourceError(
                f"{self.description} n'est pas un dossier WebDAV (réponse {status} à PROPFIND) : vérifiez l'adresse.",
                source=self.description,
            )
        raise SourceError(f"Le serveur WebDAV a répondu par une erreur {status} pour {where}.", source=self.description)

    def _parse_multistatus(self, body: bytes, folder: str) -> list[FolderEntry]:
        if _DTD.search(body):
            raise SourceError(f"Réponse WebDAV refusée (DTD) de {self.description}.", source=self.description)
        try:
            root = ET.fromstring(body)  # noqa: S314  # no DTD (checked above), so no entity expansion
        except ET.ParseError as exc:
            raise SourceError(f"Réponse WebDAV illisible de {self.description}.", source=self.description) from exc
        entries: list[FolderEntry] = []
        for response in root.iter(f"{_DAV}response"):
            path = self._relative_path(response.findtext(f"{_DAV}href") or "")
            props = _ok_props(response)
            if path is None or props is None:
                continue
            is_folder = props.find(f"{_DAV}resourcetype/{_DAV}collection") is not None
            if path == folder:
                if not is_folder:
                    raise SourceNotFoundError(
                        f"{self.description}{folder} n'est pas un dossier.", source=self.description
                    )
                continue  # Depth: 1 lists the folder itself first
            if is_folder:
                entries.append(FolderEntry(path, is_folder=True))
                continue
            entries.append(
                FolderEntry(
                    path,
                    is_folder=False,
                    size=_int(props.findtext(f"{_DAV}getcontentlength")),
                    modified=_http_date(props.findtext(f"{_DAV}getlastmodified")),
                    etag=(props.findtext(f"{_DAV}getetag") or "").strip() or None,
                )
            )
        return entries

    def _relative_path(self, href: str) -> str | None:
        """The root-relative path of an href (absolute URL or absolute path, percent-encoded), None if outside."""
        decoded = unquote(urlsplit(href.strip()).path)
        if not (decoded + "/").startswith(self._root):
            logger.warning("ignoring href %r outside of %s", href, self.description)
            return None
        return decoded[len(self._root) :].strip("/")


def _ok_props(response: ET.Element) -> ET.Element | None:
    """The ``prop`` element of the ``200`` propstat (properties a server lacks come in a ``404`` one)."""
    for propstat in response.iter(f"{_DAV}propstat"):
        status = propstat.findtext(f"{_DAV}status") or ""
        prop = propstat.find(f"{_DAV}prop")
        if prop is not None and " 200 " in f"{status} ":
            return prop
    return None


def _int(text: str | None) -> int:
    try:
        return max(int((text or "0").strip()), 0)
    except ValueError:
        return 0


def _http_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it passes ``limit`` bytes (decoded: a gzip bomb counts at its real size)."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
