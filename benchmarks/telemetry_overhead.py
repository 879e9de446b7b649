"""What OpenTelemetry traces cost a chat request: off (the default) vs. on, exported over OTLP/HTTP.

Three apps of the service, each on its own SQLite file, in front of one fake vLLM-protocol server
(tests/fakes/openai_upstream.py, in a thread):

- ``off``       the default settings: no tracing middleware, no span, OpenTelemetry not loaded by us;
- ``on``        ``SOUVERAIN_OTEL_ENABLED=true``, every request sampled, spans batched to a local OTLP/HTTP
                collector (a tiny HTTP server on 127.0.0.1 that accepts and drops the protobuf);
- ``off#2``     the default again at the end: the noise floor of the machine.

Requests are sent in-process (Starlette's TestClient: no network stack, so the service's own cost is what
varies), non-streamed and streamed, interleaved by rounds so that a busy moment of a shared machine falls on every
configuration alike. The table gives the median and p95 latency per request and the difference to ``off``; a
second table times the helpers that stay on the request path with telemetry off (one context-variable read each).

Usage: ``python benchmarks/telemetry_overhead.py [--quick] [--rounds 6] [--requests 40]``. Everything listens on
127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.store.models import Role
from assistant.telemetry import trace_stream, upstream_call
from tests.factories import make_account, make_settings, upstream_backend
from tests.fakes.openai_upstream import FakeUpstream

# The collector runs in a process of its own, as a real one would: in ours it would take the GIL from the service.
_COLLECTOR = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

received = 0

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global received
        received += len(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):  # the benchmark asks for the count at the end
        body = str(received).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.timeout = 1
while sys.stdin.readable():
    server.handle_request()
"""


@contextmanager
def _collector() -> Iterator[str]:
    """An OTLP/HTTP endpoint (another process) that counts the bytes it receives and answers 200."""
    process = subprocess.Popen(
        [sys.executable, "-c", _COLLECTOR], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{process.stdout.readline().strip()}"
    finally:
        process.kill()
        process.wait(timeout=10)


def _received(endpoint: str) -> int:
    return int(httpx.get(endpoint, timeout=5).text)


def _client(stack: ExitStack, name: str, upstream: str, workdir: Path, **settings: object) -> TestClient:
    app = create_app(
        make_settings(
            data_dir=workdir / name,
            log_level="WARNING",
            llm_backends=[upstream_backend(upstream)],
            default_model="vllm-model",
            # The benchmark sends far more than an agent would: quotas out of the way.
            default_requests_per_minute=1_000_000,
            default_tokens_per_day=1_000_000_000,
            **settings,
        )
    )
    client = stack.enter_context(TestClient(app))
    client.headers.update(make_account(client, app, f"bench.{name.replace('#', '')}", Role.AGENT).bearer)
    return client


def _timed(client: TestClient, *, stream: bool) -> float:
    body = {
        "model": "vllm-model",
        "messages": [{"role": "user", "content": "Quel est le délai de recours contentieux contre un arrêté ?"}],
        "stream": stream,
    }
    started = time.perf_counter()
    response = client.post("/v1/chat/completions", json=body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    return elapsed


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _off_path_helpers() -> list[tuple[str, float]]:
    """Nanoseconds per call of what the backends call with telemetry off."""

    async def chunks():  # type: ignore[no-untyped-def]
        yield None

    def wrap() -> None:
        iterator = chunks()
        trace_stream(iterator, model="m", backend_kind="openai")
        iterator.aclose().close()  # never started: closing it is enough

    def call() -> None:
        with upstream_call("POST", "http://vllm:8000/v1/chat/completions"):
            pass

    rows = []
    for label, function in (
        ("an async generator made and closed (reference, not telemetry)", lambda: chunks().aclose().close()),
        ("the same wrapped by trace_stream", wrap),
        ("upstream_call, entered and left", call),
    ):
        number = 20_000
        rows.append((label, min(timeit.repeat(function, number=number, repeat=5)) / number * 1e9))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 15 requests")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=40, help="requests per configuration and mode per round")
    args = parser.parse_args()
    rounds, per_round = (3, 15) if args.quick else (args.rounds, args.requests)
    os.environ["NO_PROXY"] = "127.0.0.1"  # the OTLP exporter's HTTP client honours proxy variables
    names = ("off", "on", "off#2")
    timings: dict[tuple[str, bool], list[float]] = {(name, stream): [] for name in names for stream in (False, True)}
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeUpstream() as upstream,
        _collector() as endpoint,
        ExitStack() as stack,
    ):
        workdir = Path(tmp)
        clients = {
            "off": _client(stack, "off", upstream.url, workdir),
            "on": _client(stack, "on", upstream.url, workdir, otel_enabled=True, otel_endpoint=endpoint),
            "off#2": _client(stack, "off#2", upstream.url, workdir),
        }
        for client in clients.values():  # warm-up: first requests build caches, pools, the breaker
            for stream in (False, True):
                for _ in range(3):
                    _timed(client, stream=stream)
        for _ in range(rounds):
            for name in names:
                for stream in (False, True):
                    timings[name, stream] += [_timed(clients[name], stream=stream) for _ in range(per_round)]
        stack.close()  # the lifespans end: the "on" app flushes its last batch
        exported = _received(endpoint)
    load = os.getloadavg()[0]
    print(f"{rounds} rounds x {per_round} requests per configuration and mode, load average {load:.1f}")
    print("| configuration | mode | p50 ms | p95 ms | p50 vs off |")
    print("|---|---|---|---|---|")
    for stream in (False, True):
        reference = statistics.median(timings["off", stream])
        for name in names:
            values = timings[name, stream]
            p50, p95 = statistics.median(values), _percentile(values, 0.95)
            mode = "stream" if stream else "full"
            print(f"| {name} | {mode} | {p50 * 1000:.2f} | {p95 * 1000:.2f} | {(p50 / reference - 1) * 100:+.1f} % |")
    print(f"OTLP bytes received by the collector from 'on': {exported}")
    print("| helper on the request path, telemetry off | ns per call |")
    print("|---|---|")
    for label, nanoseconds in _off_path_helpers():
        print(f"| {label} | {nanoseconds:.0f} |")


if __name__ == "__main__":
    main()
