"""👍/👎 on answers through the API: giving, changing, withdrawing, refusals, the 👎 turned into an incident report
in one step, satisfaction per model for référents, and the feedback going with its conversation."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.store.audit import query_events
from assistant.store.models import Role
from tests.factories import PASSWORD, Account, make_account, run

QUESTION = "Quel est le délai de recours contentieux contre une décision administrative ?"


def _answer(client: TestClient, who: Account, question: str = QUESTION) -> tuple[str, dict[str, Any]]:
    conversation = client.post("/api/conversations", json={}, headers=who.bearer).json()
    response = client.post(
        f"/api/conversations/{conversation['id']}/messages", json={"content": question}, headers=who.bearer
    )
    assert response.status_code == 200, response.text
    return conversation["id"], response.json()["message"]


def _feedback_path(conversation_id: str, message_id: str) -> str:
    return f"/api/conversations/{conversation_id}/messages/{message_id}/feedback"


def _events(client: TestClient, app: FastAPI, action: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with app.state.runtime.session_factory() as session:
            return [
                dict(event.details or {}) for event in await query_events(session=session) if event.action == action
            ]

    return run(client, read())


def test_give_change_and_withdraw_feedback(client: TestClient, app: FastAPI, alice: Account) -> None:
    conversation_id, answer = _answer(client, alice)
    path = _feedback_path(conversation_id, answer["id"])

    response = client.put(path, json={"rating": "up"}, headers=alice.bearer)
    assert response.status_code == 200, response.text
    given = response.json()
    assert (given["rating"], given["rating_label"], given["model_id"]) == ("up", "Réponse utile", "vllm-model")
    assert given["reason"] is None and given["incident_id"] is None

    comment = "Le délai cité ne tient pas compte du recours gracieux."
    changed = client.put(
        path, json={"rating": "down", "reason": "inexact", "comment": f"  {comment}  "}, headers=alice.bearer
    ).json()
    assert (changed["rating"], changed["reason"], changed["reason_label"]) == ("down", "inexact", "Inexact")
    assert changed["comment"] == comment and changed["created_at"] == given["created_at"]

    detail = client.get(f"/api/conversations/{conversation_id}", headers=alice.bearer).json()
    user_message, stored = detail["messages"]
    assert user_message["feedback"] is None
    assert stored["feedback"]["rating"] == "down" and stored["feedback"]["comment"] == comment
    # Marking the answer as reviewed keeps the feedback shown with it.
    reviewed = client.post(f"/api/conversations/{conversation_id}/messages/{answer['id']}/review", headers=alice.bearer)
    assert reviewed.json()["feedback"]["rating"] == "down"

    assert client.delete(path, headers=alice.bearer).status_code == 204
    again = client.delete(path, headers=alice.bearer)
    assert again.status_code == 404 and "Aucun avis" in again.json()["error"]["message"]
    detail = client.get(f"/api/conversations/{conversation_id}", headers=alice.bearer).json()
    assert detail["messages"][1]["feedback"] is None

    audited = _events(client, app, "conversation.feedback")
    assert sorted((event["rating"], event["commented"]) for event in audited) == [("down", True), ("up", False)]
    assert comment not in json.dumps(audited), "the audit log keeps no comment"
    assert len(_events(client, app, "conversation.feedback_withdrawn")) == 1


def test_feedback_refusals(client: TestClient, app: FastAPI, alice: Account, bob: Account) -> None:
    conversation_id, answer = _answer(client, alice)
    path = _feedback_path(conversation_id, answer["id"])
    detail = client.get(f"/api/conversations/{conversation_id}", headers=alice.bearer).json()
    question_id = detail["messages"][0]["id"]

    on_question = client.put(_feedback_path(conversation_id, question_id), json={"rating": "up"}, headers=alice.bearer)
    assert on_question.status_code == 400 and "réponse générée" in on_question.json()["error"]["message"]
    reason_on_up = client.put(path, json={"rating": "up", "reason": "biais"}, headers=alice.bearer)
    assert reason_on_up.status_code == 400 and "à améliorer" in reason_on_up.json()["error"]["message"]
    for body in ({"rating": "bof"}, {"rating": "down", "reason": "nul"}, {"rating": "down", "comment": "x" * 2001}, {}):
        assert client.put(path, json=body, headers=alice.bearer).status_code == 422, body

    # Someone else's conversation, an unknown message: not found, existence never revealed.
    assert client.put(path, json={"rating": "up"}, headers=bob.bearer).status_code == 404
    assert client.delete(path, headers=bob.bearer).status_code == 404
    unknown = _feedback_path(conversation_id, "00000000-0000-0000-0000-000000000000")
    assert client.put(unknown, json={"rating": "up"}, headers=alice.bearer).status_code == 404
    assert client.put(path, json={"rating": "up"}).status_code == 401
    assert _events(client, app, "conversation.feedback") == [], "nothing refused was recorded"


def test_a_thumbs_down_becomes_one_incident_report_in_one_step(
    client: TestClient, app: FastAPI, alice: Account
) -> None:
    conversation_id, answer = _answer(client, alice)
    path = _feedback_path(conversation_id, answer["id"])
    body = {"rating": "down", "reason": "biais", "comment": "Formulation stigmatisante.", "report": True}

    given = client.put(path, json=body, headers=alice.bearer).json()
    assert given["incident_id"] is not None
    again = client.put(path, json={**body, "comment": "Précision."}, headers=alice.bearer).json()
    assert again["incident_id"] == given["incident_id"] and again["comment"] == "Précision."

    reports = client.get("/api/incidents", headers=alice.bearer).json()
    assert [report["id"] for report in reports] == [given["incident_id"]], "reported once"
    report = reports[0]
    assert (report["category"], report["model_id"], report["message_id"]) == ("biais", "vllm-model", answer["id"])
    assert report["description"] == "Formulation stigmatisante." and report["excerpt"] == answer["content"]
    assert report["manifest_valid"] is True and report["manifest_content_matches"] is True

    # A 👎 reported without reason or comment still says what it is about.
    other_id, other = _answer(client, alice, "Rédige une note sur le télétravail.")
    plain = client.put(
        _feedback_path(other_id, other["id"]), json={"rating": "down", "report": True}, headers=alice.bearer
    )
    described = client.get(f"/api/incidents/{plain.json()['incident_id']}", headers=alice.bearer).json()
    assert (described["category"], described["description"]) == ("autre", "Réponse jugée à améliorer (sans motif).")


def test_satisfaction_per_model_for_referents(client: TestClient, app: FastAPI, alice: Account, bob: Account) -> None:
    referent = make_account(client, app, "rita.referente", Role.REFERENT)
    for who, body in (
        (alice, {"rating": "up"}),
        (alice, {"rating": "down", "reason": "incomplet"}),
        (bob, {"rating": "down", "reason": "incomplet"}),
        (bob, {"rating": "up"}),
    ):
        conversation_id, answer = _answer(client, who)
        assert (
            client.put(_feedback_path(conversation_id, answer["id"]), json=body, headers=who.bearer).status_code == 200
        )
    unrated_id, _ = _answer(client, alice)

    kpis = client.get("/api/governance/kpis", headers=referent.bearer).json()
    assert kpis["satisfaction"] == [
        {"model_id": "vllm-model", "up": 2, "down": 2, "satisfaction": 0.5, "reasons": {"incomplet": 2}}
    ]
    models = {item["id"]: item for item in client.get("/api/governance/models", headers=referent.bearer).json()}
    assert models["vllm-model"]["feedback"]["up"] == 2 and models["externe-model"]["feedback"] is None
    assert client.get("/api/governance/kpis", headers=alice.bearer).status_code == 403

    # The référent's pages say it in French.
    form = client.get("/connexion").text
    token = re.search(r'name="jeton" value="([^"]+)"', form)
    assert token is not None
    signed_in = client.post(
        "/connexion",
        data={"identifiant": referent.username, "mot_de_passe": PASSWORD, "jeton": token.group(1), "suivant": "/"},
    )
    assert signed_in.status_code == 200, signed_in.text
    indicators = client.get("/admin/indicateurs").text
    assert "Avis des agents" in indicators and "50 %" in indicators and "Incomplet (2)" in indicators
    models_page = client.get("/admin/modeles").text
    assert "50 % de réponses jugées utiles (2 👍 sur 4 avis)" in models_page
    assert "Motifs des réponses à améliorer" in models_page and "Incomplet : 2" in models_page
    client.cookies.clear()

    # Deleting a conversation takes its feedback with it (and so do retention and erasure, which delete it too).
    conversations = client.get("/api/conversations", headers=bob.bearer).json()["items"]
    for conversation in conversations:
        assert client.delete(f"/api/conversations/{conversation['id']}", headers=bob.bearer).status_code == 204
    kpis = client.get("/api/governance/kpis", headers=referent.bearer).json()
    assert kpis["satisfaction"][0]["up"] == 1 and kpis["satisfaction"][0]["down"] == 1
    assert unrated_id


def test_my_data_export_carries_my_feedback(client: TestClient, alice: Account) -> None:
    conversation_id, answer = _answer(client, alice)
    client.put(
        _feedback_path(conversation_id, answer["id"]),
        json={"rating": "down", "reason": "hors_sujet", "comment": "Question mal comprise."},
        headers=alice.bearer,
    )
    response = client.get("/api/me/export", headers=alice.bearer)
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        exported = json.loads(archive.read(f"conversations/{conversation_id}.json"))
    feedback = exported["messages"][1]["feedback"]
    assert (feedback["reason"], feedback["comment"]) == ("hors_sujet", "Question mal comprise.")
