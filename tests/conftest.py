"""Fixtures shared by the whole suite: isolated environment, real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.databases import POSTGRES_ADMIN_DSN, create_database, drop_database, postgres_url_for
from tests.factories import make_settings

pytest_plugins = ["tests.fakes.pytest_plugin", "tests.fakes.speech_plugin"]


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's SOUVERAIN_* variables."""
    for name in list(os.environ):
        if name.startswith("SOUVERAIN_") and not name.startswith("SOUVERAIN_TEST_"):
            monkeypatch.delenv(name)


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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a brand-new SQLite file."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL, each on an empty database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def settings_factory(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build settings isolated in this test's temporary directory."""

    def build(**overrides: object):  # type: ignore[no-untyped-def]
        overrides.setdefault("data_dir", tmp_path / "data")
        return make_settings(**overrides)

    return build
