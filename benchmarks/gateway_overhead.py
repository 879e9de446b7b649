"""Latency the gateway adds on top of the model server, measured against the fake OpenAI upstream.

Paths compared, same requests, same upstream (tests/fakes/openai_upstream.py on 127.0.0.1):

- ``direct``: an httpx SSE client straight to the upstream (the floor);
- ``backend``: through ``OpenAICompatibleBackend.stream`` (LLM layer: retries, breaker, deadlines, parsing);
- ``gateway``: through a running Souverain API (``--gateway-url http://127.0.0.1:8000/v1 --api-key ...``),
  which must itself point at this benchmark's upstream (its URL is printed first).

Prints time to first token and total time (p50/p95, ms), and the overhead over ``direct``.
Usage: ``python benchmarks/gateway_overhead.py [--requests 200] [--concurrency 8] [--words 64]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.llm import ChatRequest, SamplingParams
from assistant.llm.openai_compatible import OpenAICompatibleBackend
from tests.fakes.openai_upstream import FakeUpstream


@dataclass
class Sample:
    first_token_ms: float
    total_ms: float
    tokens: int


Runner = Callable[[str], Awaitable[Sample]]


def body(model: str, text: str) -> dict[str, object]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0,
    }


async def sse_client_run(client: httpx.AsyncClient, url: str, model: str, text: str) -> Sample:
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    async with client.stream("POST", url, json=body(model, text)) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            for choice in json.loads(line[6:]).get("choices", []):
                if choice.get("delta", {}).get("content"):
                    tokens += 1
                    first = first or time.perf_counter()
    end = time.perf_counter()
    return Sample(((first or end) - started) * 1000, (end - started) * 1000, tokens)


async def backend_run(backend: OpenAICompatibleBackend, model: str, text: str) -> Sample:
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    request = ChatRequest(
        model=model, messages=[{"role": "user", "content": text}], params=SamplingParams(temperature=0)
    )
    async for chunk in backend.stream(request):
        for delta in chunk.deltas:
            if delta.text:
                tokens += 1
                first = first or time.perf_counter()
    end = time.perf_counter()
    return Sample(((first or end) - started) * 1000, (end - started) * 1000, tokens)


async def measure(run: Runner, text: str, requests: int, concurrency: int) -> list[Sample]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> Sample:
        async with semaphore:
            return await run(text)

    for _ in range(min(10, requests)):  # warm-up: connections, caches
        await run(text)
    return await asyncio.gather(*(one() for _ in range(requests)))


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--words", type=int, default=64, help="tokens per answer (the fake answers word by word)")
    parser.add_argument("--gateway-url", help="Souverain API base URL, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--gateway-model", default="fake-model")
    parser.add_argument("--api-key", default="")
    args = parser.parse_args()
    text = " ".join(f"mot{i}" for i in range(args.words))

    with FakeUpstream() as upstream:
        print(
            f"upstream: {upstream.url}  requests={args.requests} concurrency={args.concurrency} "
            f"tokens/answer={args.words}"
        )
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        results: dict[str, list[Sample]] = {}
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            direct_url = f"{upstream.url}/chat/completions"
            results["direct"] = await measure(
                lambda t: sse_client_run(client, direct_url, "fake-model", t),
                text,
                args.requests,
                args.concurrency,
            )
        backend = OpenAICompatibleBackend(OpenAICompatibleBackend.Options.model_validate({"base_url": upstream.url}))
        results["backend"] = await measure(
            lambda t: backend_run(backend, "fake-model", t), text, args.requests, args.concurrency
        )
        await backend.aclose()
        if args.gateway_url:
            headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
            async with httpx.AsyncClient(limits=limits, timeout=60, headers=headers) as client:
                gateway_url = f"{args.gateway_url.rstrip('/')}/chat/completions"
                results["gateway"] = await measure(
                    lambda t: sse_client_run(client, gateway_url, args.gateway_model, t),
                    text,
                    args.requests,
                    args.concurrency,
                )

    base_ttft = statistics.median(s.first_token_ms for s in results["direct"])
    base_total = statistics.median(s.total_ms for s in results["direct"])
    print(
        f"{'path':<8} {'ttft p50':>9} {'ttft p95':>9} {'total p50':>10} {'total p95':>10} "
        f"{'+ttft p50':>10} {'+total p50':>11} {'tokens':>7}"
    )
    for name, samples in results.items():
        ttft = [s.first_token_ms for s in samples]
        total = [s.total_ms for s in samples]
        print(
            f"{name:<8} {statistics.median(ttft):9.2f} {percentile(ttft, 95):9.2f} "
            f"{statistics.median(total):10.2f} {percentile(total, 95):10.2f} "
            f"{statistics.median(ttft) - base_ttft:10.2f} {statistics.median(total) - base_total:11.2f} "
            f"{samples[0].tokens:7d}"
        )


if __name__ == "__main__":
    asyncio.run(main())
