"""Load test: agents chatting (streamed), searching and uploading, at rising user counts, until it breaks.

The service runs as in production, every part in its own process, all on 127.0.0.1:

- ``assistant serve --workers N`` (``BENCH_WORKERS``, default 2) on PostgreSQL (a throw-away database on
  127.0.0.1:5432), Redis for rate limits and the job queue;
- one ``assistant worker`` ingesting the uploaded documents;
- the fake vLLM-protocol upstream (``tests/fakes/openai_upstream.py``) serving chat and embeddings, paced at
  ``--tokens-per-second`` per stream.

Locust drives virtual agents (each its own account, API key and collection) that, with weights 6/3/1:
stream an answer in a conversation, search their collection, upload a small document. The user count
rises in steps (``--steps``); each step runs ``--seconds`` after its users have spawned. The run stops at the
first step whose p95 exceeds ``--p95-ms`` (2 000 ms) or whose error rate exceeds ``--max-errors`` (1 %).

Latency of a streamed answer is its time to first token (what an agent waits before text appears); the
``answer p95`` column gives the whole answer's. A control step streams straight to the upstream at the
highest user count reached, in the same run: the difference is what the gateway costs.

Usage: ``python benchmarks/load_test.py [--quick] [--steps 2,4,8,16,32,64] [--seconds 20]``
(``--quick``: steps 2 and 4, 5 s each, under a minute). Needs the ``hardening`` extra (locust).
"""

# Locust patches the standard library with gevent on import: it must come before anything opens sockets.
from locust import User, between, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, ClassVar

import gevent
import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_overhead import PYTHON, ROOT, free_port, percentile, process, upstream, wait_http

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
QUESTION = "Quel est le délai de recours contentieux contre une décision de la commission ?"
WORDS = ["recours", "délai", "décision", "commission", "notification", "séance", "gracieux", "tribunal", "préfet"]

ACCOUNTS_SCRIPT = """
import asyncio, sys
from assistant.core.config import load_settings
from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role

async def main(count):
    async with open_runtime(load_settings(), with_worker=False) as runtime:
        for n in range(count):
            user = await create_local_user(runtime, username=f"agent{n:03d}", role=Role.AGENT, password=None)
            created = await create_api_key(runtime, owner_id=user.id, name="charge", scopes=list(Scope))
            sys.stdout.write(created.secret + "\\n")

asyncio.run(main(int(sys.argv[1])))
"""


@dataclass
class Step:
    target: str
    users: int
    seconds: float
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    answers_ms: list[float] = field(default_factory=list)
    tokens: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # requests, p50, p95

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 1.0


class Recorder:
    """What Locust's statistics do not keep: whole-answer durations and streamed tokens of the current step."""

    def __init__(self) -> None:
        self.answers_ms: list[float] = []
        self.tokens = 0

    def reset(self) -> None:
        self.answers_ms = []
        self.tokens = 0


class TimedUser(User):  # type: ignore[misc]
    """A Locust user that times its own requests (streams included) and reports them to Locust."""

    abstract = True
    recorder: ClassVar[Recorder] = Recorder()

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.http = requests.Session()

    def report(self, kind: str, name: str, started: float, *, length: int = 0, error: str | None = None) -> None:
        """Report a request that began at ``started`` (``time.perf_counter()``) and ends now."""
        self.report_ms(kind, name, (time.perf_counter() - started) * 1000, length=length, error=error)

    def report_ms(self, kind: str, name: str, elapsed_ms: float, *, length: int = 0, error: str | None = None) -> None:
        self.environment.events.request.fire(
            request_type=kind,
            name=name,
            response_time=elapsed_ms,
            response_length=length,
            exception=RuntimeError(error) if error else None,
            context={},
        )

    def stream_chat(self, name: str, url: str, body: dict[str, Any]) -> None:
        """POST ``body`` for a streamed answer; reports the time to first token, records the whole answer's."""
        started = time.perf_counter()
        first: float | None = None
        tokens = 0
        error: str | None = None
        try:
            with self.http.post(url, json=body, stream=True, timeout=60) as response:
                if response.status_code != 200:
                    error = f"HTTP {response.status_code}"
                else:
                    for line in response.iter_lines(decode_unicode=True):
                        if line.startswith("event: error"):
                            error = "error event"
                        if not line.startswith("data: ") or line == "data: [DONE]":
                            continue
                        payload = json.loads(line[6:])
                        if payload.get("content") or any(
                            (c.get("delta") or {}).get("content") for c in payload.get("choices") or []
                        ):
                            tokens += 1
                            first = first or time.perf_counter()
        except (requests.RequestException, ValueError) as exc:
            error = type(exc).__name__
        if error is None and first is None:
            error = "no token"
        ended = time.perf_counter()
        if error is None:
            self.recorder.answers_ms.append((ended - started) * 1000)
            self.recorder.tokens += tokens
        # Locust keeps the time to first token (the whole answer when none came); the recorder the whole answer.
        self.report_ms("SSE", name, ((first or ended) - started) * 1000, length=tokens, error=error)


