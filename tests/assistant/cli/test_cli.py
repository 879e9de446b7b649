"""The ``assistant`` command line, driven with typer's CliRunner, and ``serve`` as a real process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from assistant import __version__
from assistant.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SOUVERAIN_DATA_DIR": str(tmp_path / "data"), "SOUVERAIN_LOG_FORMAT": "console"}


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_db_upgrade_creates_the_embedded_database(env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "souverain.db").exists()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0


def test_bad_database_url_is_one_line_naming_the_setting(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={**env, "SOUVERAIN_DATABASE_URL": "oracle://x/y"})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SOUVERAIN_DATABASE_URL" in lines[0] and "oracle" in lines[0]


def test_user_create_then_duplicate_is_refused(env: dict[str, str]) -> None:
    args = ["user", "create", "--username", "marie.curie", "--role", "referent", "--password-stdin"]
    created = runner.invoke(app, args, env=env, input="un-mot-de-passe-solide\n")
    assert created.exit_code == 0, created.output
    assert "marie.curie" in created.stdout and "referent" in created.stdout
    again = runner.invoke(app, args, env=env, input="un-mot-de-passe-solide\n")
    assert again.exit_code == 1
    assert "déjà pris" in again.stderr


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("marie", "court", "trop court"), ("-bad name", "un-mot-de-passe-solide", "Identifiant invalide")],
)
def test_user_create_rejects_bad_input(env: dict[str, str], username: str, password: str, message: str) -> None:
    args = ["user", "create", "--username", username, "--password-stdin"]
    result = runner.invoke(app, args, env=env, input=f"{password}\n")
    assert result.exit_code == 1
    assert message in result.stderr


def test_unknown_role_is_refused_by_the_parser(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["user", "create", "--username", "x1", "--role", "roi"], env=env)
    assert result.exit_code == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_healthz_and_stops_cleanly(tmp_path: Path, env: dict[str, str]) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            env={"PATH": "/usr/bin:/bin", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120  # imports alone take tens of seconds on a busy 2-core machine
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        # A first probe may time out while it hashes the speech weights; readiness must come within the minute.
        while (ready := httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)).status_code != 200:
            assert time.monotonic() < deadline + 60, ready.text
            time.sleep(0.5)
    finally:
        process.terminate()
        # uvicorn re-raises the signal after a graceful shutdown, so the status reports SIGTERM.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text()
