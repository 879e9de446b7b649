"""M3: the audit chain is anchored outside the database and the service's role cannot rewrite it.

Before the fix the service's role owned ``audit_events``: it could TRUNCATE it or drop its trigger and rewrite it
with recomputed hashes, or cut its tail, and ``verify`` still said intact. Now migrations (as the schema owner)
grant the application role INSERT/SELECT only on the log, and signed checkpoints of the head, kept in a file
outside the database, make a tail cut, a truncation or a recomputed rewrite visible to ``verify``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from assistant.audit import AuditLog
from assistant.cli import app as cli
from assistant.core.config import Settings
from assistant.runtime import Runtime, open_runtime
from assistant.store import create_engine, create_session_factory, upgrade_database
from tests.databases import POSTGRES_ADMIN_DSN


def _as_role(url: str, role: str) -> str:
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
def app_role(postgres_url: str) -> Iterator[str]:
    """A login role for the service, dropped (with its privileges in the test database) after the test."""
    role = f"souverain_app_{uuid.uuid4().hex[:10]}"

    async def admin(dsn: str, statement: str) -> None:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(POSTGRES_ADMIN_DSN, f"CREATE ROLE {role} LOGIN"))
    try:
        yield role
    finally:
        asyncio.run(admin(_asyncpg_dsn(postgres_url), f"DROP OWNED BY {role}"))
        asyncio.run(admin(POSTGRES_ADMIN_DSN, f"DROP ROLE {role}"))


async def _fill(audit: AuditLog, count: int, label: str = "agent") -> None:
    for index in range(count):
        await audit.record(category="audit", action="collection.read", actor_label=f"{label}{index}")


async def _as_owner(runtime: Runtime, *statements: str) -> None:
    # What an intruder with the schema owner's (or the old, owning service role's) rights could do.
    async with runtime.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))


@pytest.mark.parametrize(
    "attack",
    [
        "TRUNCATE audit_events",
        "UPDATE audit_events SET outcome = 'x'",
        "DELETE FROM audit_events",
        "DROP TRIGGER audit_events_append_only ON audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        "DROP TABLE audit_events",
        "UPDATE alembic_version SET version_num = '0001'",
    ],
)
def test_app_role_cannot_rewrite_the_audit_log(postgres_url: str, app_role: str, attack: str) -> None:
    upgrade_database(postgres_url, app_role=app_role)

    async def scenario() -> None:
        engine = create_engine(_as_role(postgres_url, app_role), pool_size=1)
        try:
            # The service still appends and reads the log, and writes its other tables.
            audit = AuditLog(create_session_factory(engine))
            await _fill(audit, 2)
            assert (await audit.verify()).ok
            async with engine.begin() as connection:
                await connection.execute(text("DELETE FROM users WHERE username = 'personne'"))
            connection_ = await asyncpg.connect(_asyncpg_dsn(_as_role(postgres_url, app_role)), timeout=5)
            try:
                with pytest.raises((asyncpg.InsufficientPrivilegeError, asyncpg.exceptions.InsufficientPrivilegeError)):
                    await connection_.execute(attack)
                assert await connection_.fetchval("SELECT count(*) FROM audit_events") == 2
            finally:
                await connection_.close()
        finally:
            await engine.dispose()

    asyncio.run(scenario())


async def test_service_runs_as_app_role_migrating_as_owner(settings_factory, postgres_url: str, app_role: str) -> None:  # type: ignore[no-untyped-def]
    settings = settings_factory(
        database_url=_as_role(postgres_url, app_role), database_migration_url=postgres_url, database_app_role=app_role
    )
    async with open_runtime(settings, with_worker=False) as runtime:
        await _fill(runtime.audit, 3)
        report = await runtime.audit.verify()
    assert report.ok and report.events == 3 and report.checkpoints == 3


def test_migrating_as_the_app_role_itself_is_refused(postgres_url: str) -> None:
    with pytest.raises(Exception, match="DATABASE_APP_ROLE"):
        upgrade_database(postgres_url, app_role="postgres")


@pytest.fixture
def settings(settings_factory, database_url: str) -> Settings:  # type: ignore[no-untyped-def]
    return settings_factory(database_url=database_url)


def _unguard(runtime: Runtime) -> list[str]:
    if runtime.engine.dialect.name == "postgresql":
        return ["ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"]
    return ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"]


async def test_tail_cut_is_detected_against_the_checkpoints(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await _fill(runtime.audit, 6)
        assert (await runtime.audit.verify()).checkpoints == 6
        # Cutting the last events leaves a chain that is perfectly linked from genesis to its new head.
        await _as_owner(runtime, *_unguard(runtime), "DELETE FROM audit_events WHERE id > 4")
        report = await runtime.audit.verify()
    assert not report.ok
    assert report.first_bad_id == 5
    assert "absent" in str(report.problem)


async def test_truncation_is_detected_against_the_checkpoints(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await _fill(runtime.audit, 3)
        await _as_owner(runtime, *_unguard(runtime), "DELETE FROM audit_events")
        report = await runtime.audit.verify()
    assert not report.ok and report.events == 0 and report.first_bad_id == 1


async def test_rewrite_with_recomputed_hashes_is_detected(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await _fill(runtime.audit, 4)
        await _as_owner(runtime, *_unguard(runtime), "DELETE FROM audit_events")
        # The intruder rebuilds a valid chain of their own (no access to the anchor's file or key).
        await _fill(AuditLog(runtime.session_factory), 4, label="faussaire")
        report = await runtime.audit.verify()
    assert not report.ok
    assert report.first_bad_id == 1
    assert "absent" in str(report.problem) or "réécrit" in str(report.problem)


async def test_forged_checkpoint_is_detected(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await _fill(runtime.audit, 2)
        checkpoints = settings.data_dir / "audit-checkpoints.jsonl"
        lines = checkpoints.read_text(encoding="ascii").splitlines()
        checkpoints.write_text(lines[0].replace('"event_id":1', '"event_id":2') + "\n", encoding="ascii")
        report = await runtime.audit.verify()
    assert not report.ok and "signature invalide" in str(report.problem)


def test_cli_verify_reports_a_tail_cut(settings: Settings, tmp_path: Path) -> None:
    async def prepare() -> None:
        async with open_runtime(settings, with_worker=False) as runtime:
            await _fill(runtime.audit, 3)
            await _as_owner(runtime, *_unguard(runtime), "DELETE FROM audit_events WHERE id = 3")

    asyncio.run(prepare())
    env = {
        "SOUVERAIN_DATA_DIR": str(settings.data_dir),
        "SOUVERAIN_DATABASE_URL": settings.effective_database_url,
        "SOUVERAIN_LOG_LEVEL": "WARNING",
    }
    result = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert result.exit_code == 3
    assert "n° 3" in result.stderr and "tronqué" in result.stderr
