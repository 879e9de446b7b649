"""Collections as the documents page lists them: with their owner's name and how many documents they hold.

The access rules are those of :mod:`assistant.services.knowledge.collections` (this module only adds counts and names to
the collections a caller already sees); the page shows them without a request per collection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.knowledge.collections import CollectionView, get_collection, list_collections
from assistant.store import documents as document_store
from assistant.store import users as user_store
from assistant.store.models import DocumentStatus

__all__ = ["CollectionSummary", "summarise_collection", "summarise_collections"]


@dataclass(frozen=True)
class CollectionSummary:
    """A collection the caller sees, its owner's login name and its documents counted by status."""

    view: CollectionView
    owner_name: str
    documents: dict[DocumentStatus, int]

    @property
    def document_count(self) -> int:
        return sum(self.documents.values())


async def _summaries(runtime: Runtime, views: list[CollectionView]) -> list[CollectionSummary]:
    ids = [view.collection.id for view in views]
    owners = {view.collection.owner_id for view in views}
    async with runtime.session_factory() as session:
        counts = await document_store.count_by_collection(session=session, collection_ids=ids)
        names = await user_store.usernames_by_id(session=session, user_ids=owners)
    return [
        CollectionSummary(
            view=view,
            # An owner whose account was erased (RGPD) leaves no name behind.
            owner_name=names.get(view.collection.owner_id, "compte supprimé"),
            documents=counts.get(view.collection.id, {}),
        )
        for view in views
    ]


async def summarise_collections(runtime: Runtime, principal: Principal) -> list[CollectionSummary]:
    """Every collection the caller owns or was granted (every one for a référent), by name."""
    return await _summaries(runtime, await list_collections(runtime, principal))


async def summarise_collection(runtime: Runtime, principal: Principal, collection_id: uuid.UUID) -> CollectionSummary:
    """One collection the caller sees (404 otherwise)."""
    (summary,) = await _summaries(runtime, [await get_collection(runtime, principal, collection_id)])
    return summary
