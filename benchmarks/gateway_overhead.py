"""What the gateway costs: streamed throughput and time to first token, direct vs. Souverain vs. LiteLLM.

One fake vLLM-protocol upstream (tests/fakes/openai_upstream.py, in its own process, paced like a real model
server) is measured in the same run:

- ``direct``    an SSE client straight to the upstream (the reference);
- ``souverain`` through ``assistant serve``, with an API key, in the set-ups below;
- ``litellm``   through LiteLLM's proxy, the peer most users would pick, installed into a benchmark-only venv
                (``.build/bench-litellm``, ``pip install 'litellm[proxy]'``) and pointed at the same upstream;
- ``direct#2``  the direct run again at the end: the noise floor of the machine (on 2 cores the load generator
                itself competes with the servers).

Each path runs at 16 and 64 concurrent streams for a fixed duration, for each set-up and each decode speed asked
(``--tokens-per-second 20 40``):

- ``sqlite``      the default of ``make run``: one server process, SQLite, counters in the database;
- ``production``  PostgreSQL + Redis counters, ``--workers N`` server processes (LiteLLM gets as many).

The table gives streamed tokens/s, the ratio to ``direct`` at the same concurrency, TTFT p50/p99 and the TTFT
overhead (p50 through the gateway minus p50 direct, same set-up, speed and concurrency, same run). The last lines
are the worst case over the set-ups and speeds run: ``ratio: X`` (Souverain's ratio at 64 streams, target ≥ 0.95),
``ttft overhead 16: X ms`` and ``ttft overhead 64: X ms`` (targets ≤ 10 and ≤ 60 ms). Everything listens on
127.0.0.1 and stops by itself.

Usage: ``python benchmarks/gateway_overhead.py [--quick] [--setups sqlite production] [--workers 2]
[--tokens-per-second 20 40] [--seconds 20] [--no-litellm] [--install-litellm] [--profile FILE]``. LiteLLM's venv
is not created unless asked (``--install-litellm``, network needed); without it the script prints the command and
measures the other paths. ``--profile`` runs one Souverain process under cProfile (CPU time, so that a busy
machine does not blame whatever was preempted) and prints where it spent its time.

Figures. Quiet machine, before issue #5's work: ratio 0.87 at 64 streams (LiteLLM 0.77), TTFT p50 129 ms vs
7 ms direct. The profile then showed, per streamed token: the upstream's display URL re-parsed (35 µs), four
pydantic models built and dumped (14 µs); per request: the API-key check (a transaction of three queries) and the
usage record and quota count written before the last event. After (API-key cache, writes after the answer, text
events written directly, URL computed once), 2026-11-23, ``--seconds 15 --no-litellm``, 2 server processes, on
the 2-core machine shared with other engineers' test runs, before (cf56184) and after, run back to back:

| load average | before: ratio 16 / 64, TTFT p50 64 | after: ratio 16 / 64, TTFT p50 64 |
|---|---|---|
| 15-19 (3 pairs, medians) | 0.54 / 0.37, 9.2 s | 0.59 / 0.56, 7.6 s |
| 3-4 (1 pair) | 0.85 / 0.83, 0.51 s | 0.85 / 0.74, 1.07 s |
| 4-7 (1 pair) | 0.85 / 0.64, 1.42 s | 0.77 / 0.58, 1.58 s |

Under heavy load the changes helped in every pair (Souverain 169 → 240 tokens/s at 64 streams); under moderate
load the two pairs went slightly the other way, within this machine's noise (``direct#2`` alone varies ±15 %).
Quiet machine after that work (2026-11-23, load average 0.3, same options, two runs): ratio at 64 streams
**0.99** and **0.97**, at 16 streams 0.88 and 0.86; TTFT p50 at 16 streams 65 and 88 ms vs 8-9 ms direct (the
API-key check, quota, guard and labelling done before the first token).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
LITELLM_VENV = ROOT / ".build" / "bench-litellm"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
SETUPS = ("sqlite", "production")
PROMPT = " ".join(f"mot{i}" for i in range(48))  # the fake answers these 48 words back, one token each


@dataclass
class Phase:
    setup: str
    tokens_per_second_upstream: float
    path: str
    concurrency: int
    tokens: int
    seconds: float
    ttft_ms: list[float]
    errors: int

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, *, timeout: float, process: subprocess.Popen[bytes] | None = None, **kwargs: object) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        with suppress(httpx.TransportError):
            if httpx.get(url, timeout=2, **kwargs).status_code < 500:  # type: ignore[arg-type]
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@contextmanager
def process(args: list[str], *, env: dict[str, str] | None = None, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


UPSTREAM_SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
from tests.fakes.openai_upstream import FakeUpstream
server = FakeUpstream(port={port})
server.faults.tokens_per_second = {tps}
server.start()
while True:
    time.sleep(3600)
"""


