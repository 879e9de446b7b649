"""SMB 2/3 shares (Windows file servers, Samba, NAS) through the pure-Python ``smbprotocol`` client."""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC
from typing import Any

import smbclient  # type: ignore[import-untyped]
from smbprotocol import exceptions as smb_errors  # type: ignore[import-untyped]
from smbprotocol.connection import Connection  # type: ignore[import-untyped]
from smbprotocol.session import Session  # type: ignore[import-untyped]
from spnego.exceptions import SpnegoError

from rag.sources._base import FolderEntry, Source, check_relative_path
from rag.sources.errors import (
    SourceAuthError,
    SourceError,
    SourceFileTooLargeError,
    SourceNotFoundError,
    SourceUnreachableError,
)

__all__ = ["SmbSource"]

logger = logging.getLogger(__name__)

# NTSTATUS codes (MS-ERREF 2.3.1) meaning "these credentials may not read this": some are absent from
# smbprotocol's NtStatus enum, hence the raw values.
_AUTH_STATUSES = frozenset(
    {
        0xC0000022,  # STATUS_ACCESS_DENIED
        0xC000006A,  # STATUS_WRONG_PASSWORD
        0xC000006D,  # STATUS_LOGON_FAILURE
        0xC000006E,  # STATUS_ACCOUNT_RESTRICTION
        0xC000006F,  # STATUS_INVALID_LOGON_HOURS
        0xC0000071,  # STATUS_PASSWORD_EXPIRED
        0xC0000072,  # STATUS_ACCOUNT_DISABLED
        0xC0000193,  # STATUS_ACCOUNT_EXPIRED
        0xC0000224,  # STATUS_PASSWORD_MUST_CHANGE
        0xC0000234,  # STATUS_ACCOUNT_LOCKED_OUT
    }
)
_BAD_NETWORK_NAME = 0xC00000CC  # the share does not exist
_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR})


