"""Tamper-evident event log: connections and audited actions, hash-chained, append-only."""

from assistant.audit._anchor import ChainAnchor, Checkpoint, CheckpointFileError
from assistant.audit._chain import ChainReport, canonical_event, chain_hash
from assistant.audit._log import AuditLog, ClientInfo

__all__ = [
    "AuditLog",
    "ChainAnchor",
    "ChainReport",
    "Checkpoint",
    "CheckpointFileError",
    "ClientInfo",
    "canonical_event",
    "chain_hash",
]
