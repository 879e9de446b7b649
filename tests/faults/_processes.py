"""The service as it runs in production, in child processes: ``assistant serve`` (several server processes) and
``assistant worker``, configured through SOUVERAIN_* variables only, each writing its log to a file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "ROOT",
    "free_port",
    "service",
    "start_worker",
    "stop",
    "upstream_backends",
    "wait_until",
]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"{what or 'condition'} not met within {timeout:.0f} s")


def upstream_backends(url: str) -> list[dict[str, Any]]:
    """``llm_backends``: one sovereign model, ``vllm-model``, served by the fake upstream at ``url``."""
    return [
        {
            "name": "vllm",
            "kind": "openai",
            "sovereign": True,
            "options": {"base_url": url, "max_retries": 0},
            "models": [{"id": "vllm-model", "upstream_name": "fake-model", "card": {"name": "fake"}}],
        }
    ]


def environment(settings: dict[str, Any]) -> dict[str, str]:
    """The parent's environment without its SOUVERAIN_* variables, plus ``settings`` as SOUVERAIN_* variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOUVERAIN_")}
    env["PYTHONPATH"] = str(ROOT)
    env["SOUVERAIN_LOG_FORMAT"] = "console"
    for name, value in settings.items():
        text = value if isinstance(value, str) else str(value) if isinstance(value, Path) else json.dumps(value)
        env[f"SOUVERAIN_{name.upper()}"] = text
    return env


def _spawn(settings: dict[str, Any], args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", *args],
            env=environment(settings),
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # SIGKILL of the group reaches every server process
        )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    """Signal the process group and wait; SIGKILL after 20 s."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return process.wait(timeout=10)


def start_worker(settings: dict[str, Any], log: Path) -> subprocess.Popen[bytes]:
    """``assistant worker`` in its own process group."""
    return _spawn(settings, ["worker"], log)


@contextmanager
def service(settings: dict[str, Any], log: Path, *, workers: int = 2) -> Iterator[str]:
    """``assistant serve --workers N`` on a free port; yields its base URL once /healthz answers."""
    port = free_port()
    process = _spawn(settings, ["serve", "--port", str(port), "--workers", str(workers)], log)
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert process.poll() is None, f"the service exited with {process.returncode}:\n{log.read_text()}"
            with suppress(httpx.TransportError):
                return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            return False

        wait_until(up, timeout=120, interval=0.2, what="service start")  # imports are slow on a busy machine
        yield url
    finally:
        stop(process)
