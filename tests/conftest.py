"""Fixtures shared by the whole suite: isolated environment, real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from argon2 import PasswordHasher

from assistant.security import passwords
from assistant.store import upgrade_database
from tests.databases import POSTGRES_ADMIN_DSN, create_database, drop_database, postgres_url_for
from tests.factories import make_settings

pytest_plugins = ["tests.fakes.pytest_plugin", "tests.fakes.speech_plugin"]


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's SOUVERAIN_* variables."""
    for name in list(os.environ):
        if name.startswith("SOUVERAIN_") and not name.startswith("SOUVERAIN_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its minimum cost inside the suite's own process.

    Production's cost (a tenth of a second of CPU per hash, on purpose) times the suite's thousands of accounts and
    sign-ins was minutes of the run; the code path is the same, and service processes the tests start keep the
    production cost.
    """
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a brand-new, empty PostgreSQL database, dropped after the test."""
    name = f"souverain_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(create_database(name))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is required on {POSTGRES_ADMIN_DSN} for this test ({exc}); `make test` starts it")
    try:
        yield postgres_url_for(name)
    finally:
        asyncio.run(drop_database(name))


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the head revision, migrated once per test process (each app start copies it).

    Migrating an empty file costs a quarter of a second and a thousand tests start an app; the migrations' own
    tests (tests/assistant/store) still start from empty files.
    """
    path = tmp_path_factory.mktemp("schema") / "head.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """Name of a PostgreSQL database at the head revision, migrated once per test process, used as a template."""
    name = f"souverain_schema_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(create_database(name))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is required on {POSTGRES_ADMIN_DSN} for this test ({exc}); `make test` starts it")
    try:
        upgrade_database(postgres_url_for(name))
        yield name
    finally:
        asyncio.run(drop_database(name))


@pytest.fixture
def migrated_postgres_url(migrated_postgres: str) -> Iterator[str]:
    """URL of a PostgreSQL database of this test's own, already at the head schema, dropped after the test."""
    name = f"souverain_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(create_database(name, template=migrated_postgres))
    try:
        yield postgres_url_for(name)
    finally:
        asyncio.run(drop_database(name))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a brand-new SQLite file."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def migrated_sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """URL of a SQLite file of this test's own, already at the head schema."""
    shutil.copyfile(migrated_sqlite, tmp_path / "test.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL, each a database of its own at the head schema.

    Start-up still runs the migrations (a no-op at head); the migrations' own tests use ``empty_database_url``.
    """
    fixture = "migrated_sqlite_url" if request.param == "sqlite" else "migrated_postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on an empty SQLite file and once on an empty PostgreSQL database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def settings_factory(tmp_path: Path, migrated_sqlite: Path):  # type: ignore[no-untyped-def]
    """Build settings isolated in this test's temporary directory (its SQLite file already at the head schema)."""

    def build(**overrides: object):  # type: ignore[no-untyped-def]
        overrides.setdefault("data_dir", tmp_path / "data")
        settings = make_settings(**overrides)
        database = settings.data_dir / "souverain.db"
        if settings.database_url is None and not database.exists():
            settings.ensure_data_dir()
            shutil.copyfile(migrated_sqlite, database)
        return settings

    return build
