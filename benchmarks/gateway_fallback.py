"""What a fallback costs the caller: latency of whole answers through the gateway (in-process app, SQLite) when the
requested model answers itself, when its server is down (connection refused, then the circuit breaker open) and a
fallback answers, and when its only replica slot is taken (saturated at once) and a fallback answers.

Usage: python benchmarks/gateway_fallback.py [--requests 40]

Everything listens on 127.0.0.1 (fake vLLM-protocol servers, tests/fakes/openai_upstream.py, unpaced) and stops by
itself. The table gives p50 / p95 latency per path and how many answers came from the fallback; the last line is
``lost: N``, requests that failed although a fallback was up (target 0).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.llm import BackendConfig, ModelConfig
from assistant.store.models import Role
from tests.factories import make_account, make_settings, model_card, runtime_of, upstream_backend
from tests.fakes.openai_upstream import FakeUpstream, closed_port_url

QUESTION = "Quel est le délai de recours contentieux ?"


def _configs(fallback_url: str, saturated_url: str) -> list[BackendConfig]:
    down = upstream_backend(closed_port_url(), name="panne").model_dump()
    fleet = BackendConfig(
        name="flotte",
        kind="replicas",
        sovereign=True,
        options={"replicas": [{"base_url": saturated_url, "max_concurrency": 1}], "max_queue": 0},
        models=[ModelConfig(id="flotte-model", upstream_name="fake-model", card=model_card())],
        fallback=["secours-model"],
    )
    return [
        upstream_backend(fallback_url, name="secours"),
        BackendConfig.model_validate({**down, "fallback": ["secours-model"]}),
        fleet,
    ]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with FakeUpstream() as fallback, FakeUpstream() as saturated:
        workdir = Path(tempfile.mkdtemp(prefix="bench-fallback-"))
        settings = make_settings(
            data_dir=workdir, llm_backends=_configs(fallback.url, saturated.url), default_requests_per_minute=100_000
        )
        app = create_app(settings)
        rows = []
        lost = 0
        with TestClient(app, raise_server_exceptions=False) as client:
            headers = make_account(client, app, "bench.repli", Role.AGENT).bearer
            fleet = runtime_of(app).models.get("flotte-model").backend
            for label, model in (
                ("direct (secours-model)", "secours-model"),
                ("server down → fallback", "panne-model"),
                ("saturated → fallback", "flotte-model"),
            ):
                if model == "flotte-model":
                    fleet.replicas[0].outstanding = 1  # type: ignore[attr-defined]  # the slot held by another answer
                latencies, from_fallback = [], 0
                for _ in range(args.requests):
                    body = {"model": model, "messages": [{"role": "user", "content": QUESTION}]}
                    started = time.perf_counter()
                    response = client.post("/v1/chat/completions", json=body, headers=headers)
                    latencies.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        lost += 1
                    elif response.json().get("fallback_from"):
                        from_fallback += 1
                rows.append((label, statistics.median(latencies), _percentile(latencies, 0.95), from_fallback))
    print(f"{args.requests} whole answers per path, in-process app, SQLite, unpaced fake upstreams")
    print("| path | p50 ms | p95 ms | answered by the fallback |")
    print("|---|---|---|---|")
    for label, p50, p95, count in rows:
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {count}/{args.requests} |")
    print(f"lost: {lost}")


if __name__ == "__main__":
    main()
