"""Run the model server in this process: on an inherited listening socket (supervised) or on a host and port.

Supervised, the parent hands over a socket it keeps bound, so the address never changes across restarts and
connections made while the model reloads wait in the kernel's backlog instead of failing. The parent also keeps
our stdin open: when it goes away (even killed with SIGKILL) stdin reaches end-of-file and we exit, so a model
server never outlives its supervisor and holds no memory nobody can reach.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading

import uvicorn

from assistant.llm._server_spec import ServerSpec
from assistant.model_server._app import create_model_server_app

__all__ = ["serve_model"]

logger = logging.getLogger(__name__)


def _exit_when_stdin_closes() -> None:
    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve_model(
    spec: ServerSpec,
    *,
    fd: int | None = None,
    host: str = "127.0.0.1",
    port: int = 8001,
    exit_with_stdin: bool = False,
) -> None:
    """Serve ``spec`` until SIGTERM/SIGINT (or, with ``exit_with_stdin``, until the parent is gone)."""
    if exit_with_stdin:
        _exit_when_stdin_closes()
    config = uvicorn.Config(
        create_model_server_app(spec),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    if fd is None:
        server.run()
        return
    sock = socket.socket(fileno=fd)
    server.run(sockets=[sock])
