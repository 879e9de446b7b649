"""Fallback chains, on real fake-upstream servers on 127.0.0.1 (one stopped, one saturated): the configuration is
checked at start, a model down or saturated before its first byte gives way to the next model of its chain that
the caller may use, and the answer, its provenance, the usage record and the audit log name the model that
answered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.llm import BackendConfig, BackendConfigError, ModelConfig, ModelRegistry
from assistant.provenance import Manifest, Provenance
from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.audit import query_events
from assistant.store.models import Role, UsageRecord
from tests.factories import make_account, model_card, run, runtime_of, upstream_backend
from tests.fakes import FakeUpstream, closed_port_url, fake_reply
from tests.fakes.live_app import LiveServer

QUESTION = "Quel est le délai de recours contentieux ?"
GROUP = "cellule de crise"


def _backend(url: str, *, name: str, fallback: list[str] | None = None, **fields: Any) -> BackendConfig:
    """The suite's upstream backend with a fallback chain, validated as the settings would be."""
    config = upstream_backend(url, name=name, **fields).model_dump()
    return BackendConfig.model_validate({**config, "fallback": fallback or []})


def _events(text: str) -> list[Any]:
    lines = [line.removeprefix("data: ") for line in text.split("\n\n") if line.startswith("data: ")]
    return [line if line == "[DONE]" else json.loads(line) for line in lines]


