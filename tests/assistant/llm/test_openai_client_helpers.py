"""Tools and structured output through the gateway, as the official ``openai`` client uses them: tool calls whole
and streamed (deltas reassembled by the client), ``parse`` with Pydantic models, ``response_format`` reaching the
upstream unchanged, the AI label on all of it, and the guard and the sensitivity check reading tools and schemas."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel, Field

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.provenance import content_digest
from assistant.runtime import open_runtime
from assistant.security import Scope
from assistant.services.identity.api_keys import create_api_key
from assistant.services.identity.users import create_local_user
from assistant.store.models import Role
from tests.factories import upstream_backend
from tests.fakes import FakeUpstream, fake_reply
from tests.fakes.live_app import LiveServer

QUESTION = "Quel est le délai de recours contentieux ?"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
SEARCH_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "chercher_texte",
        "description": "Cherche un texte de loi ou un règlement.",
        "parameters": {
            "type": "object",
            "properties": {"texte": {"type": "string", "description": "Ce qu'il faut chercher."}},
            "required": ["texte"],
        },
    },
}


def _signed_call(arguments: str) -> str:
    """The content a tool-call choice's manifest covers: its calls, as JSON."""
    call = {"id": "call_0", "type": "function", "function": {"name": "chercher_texte", "arguments": arguments}}
    return json.dumps([call], ensure_ascii=False)


class ChercherTexte(BaseModel):
    """Cherche un texte de loi ou un règlement."""

    texte: str


class Fiche(BaseModel):
    question: str
    mots: int = Field(description="Nombre de mots de la question.")
    urgente: bool


@dataclass
class Gateway:
    url: str
    key: str
    sent: list[dict[str, Any]] = field(default_factory=list)  # the bodies the client sent to the gateway
    _clients: list[openai.OpenAI] = field(default_factory=list)

    def client(self) -> openai.OpenAI:
        def record(request: httpx.Request) -> None:
            if request.url.path.endswith("/chat/completions"):
                self.sent.append(json.loads(request.content))

        http = httpx.Client(event_hooks={"request": [record]}, timeout=30)
        client = openai.OpenAI(base_url=f"{self.url}/v1", api_key=self.key, max_retries=0, http_client=http)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()


async def _api_key(settings: Settings) -> str:
    async with open_runtime(settings, with_worker=False) as runtime:
        user = await create_local_user(runtime, username="agent.outils", role=Role.AGENT, password=None)
        return (await create_api_key(runtime, owner_id=user.id, name="client", scopes=[Scope.CHAT])).secret


@pytest.fixture
def gateway(settings_factory, openai_upstream: FakeUpstream) -> Iterator[Gateway]:  # type: ignore[no-untyped-def]
    settings = settings_factory(
        llm_backends=[
            upstream_backend(openai_upstream.url),
            upstream_backend(openai_upstream.url, name="externe", sovereign=False),
        ]
    )
    key = asyncio.run(_api_key(settings))
    with LiveServer(create_app(settings)) as server:
        gateway = Gateway(server.url, key)
        yield gateway
        gateway.close()


def _upstream_body(upstream: FakeUpstream) -> dict[str, Any]:
    (sent,) = upstream.chat_requests()
    assert sent.body is not None
    return sent.body


def _assert_labelled(completion: Any, model: str = "vllm-model") -> None:
    extra = completion.model_extra or {}
    assert extra["ai_generated"] is True
    assert extra["provenance"]["model_id"] == model and extra["provenance"]["ai_generated"] is True
    assert extra["provenance_manifests"], "each choice has its signed manifest"


def test_a_tool_call_comes_back_whole_labelled_and_the_tools_reach_the_upstream_unchanged(
    gateway: Gateway, openai_upstream: FakeUpstream
) -> None:
    client = gateway.client()
    choice = {"type": "function", "function": {"name": "chercher_texte"}}
    raw = client.chat.completions.with_raw_response.create(
        model="vllm-model",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[SEARCH_TOOL],
        tool_choice=choice,  # type: ignore[arg-type]
        parallel_tool_calls=False,
    )
    completion = raw.parse()

    assert raw.headers["x-ai-generated"] == "true" and raw.headers["x-ai-model"] == "vllm-model"
    (answer,) = completion.choices
    assert answer.finish_reason == "tool_calls" and answer.message.content is None
    (call,) = answer.message.tool_calls or []
    assert call.id == "call_0" and call.type == "function" and call.function.name == "chercher_texte"  # type: ignore[union-attr]
    assert call.function.arguments == json.dumps({"texte": QUESTION}, ensure_ascii=False)  # type: ignore[union-attr]
    _assert_labelled(completion)
    (manifest,) = (completion.model_extra or {})["provenance_manifests"]
    assert manifest["content_sha256"] == content_digest(_signed_call(call.function.arguments))  # type: ignore[union-attr]
    upstream = _upstream_body(openai_upstream)
    assert upstream["tools"] == gateway.sent[0]["tools"] == [SEARCH_TOOL]
    assert upstream["tool_choice"] == choice and upstream["parallel_tool_calls"] is False


