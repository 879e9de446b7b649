"""Migrations apply on empty SQLite and PostgreSQL databases and describe exactly what the models declare."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from assistant.store import Base, create_engine, upgrade_database
from assistant.store._migrate import alembic_config


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


async def _inspect(url: str) -> tuple[set[str], str | None, list[object]]:
    engine = create_engine(url)

    def read(connection: Connection) -> tuple[set[str], str | None, list[object]]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        return set(inspect(connection).get_table_names()), context.get_current_revision(), diff

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def test_upgrade_creates_every_table_at_head_on_an_empty_database(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    tables, revision, diff = asyncio.run(_inspect(empty_database_url))
    assert {"users", "jobs", "alembic_version"} <= tables
    assert revision == _head(empty_database_url)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_upgrade_is_idempotent_and_downgrade_round_trips(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    upgrade_database(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "base")
    tables, revision, _ = asyncio.run(_inspect(empty_database_url))
    assert revision is None
    assert not {"users", "jobs"} & tables
    upgrade_database(empty_database_url)
    assert asyncio.run(_inspect(empty_database_url))[1] == _head(empty_database_url)