@pytest.fixture
def primary() -> Iterator[FakeUpstream]:
    """A model server of its own for the requested model, so that its faults leave the fallbacks' server alone."""
    server = FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def app(settings_factory, openai_upstream: FakeUpstream, primary: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    down = closed_port_url()
    return create_app(
        settings_factory(
            llm_backends=[
                _backend(down, name="principal", fallback=["reserve-model", "secours-model"]),
                _backend(primary.url, name="vif", fallback=["secours-model"]),
                _backend(down, name="panne", fallback=["panne2-model"]),
                _backend(closed_port_url(), name="panne2"),
                _backend(openai_upstream.url, name="reserve"),
                _backend(openai_upstream.url, name="secours"),
            ]
        )
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _ask(client: TestClient, headers: dict[str, str], model: str = "principal-model", **body: Any) -> httpx.Response:
    request = {"model": model, "messages": [{"role": "user", "content": QUESTION}], **body}
    return client.post("/v1/chat/completions", json=request, headers=headers)


# ---- configuration ---------------------------------------------------------------------------------------


def test_the_configuration_refuses_unknown_self_and_less_sovereign_fallbacks(settings_factory) -> None:  # type: ignore[no-untyped-def]
    url = closed_port_url()
    external = upstream_backend(url, name="externe", sovereign=False)

    with pytest.raises(BackendConfigError, match="« absent-model » du modèle « vllm-model » est inconnu"):
        ModelRegistry.from_configs([_backend(url, name="vllm", fallback=["absent-model"])])
    with pytest.raises(BackendConfigError, match="« vllm-model » ne peut pas être son propre"):
        ModelRegistry.from_configs([_backend(url, name="vllm", fallback=["vllm-model"])])
    with pytest.raises(BackendConfigError) as less:
        ModelRegistry.from_configs([_backend(url, name="vllm", fallback=["externe-model"]), external])
    assert "« externe-model » n'est pas souverain, alors que le modèle « vllm-model » l'est" in less.value.message
    with pytest.raises(ValidationError, match="cité deux fois"):
        _backend(url, name="vllm", fallback=["a", "a"])
    # A per-model sovereignty flag counts, not only the backend's.
    mixed = _backend(url, name="vllm", fallback=["maison-externe"])
    mixed.models.append(
        ModelConfig(id="maison-externe", upstream_name="fake-model", sovereign=False, card=model_card())
    )
    with pytest.raises(BackendConfigError, match="« maison-externe » n'est pas souverain"):
        ModelRegistry.from_configs([mixed])

    # More sovereign is fine: a non-sovereign model may fall back on a sovereign one (registered later, too).
    registry = ModelRegistry.from_configs(
        [_backend(url, name="externe", sovereign=False, fallback=["vllm-model"]), upstream_backend(url)]
    )
    assert registry.get("externe-model").fallback == ("vllm-model",)
    # The one-model short form the Helm chart writes takes the field as well.
    short = {"id": "m", "kind": "openai", "base_url": url, "model": "fake-model", "sovereign": True, "fallback": ["n"]}
    assert BackendConfig.model_validate(short).fallback == ["n"]

    # The service refuses to start on such a configuration.
    app = create_app(settings_factory(llm_backends=[_backend(url, name="vllm", fallback=["externe-model"]), external]))
    with pytest.raises(BackendConfigError, match="externe-model"), TestClient(app):
        pass


# ---- serving ---------------------------------------------------------------------------------------------


def test_a_model_down_gives_way_and_every_record_names_the_model_that_answered(
    client: TestClient, app: FastAPI, openai_upstream: FakeUpstream
) -> None:
    agent = make_account(client, app, "agent.repli", Role.AGENT)

    response = _ask(client, agent.bearer)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["choices"][0]["message"]["content"] == fake_reply(QUESTION)
    assert body["model"] == "reserve-model" and body["fallback_from"] == "principal-model", "the chain's first"
    assert response.headers["x-ai-model"] == "reserve-model"
    assert response.headers["x-ai-fallback-from"] == "principal-model"
    provenance = body["provenance"]
    assert provenance["model_id"] == "reserve-model" and provenance["sovereign"] is True
    assert provenance["backend"] == "reserve (openai) — repli pour « principal-model » (indisponible)"
    (signed,) = body["provenance_manifests"]
    manifest = Manifest.model_validate(signed)
    assert manifest.provenance == Provenance.model_validate(provenance), "the signed provenance says it too"
    assert runtime_of(app).signer.verify(manifest, fake_reply(QUESTION)).valid
    assert [r.body["model"] for r in openai_upstream.chat_requests() if r.body] == ["fake-model"]

    async def records() -> tuple[list[str], list[dict[str, Any]]]:
        runtime = runtime_of(app)
        await runtime.background.drain()  # the gateway writes its usage records after the answer
        async with runtime.session_factory() as session:
            usage = (await session.execute(select(UsageRecord.model_id))).scalars().all()
            events = await query_events(session=session, action_prefix="llm.fallback")
        return list(usage), [dict(event.details or {}) for event in events]

    usage, audited = run(client, records())
    assert usage == ["reserve-model"], "tokens and energy are the answering model's"
    assert audited == [
        {"requested_model": "principal-model", "answered_model": "reserve-model", "reason": "upstream_unavailable"}
    ]


def test_a_stream_falls_back_before_its_first_event(client: TestClient, app: FastAPI) -> None:
    agent = make_account(client, app, "agent.flux", Role.AGENT)

    response = _ask(client, agent.bearer, stream=True, stream_options={"include_usage": True})

    assert response.status_code == 200
    assert response.headers["x-ai-model"] == "reserve-model"
    assert response.headers["x-ai-fallback-from"] == "principal-model"
    events = _events(response.text)
    assert events[-1] == "[DONE]"
    first, last = events[0], events[-2]
    assert first["provenance"]["model_id"] == "reserve-model" and first["fallback_from"] == "principal-model"
    assert last["provenance"]["model_id"] == "reserve-model" and last["fallback_from"] == "principal-model"
    assert "repli pour « principal-model »" in last["provenance_manifests"][0]["provenance"]["backend"]
    assert {event["model"] for event in events[:-1]} == {"reserve-model"}
    text = "".join(c["delta"].get("content") or "" for e in events[:-1] for c in e.get("choices", []))
    assert text == fake_reply(QUESTION)
    assert last["usage"]["completion_tokens"] == len(QUESTION.split())


def test_fallbacks_the_caller_may_not_use_are_skipped(client: TestClient, app: FastAPI) -> None:
    referent = make_account(client, app, "referent.repli", Role.REFERENT).bearer
    member = make_account(client, app, "agent.crise", Role.AGENT)
    outsider = make_account(client, app, "agent.autre", Role.AGENT).bearer
    group = client.post("/api/admin/groups", json={"name": GROUP}, headers=referent)
    assert group.status_code == 201, group.text
    assert (
        client.put(f"/api/admin/groups/{group.json()['id']}/members/{member.id}", headers=referent).status_code == 204
    )
    reserved = client.post(
        "/api/governance/models/access", json={"model": "reserve-model", "groups": [GROUP]}, headers=referent
    )
    assert reserved.status_code == 200, reserved.text

    assert _ask(client, member.bearer).json()["model"] == "reserve-model"
    answered = _ask(client, outsider)
    assert answered.status_code == 200 and answered.json()["model"] == "secours-model", "reserve-model is not theirs"
    assert answered.json()["fallback_from"] == "principal-model"


def test_when_the_whole_chain_fails_the_requested_models_error_names_the_fallbacks_tried(
    client: TestClient, app: FastAPI
) -> None:
    agent = make_account(client, app, "agent.panne", Role.AGENT).bearer

    whole = _ask(client, agent, model="panne-model")
    assert whole.status_code == 503
    error = whole.json()["error"]
    assert error["code"] == "upstream_unavailable"
    assert (
        "injoignable" in error["message"]
        and "Modèles de repli essayés sans succès : « panne2-model »" in (error["message"])
    )

    streamed = _ask(client, agent, model="panne-model", stream=True)
    assert streamed.status_code == 200, "a stream reports its upstream failure in-band, labelled"
    *_, failure, done = _events(streamed.text)
    assert done == "[DONE]" and failure["error"]["code"] == "upstream_unavailable"
    assert failure["ai_generated"] is True and failure["provenance"]["model_id"] == "panne-model"


def test_a_failure_after_the_first_byte_is_not_repeated_by_a_fallback(
    client: TestClient, app: FastAPI, primary: FakeUpstream, openai_upstream: FakeUpstream
) -> None:
    agent = make_account(client, app, "agent.coupure", Role.AGENT).bearer
    primary.faults.die_after_tokens = 2

    response = _ask(client, agent, model="vif-model")

    assert response.status_code == 502
    assert response.json()["partial"]["content"], "what was generated is kept, labelled"
    assert openai_upstream.chat_requests() == [], "another model would not continue the same answer"
    primary.faults.die_after_tokens = None
    assert _ask(client, agent, model="vif-model").json()["model"] == "vif-model", "no fallback while it answers"


# ---- saturation ------------------------------------------------------------------------------------------


async def _api_key(settings: Settings) -> str:
    async with open_runtime(settings, with_worker=False) as runtime:
        user = await create_local_user(runtime, username="agent.sature", role=Role.AGENT, password=None)
        return (await create_api_key(runtime, owner_id=user.id, name="client", scopes=[Scope.CHAT])).secret


def test_a_saturated_model_gives_way_while_its_only_slot_is_taken(  # type: ignore[no-untyped-def]
    settings_factory, primary: FakeUpstream, openai_upstream: FakeUpstream
) -> None:
    fleet = BackendConfig(
        name="flotte",
        kind="replicas",
        sovereign=True,
        # One slot and no waiting line: a second request while one runs is saturated at once.
        options={"replicas": [{"base_url": primary.url, "max_concurrency": 1}], "max_queue": 0},
        models=[ModelConfig(id="flotte-model", upstream_name="fake-model", card=model_card())],
        fallback=["secours-model"],
    )
    settings = settings_factory(llm_backends=[fleet, upstream_backend(openai_upstream.url, name="secours")])
    key = asyncio.run(_api_key(settings))
    primary.faults.tokens_per_second = 4  # the first answer holds the slot for about two seconds
    body = {"model": "flotte-model", "messages": [{"role": "user", "content": QUESTION}]}

    async def scenario(url: str) -> tuple[str, dict[str, Any], httpx.Headers]:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            async with http.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as held:
                assert held.status_code == 200 and held.headers["x-ai-model"] == "flotte-model"
                second = await http.post("/v1/chat/completions", json=body)
                first_text = "".join(
                    c["delta"].get("content") or ""
                    for e in _events((await held.aread()).decode())[:-1]
                    for c in e.get("choices", [])
                )
            return first_text, second.json(), second.headers

    with LiveServer(create_app(settings)) as server:
        first_text, second, headers = asyncio.run(scenario(server.url))

    assert first_text == fake_reply(QUESTION), "the request holding the slot is served by its own model"
    assert second["model"] == "secours-model" and second["fallback_from"] == "flotte-model"
    assert headers["x-ai-fallback-from"] == "flotte-model"
    assert "repli pour « flotte-model » (saturé)" in second["provenance"]["backend"]
    assert second["choices"][0]["message"]["content"] == fake_reply(QUESTION)
    assert len(primary.chat_requests()) == 1 and len(openai_upstream.chat_requests()) == 1