class Agent(TimedUser):
    """An agent of the administration: chats (streamed), searches their documents, uploads new ones."""

    wait_time = between(0.2, 1.0)
    keys: ClassVar[Iterator[str]] = iter(())
    numbers = count()
    ready: ClassVar[int] = 0  # agents done with their set-up

    def on_start(self) -> None:
        # Set-up is not measured: each agent gets its collection (searched once, so its index is built) and
        # a conversation before the step's clock starts.
        self.http.headers["Authorization"] = f"Bearer {next(self.keys)}"
        self.number = next(self.numbers)
        self.uploads = 0
        created = self.http.post(f"{self.host}/api/collections", json={"name": f"Dossiers {uuid.uuid4().hex[:8]}"})
        opened = self.http.post(f"{self.host}/api/conversations", json={})
        if created.status_code != 201 or opened.status_code != 201:
            raise RuntimeError(f"agent set-up refused: {created.status_code} {opened.status_code}")
        self.collection = created.json()["id"]
        self.conversation = opened.json()["id"]
        self.http.post(f"{self.host}/api/search", json={"query": "recours", "collection_ids": [self.collection]})
        Agent.ready += 1

    @task(6)
    def chat(self) -> None:
        url = f"{self.host}/api/conversations/{self.conversation}/messages"
        self.stream_chat("chat (1er mot)", url, {"content": QUESTION, "stream": True})

    @task(3)
    def search(self) -> None:
        started = time.perf_counter()
        body = {"query": "délai de recours", "collection_ids": [self.collection], "k": 5}
        try:
            found = self.http.post(f"{self.host}/api/search", json=body, timeout=60)
            error = None if found.status_code == 200 else f"HTTP {found.status_code}"
        except requests.RequestException as exc:
            error = type(exc).__name__
        self.report("POST", "search", started, error=error)

    @task(1)
    def upload(self) -> None:
        self.uploads += 1
        words = " ".join(WORDS[(self.number + i * self.uploads) % len(WORDS)] for i in range(300))
        text = f"Note {self.number}-{self.uploads} {uuid.uuid4().hex}\n\n{words}\n".encode()
        started = time.perf_counter()
        files = {"files": (f"note-{self.uploads}.txt", text, "text/plain")}
        try:
            sent = self.http.post(f"{self.host}/api/collections/{self.collection}/documents", files=files, timeout=60)
            error = None if sent.status_code == 202 else f"HTTP {sent.status_code}"
        except requests.RequestException as exc:
            error = type(exc).__name__
        self.report("POST", "upload", started, length=len(text), error=error)


class DirectClient(TimedUser):
    """The control: the same streamed question straight to the upstream, no gateway."""

    wait_time = between(0.2, 1.0)

    @task
    def chat(self) -> None:
        body = {"model": "fake-model", "messages": [{"role": "user", "content": QUESTION}], "stream": True}
        self.stream_chat("chat direct (1er mot)", f"{self.host}/chat/completions", body)


