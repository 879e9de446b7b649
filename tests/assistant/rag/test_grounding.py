"""The grounding's two guarantees around the model call: the prompt fits the window, the answer is reviewed."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.llm import ChatBackend, ChatChunk, ChatRequest, ChoiceDelta, ModelCard, ModelConfig, Usage
from assistant.sensitivity import Sensitivity
from assistant.services.knowledge.grounding import Grounding, Passage
from assistant.store.models import Role
from tests.assistant.rag.helpers import create_collection, ingest
from tests.factories import Account, make_account, runtime_of, upstream_backend
from tests.fakes import FakeUpstream

SECTIONS = [
    f"## Article {n}. Indemnité de repas en mission, zone {n}\n\n"
    + f"L'indemnité de repas versée à l'agent en mission dans la zone {n} est fixée à {10 + n},50 euros. " * 12
    for n in range(1, 7)
]


@pytest.fixture
def small_window_app(rag_settings, openai_upstream: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    card = ModelCard(name="Petite fenêtre", licence="Apache-2.0", languages=["fr"], parameters="1B", context_length=900)
    small = upstream_backend(openai_upstream.url, name="petit", card=card)
    return create_app(rag_settings(llm_backends=[small], default_model="petit-model", rag_chunk_tokens=256))


@pytest.fixture
def small_client(small_window_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(small_window_app, raise_server_exceptions=False) as client:
        yield client


def test_lowest_ranked_passages_are_left_out_to_fit_the_window_and_it_is_said(
    small_client: TestClient, small_window_app: FastAPI, openai_upstream: FakeUpstream
) -> None:
    owner: Account = make_account(small_client, small_window_app, "agent.fenetre", Role.AGENT)
    collection = create_collection(small_client, owner.bearer, "Barèmes")
    ingest(small_client, owner.bearer, collection, [("zones.md", "\n\n".join(SECTIONS).encode(), "text/markdown")])
    openai_upstream.reset()

    response = small_client.post(
        "/v1/chat/completions",
        json={
            "model": "petit-model",
            "messages": [{"role": "user", "content": "Quelle est l'indemnité de repas en mission dans la zone 3 ?"}],
            "collections": [collection],
            "max_tokens": 200,
        },
        headers=owner.bearer,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    report = body["grounding"]
    assert report["declined"] is False
    assert report["passages_omitted"] >= 1 and report["passages_used"] >= 1
    assert len(body["sources"]) == report["passages_used"]
    (recorded,) = openai_upstream.chat_requests()
    prompt = json.dumps(recorded.body["messages"], ensure_ascii=False)  # type: ignore[index]
    assert prompt.count("<extrait ") == report["passages_used"]
    assert len(prompt) / 4 < 900  # what was sent fits the window, with room for the answer


def _grounding(*texts: str, question: str = "Quel est le montant de l'indemnité de nuitée à Paris ?") -> Grounding:
    passages = [
        Passage(
            marker=n,
            collection_id=uuid.uuid4(),
            document_id=uuid.uuid4(),
            filename=f"note-{n}.txt",
            title=f"Note {n}",
            page=None,
            section=None,
            text=text,
            score=0.5,
            chunk_id=n,
        )
        for n, text in enumerate(texts, start=1)
    ]
    return Grounding(question, passages, Sensitivity.INTERNAL, ["Frais de mission"], system_prompt="…")


NUITEE = "L'indemnité de nuitée est de 90 euros en province et de 140 euros à Paris."


def test_a_supported_answer_is_kept_with_its_citations_checked() -> None:
    review = _grounding(NUITEE).review("À Paris, l'indemnité de nuitée est de 140 euros [1].")
    assert not review.declined and review.text.startswith("À Paris")
    assert review.report.citations is not None and review.report.citations.cited == [1]
    assert review.report.citations.unknown == [] and review.report.documents == ["Note 1"]


def test_invented_figures_turn_the_answer_into_the_decline() -> None:
    review = _grounding(NUITEE).review("L'indemnité de nuitée à Paris est de 160 euros [1] [3].")
    assert review.declined
    assert review.text.startswith("Je ne trouve pas cette information dans les documents consultés.")
    assert "« Frais de mission »" in review.text and "« Note 1 »" in review.text
    assert review.report.unsupported_figures == ["160"]
    assert review.report.citations is not None and review.report.citations.unknown == [3]


def test_a_decline_in_the_models_own_words_becomes_the_standard_decline() -> None:
    review = _grounding(NUITEE, question="Quelle est la prime de fin d'année ?").review(
        "Les extraits ne mentionnent pas de prime de fin d'année."
    )
    assert review.declined and "Reformulez" in review.text
    assert review.report.reason is not None and "extraits" in review.report.reason


def test_sentences_citing_nothing_get_the_marker_of_their_supporting_passage() -> None:
    review = _grounding("Le télétravail est limité à deux jours par semaine.", NUITEE).review(
        "À Paris, l'indemnité de nuitée est de 140 euros."
    )
    assert review.text == "À Paris, l'indemnité de nuitée est de 140 euros [2]."
    assert review.report.citations is not None and review.report.citations.added == [2]


class _Judge(ChatBackend):
    """An in-process model that says NON when asked whether the passages answer, and answers otherwise."""

    kind = "juge"

    def verdict(self, asked: str) -> str:
        return "NON"

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        asked = str(request.messages[-1]["content"])
        text = self.verdict(asked) if "OUI ou NON" in asked else "Réponse [1]."
        yield ChatChunk(deltas=(ChoiceDelta(text=text, finish_reason="stop"),))
        yield ChatChunk(usage=Usage(prompt_tokens=10, completion_tokens=1))


def test_the_models_own_no_declines_before_any_answer_is_written(
    rag_settings,  # type: ignore[no-untyped-def]
) -> None:
    app = create_app(rag_settings(rag_answerability_check=True, rag_min_question_coverage=0))
    with TestClient(app, raise_server_exceptions=False) as client:
        judge = _Judge(_Judge.Options())
        runtime_of(app).models.add_backend("juge", judge, models=[ModelConfig(id="juge-model")], sovereign=True)
        owner = make_account(client, app, "agent.juge", Role.AGENT)
        collection = create_collection(client, owner.bearer, "Missions")
        ingest(client, owner.bearer, collection, [("nuitee.txt", NUITEE.encode(), "text/plain")])

        response = client.post(
            "/api/rag/answer",
            json={"query": "Quel est le montant de l'indemnité de nuitée à Paris ?", "model": "juge-model"},
            headers=owner.bearer,
        )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["grounding"]["declined"] is True and "modèle" in body["grounding"]["reason"]
    assert body["answer"].startswith("Je ne trouve pas cette information") and body["ai_generated"] is True


class _WordJudge(_Judge):
    """Answers the overall check with OUI, and says whether each word it is asked about is in ``known``."""

    known: frozenset[str] = frozenset()

    def verdict(self, asked: str) -> str:
        if "le mot « " not in asked:
            return "OUI"
        word = asked.split("le mot « ", 1)[1].split(" »", 1)[0]
        return "OUI" if word in self.known else "NON"


@pytest.mark.parametrize(
    ("known", "declined"),
    [(frozenset(), True), (frozenset({"jumeaux"}), False)],
    ids=["the-word-is-absent", "the-model-finds-a-synonym"],
)
def test_a_question_word_the_passages_lack_is_checked_by_the_model_word_by_word(
    rag_settings,  # type: ignore[no-untyped-def]
    known: frozenset[str],
    declined: bool,
) -> None:
    app = create_app(rag_settings(rag_answerability_check=True, rag_min_question_coverage=0))
    with TestClient(app, raise_server_exceptions=False) as client:
        judge = _WordJudge(_WordJudge.Options())
        judge.known = known
        runtime_of(app).models.add_backend("juge", judge, models=[ModelConfig(id="juge-model")], sovereign=True)
        owner = make_account(client, app, "agent.juge", Role.AGENT)
        collection = create_collection(client, owner.bearer, "Missions")
        ingest(client, owner.bearer, collection, [("nuitee.txt", NUITEE.encode(), "text/plain")])

        response = client.post(
            "/api/rag/answer",
            json={"query": "Quelle est l'indemnité de nuitée à Paris pour des jumeaux ?", "model": "juge-model"},
            headers=owner.bearer,
        )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["grounding"]["declined"] is declined and body["ai_generated"] is True
    if declined:
        assert body["grounding"]["reason"] == "les extraits ne parlent pas de « jumeaux »"
        assert body["answer"].startswith("Je ne trouve pas cette information")
    else:
        assert body["answer"].startswith("Réponse")


class _ProbabilityJudge(_Judge):
    """Leans OUI on every check (a greedy reader would always answer), with P(OUI) = ``yes`` on the first token."""

    yes = 0.5

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        asked = str(request.messages[-1]["content"])
        if "OUI ou NON" not in asked:
            async for chunk in super().stream(request):
                yield chunk
            return
        assert request.params.logprobs and request.params.max_tokens == 1
        top = [
            {"token": "O", "logprob": math.log(self.yes)},
            {"token": "NON", "logprob": math.log(1 - self.yes - 0.01)},
            {"token": "Je", "logprob": math.log(0.01)},
        ]
        top.sort(key=lambda entry: -entry["logprob"])
        logprobs = {"content": [{**top[0], "top_logprobs": top}]}
        yield ChatChunk(deltas=(ChoiceDelta(text=top[0]["token"], finish_reason="length", logprobs=logprobs),))
        yield ChatChunk(usage=Usage(prompt_tokens=10, completion_tokens=1))


@pytest.mark.parametrize(("yes", "declined"), [(0.55, True), (0.7, False)], ids=["below", "above"])
def test_the_models_check_is_read_as_a_probability_against_the_calibrated_threshold(
    rag_settings,  # type: ignore[no-untyped-def]
    yes: float,
    declined: bool,
) -> None:
    settings = rag_settings(
        rag_answerability_check=True, rag_min_question_coverage=0, rag_answerability_word_min_yes=0.6
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        judge = _ProbabilityJudge(_ProbabilityJudge.Options())
        judge.yes = yes
        runtime_of(app).models.add_backend("juge", judge, models=[ModelConfig(id="juge-model")], sovereign=True)
        owner = make_account(client, app, "agent.juge", Role.AGENT)
        collection = create_collection(client, owner.bearer, "Missions")
        ingest(client, owner.bearer, collection, [("nuitee.txt", NUITEE.encode(), "text/plain")])

        response = client.post(
            "/api/rag/answer",
            json={"query": "Quelle est l'indemnité de nuitée à Paris pour des jumeaux ?", "model": "juge-model"},
            headers=owner.bearer,
        )

    assert response.status_code == 200, response.text
    body = response.json()
    # P(OUI) 0.55 is a greedy OUI: only the probability, below 0.6, declines.
    assert body["grounding"]["declined"] is declined and body["ai_generated"] is True
    if declined:
        assert body["grounding"]["reason"] == "les extraits ne parlent pas de « jumeaux »"
