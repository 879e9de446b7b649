"""Appending to and verifying the event log."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assistant.audit._anchor import ChainAnchor, CheckpointFileError
from assistant.audit._chain import ChainReport, chain_hash
from assistant.errors import StoreError
from assistant.store import audit as audit_store
from assistant.store import utcnow
from assistant.store.models import AuditEvent

__all__ = ["AuditLog", "ClientInfo"]

logger = logging.getLogger(__name__)

_APPEND_ATTEMPTS = 8


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, as recorded in the connection and audit logs."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


class AuditLog:
    """The process's handle on the log. Each append is its own transaction, so that a refused or failed action
    is still recorded even when the action's own transaction rolls back."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, anchor: ChainAnchor | None = None) -> None:
        self._sessions = session_factory
        # Signed checkpoints of the head outside the database: what makes a tail cut or a rewrite visible.
        self._anchor = anchor
        # Appends from one process queue here rather than colliding on the chain head in the database.
        self._lock = asyncio.Lock()

    async def record(
        self,
        *,
        category: str,
        action: str,
        outcome: str = "success",
        actor_id: uuid.UUID | None = None,
        actor_label: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        client: ClientInfo | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event and return it with its hash."""
        client = client or ClientInfo()
        async with self._lock:
            for attempt in range(1, _APPEND_ATTEMPTS + 1):
                event = AuditEvent(
                    category=category,
                    action=action,
                    outcome=outcome,
                    occurred_at=utcnow(),
                    actor_id=actor_id,
                    actor_label=actor_label,
                    resource_type=resource_type,
                    resource_id=resource_id,
                    ip=client.ip,
                    user_agent=(client.user_agent or None) and client.user_agent[:400],
                    request_id=client.request_id,
                    details=details or {},
                )
                try:
                    async with self._sessions.begin() as session:
                        await audit_store.lock_chain(session=session)
                        head = await audit_store.last_event(session=session)
                        event.prev_hash = head.hash if head else audit_store.GENESIS_HASH
                        event.hash = chain_hash(event.prev_hash, event)
                        await audit_store.add_event(session=session, event=event)
                    if self._anchor is not None:
                        # Still under the lock, so the checkpoints of this process follow the chain's order.
                        await asyncio.to_thread(self._anchor.after_append, event_id=event.id, hash_=event.hash)
                    return event
                except IntegrityError:
                    # Another process appended on the same head first; take the new head and retry.
                    logger.debug("audit append collided (attempt %d)", attempt)
                    await asyncio.sleep(0.01 * attempt)
        raise StoreError("Impossible d'écrire dans le journal d'audit (contention persistante).")

    async def verify(self) -> ChainReport:
        """Walk the whole chain: any edited, deleted, inserted or reordered event breaks it; with an anchor, any
        checkpointed event that is missing or whose hash changed (tail cut, truncation, recomputed rewrite)."""
        try:
            # Read before walking: every checkpoint then names an event committed before the walk starts.
            checkpoints = await asyncio.to_thread(self._anchor.read) if self._anchor is not None else []
        except CheckpointFileError as exc:
            return ChainReport(ok=False, events=0, head_hash="", problem=f"points d'ancrage altérés ({exc})")
        anchored = {checkpoint.event_id: checkpoint.hash for checkpoint in checkpoints}
        seen: dict[int, str] = {}
        expected_prev = audit_store.GENESIS_HASH
        count = 0
        async with self._sessions() as session:
            async for event in audit_store.iter_events(session=session):
                count += 1
                if event.id in anchored:
                    seen[event.id] = event.hash
                if event.prev_hash != expected_prev:
                    return ChainReport(
                        ok=False,
                        events=count,
                        head_hash=expected_prev,
                        first_bad_id=event.id,
                        problem="maillon manquant ou déplacé (prev_hash ne suit pas l'événement précédent)",
                    )
                if chain_hash(event.prev_hash, event) != event.hash:
                    return ChainReport(
                        ok=False,
                        events=count,
                        head_hash=expected_prev,
                        first_bad_id=event.id,
                        problem="contenu modifié (l'empreinte ne correspond plus)",
                    )
                expected_prev = event.hash
        for checkpoint in checkpoints:
            found = seen.get(checkpoint.event_id)
            if found is None:
                return ChainReport(
                    ok=False,
                    events=count,
                    head_hash=expected_prev,
                    first_bad_id=checkpoint.event_id,
                    checkpoints=len(checkpoints),
                    problem=f"événement ancré le {checkpoint.at} absent (journal tronqué ou coupé)",
                )
            if found != checkpoint.hash:
                return ChainReport(
                    ok=False,
                    events=count,
                    head_hash=expected_prev,
                    first_bad_id=checkpoint.event_id,
                    checkpoints=len(checkpoints),
                    problem=f"empreinte différente de celle ancrée le {checkpoint.at} (journal réécrit)",
                )
        return ChainReport(ok=True, events=count, head_hash=expected_prev, checkpoints=len(checkpoints))
