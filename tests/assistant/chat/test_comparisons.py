"""Side by side through the API: two models answer one question (masked until the vote, or named), one vote,
the usual checks on both models, and the preferences per model for référents."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistant.app import create_app
from assistant.provenance import Manifest
from assistant.services.governance.rgpd import ERASE_CONFIRMATION
from assistant.store.models import Comparison, Role
from tests.factories import Account, make_account, run, runtime_of, upstream_backend
from tests.fakes import FakeUpstream, fake_reply

QUESTION = "Quel est le délai de recours contentieux contre une décision administrative ?"
SOVEREIGN = ["vllm-model", "second-model", "third-model"]


@pytest.fixture
def app(chat_settings, openai_upstream: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    backends = [
        upstream_backend(openai_upstream.url),
        upstream_backend(openai_upstream.url, name="second"),
        upstream_backend(openai_upstream.url, name="third"),
        upstream_backend(openai_upstream.url, name="externe", sovereign=False),
    ]
    return create_app(chat_settings(llm_backends=backends))


@pytest.fixture
def referent(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "referent.r", Role.REFERENT)


def _compare(client: TestClient, who: Account, **body: Any) -> Any:
    return client.post("/api/comparisons", json={"question": QUESTION, **body}, headers=who.bearer)


def _reserve(client: TestClient, referent: Account, *models: str) -> None:
    group = client.post("/api/admin/groups", json={"name": "cellule de crise"}, headers=referent.bearer)
    assert group.status_code == 201, group.text
    for model in models:
        reserved = client.post(
            "/api/governance/models/access",
            json={"model": model, "groups": ["cellule de crise"]},
            headers=referent.bearer,
        )
        assert reserved.status_code == 200, reserved.text


def test_a_blind_comparison_hides_the_models_until_the_vote(
    client: TestClient, app: FastAPI, alice: Account, openai_upstream: FakeUpstream
) -> None:
    created = _compare(client, alice)
    assert created.status_code == 201, created.text
    assert created.headers["x-ai-generated"] == "true" and created.headers["x-ai-model"] == "masque"
    body = created.json()
    assert body["blind"] is True and body["revealed"] is False and body["vote"] is None
    assert [answer["label"] for answer in body["answers"]] == ["A", "B"]
    for answer in body["answers"]:
        assert answer["ai_generated"] is True and answer["content"] == fake_reply(QUESTION)
        assert answer["model_id"] is None and answer["provenance_manifest"] is None
        assert answer["provenance"]["model_id"] == "masque" and answer["provenance"]["ai_generated"] is True
        assert answer["energy_wh"] > 0 and answer["tokens"] > 0
    assert len(openai_upstream.chat_requests()) == 2, "both models were asked"
    listed = client.get("/api/comparisons", headers=alice.bearer).json()
    assert [(item["id"], item["models"]) for item in listed] == [(body["id"], None)]
    again = client.get(f"/api/comparisons/{body['id']}", headers=alice.bearer).json()
    assert again["revealed"] is False and again["answers"][0]["model_id"] is None

    voted = client.post(f"/api/comparisons/{body['id']}/vote", json={"vote": "a"}, headers=alice.bearer)
    assert voted.status_code == 200, voted.text
    revealed = voted.json()
    assert revealed["vote"] == "a" and revealed["vote_label"] == "A est meilleure" and revealed["revealed"] is True
    models = [answer["model_id"] for answer in revealed["answers"]]
    assert len(set(models)) == 2 and set(models) <= set(SOVEREIGN), "two distinct sovereign models, drawn"
    assert voted.headers["x-ai-model"] == ", ".join(models)
    signer = runtime_of(app).signer
    for answer, model in zip(revealed["answers"], models, strict=True):
        assert answer["provenance"]["model_id"] == model
        manifest = Manifest.model_validate(answer["provenance_manifest"])
        assert manifest.provenance.model_id == model
        assert signer.verify(manifest, answer["content"]).valid

    second = client.post(f"/api/comparisons/{body['id']}/vote", json={"vote": "b"}, headers=alice.bearer)
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_voted"
    assert "déjà voté" in second.json()["error"]["message"]
    assert client.get(f"/api/comparisons/{body['id']}", headers=alice.bearer).json()["vote"] == "a"

    usage = client.get("/api/me/usage", headers=alice.bearer).json()
    assert {item["model"] for item in usage["by_model"]} == set(models), "each answer has its usage record"
    assert usage["today"]["requests"] == 2 and usage["today"]["energy_wh"] > 0


def test_a_named_comparison_shows_the_chosen_models_in_order(client: TestClient, alice: Account) -> None:
    created = _compare(client, alice, blind=False, models=["third-model", "vllm-model"])
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["revealed"] is True
    assert [answer["model_id"] for answer in body["answers"]] == ["third-model", "vllm-model"]
    assert body["answers"][0]["provenance_manifest"]["provenance"]["model_id"] == "third-model"
    same = _compare(client, alice, models=["vllm-model", "vllm-model"])
    assert same.status_code == 400 and "deux modèles différents" in same.json()["error"]["message"]
    bad = client.post(f"/api/comparisons/{body['id']}/vote", json={"vote": "c"}, headers=alice.bearer)
    assert bad.status_code == 422 and "error" in bad.json()


def test_the_sovereignty_rule_applies_before_either_model_is_asked(
    client: TestClient, alice: Account, openai_upstream: FakeUpstream
) -> None:
    refused = _compare(client, alice, blind=False, models=["vllm-model", "externe-model"], sensitivity="internal")
    assert refused.status_code == 403, refused.text
    assert openai_upstream.chat_requests() == [], "no answer generated when one model is refused"


def test_a_reserved_model_is_never_drawn_and_two_are_needed(
    client: TestClient, alice: Account, referent: Account
) -> None:
    _reserve(client, referent, "third-model")
    for _ in range(6):
        created = _compare(client, alice, blind=False)
        assert created.status_code == 201, created.text
        assert {answer["model_id"] for answer in created.json()["answers"]} == {"vllm-model", "second-model"}
    named = _compare(client, alice, models=["vllm-model", "third-model"])
    assert named.status_code == 403 and named.json()["error"]["code"] == "model_not_allowed"

    reserved = client.post(
        "/api/governance/models/access",
        json={"model": "second-model", "groups": ["cellule de crise"]},
        headers=referent.bearer,
    )
    assert reserved.status_code == 200, reserved.text
    alone = _compare(client, alice)
    assert alone.status_code == 400, alone.text
    error = alone.json()["error"]
    assert error["code"] == "not_enough_models" and "au moins deux modèles souverains" in error["message"]


def test_another_users_comparison_is_not_found(client: TestClient, alice: Account, bob: Account) -> None:
    created = _compare(client, alice).json()
    assert client.get(f"/api/comparisons/{created['id']}", headers=bob.bearer).status_code == 404
    voted = client.post(f"/api/comparisons/{created['id']}/vote", json={"vote": "b"}, headers=bob.bearer)
    assert voted.status_code == 404 and voted.json()["error"]["message"] == "Comparaison introuvable."
    assert client.get("/api/comparisons", headers=bob.bearer).json() == []
    assert _compare(client, alice, question="   ").status_code == 400


def test_preferences_per_model_for_referents(client: TestClient, alice: Account, referent: Account) -> None:
    first = _compare(client, alice, blind=False, models=["vllm-model", "second-model"]).json()
    client.post(f"/api/comparisons/{first['id']}/vote", json={"vote": "a"}, headers=alice.bearer)
    second = _compare(client, alice, blind=False, models=["second-model", "vllm-model"]).json()
    client.post(f"/api/comparisons/{second['id']}/vote", json={"vote": "equivalent"}, headers=alice.bearer)
    _compare(client, alice, blind=False, models=["vllm-model", "third-model"])  # not voted: its energy counts

    assert client.get("/api/governance/comparisons", headers=alice.bearer).status_code == 403
    response = client.get("/api/governance/comparisons", params={"days": 7}, headers=referent.bearer)
    assert response.status_code == 200, response.text
    stats = {item["model_id"]: item for item in response.json()}
    assert (stats["vllm-model"]["wins"], stats["vllm-model"]["losses"], stats["vllm-model"]["ties"]) == (1, 0, 1)
    assert (stats["second-model"]["wins"], stats["second-model"]["losses"], stats["second-model"]["ties"]) == (0, 1, 1)
    assert stats["vllm-model"]["win_rate"] == 0.5 and stats["second-model"]["win_rate"] == 0.0
    assert stats["vllm-model"]["answers"] == 3 and stats["vllm-model"]["mean_energy_wh"] > 0
    assert stats["third-model"]["votes"] == 0 and stats["third-model"]["win_rate"] is None
    kpis = client.get("/api/governance/kpis", params={"days": 7}, headers=referent.bearer).json()
    assert {item["model_id"]: item["wins"] for item in kpis["preferences"]}["vllm-model"] == 1, "in the indicators too"


def test_comparisons_are_exported_and_erased_with_the_account_data(
    client: TestClient, app: FastAPI, alice: Account
) -> None:
    created = _compare(client, alice).json()  # blind and not voted: the archive names the models all the same
    export = client.get("/api/me/export", headers=alice.bearer)
    assert export.status_code == 200, export.text
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        assert "comparaisons.json" in archive.read("LISEZMOI.txt").decode()
        exported = json.loads(archive.read("comparaisons.json"))
    assert [item["id"] for item in exported] == [created["id"]]
    assert all(answer["model_id"] in SOVEREIGN for answer in exported[0]["answers"])
    assert all(answer["provenance_manifest"]["ai_generated"] for answer in exported[0]["answers"])

    receipt = client.post("/api/me/erase", json={"confirmation": ERASE_CONFIRMATION}, headers=alice.bearer)
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["comparisons"] == 1

    async def left() -> int:  # the erasure revoked the account's keys: the database says what is left
        async with runtime_of(app).session_factory() as session:
            return int((await session.execute(select(func.count()).select_from(Comparison))).scalar_one())

    assert run(client, left()) == 0