class SmbSource(Source):
    """A folder of an SMB share, listed with ``scandir`` folder by folder and read with ``open_file``.

    smbprotocol is blocking, so every call runs in a worker thread (``asyncio.to_thread``). Each source keeps
    its own connection pool, so two sources on one server never share a session (nor its credentials).
    Files are opened with read, write and delete sharing: reading never locks a document a colleague is
    editing. SMB has no entity tag: ``RemoteFile.etag`` is ``None`` and the planner compares size and
    modification time. ``username`` may carry a domain (``"MAIRIE\\\\svc-souverain"``); ``encrypt=True``
    requires SMB 3 encryption.

    ``timeout`` bounds connecting and the protocol negotiation; smbprotocol has no per-request deadline, so a
    server that stops answering in the middle of an open session keeps a worker thread waiting on its socket.

    Example::

        source = SmbSource(server="fichiers.mairie.local", share="Services", root_path="RH/Procédures",
                           username="MAIRIE\\\\svc-souverain", password=secret)
    """

    def __init__(
        self,
        *,
        server: str,
        share: str,
        root_path: str = "",
        username: str,
        password: str,
        port: int = 445,
        timeout: float = 30.0,
        encrypt: bool | None = None,
    ) -> None:
        share = share.strip("\\/")
        if not server or any(c in server for c in "\\/") or not share or any(c in share for c in "\\/"):
            raise ValueError(f"Serveur ou partage SMB invalide : {server!r}, {share!r} (attendu : serveur, Partage).")
        root = "\\".join(p for p in root_path.replace("\\", "/").split("/") if p)
        self._root = f"\\\\{server}\\{share}" + (f"\\{root}" if root else "")
        self.description = self._root
        self._timeout = timeout
        self._cache: dict[str, Any] = {}
        # Passed to every smbclient call: it finds our session in our pool (and reopens one the server dropped).
        self._session_args: dict[str, Any] = {
            "username": username,
            "password": password,
            "port": port,
            "encrypt": encrypt,
            "connection_timeout": timeout,
            "connection_cache": self._cache,
        }
        self._server = server
        self._connect_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SmbSource({self.description!r})"

    async def _list_folder(self, folder: str) -> list[FolderEntry]:
        return await asyncio.to_thread(self._scan, folder)

    async def read(self, path: str, *, max_bytes: int) -> bytes:
        return await asyncio.to_thread(self._read, check_relative_path(path), max_bytes)

    async def aclose(self) -> None:
        if self._cache:
            await asyncio.to_thread(smbclient.reset_connection_cache, fail_on_error=False, connection_cache=self._cache)

    def _unc(self, path: str) -> str:
        return self._root + ("\\" + path.replace("/", "\\") if path else "")

    def _connect(self) -> None:
        """Open the connection and the session into our pool, where every smbclient call then finds them.

        ``smbclient.register_session`` does the same but leaves the socket and its reader thread open when the
        negotiation times out or the logon fails; here a failed attempt is closed before the error goes up.
        Under a lock: two threads both finding the pool empty would each open a connection, and the one the pool
        forgets would never be closed.
        """
        with self._connect_lock:
            key = f"{self._server.lower()}:{self._session_args['port']}"
            cached = self._cache.get(key)
            if cached is not None and cached.transport.connected:
                return
            self._cache.pop(key, None)
            connection = Connection(
                smbclient.ClientConfig().client_guid, self._server, self._session_args["port"], require_signing=True
            )
            try:
                connection.connect(timeout=self._timeout)
                Session(
                    connection,
                    username=self._session_args["username"],
                    password=self._session_args["password"],
                    require_encryption=self._session_args["encrypt"] is True,
                ).connect()
            except BaseException:
                with suppress(Exception):
                    connection.disconnect()
                raise
            self._cache[key] = connection

    def _scan(self, folder: str) -> list[FolderEntry]:
        entries: list[FolderEntry] = []
        with self._errors(folder or None):
            self._connect()
            try:
                with smbclient.scandir(self._unc(folder), **self._session_args) as listing:
                    for entry in listing:
                        path = f"{folder}/{entry.name}" if folder else entry.name
                        if entry.is_dir():
                            entries.append(FolderEntry(path, is_folder=True))
                        elif entry.is_file():
                            info = entry.smb_info
                            modified = info.last_write_time.astimezone(UTC)
                            entries.append(FolderEntry(path, is_folder=False, size=info.end_of_file, modified=modified))
            except smb_errors.SMBOSError as exc:
                if not folder or exc.errno not in _MISSING_ERRNOS:
                    raise
                logger.info("folder %s vanished from %s during the listing", folder, self.description)
                return []
        return entries

    def _read(self, path: str, max_bytes: int) -> bytes:
        if "\\" in path:  # a separator on SMB: it would read another file than the one listed
            raise ValueError(f"Chemin de fichier invalide pour une source SMB : {path!r}.")
        with self._errors(path):
            self._connect()
            with smbclient.open_file(self._unc(path), mode="rb", share_access="rwd", **self._session_args) as file:
                data: bytes = file.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise SourceFileTooLargeError(
                f"Le fichier « {path} » de {self.description} dépasse la taille maximale de {max_bytes} octets.",
                source=self.description,
            )
        return data

    @contextmanager
    def _errors(self, path: str | None) -> Iterator[None]:
        """smbprotocol's errors as ours; its messages name paths, never the password, but we write our own."""
        where = f"« {path} » sur {self.description}" if path else self.description
        try:
            yield
        except SourceError:
            raise
        except smb_errors.SMBOSError as exc:
            raise self._status_error(exc.ntstatus, where, missing=exc.errno in _MISSING_ERRNOS) from exc
        except smb_errors.SMBResponseException as exc:
            raise self._status_error(exc.status, where, missing=False) from exc
        except (smb_errors.SMBAuthenticationError, SpnegoError) as exc:
            raise self._auth_error(where) from exc
        except TimeoutError as exc:
            raise self._unreachable() from exc
        except (smb_errors.SMBConnectionClosed, ConnectionError) as exc:
            raise SourceUnreachableError(
                f"La connexion au serveur SMB {self.description} a été interrompue.", source=self.description
            ) from exc
        except smb_errors.SMBException as exc:
            # The negotiation's deadline is a bare SMBException ("Connection timeout of ... exceeded").
            if "timeout" in str(exc).lower():
                raise self._unreachable() from exc
            raise SourceError(f"Échange impossible avec le serveur SMB {where}.", source=self.description) from exc
        except ValueError as exc:
            if str(exc).startswith("Failed to connect"):  # smbprotocol wraps the socket's OSError so
                raise SourceUnreachableError(
                    f"Le serveur SMB {self.description} est injoignable.", source=self.description
                ) from exc
            raise

    def _status_error(self, status: int, where: str, *, missing: bool) -> SourceError:
        if status in _AUTH_STATUSES:
            return self._auth_error(where)
        if missing or status == _BAD_NETWORK_NAME:
            return SourceNotFoundError(f"Partage, dossier ou fichier introuvable : {where}.", source=self.description)
        return SourceError(
            f"Le serveur SMB a répondu par l'erreur 0x{status:08x} pour {where}.", source=self.description
        )

    def _auth_error(self, where: str) -> SourceAuthError:
        return SourceAuthError(
            f"Le serveur SMB refuse l'accès à {where} : vérifiez l'identifiant (avec son domaine), le mot de passe "
            "et les droits du compte sur le partage.",
            source=self.description,
        )

    def _unreachable(self) -> SourceUnreachableError:
        return SourceUnreachableError(
            f"Le serveur SMB {self.description} ne répond pas (délai de {self._timeout:g} s dépassé).",
            source=self.description,
        )