def run_step(environment: Environment, target: str, users: int, seconds: float) -> Step:
    runner = environment.runner
    assert runner is not None
    runner.start(users, spawn_rate=max(users / 2, 4))
    deadline = time.monotonic() + 60
    user_class = environment.user_classes[0]
    while (runner.user_count < users or getattr(user_class, "ready", users) < users) and time.monotonic() < deadline:
        gevent.sleep(0.1)
    environment.stats.reset_all()
    TimedUser.recorder.reset()
    started = time.monotonic()
    gevent.sleep(seconds)
    elapsed = time.monotonic() - started
    total = environment.stats.total
    errors = {f"{e.name}: {e.error}": e.occurrences for e in environment.stats.errors.values()}
    return Step(
        target=target,
        users=users,
        seconds=elapsed,
        requests=total.num_requests,
        failures=total.num_failures,
        p50=total.get_response_time_percentile(0.5) or 0.0,
        p95=total.get_response_time_percentile(0.95) or 0.0,
        p99=total.get_response_time_percentile(0.99) or 0.0,
        answers_ms=list(TimedUser.recorder.answers_ms),
        tokens=TimedUser.recorder.tokens,
        errors=errors,
        by_name={
            entry.name: (
                entry.num_requests,
                entry.get_response_time_percentile(0.5) or 0.0,
                entry.get_response_time_percentile(0.95) or 0.0,
            )
            for entry in environment.stats.entries.values()
        },
    )


def create_database() -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    subprocess.run(["psql", POSTGRES_ADMIN, "-q", "-c", f'CREATE DATABASE "{name}"'], capture_output=True, check=True)
    return name


def drop_database(name: str) -> None:
    subprocess.run(
        ["psql", POSTGRES_ADMIN, "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        capture_output=True,
        check=False,
    )


@contextmanager
def souverain(upstream_url: str, workdir: Path, accounts: int) -> Iterator[tuple[str, list[str]]]:
    """API processes, a worker, a throw-away database and Redis namespace; yields the URL and the agents' keys."""
    database = create_database()
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SOUVERAIN_")},
        "PYTHONPATH": str(ROOT),
        "SOUVERAIN_DATA_DIR": str(workdir / "data"),
        "SOUVERAIN_LOG_LEVEL": "WARNING",
        "SOUVERAIN_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
        "SOUVERAIN_RATE_LIMIT_BACKEND": "redis",
        "SOUVERAIN_REDIS_URL": REDIS_URL,
        "SOUVERAIN_RATE_LIMIT_KEY_PREFIX": f"{namespace}:",
        "SOUVERAIN_JOBS_BACKEND": "redis",
        "SOUVERAIN_JOBS_QUEUE_NAME": namespace,
        "SOUVERAIN_RUN_WORKER_IN_PROCESS": "false",
        "SOUVERAIN_LLM_BACKENDS": json.dumps(
            [
                {
                    "name": "vllm",
                    "kind": "openai",
                    "sovereign": True,
                    "options": {"base_url": upstream_url, "max_connections": 512},
                    "models": [{"id": "fake-model", "card": {"name": "fake", "parameters": "24B"}}],
                }
            ]
        ),
        "SOUVERAIN_DEFAULT_MODEL": "fake-model",
        "SOUVERAIN_RAG_EMBEDDER": "openai",
        "SOUVERAIN_RAG_EMBEDDING_URL": upstream_url,
        "SOUVERAIN_RAG_EMBEDDING_MODEL": "fake-model",
        "SOUVERAIN_RAG_EMBEDDING_DIM": "32",
        "SOUVERAIN_DEFAULT_REQUESTS_PER_MINUTE": "1000000",
        "SOUVERAIN_DEFAULT_TOKENS_PER_DAY": "1000000000",
        "SOUVERAIN_DEFAULT_CONCURRENT_JOBS": "1000",
    }
    port = free_port()
    try:
        created = subprocess.run(
            [PYTHON, "-c", ACCOUNTS_SCRIPT, str(accounts)], env=env, cwd=ROOT, capture_output=True, text=True
        )
        if created.returncode != 0:
            raise RuntimeError(f"accounts not created: {created.stderr[-2000:]}")
        keys = created.stdout.split()
        serve = [PYTHON, "-m", "assistant.cli", "serve", "--port", str(port), "--workers", str(WORKERS)]
        with (
            process(serve, env=env, log=workdir / "souverain.log") as api,
            process([PYTHON, "-m", "assistant.cli", "worker"], env=env, log=workdir / "worker.log"),
        ):
            wait_http(f"http://127.0.0.1:{port}/healthz", timeout=180, process=api)  # slow imports on a busy machine
            yield f"http://127.0.0.1:{port}", keys
    finally:
        drop_database(database)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{namespace}*"):
            client.delete(key)
        client.close()


