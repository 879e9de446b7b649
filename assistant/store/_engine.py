"""Database engine and session factory (async SQLAlchemy), for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

__all__ = ["create_engine", "create_session_factory"]


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the in-process worker write while requests read; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    # SQLite's own lower() folds ASCII only: « CONGÉS » would not find « congés ». Case-insensitive searches
    # (``icontains``) compare lower() of both sides, so Python's Unicode lowering replaces it, as on PostgreSQL.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An engine for ``url`` with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    # Pre-ping costs one local round trip per checkout, but without it every connection pooled before a
    # PostgreSQL restart or failover fails one request (in each API process) before being replaced.
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_recycle=900,
        pool_timeout=10,
        pool_pre_ping=True,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (responses are built after the unit of work)."""
    return async_sessionmaker(engine, expire_on_commit=False)
