"""The event log is a chain: concurrent appends stay linear, and any edit, deletion or reorder is detected."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from assistant.audit import ClientInfo
from assistant.cli import app as cli
from assistant.core.config import Settings
from assistant.runtime import Runtime, open_runtime


@pytest.fixture
def settings(settings_factory, database_url: str) -> Settings:  # type: ignore[no-untyped-def]
    return settings_factory(database_url=database_url)


async def _fill(runtime: Runtime, count: int) -> None:
    async def one(index: int) -> None:
        await runtime.audit.record(
            category="connection" if index % 2 else "audit",
            action="login.success" if index % 2 else "conversation.delete",
            actor_id=uuid.uuid4(),
            actor_label=f"agent{index}",
            resource_type="conversation",
            resource_id=str(index),
            client=ClientInfo(ip="10.1.2.3", user_agent="Firefox", request_id=f"r{index}"),
            details={"index": index, "note": "éàç"},
        )

    await asyncio.gather(*(one(index) for index in range(count)))


async def _execute(runtime: Runtime, *statements: str) -> None:
    async with runtime.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))


def _disable_guard(runtime: Runtime) -> list[str]:
    # What an attacker with database-owner rights could do; the chain must still tell.
    if runtime.engine.dialect.name == "postgresql":
        return ["ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"]
    return ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"]


async def test_concurrent_appends_make_one_valid_chain(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await _fill(runtime, 30)
        report = await runtime.audit.verify()
    assert report.ok and report.events == 30
    assert report.head_hash != "0" * 64


async def test_appends_from_two_processes_worth_of_runtimes_stay_linear(settings: Settings) -> None:
    # Two runtimes = two engines with separate locks, like two replicas sharing one database.
    async with (
        open_runtime(settings, with_worker=False) as first,
        open_runtime(settings, with_worker=False, migrate=False) as second,
    ):
        await asyncio.gather(_fill(first, 15), _fill(second, 15))
        report = await first.audit.verify()
    assert report.ok and report.events == 30


async def test_rows_cannot_be_updated_or_deleted_through_sql(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await _fill(runtime, 2)
        for statement in ("UPDATE audit_events SET outcome = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                await _execute(runtime, statement)


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE audit_events SET actor_label = 'quelqu''un' WHERE id = 4", "contenu modifié"),
        ("UPDATE audit_events SET details = '{\"index\": 99}' WHERE id = 5", "contenu modifié"),
        ("DELETE FROM audit_events WHERE id = 4", "maillon manquant"),
    ],
)
async def test_tampering_is_detected_at_the_right_event(settings: Settings, tamper: str, problem: str) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await _fill(runtime, 8)
        await _execute(runtime, *_disable_guard(runtime), tamper)
        report = await runtime.audit.verify()
    assert not report.ok
    assert report.first_bad_id in (4, 5)
    assert problem in str(report.problem)


async def test_reordering_is_detected(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await _fill(runtime, 6)
        # Swap the ids of events 2 and 3 (through a free id), keeping every row intact.
        await _execute(
            runtime,
            *_disable_guard(runtime),
            "UPDATE audit_events SET id = 1000 WHERE id = 2",
            "UPDATE audit_events SET id = 2 WHERE id = 3",
            "UPDATE audit_events SET id = 3 WHERE id = 1000",
        )
        report = await runtime.audit.verify()
    assert not report.ok and report.first_bad_id == 2


def test_cli_verify_reports_integrity_and_tampering(settings: Settings, tmp_path: Path) -> None:
    async def prepare(tamper: bool) -> None:
        async with open_runtime(settings, with_worker=False) as runtime:
            if not tamper:
                await _fill(runtime, 3)
                return
            await _execute(runtime, *_disable_guard(runtime), "UPDATE audit_events SET outcome = 'x' WHERE id = 2")

    env = {
        "SOUVERAIN_DATA_DIR": str(settings.data_dir),
        "SOUVERAIN_DATABASE_URL": settings.effective_database_url,
        "SOUVERAIN_LOG_LEVEL": "WARNING",
    }
    asyncio.run(prepare(tamper=False))
    ok = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "3 événements" in ok.stdout
    asyncio.run(prepare(tamper=True))
    broken = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert broken.exit_code == 3
    assert "n° 2" in broken.stderr