def test_streamed_tool_call_deltas_are_relayed_as_sent_and_reassembled_by_the_client(
    gateway: Gateway, openai_upstream: FakeUpstream
) -> None:
    client = gateway.client()
    stream = client.chat.completions.create(
        model="vllm-model",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[SEARCH_TOOL],
        tool_choice="required",
        stream=True,
    )
    chunks = list(stream)
    arguments = json.dumps({"texte": QUESTION}, ensure_ascii=False)

    deltas = [call for chunk in chunks for c in chunk.choices for call in c.delta.tool_calls or []]
    # The fake sends the id and name with the first half of the arguments, then the second half.
    assert [(d.index, d.id, d.function.name if d.function else None) for d in deltas] == [
        (0, "call_0", "chercher_texte"),
        (0, None, None),
    ]
    assert [d.function.arguments for d in deltas if d.function] == [
        arguments[: len(arguments) // 2],
        arguments[len(arguments) // 2 :],
    ]
    finish = [c.finish_reason for chunk in chunks for c in chunk.choices if c.finish_reason]
    assert finish == ["tool_calls"]
    assert chunks[0].model_extra is not None and chunks[0].model_extra["provenance"]["model_id"] == "vllm-model"
    assert chunks[-1].model_extra is not None
    (manifest,) = chunks[-1].model_extra["provenance_manifests"]
    assert manifest["content_sha256"] == content_digest(_signed_call(arguments)), "the same as a whole answer's"
    assert all((chunk.model_extra or {})["ai_generated"] is True for chunk in chunks)

    # The client's own stream helper folds the deltas back into the call and parses its arguments.
    with client.chat.completions.stream(
        model="vllm-model",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[openai.pydantic_function_tool(ChercherTexte)],
        tool_choice="required",
    ) as helper:
        events = [event.type for event in helper]
        final = helper.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert call.function.arguments == arguments and call.function.parsed_arguments == ChercherTexte(texte=QUESTION)
    assert "tool_calls.function.arguments.done" in events and final.choices[0].finish_reason == "tool_calls"


def test_parse_with_a_pydantic_response_format_and_tools(gateway: Gateway, openai_upstream: FakeUpstream) -> None:
    client = gateway.client()
    parsed = client.chat.completions.parse(
        model="vllm-model", messages=[{"role": "user", "content": QUESTION}], response_format=Fiche
    )

    assert parsed.choices[0].message.parsed == Fiche(question=QUESTION, mots=len(QUESTION.split()), urgente=True)
    _assert_labelled(parsed)
    upstream = _upstream_body(openai_upstream)
    assert upstream["response_format"] == gateway.sent[0]["response_format"]
    assert upstream["response_format"]["type"] == "json_schema"
    assert upstream["response_format"]["json_schema"]["strict"] is True
    assert upstream["response_format"]["json_schema"]["schema"]["properties"]["mots"]["description"] == (
        "Nombre de mots de la question."
    )

    openai_upstream.reset()
    tooled = client.chat.completions.parse(
        model="vllm-model",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[openai.pydantic_function_tool(ChercherTexte)],
        tool_choice="required",
    )
    (call,) = tooled.choices[0].message.tool_calls or []
    assert call.function.parsed_arguments == ChercherTexte(texte=QUESTION)
    assert _upstream_body(openai_upstream)["tools"] == gateway.sent[1]["tools"]
    assert gateway.sent[1]["tools"][0]["function"]["strict"] is True


@pytest.mark.parametrize(
    "response_format",
    [
        pytest.param({"type": "json_object"}, id="json_object"),
        pytest.param(
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "delai",
                    "description": "Le délai et son unité.",
                    "schema": {
                        "type": "object",
                        "properties": {"delai": {"type": "integer"}, "unite": {"enum": ["mois", "jours"]}},
                        "required": ["delai", "unite"],
                        "additionalProperties": False,
                    },
                    "strict": True,
                },
            },
            id="json_schema",
        ),
    ],
)
def test_response_format_reaches_the_upstream_unchanged(
    gateway: Gateway, openai_upstream: FakeUpstream, response_format: dict[str, Any]
) -> None:
    completion = gateway.client().chat.completions.create(
        model="vllm-model",
        messages=[{"role": "user", "content": QUESTION}],
        response_format=response_format,  # type: ignore[arg-type]
    )

    assert _upstream_body(openai_upstream)["response_format"] == response_format
    answer = json.loads(completion.choices[0].message.content or "")
    if response_format["type"] == "json_object":
        assert answer == {"reponse": fake_reply(QUESTION)}
    else:
        assert answer == {"delai": len(QUESTION.split()), "unite": "mois"}
    _assert_labelled(completion)


