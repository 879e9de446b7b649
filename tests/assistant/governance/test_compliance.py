"""The compliance report reads its evidence from the deployment, and shows failures."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from assistant.cli import app as cli
from assistant.core.config import Settings
from assistant.runtime import open_runtime


async def _tamper(settings: Settings) -> None:
    async with open_runtime(settings, with_worker=False) as runtime:
        await runtime.audit.record(category="audit", action="test.one")
        await runtime.audit.record(category="audit", action="test.two")
        async with runtime.engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER audit_events_no_update"))
            await connection.execute(text("UPDATE audit_events SET action = 'modifie' WHERE id = 1"))


def test_report_in_markdown_and_json_and_a_broken_chain_fails(settings_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = settings_factory()
    env = {"SOUVERAIN_DATA_DIR": str(settings.data_dir), "SOUVERAIN_LOG_LEVEL": "WARNING"}
    runner = CliRunner()
    markdown = runner.invoke(cli, ["compliance", "report"], env=env)
    assert markdown.exit_code == 0, markdown.output
    for requirement in ("Étiquetage", "Traçabilité", "Souveraineté", "RGPD", "Frugalité", "Accessibilité"):
        assert requirement in markdown.stdout
    assert "0 exigence(s) non conforme(s)" in markdown.stdout
    as_json = json.loads(runner.invoke(cli, ["compliance", "report", "--format", "json"], env=env).stdout)
    statuses = {check["requirement"]: check["status"] for check in as_json["checks"]}
    assert statuses["Traçabilité (journal d'audit chaîné)"] == "ok"
    assert statuses["Contrôle d'accès"] == "warning", "dev mode without OIDC is flagged"

    asyncio.run(_tamper(settings))
    broken = runner.invoke(cli, ["compliance", "report"], env=env)
    assert broken.exit_code == 3
    assert "❌ non conforme" in broken.stdout and "n° 1" in broken.stdout