def report(steps: list[Step], p95_limit: float, max_errors: float) -> None:
    print()
    header = f"{'target':<10} {'users':>5} {'req/s':>7} {'tokens/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    print(f"{header} {'answer p95':>10} {'errors':>7}")
    for step in steps:
        answer = percentile(step.answers_ms, 95) if step.answers_ms else float("nan")
        print(
            f"{step.target:<10} {step.users:>5} {step.throughput:7.1f} {step.tokens / step.seconds:8.0f} "
            f"{step.p50:7.0f} {step.p95:7.0f} {step.p99:7.0f} {answer:10.0f} {step.error_rate:7.1%}"
        )
    print("\nper request kind (requests, p50 / p95 ms):")
    for step in steps:
        kinds = ", ".join(f"{name} {n} ({p50:.0f} / {p95:.0f})" for name, (n, p50, p95) in sorted(step.by_name.items()))
        print(f"  {step.target} {step.users} users: {kinds}")
    ours = [s for s in steps if s.target == "souverain"]
    passed = [s for s in ours if s.p95 <= p95_limit and s.error_rate <= max_errors]
    broken = next((s for s in ours if s not in passed), None)
    print()
    if passed:
        best = max(passed, key=lambda s: s.users)
        print(f"capacity: {best.users} users at p95 {best.p95:.0f} ms ({best.throughput:.1f} req/s)")
    if broken is not None:
        print(f"threshold broken at {broken.users} users: p95 {broken.p95:.0f} ms, errors {broken.error_rate:.1%}")
        for error, occurrences in sorted(broken.errors.items(), key=lambda item: -item[1])[:5]:
            print(f"  {occurrences} × {error}")
    elif ours:
        print(f"no threshold broken up to {ours[-1].users} users")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="steps 2 and 4 users, 5 s each (under a minute)")
    parser.add_argument("--steps", default="2,4,8,16,32,64", help="user counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration of each step")
    parser.add_argument("--tokens-per-second", type=float, default=50.0, help="decode speed of each fake stream")
    parser.add_argument("--p95-ms", type=float, default=2000.0, help="p95 latency threshold")
    parser.add_argument("--max-errors", type=float, default=0.01, help="error-rate threshold")
    parser.add_argument("--no-control", action="store_true", help="skip the direct-to-upstream control")
    args = parser.parse_args()
    steps = [2, 4] if args.quick else [int(n) for n in args.steps.split(",")]
    seconds = 5.0 if args.quick else args.seconds
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    results: list[Step] = []
    with (
        upstream(args.tokens_per_second, workdir) as upstream_url,
        souverain(upstream_url, workdir, max(steps)) as (
            url,
            keys,
        ),
    ):
        print(
            f"Souverain {url}: {WORKERS} server processes + 1 worker, PostgreSQL + Redis; upstream paced at "
            f"{args.tokens_per_second:.0f} tokens/s per stream; {seconds:.0f} s per step; {os.cpu_count()} cores "
            f"(the load generator shares them)",
            flush=True,
        )
        Agent.keys = iter(keys)
        environment = Environment(user_classes=[Agent], host=url)
        environment.create_local_runner()
        for users in steps:
            step = run_step(environment, "souverain", users, seconds)
            results.append(step)
            print(f"  {users} users: p95 {step.p95:.0f} ms, {step.error_rate:.1%} errors", flush=True)
            if step.p95 > args.p95_ms or step.error_rate > args.max_errors:
                break
        assert environment.runner is not None
        environment.runner.quit()
        if not args.no_control:
            control = Environment(user_classes=[DirectClient], host=upstream_url)
            control.create_local_runner()
            results.append(run_step(control, "direct", results[-1].users, seconds))
            assert control.runner is not None
            control.runner.quit()
    report(results, args.p95_ms, args.max_errors)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
