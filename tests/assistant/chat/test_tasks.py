"""Document tasks against the fake upstream: each preset's prompt goes upstream, results are labelled,
long inputs are map-reduced, files are read, sensitive data stays on sovereign models."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import docx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.provenance import Manifest
from assistant.store.audit import query_events
from assistant.store.models import Role
from tests.factories import Account, make_account, run, sse_events
from tests.fakes import FakeUpstream, fake_reply

NOTE = (
    "La direction des ressources humaines informe les agents que le télétravail est ouvert à tous les postes "
    "compatibles, dans la limite de trois jours par semaine, après accord du chef de service."
)
PARAGRAPHS = [
    f"Paragraphe {index} : la commission a examiné le dossier numéro {index} et rendu un avis favorable "
    f"sous réserve de compléments à fournir avant la séance suivante du conseil."
    for index in range(24)
]


def _post(client: TestClient, who: Account, preset: str, **body: Any):  # type: ignore[no-untyped-def]
    return client.post(f"/api/tasks/{preset}", json=body, headers=who.bearer)


def _sent(upstream: FakeUpstream) -> list[dict[str, Any]]:
    return [request.body["messages"] for request in upstream.chat_requests() if request.body]  # type: ignore[misc]


def test_presets_are_listed_with_their_versions(client: TestClient, alice: Account) -> None:
    listed = {p["name"]: p for p in client.get("/api/tasks", headers=alice.bearer).json()}
    assert set(listed) == {"synthese", "traduction", "langage-clair", "style-administratif"}
    assert listed["synthese"]["id"] == "synthese.v1" and len(listed["synthese"]["sha256"]) == 64
    assert listed["traduction"]["parameters"] == ["langue_cible"]


@pytest.mark.parametrize(
    ("preset", "values"),
    [("synthese", {}), ("traduction", {"langue_cible": "anglais"}), ("langage-clair", {}), ("style-administratif", {})],
)
def test_each_preset_sends_its_prompt_and_returns_a_labelled_result(
    client: TestClient, app: FastAPI, alice: Account, openai_upstream: FakeUpstream, preset: str, values: dict[str, str]
) -> None:
    response = _post(client, alice, preset, text=NOTE)
    assert response.status_code == 200, response.text
    assert response.headers["x-ai-generated"] == "true" and response.headers["x-task-preset"] == f"{preset}.v1"
    result = response.json()
    [messages] = _sent(openai_upstream)
    expected_prompt = app.state.runtime.presets.get(preset).system_prompt(values)
    assert messages == [{"role": "system", "content": expected_prompt}, {"role": "user", "content": NOTE}]
    assert result["content"] == fake_reply(NOTE)
    assert result["ai_generated"] is True and result["incomplete"] is False
    assert result["preset"]["id"] == f"{preset}.v1" and result["parts"] == 1 and result["upstream_calls"] == 1
    assert result["provenance"]["model_id"] == "vllm-model" and result["provenance"]["sources"] == []
    assert result["usage"]["completion_tokens"] == len(NOTE.split()) and result["usage"]["gco2e"] > 0
    manifest = Manifest.model_validate(result["provenance_manifest"])
    assert app.state.runtime.signer.verify(manifest, result["content"]).valid


def test_translation_target_language(client: TestClient, alice: Account, openai_upstream: FakeUpstream) -> None:
    _post(client, alice, "traduction", text=NOTE, target_language="de")
    _post(client, alice, "traduction", text="The committee approved the budget for the next year.")
    german, french = (messages[0]["content"] for messages in _sent(openai_upstream))
    assert "en allemand" in german
    assert "en français" in french, "an English text goes to French by default (fr↔en)"
    refused = _post(client, alice, "traduction", text=NOTE, target_language="xx")
    assert refused.status_code == 400 and "Langue cible inconnue" in refused.json()["error"]["message"]


@pytest.fixture
def small_parts_client(chat_settings) -> Iterator[tuple[TestClient, Account]]:  # type: ignore[no-untyped-def]
    app = create_app(chat_settings(task_chunk_tokens=100, task_max_chunks=30))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, make_account(client, app, "agent.long", Role.AGENT)


def test_long_text_is_map_reduced_in_several_calls(
    small_parts_client: tuple[TestClient, Account], openai_upstream: FakeUpstream
) -> None:
    client, who = small_parts_client
    text = "\n\n".join(PARAGRAPHS)
    result = _post(client, who, "synthese", text=text).json()
    sent = _sent(openai_upstream)
    assert result["parts"] >= 5 and result["upstream_calls"] == len(sent) > result["parts"]
    runtime_prompts = {m[0]["content"] for m in sent}
    assert len(runtime_prompts) == 2, "map prompt for the parts, reduce prompt for the partial summaries"
    map_prompt, reduce_prompt = sent[0][0]["content"], sent[-1][0]["content"]
    assert "synthèses partielles" in reduce_prompt and "synthèses partielles" not in map_prompt
    map_inputs = [m[1]["content"] for m in sent[: result["parts"]]]
    assert all(m[0]["content"] == map_prompt for m in sent[: result["parts"]])
    assert "Paragraphe 0" in map_inputs[0] and "Paragraphe 23" in map_inputs[-1]
    # The reduce steps read the map step's outputs, two by two at least, until one call can take them all.
    parts = result["parts"]
    assert sent[parts][1]["content"] == "\n\n".join(fake_reply(text) for text in map_inputs[:2])
    assert all(m[0]["content"] == reduce_prompt for m in sent[parts:])
    assert len(sent) - parts <= parts, "merging rounds converge: at most parts - 1 merges, then the final call"
    assert result["content"] == fake_reply(sent[-1][1]["content"])


def test_long_translation_is_split_and_joined_in_order(
    small_parts_client: tuple[TestClient, Account], openai_upstream: FakeUpstream
) -> None:
    client, who = small_parts_client
    result = _post(client, who, "traduction", text="\n\n".join(PARAGRAPHS), target_language="en").json()
    sent = _sent(openai_upstream)
    assert result["parts"] == len(sent) == result["upstream_calls"] > 1
    assert result["content"] == "\n\n".join(fake_reply(m[1]["content"]) for m in sent)


def test_too_long_an_input_is_refused_before_any_call(
    chat_settings,
    openai_upstream: FakeUpstream,  # type: ignore[no-untyped-def]
) -> None:
    app = create_app(chat_settings(task_chunk_tokens=100, task_max_chunks=2))
    with TestClient(app, raise_server_exceptions=False) as client:
        who = make_account(client, app, "agent.bavard", Role.AGENT)
        response = _post(client, who, "synthese", text="\n\n".join(PARAGRAPHS))
    assert response.status_code == 400 and response.json()["error"]["code"] == "input_too_long"
    assert openai_upstream.chat_requests() == []


def test_streamed_task_is_labelled_first_and_last(client: TestClient, alice: Account) -> None:
    response = _post(client, alice, "langage-clair", text=NOTE, stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[0][0] == "task_start" and events[-1][0] == "task_end"
    assert events[0][1]["ai_generated"] is True and events[0][1]["provenance"]["model_id"] == "vllm-model"
    result = events[-1][1]["result"]
    assert result["ai_generated"] is True and result["provenance_manifest"]["signature"]
    assert "".join(data["content"] for name, data in events if name == "delta") == result["content"]


def test_uploaded_files_are_read(client: TestClient, alice: Account, openai_upstream: FakeUpstream) -> None:
    document = docx.Document()
    document.add_heading("Note de service", level=1)
    document.add_paragraph(NOTE)
    buffer = io.BytesIO()
    document.save(buffer)
    response = client.post(
        "/api/tasks/synthese", files={"file": ("note.docx", buffer.getvalue())}, headers=alice.bearer
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert NOTE in _sent(openai_upstream)[0][1]["content"]
    assert result["source"]["filename"] == "note.docx" and result["provenance"]["sources"][0]["title"] == "note.docx"

    text = client.post(
        "/api/tasks/traduction",
        files={"file": ("note.txt", NOTE.encode("utf-8"))},
        data={"target_language": "es", "stream": "false"},
        headers=alice.bearer,
    )
    assert text.status_code == 200 and "en espagnol" in _sent(openai_upstream)[1][0]["content"]

    broken = client.post(
        "/api/tasks/synthese", files={"file": ("note.docx", b"PK\x03\x04 pas un docx")}, headers=alice.bearer
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "unreadable_document"
    assert len(_sent(openai_upstream)) == 2


def test_sensitive_text_is_refused_to_a_non_sovereign_model_and_audited(
    client: TestClient, app: FastAPI, alice: Account, openai_upstream: FakeUpstream
) -> None:
    text = f"{NOTE} Remboursement sur le compte FR76 3000 6000 0112 3456 7890 189."
    response = _post(client, alice, "synthese", text=text, model="externe-model")
    assert response.status_code == 403 and response.json()["error"]["code"] == "sovereignty_violation"
    assert openai_upstream.chat_requests() == []

    async def actions() -> list[str]:
        async with app.state.runtime.session_factory() as session:
            return [event.action for event in await query_events(session=session)]

    assert "llm.sovereignty_refused" in run(client, actions())
    # Nothing declared: refused too (fail closed); declared public by the user, it goes.
    assert _post(client, alice, "synthese", text=NOTE, model="externe-model").status_code == 403
    assert _post(client, alice, "synthese", text=NOTE, model="externe-model", sensitivity="public").status_code == 200


def test_unknown_preset_and_empty_text(client: TestClient, alice: Account) -> None:
    unknown = _post(client, alice, "poeme", text=NOTE)
    assert unknown.status_code == 404 and "synthese.v1" in unknown.json()["error"]["message"]
    assert _post(client, alice, "synthese", text="  ").status_code == 400
    assert _post(client, alice, "synthese").status_code == 400
