"""Keep one model server process alive for the service: start it, watch it, replace it, stop it.

The supervisor owns a listening socket on 127.0.0.1 (port chosen by the kernel) that each model server process
inherits, so the address stays the same across restarts. A monitor task:

- starts the process and waits for ``/health`` (the model is loaded) within ``startup_timeout``;
- probes ``/health`` every ``health_interval``; ``health_failures`` probes in a row without an answer within
  ``health_timeout`` mean the process hangs (deadlock, SIGSTOP, swapping): it is killed;
- when the process exits (crash, SIGSEGV, out-of-memory kill, killed above) it is started again after a backoff
  that doubles up to ``max_backoff`` and resets once a process stayed healthy for a minute.

Callers ask :meth:`wait_ready` before sending; the state and the last incident are in :meth:`status` for /readyz.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Literal

import httpx

from assistant.llm._server_spec import ServerSpec

__all__ = ["ModelServerSupervisor", "SupervisorState", "SupervisorStatus"]

logger = logging.getLogger(__name__)

SupervisorState = Literal["stopped", "starting", "ready", "restarting"]

_STABLE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class SupervisorStatus:
    """A snapshot for health reports."""

    state: SupervisorState
    pid: int | None
    restarts: int
    last_exit: str | None


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "inconnue"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"arrêt par {name}"
    return f"code de sortie {code}"


class ModelServerSupervisor:
    """One supervised model server process; see the module docstring."""

    def __init__(
        self,
        spec: ServerSpec,
        *,
        startup_timeout: float = 300.0,
        health_interval: float = 5.0,
        health_timeout: float = 5.0,
        health_failures: int = 3,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.spec = spec
        self._startup_timeout = startup_timeout
        self._health_interval = health_interval
        self._health_timeout = health_timeout
        self._health_failures = health_failures
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._socket: socket.socket | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._state: SupervisorState = "stopped"
        self._restarts = 0
        self._last_exit: str | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI API root of the supervised server; the port is fixed once :meth:`start` bound it."""
        if self._port is None:
            raise RuntimeError("supervisor not started")
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def started(self) -> bool:
        return self._monitor is not None

    def status(self) -> SupervisorStatus:
        pid = self._process.pid if self._process is not None and self._process.returncode is None else None
        return SupervisorStatus(state=self._state, pid=pid, restarts=self._restarts, last_exit=self._last_exit)

    async def start(self) -> None:
        """Bind the socket and start the monitor (which starts the process); returns at once."""
        if self._monitor is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.set_inheritable(True)
        self._socket = sock
        self._port = sock.getsockname()[1]
        self._state = "starting"
        self._monitor = asyncio.create_task(self._run(), name=f"model-server:{self.spec.model_id}")

    async def wait_ready(self, seconds: float) -> bool:
        """True once a process is healthy; False when it is not within ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._ready.wait()
        return self._ready.is_set()

    async def stop(self) -> None:
        """Stop the monitor and the process (SIGTERM, then SIGKILL after 5 s) and release the socket."""
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
        await self._terminate()
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._ready.clear()
        self._state = "stopped"

    async def _run(self) -> None:
        backoff = self._initial_backoff
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self._port}", timeout=self._health_timeout) as http:
            while True:
                started_at = time.monotonic()
                await self._spawn()
                if await self._until_healthy(http):
                    self._state = "ready"
                    self._ready.set()
                    logger.info("Model server %s ready (pid %s)", self.spec.model_id, self._pid())
                    await self._watch(http)
                self._ready.clear()
                self._state = "restarting"
                # A process that stopped answering may not handle SIGTERM either (SIGSTOP, deadlock): kill it.
                await self._terminate(force=True)
                self._restarts += 1
                if time.monotonic() - started_at > _STABLE_SECONDS:
                    backoff = self._initial_backoff
                logger.error(
                    "Model server %s stopped (%s); restart %d in %.1f s",
                    self.spec.model_id,
                    self._last_exit,
                    self._restarts,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(self._max_backoff, backoff * 2)

    def _pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def _spawn(self) -> None:
        assert self._socket is not None
        fd = self._socket.fileno()
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "assistant.model_server",
            "--spec",
            self.spec.model_dump_json(),
            "--fd",
            str(fd),
            "--exit-with-stdin",
            stdin=asyncio.subprocess.PIPE,
            pass_fds=(fd,),
        )

    async def _until_healthy(self, http: httpx.AsyncClient) -> bool:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._exited():
                return False
            if await self._probe(http):
                return True
            await asyncio.sleep(0.2)
        self._last_exit = f"pas prêt en {self._startup_timeout:g} s"
        return False

    async def _watch(self, http: httpx.AsyncClient) -> None:
        """Returns when the process exited or stopped answering."""
        assert self._process is not None
        failures = 0
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._health_interval):
                    await self._process.wait()
            if self._exited():
                return
            if await self._probe(http):
                failures = 0
                continue
            failures += 1
            if failures >= self._health_failures:
                self._last_exit = f"ne répondait plus ({failures} sondes sans réponse)"
                logger.error("Model server %s does not answer; killing it", self.spec.model_id)
                return

    def _exited(self) -> bool:
        process = self._process
        if process is None or process.returncode is None:
            return False
        self._last_exit = _describe_exit(process.returncode)
        return True

    async def _probe(self, http: httpx.AsyncClient) -> bool:
        try:
            response = await http.get("/health")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def _terminate(self, *, force: bool = False) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None and force:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(5):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if process.stdin is not None:
            process.stdin.close()
