"""H1 — a conversation carries the highest classification it has touched, and grounded passages are scanned.

Before: a turn was classified only by the collections named in the current message. Ask with an internal
collection on a sovereign model, then send the next message to a non-sovereign model without ``collections``:
the internal-derived history went out. And passages retrieved for a conversation reached the model unscanned by
the personal-data detector (they were scanned on /v1 and /api/rag/answer).
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.store.models import Role
from tests.assistant.rag.helpers import create_collection, ingest
from tests.factories import make_account, upstream_backend
from tests.fakes import FakeUpstream

NOTE = "Note interne 2026 : la réorganisation du service des achats sera annoncée le 15 mars aux équipes."
PERSONAL = "Dossier de l'agent : écrire à jeanne.dupont@interieur.gouv.fr pour la reprise d'ancienneté."


@pytest.fixture
def app(hardened_settings, openai_upstream: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    backends = [
        upstream_backend(openai_upstream.url),
        upstream_backend(openai_upstream.url, name="externe", sovereign=False),
    ]
    return create_app(hardened_settings(llm_backends=backends))


def _send(client: TestClient, headers: dict[str, str], conversation: str, content: str, **body: object):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/conversations/{conversation}/messages", json={"content": content, **body}, headers=headers
    )


def test_internal_history_never_follows_the_conversation_to_a_non_sovereign_model(
    client: TestClient, app: FastAPI, openai_upstream: FakeUpstream
) -> None:
    agent = make_account(client, app, "agent.achats", Role.AGENT)
    internal = create_collection(client, agent.bearer, "Notes internes", classification="internal")
    ingest(client, agent.bearer, internal, [("note.txt", NOTE.encode(), "text/plain")])
    conversation = client.post("/api/conversations", json={"model": "vllm-model"}, headers=agent.bearer).json()["id"]
    grounded = _send(
        client, agent.bearer, conversation, "Quand la réorganisation sera-t-elle annoncée ?", collections=[internal]
    )
    assert grounded.status_code == 200, grounded.text
    assert grounded.json()["message"]["provenance"]["sources"], "the answer drew on the internal note"

    openai_upstream.reset()
    follow_up = _send(client, agent.bearer, conversation, "Reformule ta réponse.", model="externe-model")
    assert follow_up.status_code == 403, follow_up.text
    assert follow_up.json()["error"]["code"] == "sovereignty_violation"
    assert openai_upstream.chat_requests() == [], "nothing left for the foreign model"
    # Declaring the message public does not declassify the history it would carry.
    declared = _send(client, agent.bearer, conversation, "Reformule.", model="externe-model", sensitivity="public")
    assert declared.status_code == 403
    assert openai_upstream.chat_requests() == []
    # The sovereign model still answers in the same conversation.
    assert _send(client, agent.bearer, conversation, "Reformule ta réponse.", model="vllm-model").status_code == 200

    # A collection deleted since cannot vouch for the history either: still internal.
    assert client.delete(f"/api/collections/{internal}", headers=agent.bearer).status_code == 204
    again = _send(client, agent.bearer, conversation, "Et maintenant ?", model="externe-model")
    assert again.status_code == 403


def test_public_history_may_go_to_a_non_sovereign_model(
    client: TestClient, app: FastAPI, openai_upstream: FakeUpstream
) -> None:
    agent = make_account(client, app, "agent.public", Role.AGENT)
    public = create_collection(client, agent.bearer, "Textes publics", classification="public")
    ingest(client, agent.bearer, public, [("loi.txt", b"Le code des relations est public depuis 2016.", "text/plain")])
    conversation = client.post("/api/conversations", json={"model": "vllm-model"}, headers=agent.bearer).json()["id"]
    assert _send(client, agent.bearer, conversation, "Depuis quand ?", collections=[public]).status_code == 200
    follow_up = _send(client, agent.bearer, conversation, "Reformule.", model="externe-model", sensitivity="public")
    assert follow_up.status_code == 200, follow_up.text


def test_passages_retrieved_for_a_conversation_are_scanned_for_personal_data(
    client: TestClient, app: FastAPI, openai_upstream: FakeUpstream
) -> None:
    agent = make_account(client, app, "agent.rh", Role.AGENT)
    public = create_collection(client, agent.bearer, "Dossiers", classification="public")
    ingest(client, agent.bearer, public, [("dossier.txt", PERSONAL.encode(), "text/plain")])
    conversation = client.post("/api/conversations", json={"model": "externe-model"}, headers=agent.bearer).json()
    openai_upstream.reset()
    refused = _send(
        client,
        agent.bearer,
        conversation["id"],
        "Qui contacter pour l'ancienneté ?",
        collections=[public],
        sensitivity="public",
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "sovereignty_violation"
    assert openai_upstream.chat_requests() == []
