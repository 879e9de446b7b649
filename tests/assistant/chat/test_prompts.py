"""The prompt library through the API: personal prompts, prompts published by référents to groups, variables
filled in, versions, who sees and edits what, uses in the indicators, export and erasure."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.store.models import Role
from tests.factories import Account, make_account

NOTE = (
    "Rédige une note à l'attention du préfet sur {{sujet}}, en une page, "
    "avec une proposition de décision. Destinataire : {{ service destinataire }}."
)


def _create(client: TestClient, who: Account, **body: Any) -> Any:
    return client.post("/api/prompts", json={"title": "Note au préfet", "body": NOTE, **body}, headers=who.bearer)


def _fill(client: TestClient, who: Account, prompt_id: str, values: dict[str, str], surface: str = "chat") -> Any:
    return client.post(
        f"/api/prompts/{prompt_id}/fill", json={"values": values, "surface": surface}, headers=who.bearer
    )


def _referent_and_group(client: TestClient, app: FastAPI, member: Account) -> Account:
    referent = make_account(client, app, "referent.prompts", Role.REFERENT)
    group = client.post("/api/admin/groups", json={"name": "préfecture"}, headers=referent.bearer)
    assert group.status_code == 201, group.text
    added = client.put(f"/api/admin/groups/{group.json()['id']}/members/{member.id}", headers=referent.bearer)
    assert added.status_code == 204
    return referent


def test_a_personal_prompt_is_filled_versioned_and_private(client: TestClient, alice: Account, bob: Account) -> None:
    created = _create(client, alice, description="Modèle de note")
    assert created.status_code == 201, created.text
    prompt = created.json()
    assert prompt["variables"] == ["sujet", "service destinataire"]
    assert (prompt["personal"], prompt["version"], prompt["editable"]) == (True, 1, True)

    missing = _fill(client, alice, prompt["id"], {"sujet": "la fermeture du pont"})
    assert missing.status_code == 400 and "Remplissez : « service destinataire »" in missing.json()["error"]["message"]
    filled = _fill(
        client, alice, prompt["id"], {"sujet": "la fermeture du pont", "service destinataire": "{{sujet}} SIDPC"}
    )
    assert filled.status_code == 200, filled.text
    text = filled.json()["text"]
    assert "note à l'attention du préfet sur la fermeture du pont" in text
    assert text.endswith("Destinataire : {{sujet}} SIDPC."), "a value is inserted as typed, never expanded again"

    edited = client.patch(
        f"/api/prompts/{prompt['id']}", json={"body": "Note au préfet sur {{sujet}}."}, headers=alice.bearer
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2 and edited.json()["variables"] == ["sujet"]
    same = client.patch(f"/api/prompts/{prompt['id']}", json={"title": "Note au préfet"}, headers=alice.bearer)
    assert same.json()["version"] == 2, "saving an unchanged text makes no new version"
    versions = client.get(f"/api/prompts/{prompt['id']}/versions", headers=alice.bearer).json()
    assert [v["version"] for v in versions] == [2, 1] and versions[1]["body"] == NOTE

    for method, path in [
        ("GET", f"/api/prompts/{prompt['id']}"),
        ("PATCH", f"/api/prompts/{prompt['id']}"),
        ("DELETE", f"/api/prompts/{prompt['id']}"),
        ("GET", f"/api/prompts/{prompt['id']}/versions"),
        ("POST", f"/api/prompts/{prompt['id']}/fill"),
    ]:
        response = client.request(method, path, json={} if method != "GET" else None, headers=bob.bearer)
        assert response.status_code == 404, (method, path, response.status_code)
    assert client.get("/api/prompts", headers=bob.bearer).json() == []
    assert client.delete(f"/api/prompts/{prompt['id']}", headers=alice.bearer).status_code == 204
    assert client.get("/api/prompts", headers=alice.bearer).json() == []


def test_published_prompts_reach_their_groups_only(
    client: TestClient, app: FastAPI, alice: Account, bob: Account
) -> None:
    referent = _referent_and_group(client, app, alice)
    refused = _create(client, alice, groups=["préfecture"])
    assert refused.status_code == 403, "agents keep personal prompts; référents publish"
    unknown = _create(client, referent, groups=["inconnu"])
    assert unknown.status_code == 400 and "Groupe inconnu" in unknown.json()["error"]["message"]
    published = _create(client, referent, groups=["préfecture"], title="Réponse à un usager")
    assert published.status_code == 201, published.text
    prompt = published.json()
    assert (prompt["personal"], prompt["groups"], prompt["published_by"]) == (False, ["préfecture"], "referent.prompts")

    seen = client.get("/api/prompts", headers=alice.bearer).json()
    assert [(p["title"], p["editable"]) for p in seen] == [("Réponse à un usager", False)]
    assert client.get("/api/prompts", headers=bob.bearer).json() == [], "bob is in no group it is published to"
    assert client.get(f"/api/prompts/{prompt['id']}", headers=bob.bearer).status_code == 404
    edit = client.patch(f"/api/prompts/{prompt['id']}", json={"title": "Piraté"}, headers=alice.bearer)
    assert edit.status_code == 403 and "publié par un référent" in edit.json()["error"]["message"]
    assert _fill(client, alice, prompt["id"], {"sujet": "x", "service destinataire": "y"}).status_code == 200
    assert _fill(client, alice, prompt["id"], {"sujet": "x", "service destinataire": "y"}, "tasks").status_code == 200

    republished = client.patch(f"/api/prompts/{prompt['id']}", json={"groups": []}, headers=referent.bearer)
    assert republished.status_code == 400 and "au moins un groupe" in republished.json()["error"]["message"]
    kpis = client.get("/api/governance/kpis", headers=referent.bearer).json()
    assert {(p["title"], p["published"], p["uses"]) for p in kpis["prompts"]} == {("Réponse à un usager", True, 2)}

    mine = _create(client, alice, title="Mon brouillon secret").json()
    _fill(client, alice, mine["id"], {"sujet": "a", "service destinataire": "b"})
    kpis = client.get("/api/governance/kpis", headers=referent.bearer).json()
    titles = {p["title"] for p in kpis["prompts"]}
    assert "Mon brouillon secret" not in titles and "Prompt personnel" in titles, "personal titles stay private"
    assert client.delete(f"/api/prompts/{prompt['id']}", headers=referent.bearer).status_code == 204


def test_personal_prompts_in_the_export_and_the_erasure(client: TestClient, app: FastAPI, alice: Account) -> None:
    referent = _referent_and_group(client, app, alice)
    mine = _create(client, alice).json()
    shared = _create(client, referent, groups=["préfecture"], title="Publié").json()
    _fill(client, alice, shared["id"], {"sujet": "a", "service destinataire": "b"})
    archive = client.get("/api/me/export", headers=alice.bearer)
    with zipfile.ZipFile(io.BytesIO(archive.content)) as exported:
        prompts = json.loads(exported.read("prompts.json"))
    assert [p["id"] for p in prompts] == [mine["id"]], "the export holds her own prompts, not the published ones"

    erased = client.post("/api/me/erase", json={"confirmation": "SUPPRIMER MES DONNÉES"}, headers=alice.bearer)
    assert erased.status_code == 200 and erased.json()["prompts"] == 1
    assert client.get(f"/api/prompts/{mine['id']}", headers=referent.bearer).status_code == 404
    assert client.get(f"/api/prompts/{shared['id']}", headers=referent.bearer).status_code == 200
    kpis = client.get("/api/governance/kpis", headers=referent.bearer).json()
    assert [p["uses"] for p in kpis["prompts"]] == [1], "her use still counts, detached from her account"