@contextmanager
def upstream(tps: float, workdir: Path) -> Iterator[str]:
    port = free_port()
    script = UPSTREAM_SCRIPT.format(root=str(ROOT), port=port, tps=tps)
    with process([PYTHON, "-c", script], log=workdir / "upstream.log") as proc:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=30, process=proc)
        yield f"http://127.0.0.1:{port}/v1"


def _create_database() -> str | None:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    result = subprocess.run(
        ["psql", POSTGRES_ADMIN, "-q", "-c", f'CREATE DATABASE "{name}"'], capture_output=True, check=False
    )
    return name if result.returncode == 0 else None


def _drop_database(name: str) -> None:
    subprocess.run(
        ["psql", POSTGRES_ADMIN, "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        capture_output=True,
        check=False,
    )


# uvicorn re-raises SIGTERM once it has shut down, which would kill ``python -m cProfile`` before it saves
# anything: the handler installed here (and restored by uvicorn) saves the statistics first.
PROFILED_SERVE = """
import cProfile, signal, sys, time
sys.path.insert(0, {root!r})
profiler = cProfile.Profile(time.process_time)  # CPU time: on a shared machine, wall time blames the preempted
def save(*_):
    profiler.disable()
    profiler.dump_stats({path!r})
    sys.exit(0)
signal.signal(signal.SIGTERM, save)
sys.argv = ["assistant", "serve", "--port", "{port}", "--workers", "1"]
from assistant.cli import main
profiler.enable()
try:
    main()
finally:
    save()
"""


@contextmanager
def souverain(
    upstream_url: str, workdir: Path, *, setup: str, workers: int, profile: Path | None = None
) -> Iterator[tuple[str, str, str]]:
    """The real service: ``sqlite`` as ``make run`` leaves it (one process), ``production`` on PostgreSQL + Redis
    where this machine has them, with ``workers`` processes.

    With ``profile``, one server process runs under cProfile and leaves its statistics there when it stops.
    """
    port = free_port()
    database = setup == "production" and shutil.which("psql") and _create_database()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SOUVERAIN_")},
        "SOUVERAIN_DATA_DIR": tempfile.mkdtemp(prefix=f"data-{setup}-", dir=workdir),
        "SOUVERAIN_LOG_LEVEL": "WARNING",
        "SOUVERAIN_LLM_BACKENDS": json.dumps(
            [
                {
                    "name": "vllm",
                    "kind": "openai",
                    "sovereign": True,
                    "options": {"base_url": upstream_url, "max_connections": 256},
                    "models": [{"id": "fake-model", "card": {"name": "fake", "parameters": "24B"}}],
                }
            ]
        ),
        "SOUVERAIN_DEFAULT_REQUESTS_PER_MINUTE": "1000000",
        "SOUVERAIN_DEFAULT_TOKENS_PER_DAY": "1000000000",
    }
    described = "SQLite"
    if setup == "sqlite":
        workers = 1
    if database:
        env["SOUVERAIN_DATABASE_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
        described = "PostgreSQL"
        if subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, check=False).returncode == 0:
            env["SOUVERAIN_RATE_LIMIT_BACKEND"] = "redis"
            env["SOUVERAIN_REDIS_URL"] = REDIS_URL
            env["SOUVERAIN_RATE_LIMIT_KEY_PREFIX"] = f"bench-{uuid.uuid4().hex[:8]}:"
            described += " + Redis"
    cli = [PYTHON, "-m", "assistant.cli"]
    try:
        created = subprocess.run(
            [*cli, "user", "create", "--username", "bench", "--role", "agent", "--no-password", "--api-key"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = next(word for word in created.stdout.split() if word.startswith("sk-souv-"))
        serve = [*cli, "serve", "--port", str(port), "--workers", str(workers)]
        if profile is not None:
            serve = [PYTHON, "-c", PROFILED_SERVE.format(root=str(ROOT), path=str(profile), port=port)]
        with process(serve, env=env, log=workdir / "souverain.log") as proc:
            wait_http(f"http://127.0.0.1:{port}/healthz", timeout=180, process=proc)  # slow to import on a busy machine
            processes = "1 process (cProfile)" if profile else f"{workers} process{'es' if workers > 1 else ''}"
            yield f"http://127.0.0.1:{port}/v1", key, f"{described}, {processes}"
    finally:
        if database:
            _drop_database(database)


LITELLM_HOWTO = f"{PYTHON} -m venv {LITELLM_VENV} && {LITELLM_VENV}/bin/pip install 'litellm[proxy]'"


def ensure_litellm(*, install: bool) -> Path | None:
    """The LiteLLM proxy executable from its own venv (installed there with ``install``); None, with why, if not."""
    executable = LITELLM_VENV / "bin" / "litellm"
    if executable.exists():
        return executable
    if not install:
        print(f"litellm: skipped, no venv in {LITELLM_VENV}. Create it once (network needed):\n  {LITELLM_HOWTO}")
        print("  or run this script with --install-litellm.")
        return None
    print(f"installing LiteLLM into {LITELLM_VENV} (once)…", flush=True)
    try:
        subprocess.run([PYTHON, "-m", "venv", str(LITELLM_VENV)], check=True, capture_output=True)
        subprocess.run(
            [str(LITELLM_VENV / "bin" / "pip"), "install", "--quiet", "litellm[proxy]"],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"litellm: unavailable ({type(exc).__name__})")
        return None
    return executable if executable.exists() else None


@contextmanager
def litellm(executable: Path, upstream_url: str, workdir: Path, *, workers: int) -> Iterator[tuple[str, str]]:
    port = free_port()
    config = workdir / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: fake-model\n"
        "    litellm_params:\n"
        "      model: openai/fake-model\n"
        f"      api_base: {upstream_url}\n"
        "      api_key: none\n"
        "litellm_settings:\n"
        "  telemetry: false\n",
        encoding="utf-8",
    )
    master_key = f"sk-{uuid.uuid4().hex}{uuid.uuid4().hex}"  # the proxy refuses to start without one
    env = {
        **os.environ,
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "NO_DOCS": "True",
        "LITELLM_MASTER_KEY": master_key,
    }
    args = [str(executable), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--num_workers", str(workers)]
    with process(args, env=env, log=workdir / "litellm.log") as proc:
        wait_http(f"http://127.0.0.1:{port}/health/liveliness", timeout=120, process=proc)
        yield f"http://127.0.0.1:{port}/v1", master_key


async def stream_once(client: httpx.AsyncClient, url: str) -> tuple[int, float]:
    body = {"model": "fake-model", "messages": [{"role": "user", "content": PROMPT}], "stream": True}
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    async with client.stream("POST", url, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            for choice in json.loads(line[6:]).get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    tokens += 1
                    if first is None:
                        first = time.perf_counter()
    return tokens, ((first or time.perf_counter()) - started) * 1000


async def run_phase(
    where: tuple[str, float], path: str, base_url: str, key: str, concurrency: int, seconds: float
) -> Phase:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    url = f"{base_url}/chat/completions"
    tokens = 0
    errors = 0
    ttft: list[float] = []
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:
        await stream_once(client, url)  # warm-up: connection, caches
        started = time.perf_counter()
        deadline = started + seconds

        async def user() -> None:
            nonlocal tokens, errors
            while time.perf_counter() < deadline:
                try:
                    received, first_ms = await stream_once(client, url)
                except (httpx.HTTPError, json.JSONDecodeError):
                    errors += 1
                    await asyncio.sleep(0.05)
                    continue
                tokens += received
                ttft.append(first_ms)

        await asyncio.gather(*(user() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Phase(*where, path, concurrency, tokens, elapsed, ttft, errors)


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(phases: list[Phase]) -> None:
    def reference(phase: Phase) -> Phase:
        return next(
            p
            for p in phases
            if p.path == "direct"
            and (p.setup, p.tokens_per_second_upstream, p.concurrency)
            == (phase.setup, phase.tokens_per_second_upstream, phase.concurrency)
        )

    print()
    print(
        f"{'set-up':<10} {'tok/s up':>8} {'path':<10} {'streams':>7} {'tokens/s':>9} {'ratio':>6} "
        f"{'ttft p50':>9} {'overhead':>9} {'ttft p99':>9} {'errors':>6}"
    )
    for phase in phases:
        direct = reference(phase)
        ratio = phase.tokens_per_second / direct.tokens_per_second
        print(
            f"{phase.setup:<10} {phase.tokens_per_second_upstream:8.0f} {phase.path:<10} {phase.concurrency:>7} "
            f"{phase.tokens_per_second:9.0f} {ratio:6.2f} {median(phase.ttft_ms):9.1f} "
            f"{median(phase.ttft_ms) - median(direct.ttft_ms):9.1f} {percentile(phase.ttft_ms, 99):9.1f} "
            f"{phase.errors:>6}"
        )
    ours = [p for p in phases if p.path == "souverain"]
    if not ours:
        return
    ratios = [p.tokens_per_second / reference(p).tokens_per_second for p in ours if p.concurrency == 64]
    print()
    if ratios:
        print(f"ratio: {min(ratios):.2f}")
    for concurrency in (16, 64):
        overheads = [median(p.ttft_ms) - median(reference(p).ttft_ms) for p in ours if p.concurrency == concurrency]
        if overheads:
            print(f"ttft overhead {concurrency}: {max(overheads):.0f} ms")


async def measure(
    setup: str, tps: float, args: argparse.Namespace, litellm_exe: Path | None, workdir: Path, seconds: float
) -> list[Phase]:
    """Direct, Souverain and LiteLLM at 16 then 64 streams against one upstream paced at ``tps``."""
    phases: list[Phase] = []
    where = (setup, tps)
    profile = args.profile.resolve() if args.profile else None
    with (
        upstream(tps, workdir) as upstream_url,
        souverain(upstream_url, workdir, setup=setup, workers=args.workers, profile=profile) as ours,
    ):
        souverain_url, key, described = ours
        print(f"{setup}: upstream paced at {tps:.0f} tokens/s per stream; Souverain on {described}", flush=True)
        targets = [("direct", upstream_url, "none"), ("souverain", souverain_url, key)]
        for concurrency in (16, 64):
            for name, url, secret in targets:
                phases.append(await run_phase(where, name, url, secret, concurrency, seconds))
            if litellm_exe is not None:
                workers = 1 if setup == "sqlite" else args.workers
                with litellm(litellm_exe, upstream_url, workdir, workers=workers) as (litellm_url, litellm_key):
                    phases.append(await run_phase(where, "litellm", litellm_url, litellm_key, concurrency, seconds))
        phases.append(await run_phase(where, "direct#2", upstream_url, "none", 64, seconds))
    return phases


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short phases, no LiteLLM (about a minute)")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each phase")
    parser.add_argument(
        "--tokens-per-second", type=float, nargs="+", default=[20.0], help="decode speeds of the fake streams"
    )
    parser.add_argument("--setups", nargs="+", choices=SETUPS, default=list(SETUPS))
    parser.add_argument("--workers", type=int, default=2, help="server processes of the production set-up")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--install-litellm", action="store_true", help="create LiteLLM's venv if absent (network)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="run one Souverain process under cProfile, save its statistics to FILE and print the top functions",
    )
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    with_litellm = not (args.quick or args.no_litellm or args.profile)
    litellm_exe = ensure_litellm(install=args.install_litellm) if with_litellm else None
    workdir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    print(f"{seconds:.0f} s per phase; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    phases: list[Phase] = []
    for setup in args.setups[:1] if args.profile else args.setups:
        for tps in args.tokens_per_second:
            phases += await measure(setup, tps, args, litellm_exe, workdir, seconds)
    report(phases)
    if args.profile:
        print_profile(args.profile.resolve())
    shutil.rmtree(workdir, ignore_errors=True)


def print_profile(path: Path, *, top: int = 40) -> None:
    """The functions where the profiled server process spent its own time, then the slowest call trees."""
    import pstats  # only here: profiling is an option

    if not path.exists():
        print(f"\nno profile in {path}: the server did not stop cleanly")
        return
    stats = pstats.Stats(str(path))
    stats.strip_dirs()
    print(f"\n### Profile of one server process ({path})\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    asyncio.run(main())
