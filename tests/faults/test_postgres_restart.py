"""PostgreSQL restarts while agents chat: the service answers 503 in the error envelope during the outage, recovers
by itself, loses no conversation it confirmed, and its audit chain stays valid.

Everything is real but the model: ``assistant serve`` with two server processes on a private PostgreSQL server
(stopped and started by the test, see ``_postgres``), the fake vLLM-protocol upstream, HTTP clients.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.factories import make_settings
from tests.fakes import FakeUpstream, fake_reply
from tests.faults._postgres import PrivatePostgres, postgres_binaries
from tests.faults._processes import service, upstream_backends

pytestmark = pytest.mark.skipif(postgres_binaries() is None, reason="PostgreSQL server binaries not installed")

CLIENTS = 4
WARM_UP_S = 30.0  # most time allowed for every agent to get a first answer before the outage
OUTAGE_S = 3.0  # PostgreSQL down
RECOVERY_S = 30.0  # most time allowed to serve again after PostgreSQL is back
STEADY = 3  # consecutive successful exchanges per client that prove recovery


@dataclass
class Outcome:
    at: float
    what: str
    status: int
    body: Any
    text: str


@dataclass
class Load:
    outcomes: list[Outcome] = field(default_factory=list)
    streaks: dict[int, int] = field(default_factory=dict)

    def record(self, client: int, what: str, response: httpx.Response) -> Outcome:
        try:
            body = response.json()
        except ValueError:
            body = None
        outcome = Outcome(time.monotonic(), what, response.status_code, body, response.text)
        self.outcomes.append(outcome)
        ok = response.status_code < 300
        self.streaks[client] = self.streaks.get(client, 0) + 1 if ok else 0
        return outcome


async def _readiness(http: httpx.AsyncClient, within_s: float = 30.0) -> httpx.Response:
    """/readyz once it answers 200, or its last answer: a first probe may still be hashing the speech weights."""
    deadline = time.monotonic() + within_s
    while True:
        ready = await http.get("/readyz", timeout=10)
        if ready.status_code == 200 or time.monotonic() > deadline:
            return ready
        await asyncio.sleep(0.5)


async def _agent(http: httpx.AsyncClient, number: int, load: Load, stop: asyncio.Event) -> None:
    """One agent: opens a conversation, then asks questions in it, opening a new one whenever that failed."""
    conversation: str | None = None
    turn = 0
    while not stop.is_set():
        turn += 1
        if conversation is None:
            created = load.record(number, "create", await http.post("/api/conversations", json={}))
            conversation = created.body["id"] if created.status == 201 else None
            if conversation is None:
                await asyncio.sleep(0.1)
                continue
        question = f"agent {number} question {turn} sur le délai de recours"
        sent = await http.post(f"/api/conversations/{conversation}/messages", json={"content": question})
        load.record(number, f"message {conversation} {question}", sent)
        if sent.status_code != 200:
            await asyncio.sleep(0.1)


async def _run(url: str, key: str, pg: PrivatePostgres) -> tuple[Load, float, float]:
    load = Load()
    stop = asyncio.Event()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        agents = [asyncio.create_task(_agent(http, n, load, stop)) for n in range(CLIENTS)]
        try:
            deadline = time.monotonic() + WARM_UP_S
            while not (len(load.streaks) == CLIENTS and min(load.streaks.values()) >= 2):
                assert time.monotonic() < deadline, f"no steady service before the outage: {load.streaks}"
                await asyncio.sleep(0.05)
            down_at = time.monotonic()
            await asyncio.to_thread(pg.stop)
            await asyncio.sleep(OUTAGE_S)
            await asyncio.to_thread(pg.start)
            up_at = time.monotonic()
            deadline = up_at + RECOVERY_S
            while time.monotonic() < deadline:
                if len(load.streaks) == CLIENTS and min(load.streaks.values()) >= STEADY:
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.gather(*agents)
    return load, down_at, up_at


async def test_postgres_restart_under_chat_load(openai_upstream: FakeUpstream, tmp_path: Path) -> None:
    with PrivatePostgres() as pg:
        await pg.create_database("souverain")
        settings = {
            "data_dir": tmp_path / "data",
            "database_url": pg.url("souverain"),
            "llm_backends": upstream_backends(openai_upstream.url),
            "default_model": "vllm-model",
            "default_requests_per_minute": 100_000,
            "run_worker_in_process": False,
            "log_level": "WARNING",
        }
        # The account is made in this process (migrating the database): a CLI process costs seconds to start.
        async with open_runtime(make_settings(**settings), with_worker=False) as runtime:
            user = await create_local_user(runtime, username="agent.charge", role=Role.AGENT, password=None)
            key = (await create_api_key(runtime, owner_id=user.id, name="charge", scopes=list(Scope))).secret
        log = tmp_path / "service.log"
        with service(settings, log, workers=2) as url:
            load, down_at, up_at = await _run(url, key, pg)
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
                ready = await _readiness(http)
                stored = {
                    conversation: (await http.get(f"/api/conversations/{conversation}")).json()
                    for conversation in {o.what.split()[1] for o in load.outcomes if o.what.startswith("message")}
                }
        async with open_runtime(make_settings(**settings), with_worker=False, migrate=False) as runtime:
            chain = await runtime.audit.verify()

    unexpected = {(o.status, o.text[:300]) for o in load.outcomes if o.status not in (200, 201, 503)}
    assert not unexpected, sorted(unexpected)
    failures = [o for o in load.outcomes if o.status == 503]
    assert failures, "no request met the outage: the test proved nothing"
    for failure in failures:
        assert failure.body is not None and failure.body["error"]["type"] == "service_unavailable_error", failure.text
        assert failure.body["error"]["message"] and "Traceback" not in failure.text and 'File "' not in failure.text
        assert failure.at >= down_at, "nothing fails before PostgreSQL stops"
    assert len(load.streaks) == CLIENTS and min(load.streaks.values()) >= STEADY, (
        f"the service did not recover within {RECOVERY_S:.0f} s: {load.streaks}"
    )
    recovered_at = max(o.at for o in failures)
    assert recovered_at - up_at < RECOVERY_S
    assert ready.status_code == 200, ready.text

    answered = [o for o in load.outcomes if o.what.startswith("message") and o.status == 200]
    assert any(o.at < down_at for o in answered) and any(o.at > up_at for o in answered)
    for outcome in answered:
        _, conversation, question = outcome.what.split(" ", 2)
        messages = {m["id"]: m for m in stored[conversation]["messages"]}
        user, answer = outcome.body["user_message"], outcome.body["message"]
        assert messages.get(user["id"], {}).get("content") == question, "a confirmed question was lost"
        assert messages.get(answer["id"]) == answer, "a confirmed answer was lost or changed"
        assert answer["content"] == fake_reply(question)

    assert chain.ok and chain.events > 0, chain
