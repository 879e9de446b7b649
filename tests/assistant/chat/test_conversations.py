"""Conversations through the API against the fake upstream: lifecycle, ownership, labels, streams, failures."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.provenance import Manifest
from assistant.store.audit import query_events
from tests.factories import Account, run, sse_events
from tests.fakes import FakeUpstream, fake_reply

QUESTION = "Quel est le délai de recours contentieux contre une décision administrative ?"


def _new(client: TestClient, who: Account, **body: Any) -> dict[str, Any]:
    response = client.post("/api/conversations", json=body, headers=who.bearer)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _send(client: TestClient, who: Account, conversation_id: str, content: str = QUESTION, **body: Any):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/conversations/{conversation_id}/messages", json={"content": content, **body}, headers=who.bearer
    )


def _audit_actions(client: TestClient, app: FastAPI) -> list[str]:
    async def actions() -> list[str]:
        async with app.state.runtime.session_factory() as session:
            return [event.action for event in await query_events(session=session)]

    return run(client, actions())


def test_lifecycle_create_answer_list_rename_delete(client: TestClient, app: FastAPI, alice: Account) -> None:
    created = _new(client, alice)
    assert created["title"] == "Nouvelle conversation" and created["model_id"] == "vllm-model"

    response = _send(client, alice, created["id"])
    assert response.status_code == 200, response.text
    assert response.headers["x-ai-generated"] == "true" and response.headers["x-ai-model"] == "vllm-model"
    exchange = response.json()
    answer = exchange["message"]
    assert exchange["user_message"]["content"] == QUESTION and exchange["user_message"]["ai_generated"] is False
    assert answer["content"] == fake_reply(QUESTION)
    assert answer["ai_generated"] is True and answer["incomplete"] is False and answer["finish_reason"] == "stop"
    assert answer["provenance"]["model_id"] == "vllm-model" and answer["provenance"]["human_reviewed"] is False
    assert answer["usage"]["completion_tokens"] == len(QUESTION.split()) and answer["usage"]["energy_wh"] > 0
    manifest = Manifest.model_validate(answer["provenance_manifest"])
    assert app.state.runtime.signer.verify(manifest, answer["content"]).valid

    detail = client.get(f"/api/conversations/{created['id']}", headers=alice.bearer).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][1] == answer, "what is stored is what was returned"
    assert detail["title"].startswith("Quel est le délai"), "the first message names an untitled conversation"

    renamed = client.patch(f"/api/conversations/{created['id']}", json={"title": "Recours"}, headers=alice.bearer)
    assert renamed.status_code == 200 and renamed.json()["title"] == "Recours"
    _send(client, alice, created["id"], "Et en appel ?")
    assert client.get(f"/api/conversations/{created['id']}", headers=alice.bearer).json()["title"] == "Recours"

    second = _new(client, alice, title="Autre sujet")
    listed = client.get("/api/conversations", headers=alice.bearer).json()
    assert listed["total"] == 2 and [c["id"] for c in listed["items"]] == [second["id"], created["id"]]

    assert client.delete(f"/api/conversations/{created['id']}", headers=alice.bearer).status_code == 204
    assert client.get(f"/api/conversations/{created['id']}", headers=alice.bearer).status_code == 404
    assert client.get("/api/conversations", headers=alice.bearer).json()["total"] == 1
    actions = _audit_actions(client, app)
    assert {"conversation.create", "conversation.update", "conversation.delete"} <= set(actions)


def test_history_is_sent_back_with_the_system_prompt(
    client: TestClient, alice: Account, openai_upstream: FakeUpstream, app: FastAPI
) -> None:
    conversation = _new(client, alice)
    _send(client, alice, conversation["id"], "Première question")
    _send(client, alice, conversation["id"], "Deuxième question")
    sent = openai_upstream.chat_requests()[-1].body
    assert sent is not None
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["messages"][0]["content"] == app.state.runtime.settings.chat_system_prompt
    assert sent["messages"][2]["content"] == fake_reply("Première question")
    assert sent["messages"][3]["content"] == "Deuxième question"


def test_another_agent_gets_404_on_everything(client: TestClient, alice: Account, bob: Account) -> None:
    conversation = _new(client, alice)
    answer = _send(client, alice, conversation["id"]).json()["message"]
    base = f"/api/conversations/{conversation['id']}"
    attempts = [
        ("GET", base, None),
        ("PATCH", base, {"title": "volé"}),
        ("DELETE", base, None),
        ("POST", f"{base}/messages", {"content": "Bonjour"}),
        ("POST", f"{base}/messages/{answer['id']}/review", None),
        ("GET", f"{base}/export", None),
        ("GET", f"{base}/messages/{answer['id']}/export", None),
    ]
    for method, path, body in attempts:
        response = client.request(method, path, json=body, headers=bob.bearer)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert client.get("/api/conversations", headers=bob.bearer).json()["total"] == 0
    still = client.get(base, headers=alice.bearer).json()
    assert still["title"] != "volé" and len(still["messages"]) == 2
    missing = client.get(f"/api/conversations/{uuid.uuid4()}", headers=alice.bearer)
    assert missing.status_code == 404 and missing.json()["error"]["message"] == bob_message(missing.json())


def bob_message(body: dict[str, Any]) -> str:
    # A foreign conversation and a missing one answer exactly alike.
    return "Conversation introuvable."


def test_streamed_answer_is_labelled_first_and_last_and_stored(client: TestClient, alice: Account) -> None:
    conversation = _new(client, alice)
    response = _send(client, alice, conversation["id"], stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-ai-generated"] == "true"
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-1] == "message_end" and set(names[1:-1]) == {"delta"}
    start, end = events[0][1], events[-1][1]
    assert start["ai_generated"] is True and start["provenance"]["model_id"] == "vllm-model"
    assert end["ai_generated"] is True and end["message"]["provenance_manifest"]["ai_generated"] is True
    text = "".join(data["content"] for name, data in events if name == "delta")
    assert text == fake_reply(QUESTION) == end["message"]["content"]
    stored = client.get(f"/api/conversations/{conversation['id']}", headers=alice.bearer).json()["messages"][1]
    assert stored["id"] == start["message_id"] and stored["content"] == text and stored["incomplete"] is False


def test_upstream_death_mid_stream_keeps_the_partial_answer_incomplete(
    client: TestClient, alice: Account, openai_upstream: FakeUpstream, app: FastAPI
) -> None:
    conversation = _new(client, alice)
    openai_upstream.faults.die_after_tokens = 3
    events = sse_events(_send(client, alice, conversation["id"], stream=True).text)
    name, error = events[-1]
    assert name == "error" and error["error"]["type"] == "upstream_error"
    assert error["ai_generated"] is True and error["incomplete"] is True
    received = "".join(data["content"] for n, data in events if n == "delta")
    assert received == "".join(fake_reply(QUESTION).split(" ")[:3]).strip() or fake_reply(QUESTION).startswith(
        received.strip()
    )
    assert received and error["message"]["content"] == received
    stored = client.get(f"/api/conversations/{conversation['id']}", headers=alice.bearer).json()["messages"][1]
    assert stored["incomplete"] is True and stored["content"] == received
    assert app.state.runtime.signer.verify(Manifest.model_validate(stored["provenance_manifest"]), received).valid


def test_upstream_failure_without_stream_keeps_the_partial_answer(
    client: TestClient, alice: Account, openai_upstream: FakeUpstream
) -> None:
    conversation = _new(client, alice)
    openai_upstream.faults.garbage_after_tokens = 2
    response = _send(client, alice, conversation["id"])
    assert response.status_code == 502
    body = response.json()
    assert body["error"]["type"] == "upstream_error"
    partial = body["message"]
    assert partial["incomplete"] is True and partial["ai_generated"] is True and partial["content"]
    stored = client.get(f"/api/conversations/{conversation['id']}", headers=alice.bearer).json()["messages"]
    assert stored[-1]["id"] == partial["id"] and stored[-1]["incomplete"] is True


def test_upstream_down_before_any_token_leaves_only_the_question(
    client: TestClient, alice: Account, openai_upstream: FakeUpstream
) -> None:
    conversation = _new(client, alice)
    openai_upstream.faults.status = 503
    assert _send(client, alice, conversation["id"]).status_code == 503
    stored = client.get(f"/api/conversations/{conversation['id']}", headers=alice.bearer).json()["messages"]
    assert [m["role"] for m in stored] == ["user"], "no empty answer is kept"


@pytest.mark.parametrize(
    "content",
    [
        "Le NIR de l'agent est 2 55 08 14 168 025 38",
        "Virement vers FR76 3000 6000 0112 3456 7890 189",
        "Écrire à jeanne.dupont@interieur.gouv.fr",
        "Rappeler le 06 12 34 56 78",
    ],
)
def test_personal_data_never_reaches_a_non_sovereign_model(
    client: TestClient, alice: Account, openai_upstream: FakeUpstream, app: FastAPI, content: str
) -> None:
    conversation = _new(client, alice, model="externe-model")
    response = _send(client, alice, conversation["id"], content)
    assert response.status_code == 403 and response.json()["error"]["code"] == "sovereignty_violation"
    assert openai_upstream.chat_requests() == []
    assert "llm.sovereignty_refused" in _audit_actions(client, app)
    stored = client.get(f"/api/conversations/{conversation['id']}", headers=alice.bearer).json()["messages"]
    assert stored == [], "a refused message is not stored either"
    assert _send(client, alice, conversation["id"], content, model="vllm-model").status_code == 200


def test_declared_sensitivity_is_enforced(client: TestClient, alice: Account) -> None:
    conversation = _new(client, alice, model="externe-model")
    assert _send(client, alice, conversation["id"], "Résume la note", sensitivity="internal").status_code == 403
    undeclared = _send(client, alice, conversation["id"], "Résume la note")
    assert undeclared.status_code == 403 and "non déclaré" in undeclared.json()["error"]["message"]
    assert _send(client, alice, conversation["id"], "Résume la note", sensitivity="public").status_code == 200


def test_unknown_model_and_empty_message_are_refused(client: TestClient, alice: Account) -> None:
    assert client.post("/api/conversations", json={"model": "gpt-5"}, headers=alice.bearer).status_code == 404
    conversation = _new(client, alice)
    response = _send(client, alice, conversation["id"], "   ")
    assert response.status_code == 400 and "vide" in response.json()["error"]["message"]
    assert _send(client, alice, conversation["id"], "").status_code == 422
