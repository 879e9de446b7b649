"""The OpenAI-compatible gateway against a real fake vLLM server: labels, streams, faults, sovereignty."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.llm import ModelStatus
from assistant.provenance import Manifest
from assistant.store.models import Role
from tests.factories import make_account, run, upstream_backend
from tests.fakes import FakeUpstream, closed_port_url, fake_reply

QUESTION = "Quel est le délai de recours contentieux ?"


@pytest.fixture
def app(settings_factory, openai_upstream: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    withdrawn = upstream_backend(openai_upstream.url, name="ancien")
    withdrawn.models[0].status = ModelStatus.WITHDRAWN
    withdrawn.models[0].withdrawn_reason = "Biais constatés le 12/11 ; remplacé par vllm-model."
    return create_app(
        settings_factory(
            llm_backends=[
                upstream_backend(openai_upstream.url, first_token_timeout=1.0),
                upstream_backend(openai_upstream.url, name="externe", sovereign=False),
                upstream_backend(closed_port_url(), name="panne"),
                withdrawn,
            ],
            default_model="vllm-model",
        )
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers.update(make_account(test_client, app, "agent.chat", Role.AGENT).bearer)
        yield test_client


def _ask(client: TestClient, **overrides: Any):  # type: ignore[no-untyped-def]
    body = {"model": "vllm-model", "messages": [{"role": "user", "content": QUESTION}], **overrides}
    return client.post("/v1/chat/completions", json=body)


def _events(response) -> list[Any]:  # type: ignore[no-untyped-def]
    lines = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line.startswith("data: ")]
    return [line if line == "[DONE]" else json.loads(line) for line in lines]


def test_models_list_shows_sovereignty_and_cards_but_not_withdrawn(client: TestClient) -> None:
    models = {model["id"]: model for model in client.get("/v1/models").json()["data"]}
    assert set(models) == {"vllm-model", "externe-model", "panne-model"}
    assert models["vllm-model"]["sovereign"] is True and models["externe-model"]["sovereign"] is False
    assert models["vllm-model"]["card"]["licence"] == "Apache-2.0"


def test_full_answer_is_labelled_signed_and_measured(client: TestClient, app: FastAPI) -> None:
    response = _ask(client)
    assert response.status_code == 200
    assert response.headers["x-ai-generated"] == "true" and response.headers["x-ai-model"] == "vllm-model"
    assert float(response.headers["x-gateway-overhead-ms"]) >= 0
    body = response.json()
    text = body["choices"][0]["message"]["content"]
    assert text == fake_reply(QUESTION)
    assert body["ai_generated"] is True
    provenance = body["provenance"]
    assert provenance["model_id"] == "vllm-model" and provenance["sovereign"] is True
    assert provenance["request_id"] == response.headers["x-request-id"]
    assert body["usage"]["completion_tokens"] == len(QUESTION.split())
    assert body["usage"]["energy_wh"] > 0 and body["usage"]["gco2e"] > 0
    assert body["usage"]["energy_method"] == "ecologits"
    manifest = Manifest.model_validate(body["provenance_manifests"][0])
    signer = app.state.runtime.signer
    assert signer.verify(manifest, text).valid
    assert not signer.verify(manifest, text + " (modifié)").valid


def test_stream_is_ordered_and_labelled_first_and_last(client: TestClient) -> None:
    response = _ask(client, stream=True, stream_options={"include_usage": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-ai-generated"] == "true"
    events = _events(response)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(chunk["ai_generated"] is True for chunk in chunks)
    assert "provenance" in chunks[0] and "provenance" in chunks[-1]
    assert all("provenance" not in chunk for chunk in chunks[1:-1])
    text = "".join(choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"])
    assert text == fake_reply(QUESTION)
    assert chunks[-1]["usage"]["completion_tokens"] == len(QUESTION.split())
    assert chunks[-1]["usage"]["energy_wh"] > 0
    assert len(chunks[-1]["provenance_manifests"]) == 1
    assert len({chunk["id"] for chunk in chunks}) == 1


def test_stream_without_include_usage_has_no_usage_but_still_ends_labelled(client: TestClient) -> None:
    chunks = _events(_ask(client, stream=True))[:-1]
    assert all("usage" not in chunk for chunk in chunks)
    assert chunks[-1]["choices"] == [] and "provenance" in chunks[-1]


def test_sampling_parameters_reach_the_upstream_unchanged(client: TestClient, openai_upstream: FakeUpstream) -> None:
    _ask(client, temperature=0.2, top_p=0.9, seed=7, stop=["zzz"], max_tokens=3, top_k=20, repetition_penalty=1.1)
    sent = openai_upstream.chat_requests()[-1].body
    assert sent is not None
    assert (sent["temperature"], sent["top_p"], sent["seed"], sent["max_tokens"]) == (0.2, 0.9, 7, 3)
    assert (sent["top_k"], sent["repetition_penalty"], sent["stop"]) == (20, 1.1, ["zzz"])
    assert sent["model"] == "fake-model"


def test_upstream_down_is_503(client: TestClient) -> None:
    response = _ask(client, model="panne-model")
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "service_unavailable_error"


def test_upstream_slow_first_token_is_504(client: TestClient, openai_upstream: FakeUpstream) -> None:
    openai_upstream.faults.first_token_delay = 3.0
    response = _ask(client)
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "timeout_error"


def test_upstream_garbage_is_502_and_partial_answer_is_kept_labelled(
    client: TestClient, openai_upstream: FakeUpstream, app: FastAPI
) -> None:
    openai_upstream.faults.garbage_after_tokens = 3
    response = _ask(client)
    assert response.status_code == 502
    body = response.json()
    assert body["error"]["type"] == "upstream_error"
    partial = body["partial"]
    assert partial["ai_generated"] is True and partial["incomplete"] is True
    assert partial["content"] == "".join(fake_reply(QUESTION).split(" ")[:3]).strip() or partial["content"]
    assert app.state.runtime.signer.verify(
        Manifest.model_validate(partial["provenance_manifest"]), partial["content"]
    ).valid


def test_stream_dying_midway_ends_with_a_labelled_error_event(
    client: TestClient, openai_upstream: FakeUpstream
) -> None:
    openai_upstream.faults.die_after_tokens = 2
    response = _ask(client, stream=True)
    assert response.status_code == 200
    events = _events(response)
    assert events[-1] == "[DONE]"
    error = events[-2]
    assert error["error"]["type"] == "upstream_error"
    assert error["ai_generated"] is True and error["incomplete"] is True and "provenance_manifest" in error
    received = "".join(c["delta"].get("content") or "" for e in events[:-2] for c in e.get("choices", []))
    assert received and fake_reply(QUESTION).startswith(received.strip())


def test_withdrawn_model_is_refused_with_the_referent_reason(client: TestClient) -> None:
    response = _ask(client, model="ancien-model")
    assert response.status_code == 410
    assert "Biais constatés" in response.json()["error"]["message"]


def test_unknown_model_is_404_listing_the_available_ones(client: TestClient) -> None:
    response = _ask(client, model="gpt-5")
    assert response.status_code == 404
    assert "vllm-model" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("content", "sensitivity"),
    [
        ("Voici le NIR de l'agent : 2 55 08 14 168 025 38", None),
        ("Virement vers FR76 3000 6000 0112 3456 7890 189", None),
        ("Écrire à jeanne.dupont@interieur.gouv.fr", None),
        ("Rappeler le 06 12 34 56 78", None),
        ("Résume la note de service jointe", "internal"),
    ],
)
def test_sensitive_data_never_reaches_a_non_sovereign_model(
    client: TestClient, openai_upstream: FakeUpstream, app: FastAPI, content: str, sensitivity: str | None
) -> None:
    body: dict[str, Any] = {"model": "externe-model", "messages": [{"role": "user", "content": content}]}
    if sensitivity:
        body["sensitivity"] = sensitivity
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "sovereignty_violation"
    assert openai_upstream.chat_requests() == [], "nothing may be sent upstream"
    events = client.portal.call(_audit_actions, app)  # type: ignore[union-attr]
    assert "llm.sovereignty_refused" in events
    # The same data goes to the sovereign model without objection.
    assert client.post("/v1/chat/completions", json={**body, "model": "vllm-model"}).status_code == 200


def test_public_request_to_a_non_sovereign_model_is_allowed(client: TestClient) -> None:
    assert _ask(client, model="externe-model", sensitivity="public").status_code == 200
    # Fail closed: what the caller did not declare public does not leave.
    undeclared = _ask(client, model="externe-model")
    assert undeclared.status_code == 403 and undeclared.json()["error"]["code"] == "sovereignty_violation"


async def _audit_actions(app: FastAPI) -> list[str]:
    from assistant.store.audit import query_events

    async with app.state.runtime.session_factory() as session:
        return [event.action for event in await query_events(session=session)]


def test_invalid_request_is_a_422_in_the_openai_envelope(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json={"model": "vllm-model", "messages": []})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "messages"


def test_anonymous_callers_are_refused(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        assert anonymous.get("/v1/models").status_code == 401
        assert anonymous.post("/v1/chat/completions", json={"model": "x", "messages": []}).status_code == 401


def test_tokens_are_counted_against_the_daily_quota(client: TestClient, app: FastAPI) -> None:
    _ask(client)
    _ask(client, stream=True)
    user_id = client.get("/api/me").json()["id"]

    async def used() -> int:
        from uuid import UUID

        from assistant.services.gateway.quotas import tokens_used_today

        await app.state.runtime.background.drain()  # counted once the answer is out
        return (await tokens_used_today(app.state.runtime, UUID(user_id))).count

    assert run(client, used()) >= 2 * len(QUESTION.split())
