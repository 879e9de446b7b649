"""Failover between replicas of one model: streams through two replicas (fake vLLM-protocol servers on
127.0.0.1, paced like a GPU) while one of them is stopped and then started again.

Usage: python benchmarks/gateway_failover.py [--quick] [--streams 8] [--seconds 12]

The replica pool (``assistant.llm.replicas``, the backend the gateway uses for a model with several replicas)
must lose no request to a dead replica: a request that had not received its first byte goes to the other one.
Streams already running on the stopped replica are cut (their text so far is kept and marked incomplete); they
are counted apart, since no gateway can resume a generation another server was making. The last line is
``failover errors: N``: requests that failed before their first byte although a healthy replica was up.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.llm import ChatRequest
from assistant.llm.errors import UpstreamError
from assistant.llm.replicas import ReplicaPoolBackend
from tests.fakes.openai_upstream import FakeUpstream


@dataclass
class Tally:
    ok: int = 0
    cut_mid_stream: int = 0
    failover_errors: int = 0
    ttft: list[float] = field(default_factory=list)


async def _client(pool: ReplicaPoolBackend, until: float, tally: Tally) -> None:
    request = ChatRequest(
        model="fake-model", messages=[{"role": "user", "content": "Résume la note de service sur les congés."}]
    )
    while time.monotonic() < until:
        started = time.monotonic()
        first = False
        try:
            async for _chunk in pool.stream(request):
                if not first:
                    first = True
                    tally.ttft.append(time.monotonic() - started)
            tally.ok += 1
        except UpstreamError:
            if first:
                tally.cut_mid_stream += 1
            else:
                tally.failover_errors += 1


async def _run(streams: int, seconds: float) -> tuple[Tally, dict[str, int]]:
    upstreams = [FakeUpstream().start() for _ in range(2)]
    for upstream in upstreams:
        upstream.faults.tokens_per_second = 40
    pool = ReplicaPoolBackend.from_options(
        {"replicas": [{"base_url": u.url, "name": f"noeud-{i}"} for i, u in enumerate(upstreams)], "eject_seconds": 2}
    )
    assert isinstance(pool, ReplicaPoolBackend)
    await pool.start()
    tally = Tally()
    until = time.monotonic() + seconds

    async def chaos() -> None:
        await asyncio.sleep(seconds * 0.25)
        await asyncio.to_thread(upstreams[1].stop)
        await asyncio.sleep(seconds * 0.35)
        await asyncio.to_thread(upstreams[1].start)

    try:
        await asyncio.gather(chaos(), *(_client(pool, until, tally) for _ in range(streams)))
        served = {replica.name: replica.served for replica in pool.replicas}
    finally:
        await pool.aclose()
        for upstream in upstreams:
            upstream.stop()
    return tally, served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 streams for 12 s (well under a minute)")
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    streams, seconds = (8, 12.0) if args.quick else (args.streams, args.seconds)
    tally, served = asyncio.run(_run(streams, seconds))
    ttft = sorted(tally.ttft)
    p50 = ttft[len(ttft) // 2] * 1000 if ttft else 0.0
    print("\n| streams | seconds | answers complete | cut mid-stream (replica stopped) | failover errors | TTFT p50 |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {streams} | {seconds:g} | {tally.ok} | {tally.cut_mid_stream} | {tally.failover_errors} | {p50:.0f} ms |")
    print("\nserved per replica: " + ", ".join(f"{name} {count}" for name, count in served.items()))
    print(f"failover errors: {tally.failover_errors}")


if __name__ == "__main__":
    main()
