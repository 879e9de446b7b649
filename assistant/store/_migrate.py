"""Apply Alembic migrations programmatically (at start-up and from ``assistant db upgrade``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import SQLAlchemyError

from assistant.errors import StoreError

__all__ = ["alembic_config", "upgrade_database", "upgrade_database_async"]

_MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(database_url: str, *, app_role: str | None = None) -> Config:
    """An Alembic configuration pointing at our migrations and at ``database_url``.

    ``app_role`` is the PostgreSQL role the service connects as; the roles migration grants it what it needs.
    """
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = database_url
    config.attributes["app_role"] = app_role
    return config


def upgrade_database(database_url: str, revision: str = "head", *, app_role: str | None = None) -> None:
    """Bring the schema to ``revision``; safe to call on every start (grants to ``app_role`` re-applied)."""
    try:
        command.upgrade(alembic_config(database_url, app_role=app_role), revision)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"La migration de la base de données a échoué : {exc}") from exc


async def upgrade_database_async(database_url: str, revision: str = "head", *, app_role: str | None = None) -> None:
    """Same as :func:`upgrade_database`, from async code (Alembic runs its own event loop in a thread)."""
    await asyncio.to_thread(upgrade_database, database_url, revision, app_role=app_role)
