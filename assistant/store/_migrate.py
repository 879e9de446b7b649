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


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration pointing at our migrations and at ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to call on every start (no-op when up to date)."""
    try:
        command.upgrade(alembic_config(database_url), revision)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"La migration de la base de données a échoué : {exc}") from exc


async def upgrade_database_async(database_url: str, revision: str = "head") -> None:
    """Same as :func:`upgrade_database`, from async code (Alembic runs its own event loop in a thread)."""
    await asyncio.to_thread(upgrade_database, database_url, revision)
