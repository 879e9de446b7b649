"""Knowledge sources: keep a collection in sync with a shared drive (WebDAV such as Nextcloud, SMB/Samba).

Library only (no web imports, no database): the service stores the state between two synchronisations and
turns the changes into ingestions, moves and deletions. One synchronisation::

    async with WebDavSource(base_url=url, root_path="Procédures", username=user, password=secret) as source:
        listing = await source.list_files(PathPatterns(include=["**/*.pdf", "**/*.docx"], exclude=["archives/**"]))
        plan = plan_sync(known, listing)  # known: path -> KnownFile, from the previous run
        fetched = {f.path: hash_content(await source.read(f.path, max_bytes=limit)) for f in plan.to_fetch}
        changes = resolve_fetched(plan, fetched)
    # ingest changes.added / changes.updated, move changes.renamed, delete changes.removed, save changes.state
"""

from rag.sources import errors
from rag.sources._base import Source
from rag.sources._patterns import DEFAULT_EXCLUDE, PathPatterns
from rag.sources._smb import SmbSource
from rag.sources._sync import SyncChanges, SyncPlan, hash_content, plan_sync, resolve_fetched
from rag.sources._types import KnownFile, RemoteFile
from rag.sources._webdav import WebDavSource

__all__ = [
    "DEFAULT_EXCLUDE",
    "KnownFile",
    "PathPatterns",
    "RemoteFile",
    "SmbSource",
    "Source",
    "SyncChanges",
    "SyncPlan",
    "WebDavSource",
    "errors",
    "hash_content",
    "plan_sync",
    "resolve_fetched",
]
