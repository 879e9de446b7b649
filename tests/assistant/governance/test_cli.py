"""``assistant models list/withdraw/reinstate`` and ``assistant registry export``, checked against the API."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.app import create_app
from assistant.cli import app
from assistant.store.models import Role
from tests.factories import make_account, make_settings

runner = CliRunner()
MODEL = "smollm2-135m"  # the embedded model the suite runs (SOUVERAIN_EMBEDDED_MODEL below)


def test_models_commands_persist_decisions_that_the_api_enforces(tmp_path: Path) -> None:
    env = {
        "SOUVERAIN_DATA_DIR": str(tmp_path / "data"),
        "SOUVERAIN_LOG_FORMAT": "console",
        "SOUVERAIN_EMBEDDED_MODEL": MODEL,
    }
    listed = runner.invoke(app, ["models", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert MODEL in listed.stdout and "en service" in listed.stdout

    withdrawn = runner.invoke(app, ["models", "withdraw", MODEL, "--reason", "Réponses peu fiables."], env=env)
    assert withdrawn.exit_code == 0, withdrawn.output
    assert "retiré" in runner.invoke(app, ["models", "list"], env=env).stdout
    unknown = runner.invoke(app, ["models", "withdraw", "inconnu", "--reason", "x"], env=env)
    assert unknown.exit_code == 1 and "inconnu" in unknown.stderr

    api = create_app(make_settings(data_dir=tmp_path / "data"))
    with TestClient(api, raise_server_exceptions=False) as client:
        agent = make_account(client, api, "agent.a", Role.AGENT).bearer
        body = {"model": MODEL, "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 2}
        refused = client.post("/v1/chat/completions", json=body, headers=agent)
        assert refused.status_code == 410 and "Réponses peu fiables." in refused.json()["error"]["message"]

    assert runner.invoke(app, ["models", "reinstate", MODEL], env=env).exit_code == 0
    listed = runner.invoke(app, ["models", "list"], env=env).stdout
    assert "en service" in listed and "retiré" not in listed


def test_registry_export_in_each_format(tmp_path: Path) -> None:
    env = {
        "SOUVERAIN_DATA_DIR": str(tmp_path / "data"),
        "SOUVERAIN_LOG_FORMAT": "console",
        "SOUVERAIN_EMBEDDED_MODEL": MODEL,
    }
    as_json = runner.invoke(app, ["registry", "export", "--format", "json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert [row["identifiant"] for row in document["modeles"]] == [MODEL]
    assert len(document["usages"]) == 5

    target = tmp_path / "registre.csv"
    written = runner.invoke(app, ["registry", "export", "-f", "csv", "-o", str(target)], env=env)
    assert written.exit_code == 0 and str(target) in written.stdout
    assert target.read_text(encoding="utf-8").splitlines()[0].startswith("Type,Identifiant,Nom,Licence")

    markdown = runner.invoke(app, ["registry", "export"], env=env)
    assert markdown.exit_code == 0 and "# Registre des systèmes d'IA" in markdown.stdout and MODEL in markdown.stdout
    wrong = runner.invoke(app, ["registry", "export", "--format", "pdf"], env=env)
    assert wrong.exit_code == 2 and "pdf" in wrong.stderr
