"""Alembic environment: async engine, our metadata, a lock so that replicas starting together migrate once."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from assistant.store import models  # noqa: F401  (registers the tables)
from assistant.store._base import Base, UTCDateTime
from assistant.store._engine import create_engine
from assistant.store._roles import grant_app_role

# Arbitrary constant shared by every replica: PostgreSQL advisory lock serialising migrations.
_MIGRATION_LOCK_KEY = 7_420_001


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Our UTCDateTime is a Python-side decorator; migrations should only see the portable column type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    with context.begin_transaction():
        context.run_migrations()
        app_role = context.config.attributes.get("app_role")
        if app_role:
            # Idempotent: also covers a role configured after the roles migration ran.
            grant_app_role(connection, app_role)


async def _run_online(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    url = context.config.attributes.get("database_url") or context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url))


main()
