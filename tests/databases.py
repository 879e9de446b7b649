"""Throw-away PostgreSQL databases for tests (one per test, so runs never collide)."""

from __future__ import annotations

import os

import asyncpg

POSTGRES_ADMIN_DSN = os.environ.get("SOUVERAIN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def create_database(name: str, *, template: str | None = None) -> None:
    """An empty database, or a copy of ``template`` (which nobody may be connected to)."""
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        copy = f' TEMPLATE "{template}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await connection.close()


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def postgres_url_for(name: str) -> str:
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"
