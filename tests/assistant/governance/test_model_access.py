"""Per-group model access: a reserved model is listed, chosen and served only for its groups' members."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.services.governance.audit_log import search_events
from assistant.store.models import Role
from tests.assistant.governance.helpers import MODEL, OTHER_MODEL, ask, backends
from tests.factories import make_account, run, runtime_of
from tests.fakes import FakeUpstream

GROUP = "cellule de crise"


def _listed(client: TestClient, headers: dict[str, str]) -> list[str]:
    response = client.get("/v1/models", headers=headers)
    assert response.status_code == 200, response.text
    return [model["id"] for model in response.json()["data"]]


def _set_access(client: TestClient, headers: dict[str, str], groups: list[str] | None, model: str = MODEL) -> Any:
    return client.post("/api/governance/models/access", json={"model": model, "groups": groups}, headers=headers)


def test_a_reserved_model_serves_only_its_groups_and_survives_a_restart(  # type: ignore[no-untyped-def]
    settings_factory, openai_upstream: FakeUpstream, database_url: str
) -> None:
    settings = settings_factory(database_url=database_url, llm_backends=backends(openai_upstream.url))
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        referent = make_account(client, app, "referent.r", Role.REFERENT).bearer
        member = make_account(client, app, "agent.crise", Role.AGENT)
        outsider = make_account(client, app, "agent.autre", Role.AGENT).bearer
        group = client.post("/api/admin/groups", json={"name": GROUP}, headers=referent)
        assert group.status_code == 201, group.text
        added = client.put(f"/api/admin/groups/{group.json()['id']}/members/{member.id}", headers=referent)
        assert added.status_code == 204
        assert _listed(client, outsider) == [MODEL, OTHER_MODEL], "every model is open until a référent decides"

        reserved = _set_access(client, referent, [GROUP, f"  {GROUP} "])
        assert reserved.status_code == 200, reserved.text
        assert reserved.json()["groups"] == [GROUP] and reserved.json()["decided_by"] == "referent.r"

        assert _listed(client, member.bearer) == [MODEL, OTHER_MODEL]
        assert _listed(client, outsider) == [OTHER_MODEL], "a reserved model is not even listed to others"
        assert ask(client, member.bearer).status_code == 200
        refused = ask(client, outsider)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "model_not_allowed"
        assert "réservé à certains groupes" in refused.json()["error"]["message"]
        # Without a model named, the first model the caller may use answers instead of the reserved default.
        chosen = client.post(
            "/v1/chat/completions",
            json={"model": "", "messages": [{"role": "user", "content": "Bonjour"}]},
            headers=outsider,
        )
        assert chosen.status_code == 200 and chosen.json()["model"] == OTHER_MODEL
        conversation = client.post("/api/conversations", json={"model": MODEL}, headers=outsider)
        assert conversation.status_code == 403, "a conversation cannot be opened on it either"
        switched = client.post("/api/conversations", json={"model": OTHER_MODEL}, headers=outsider)
        assert switched.status_code == 201
        patched = client.patch(f"/api/conversations/{switched.json()['id']}", json={"model": MODEL}, headers=outsider)
        assert patched.status_code == 403
        supervision = {m["model"]: m for m in client.get("/api/governance/models/access", headers=referent).json()}
        assert supervision[MODEL]["groups"] == [GROUP] and supervision[OTHER_MODEL]["open_to_all"] is True

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert ask(client, outsider).status_code == 403, "the rule is in the database, not in one process"
        assert ask(client, member.bearer).status_code == 200
        opened = _set_access(client, referent, None)
        assert opened.status_code == 200 and opened.json()["open_to_all"] is True
        assert ask(client, outsider).status_code == 200
        events = run(client, search_events(runtime_of(client.app), action_prefix="model.access"))  # type: ignore[arg-type]
        assert [e.details for e in reversed(events)] == [
            {"from": None, "to": [GROUP]},
            {"from": [GROUP], "to": None},
        ]


def test_bad_access_rules_are_refused_in_french(settings_factory, openai_upstream: FakeUpstream) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings_factory(llm_backends=backends(openai_upstream.url)))
    with TestClient(app, raise_server_exceptions=False) as client:
        referent = make_account(client, app, "referent.r", Role.REFERENT).bearer
        agent = make_account(client, app, "agent.a", Role.AGENT).bearer
        auditor = make_account(client, app, "auditeur.a", Role.AUDITEUR).bearer
        unknown_group = _set_access(client, referent, ["inexistant"])
        assert (
            unknown_group.status_code == 400
            and "Groupe inconnu : « inexistant »" in unknown_group.json()["error"]["message"]
        )
        empty = _set_access(client, referent, [])
        assert empty.status_code == 400 and "au moins un groupe" in empty.json()["error"]["message"]
        assert _set_access(client, referent, ["x"], model="inconnu").status_code == 404
        assert _set_access(client, agent, None).status_code == 403
        assert _set_access(client, auditor, None).status_code == 403, "auditors read, they do not decide"
        assert client.get("/api/governance/models/access", headers=auditor).status_code == 200
        assert _listed(client, agent) == [MODEL, OTHER_MODEL], "nothing was written by the refused requests"


def test_a_model_reserved_to_every_model_leaves_an_outsider_with_a_clear_refusal(  # type: ignore[no-untyped-def]
    settings_factory, openai_upstream: FakeUpstream
) -> None:
    app = create_app(settings_factory(llm_backends=backends(openai_upstream.url)))
    with TestClient(app, raise_server_exceptions=False) as client:
        referent = make_account(client, app, "referent.r", Role.REFERENT).bearer
        outsider = make_account(client, app, "agent.autre", Role.AGENT).bearer
        assert client.post("/api/admin/groups", json={"name": GROUP}, headers=referent).status_code == 201
        for model in (MODEL, OTHER_MODEL):
            assert _set_access(client, referent, [GROUP], model=model).status_code == 200
        assert _listed(client, outsider) == []
        refused = client.post(
            "/v1/chat/completions",
            json={"model": "", "messages": [{"role": "user", "content": "Bonjour"}]},
            headers=outsider,
        )
        assert refused.status_code == 403
        assert "Aucun modèle n'est ouvert à vos groupes" in refused.json()["error"]["message"]
