"""Glossaries through the API: mine, my groups' (référents edit), applied and frozen on each transcription, RGPD."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.security import Principal, permissions_for
from assistant.services.governance.admin import add_group_member, create_group
from assistant.store import glossaries as glossary_store
from assistant.store.models import Role
from tests.assistant.transcription.helpers import upload, wait_until_finished
from tests.factories import PASSWORD, Account, make_account, run, runtime_of


@dataclass
class Cast:
    member: Account
    referent: Account
    stranger: Account
    group_id: str


def _cast(client: TestClient, app: FastAPI, agent: Account) -> Cast:
    referent = make_account(client, app, "referent.ia", Role.REFERENT)
    stranger = make_account(client, app, "agent.autre", Role.AGENT)
    admin = Principal(referent.id, referent.username, Role.REFERENT, "session", permissions_for(Role.REFERENT))

    async def group() -> str:
        created = await create_group(runtime_of(app), name="prefecture-35", description="", actor=admin)
        await add_group_member(runtime_of(app), group_id=created.id, user_id=agent.id, actor=admin)
        return str(created.id)

    return Cast(agent, referent, stranger, run(client, group()))


def _session(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies["souverain_session"]
    client.cookies.clear()
    return {"Cookie": f"souverain_session={cookie}"}


def _error(response: object) -> dict[str, str]:
    body = response.json()  # type: ignore[attr-defined]
    return body["error"]  # type: ignore[no-any-return]


def test_personal_glossary_crud_with_french_errors(client: TestClient, agent: Account) -> None:
    created = client.post(
        "/api/glossary",
        json={"term": " SGAMI ", "variants": ["esse gé ami", "esse gé ami", " "], "note": "Secrétariat général"},
        headers=agent.bearer,
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["term"], entry["variants"], entry["group_id"]) == ("SGAMI", ["esse gé ami"], None)

    duplicate = client.post("/api/glossary", json={"term": "s.g.a.m.i."}, headers=agent.bearer)
    assert duplicate.status_code == 409
    assert _error(duplicate)["message"] == "« SGAMI » est déjà dans ce glossaire : modifiez-le."
    blank = client.post("/api/glossary", json={"term": "« — »"}, headers=agent.bearer)
    assert blank.status_code == 400 and "Indiquez le terme" in _error(blank)["message"]
    too_long = client.post("/api/glossary", json={"term": "x" * 101}, headers=agent.bearer)
    assert too_long.status_code == 422 and _error(too_long)["code"] == "validation_error"

    patched = client.patch(
        f"/api/glossary/{entry['id']}", json={"variants": ["esse gamie"]}, headers=agent.bearer
    ).json()
    assert (patched["term"], patched["variants"], patched["note"]) == ("SGAMI", ["esse gamie"], "Secrétariat général")
    client.post("/api/glossary", json={"term": "CSA"}, headers=agent.bearer)
    assert [e["term"] for e in client.get("/api/glossary", headers=agent.bearer).json()] == ["CSA", "SGAMI"]

    assert client.delete(f"/api/glossary/{entry['id']}", headers=agent.bearer).status_code == 204
    gone = client.delete(f"/api/glossary/{entry['id']}", headers=agent.bearer)
    assert gone.status_code == 404 and _error(gone)["message"] == "Terme introuvable dans ce glossaire."


def test_nobody_else_reads_or_changes_my_glossary(client: TestClient, app: FastAPI, agent: Account) -> None:
    other = make_account(client, app, "agent.curieux", Role.AGENT)
    entry = client.post("/api/glossary", json={"term": "Kerdraon"}, headers=agent.bearer).json()
    assert client.get("/api/glossary", headers=other.bearer).json() == []
    assert client.patch(f"/api/glossary/{entry['id']}", json={"term": "X"}, headers=other.bearer).status_code == 404
    assert client.delete(f"/api/glossary/{entry['id']}", headers=other.bearer).status_code == 404
    auditor = make_account(client, app, "auditrice", Role.AUDITEUR)
    assert client.get("/api/glossary", headers=auditor.bearer).status_code == 403


def test_group_glossary_is_read_by_members_and_edited_by_referents_only(
    client: TestClient, app: FastAPI, agent: Account
) -> None:
    cast = _cast(client, app, agent)
    url = f"/api/groups/{cast.group_id}/glossary"
    added = client.post(url, json={"term": "DDETS", "variants": ["dé dé e té esse"]}, headers=cast.referent.bearer)
    assert added.status_code == 201, added.text
    assert added.json()["edited_by"] == "referent.ia"

    seen = client.get(url, headers=cast.member.bearer).json()
    assert (seen["name"], seen["editable"], [e["term"] for e in seen["entries"]]) == ("prefecture-35", False, ["DDETS"])
    refused = client.post(url, json={"term": "CSA"}, headers=cast.member.bearer)
    assert refused.status_code == 403
    assert (
        _error(refused)["message"] == "Seuls les référents peuvent modifier le glossaire du groupe « prefecture-35 »."
    )
    entry_url = f"{url}/{added.json()['id']}"
    assert client.delete(entry_url, headers=cast.member.bearer).status_code == 403
    # Someone outside the group is not told it exists.
    for response in (
        client.get(url, headers=cast.stranger.bearer),
        client.post(url, json={"term": "CSA"}, headers=cast.stranger.bearer),
        client.patch(entry_url, json={"term": "CSA"}, headers=cast.stranger.bearer),
    ):
        assert response.status_code == 404 and _error(response)["message"] == "Groupe introuvable."
    # A group's entry is not reachable as a personal one, nor through another group's address.
    assert client.delete(f"/api/glossary/{added.json()['id']}", headers=cast.referent.bearer).status_code == 404
    assert (
        client.patch(entry_url, json={"note": "Direction départementale"}, headers=cast.referent.bearer).json()["note"]
        == "Direction départementale"
    )
    assert client.delete(entry_url, headers=cast.referent.bearer).status_code == 204


def test_the_union_of_glossaries_is_applied_and_frozen_on_each_transcription(
    client: TestClient, app: FastAPI, agent: Account, french_wav: Path
) -> None:
    cast = _cast(client, app, agent)
    # The recording says « bibliothèque »: the personal glossary writes it its own way.
    mine = client.post(
        "/api/glossary", json={"term": "Médiathèque", "variants": ["bibliothèque"]}, headers=agent.bearer
    ).json()
    client.post(f"/api/groups/{cast.group_id}/glossary", json={"term": "Kerdraon"}, headers=cast.referent.bearer)
    created = upload(client, agent, french_wav, language="fr")
    assert created.status_code in (201, 202), created.text
    transcription_id = created.json()["id"]
    assert wait_until_finished(client, agent, transcription_id)["status"] == "succeeded"

    result = client.get(f"/api/transcriptions/{transcription_id}/result", headers=agent.bearer).json()
    assert "Médiathèque" in result["text"] and "bibliothèque" not in result["text"].lower()
    assert result["ai_generated"] is True
    applied = client.get(f"/api/transcriptions/{transcription_id}/glossary", headers=agent.bearer).json()
    assert [t["term"] for t in applied["terms"]] == ["Médiathèque", "Kerdraon"]  # personal terms first
    assert isinstance(applied["corrections"], int)  # recorded (the prompt alone may have sufficed)

    page = client.get(f"/transcriptions/{transcription_id}", headers=_session(client, agent.username))
    assert "Glossaire appliqué : 2 termes" in page.text and 'href="/glossaire"' in page.text

    # Later edits change the next transcriptions, not this one's record.
    client.delete(f"/api/glossary/{mine['id']}", headers=agent.bearer)
    again = client.get(f"/api/transcriptions/{transcription_id}/glossary", headers=agent.bearer).json()
    assert [t["term"] for t in again["terms"]] == ["Médiathèque", "Kerdraon"]
    assert (
        client.get(f"/api/transcriptions/{transcription_id}/glossary", headers=cast.stranger.bearer).status_code == 404
    )


def test_rgpd_export_holds_my_glossary_and_erasure_removes_it(client: TestClient, app: FastAPI, agent: Account) -> None:
    client.post("/api/glossary", json={"term": "Kerdraon", "note": "cheffe de bureau"}, headers=agent.bearer)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/api/me/export", headers=agent.bearer).content))
    exported = json.loads(archive.read("glossaire.json"))
    assert [(e["terme"], e["note"]) for e in exported] == [("Kerdraon", "cheffe de bureau")]
    assert "glossaire.json" in archive.read("LISEZMOI.txt").decode()

    receipt = client.post("/api/me/erase", json={"confirmation": "SUPPRIMER MES DONNÉES"}, headers=agent.bearer)
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["glossary_terms"] == 1

    async def remaining() -> int:
        async with runtime_of(app).session_factory() as session:
            return len(await glossary_store.list_entries(session=session, owner_id=agent.id))

    assert run(client, remaining()) == 0
