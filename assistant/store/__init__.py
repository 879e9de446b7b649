"""Persistence: SQLAlchemy models, queries and migrations (SQLite embedded, PostgreSQL in production)."""

from assistant.store._base import Base, new_id, utcnow
from assistant.store._engine import create_engine, create_session_factory
from assistant.store._migrate import upgrade_database, upgrade_database_async

__all__ = [
    "Base",
    "create_engine",
    "create_session_factory",
    "new_id",
    "upgrade_database",
    "upgrade_database_async",
    "utcnow",
]
