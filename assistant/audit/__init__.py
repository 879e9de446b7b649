"""Tamper-evident event log: connections and audited actions, hash-chained, append-only."""

from assistant.audit._chain import ChainReport, canonical_event, chain_hash
from assistant.audit._log import AuditLog, ClientInfo

__all__ = ["AuditLog", "ChainReport", "ClientInfo", "canonical_event", "chain_hash"]
