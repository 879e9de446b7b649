"""A model served by several replicas (real fake-upstream servers on 127.0.0.1 that are stopped, restarted or
made to fail): balancing, failover before the first byte, ejection and re-admission, health, the whole API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.llm import BackendConfig, ChatRequest, ModelConfig
from assistant.llm.errors import UpstreamError, UpstreamSaturatedError, UpstreamUnavailableError
from assistant.llm.replicas import ReplicaPoolBackend
from assistant.store.models import Role
from tests.factories import make_account, model_card
from tests.fakes import FakeUpstream, fake_reply

QUESTION = "Quel est le délai de recours ?"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def upstreams() -> Iterator[list[FakeUpstream]]:
    servers = [FakeUpstream().start() for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


def _pool(upstreams: list[FakeUpstream], clock: Clock | None = None, **options: object) -> ReplicaPoolBackend:
    raw = {
        "replicas": [{"base_url": u.url, "name": f"noeud-{i}"} for i, u in enumerate(upstreams)],
        "eject_after": 2,
        "eject_seconds": 30,
        **options,
    }
    backend = ReplicaPoolBackend.from_options(raw)
    assert isinstance(backend, ReplicaPoolBackend)
    if clock is not None:
        backend._clock = clock
    return backend


def _ask() -> ChatRequest:
    return ChatRequest(model="fake-model", messages=[{"role": "user", "content": QUESTION}])


async def _answers(pool: ReplicaPoolBackend, count: int) -> list[str]:
    return [(await pool.complete(_ask())).choices[0].text for _ in range(count)]


def test_both_replicas_serve_and_a_dead_one_costs_no_request(upstreams: list[FakeUpstream]) -> None:
    clock = Clock()
    pool = _pool(upstreams, clock)

    async def scenario() -> None:
        assert await _answers(pool, 8) == [fake_reply(QUESTION)] * 8
        assert all(replica.served > 0 for replica in pool.replicas), "idle replicas share the traffic"
        upstreams[1].stop()
        assert await _answers(pool, 10) == [fake_reply(QUESTION)] * 10, "failover before the first byte"
        dead = pool.replicas[1]
        assert dead.ejected(clock.now) and dead.consecutive_failures == 2
        served_before = pool.replicas[0].served
        assert await _answers(pool, 5) == [fake_reply(QUESTION)] * 5
        assert dead.consecutive_failures == 2, "an ejected replica is not tried while another is up"
        assert pool.replicas[0].served == served_before + 5
        health = await pool.health()
        assert health.status == "degraded" and "noeud-1 : down" in health.detail

        upstreams[1].start()
        clock.now += 31  # the ejection ran out: one request may go there again
        for _ in range(6):
            await pool.complete(_ask())
        assert dead.ejected_until is None and dead.consecutive_failures == 0, "re-admitted once it answers"
        assert (await pool.health()).status == "ok"
        await pool.aclose()

    asyncio.run(scenario())


def test_overloaded_replica_is_skipped_and_a_mid_stream_failure_is_not_retried(upstreams: list[FakeUpstream]) -> None:
    pool = _pool(upstreams)

    async def scenario() -> None:
        upstreams[0].faults.status = 503
        assert await _answers(pool, 4) == [fake_reply(QUESTION)] * 4
        upstreams[0].faults.status = None
        upstreams[0].faults.die_after_tokens = 2
        upstreams[1].faults.die_after_tokens = 2
        with pytest.raises(UpstreamError) as raised:
            await pool.complete(_ask())
        assert raised.value.partial_text, "what the user saw is kept; nothing is repeated by another replica"
        await pool.aclose()

    asyncio.run(scenario())


def test_every_replica_down_is_a_clear_503(upstreams: list[FakeUpstream]) -> None:
    pool = _pool(upstreams)
    for upstream in upstreams:
        upstream.stop()

    async def scenario() -> None:
        with pytest.raises(UpstreamUnavailableError) as raised:
            await pool.complete(_ask())
        assert "Aucun réplica du modèle n'a pu répondre (noeud-0, noeud-1)" in raised.value.message
        assert (await pool.health()).status == "down"
        await pool.aclose()

    asyncio.run(scenario())


def test_least_outstanding_and_weights(upstreams: list[FakeUpstream]) -> None:
    pool = _pool(upstreams)
    pool.replicas[0].outstanding = 3
    assert {pool._pick(set()) for _ in range(20)} == {1}, "the replica with fewer requests in flight"
    heavy = _pool(upstreams)
    heavy.replicas[0].weight = 4
    heavy.replicas[0].outstanding = 2
    heavy.replicas[1].outstanding = 1
    assert heavy._pick(set()) == 0, "(2 + 1) / 4 < (1 + 1) / 1: the bigger node takes more"


def test_the_service_answers_through_replicas_while_one_is_down(  # type: ignore[no-untyped-def]
    settings_factory, upstreams: list[FakeUpstream]
) -> None:
    config = BackendConfig(
        name="flotte",
        kind="replicas",
        sovereign=True,
        options={"replicas": [{"base_url": u.url} for u in upstreams]},
        models=[ModelConfig(id="mistral-small", upstream_name="fake-model", card=model_card())],
    )
    app = create_app(settings_factory(llm_backends=[config]))
    upstreams[0].stop()
    with TestClient(app, raise_server_exceptions=False) as client:
        agent = make_account(client, app, "agent.flotte", Role.AGENT).bearer
        for _ in range(4):
            response = client.post(
                "/v1/chat/completions",
                json={"model": "mistral-small", "messages": [{"role": "user", "content": QUESTION}]},
                headers=agent,
            )
            assert response.status_code == 200, response.text
            assert response.json()["choices"][0]["message"]["content"] == fake_reply(QUESTION)
        ready = client.get("/readyz").json()
        detail = str(ready)
        assert "réplica 1 : down" in detail and "réplica 2 : ok" in detail
        metrics = client.get("/metrics").text
        assert 'souverain_llm_replica_served_total{backend="flotte",replica="réplica 2"' in metrics
        assert 'souverain_llm_replica_ejected{backend="flotte",replica="réplica 1"' in metrics


def test_the_referent_sees_each_replica_on_the_models_page(  # type: ignore[no-untyped-def]
    settings_factory, upstreams: list[FakeUpstream]
) -> None:
    import re

    from tests.factories import PASSWORD

    config = BackendConfig(
        name="flotte",
        kind="replicas",
        sovereign=True,
        options={"replicas": [{"base_url": u.url, "name": f"gpu-{i}"} for i, u in enumerate(upstreams)]},
        models=[ModelConfig(id="mistral-small", upstream_name="fake-model", card=model_card())],
    )
    app = create_app(settings_factory(llm_backends=[config]))
    with TestClient(app, raise_server_exceptions=False) as client:
        make_account(client, app, "referent.flotte", Role.REFERENT)
        form = client.get("/connexion").text
        token = re.search(r'name="jeton" value="([^"]+)"', form)
        assert token
        client.post(
            "/connexion",
            data={"identifiant": "referent.flotte", "mot_de_passe": PASSWORD, "jeton": token.group(1), "suivant": "/"},
        )
        page = client.get("/admin/modeles").text
        assert "Réplicas de mistral-small" in page and "gpu-0" in page and "gpu-1" in page and "En service" in page


def test_under_saturation_priorities_go_first_and_the_line_is_bounded(upstreams: list[FakeUpstream]) -> None:
    """One slot, a flood of low-priority requests, then an interactive one: it is served next, not last."""
    upstreams[0].faults.first_token_delay = 0.4  # each answer holds the slot a little while
    pool = ReplicaPoolBackend.from_options(
        {"replicas": [{"base_url": upstreams[0].url, "max_concurrency": 1}], "max_queue": 6, "queue_timeout": 20}
    )
    assert isinstance(pool, ReplicaPoolBackend)
    finished: list[str] = []

    async def ask(name: str, priority: int) -> None:
        request = ChatRequest(model="fake-model", messages=[{"role": "user", "content": QUESTION}], priority=priority)
        await pool.complete(request)
        finished.append(name)

    async def scenario() -> None:
        flood = [asyncio.create_task(ask(f"lot-{i}", 0)) for i in range(6)]
        await asyncio.sleep(0.2)  # the first holds the slot, five wait
        interactive = asyncio.create_task(ask("agent", 10))
        await asyncio.sleep(0.05)
        with pytest.raises(UpstreamSaturatedError) as full:
            await ask("de trop", 0)
        assert full.value.retry_after >= 1 and "saturé" in full.value.message
        await asyncio.gather(*flood, interactive)
        await pool.aclose()

    asyncio.run(scenario())
    assert finished.index("agent") == 1, f"the interactive request is served right after the one running: {finished}"
    assert len(finished) == 7
