"""``assistant user create --api-key``, ``user disable``, ``key create/revoke``, checked against the real API."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.app import create_app
from assistant.cli import app
from tests.factories import make_settings

runner = CliRunner()


def test_keys_from_the_cli_work_on_the_api_until_revoked_or_disabled(tmp_path: Path) -> None:
    env = {"SOUVERAIN_DATA_DIR": str(tmp_path / "data"), "SOUVERAIN_LOG_FORMAT": "console"}
    created = runner.invoke(
        app, ["user", "create", "--username", "ops", "--role", "referent", "--no-password", "--api-key"], env=env
    )
    assert created.exit_code == 0, created.output
    first_key = created.stdout.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert first_key.startswith("sk-souv-")
    second = runner.invoke(app, ["key", "create", "--username", "ops", "--scope", "chat"], env=env)
    assert second.exit_code == 0, second.output
    second_key = second.stdout.strip().splitlines()[-1]
    key_id = second.stdout.split()[1]

    api = create_app(make_settings(data_dir=tmp_path / "data"))
    with TestClient(api, raise_server_exceptions=False) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {first_key}"})
        assert me.status_code == 200 and me.json()["role"] == "referent"
        chat_only = client.get("/api/admin/users", headers={"Authorization": f"Bearer {second_key}"})
        assert chat_only.status_code == 403
    assert runner.invoke(app, ["key", "revoke", key_id], env=env).exit_code == 0
    assert runner.invoke(app, ["user", "disable", "--username", "ops"], env=env).exit_code == 0
    missing = runner.invoke(app, ["key", "create", "--username", "nobody"], env=env)
    assert missing.exit_code == 1 and "nobody" in missing.stderr

    with TestClient(create_app(make_settings(data_dir=tmp_path / "data")), raise_server_exceptions=False) as client:
        revoked = client.get("/api/me", headers={"Authorization": f"Bearer {second_key}"})
        assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "api_key_revoked"
        disabled = client.get("/api/me", headers={"Authorization": f"Bearer {first_key}"})
        assert disabled.status_code == 401 and disabled.json()["error"]["code"] == "account_disabled"