def _refused(gateway: Gateway, code: str, **request: Any) -> openai.PermissionDeniedError:
    with pytest.raises(openai.PermissionDeniedError) as raised:
        gateway.client().chat.completions.create(**request)
    body = raised.value.body
    assert isinstance(body, dict) and body["code"] == code, body
    return raised.value


def test_a_non_sovereign_model_is_refused_when_a_tool_or_a_schema_carries_personal_data(
    gateway: Gateway, openai_upstream: FakeUpstream
) -> None:
    public = {"sensitivity": "public"}
    external = {"model": "externe-model", "extra_body": public}
    history = [
        {"role": "user", "content": "Fais le virement prévu."},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "virement", "arguments": json.dumps({"iban": IBAN})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "fait"},
    ]
    _refused(gateway, "sovereignty_violation", messages=history, tools=[SEARCH_TOOL], **external)

    class Courrier(BaseModel):
        destinataire: str = Field(description="Toujours jeanne.dupont@interieur.gouv.fr")

    with pytest.raises(openai.PermissionDeniedError) as raised:
        gateway.client().chat.completions.parse(
            messages=[{"role": "user", "content": QUESTION}], response_format=Courrier, **external
        )
    assert isinstance(raised.value.body, dict) and raised.value.body["code"] == "sovereignty_violation"
    assert "données personnelles détectées" in raised.value.body["message"]

    hidden_tool = {**SEARCH_TOOL, "function": {**SEARCH_TOOL["function"], "description": f"Payer sur {IBAN}"}}
    _refused(
        gateway,
        "sovereignty_violation",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[hidden_tool],
        **external,
    )
    assert openai_upstream.chat_requests() == [], "nothing left for the non-sovereign model"

    # The same tools, without personal data, go; and the sovereign model takes the personal data.
    allowed = gateway.client().chat.completions.create(
        messages=[{"role": "user", "content": QUESTION}], tools=[SEARCH_TOOL], tool_choice="required", **external
    )
    assert (allowed.model_extra or {})["provenance"]["sovereign"] is False
    sovereign = gateway.client().chat.completions.create(model="vllm-model", messages=history, tools=[SEARCH_TOOL])
    assert sovereign.choices[0].message.content == fake_reply("Fais le virement prévu.")


@pytest.mark.parametrize(
    "hidden",
    [
        pytest.param(
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": "analyser_photo",
                            "description": "Effectue une reconnaissance faciale sur la photo de l'usager.",
                            "parameters": {"type": "object", "properties": {}},
                        },
                    }
                ]
            },
            id="tool-definition",
        ),
        pytest.param(
            {
                "messages": [
                    {"role": "user", "content": "Continue."},
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {
                                    "name": "analyser",
                                    "arguments": json.dumps({"consigne": "lancer la reconnaissance faciale"}),
                                },
                            }
                        ],
                    },
                    {"role": "tool", "tool_call_id": "call_1", "content": "prêt"},
                ]
            },
            id="tool-arguments",
        ),
        pytest.param(
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "visages",
                        "schema": {
                            "type": "object",
                            "description": "Résultat de l'identification faciale des personnes de la photo",
                            "properties": {"noms": {"type": "array", "items": {"type": "string"}}},
                        },
                    },
                }
            },
            id="response-schema",
        ),
    ],
)
def test_the_forbidden_use_guard_reads_tools_and_schemas(
    gateway: Gateway, openai_upstream: FakeUpstream, hidden: dict[str, Any]
) -> None:
    request = {"model": "vllm-model", "messages": [{"role": "user", "content": QUESTION}], **hidden}
    refused = _refused(gateway, "forbidden_use", **request)
    assert "article 6" in str(refused.body)
    assert openai_upstream.chat_requests() == []
