"""The auditors' pages over HTTP: log filters and paging, chain verification in French, access review, exports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from assistant.app import create_app
from assistant.runtime import Runtime
from assistant.store.models import Role
from tests.factories import PASSWORD, Account, make_account, run, runtime_of


@dataclass
class Env:
    client: TestClient
    app: FastAPI
    agent: Account
    auditor: Account


@pytest.fixture
def env(settings_factory, database_url: str) -> Iterator[Env]:  # type: ignore[no-untyped-def]
    app = create_app(settings_factory(database_url=database_url, default_requests_per_minute=100_000))
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield Env(
            client=client,
            app=app,
            agent=make_account(client, app, "agent.audit", Role.AGENT),
            auditor=make_account(client, app, "auditeur.audit", Role.AUDITEUR),
        )


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    form = client.get("/connexion")
    token = re.search(r'name="jeton" value="([^"]+)"', form.text)
    assert token
    response = client.post(
        "/connexion", data={"identifiant": username, "mot_de_passe": PASSWORD, "jeton": token.group(1)}
    )
    assert response.status_code == 303, response.text


async def _record(runtime: Runtime, count: int) -> None:
    for index in range(count):
        await runtime.audit.record(
            category="audit", action="test.bulk", actor_label="robot", resource_type="essai", details={"n": index}
        )


def _event_ids(html: str) -> list[int]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [int(match) for match in re.findall(r"<tr>\s*<td>(\d+)</td>", body)]


def test_only_auditors_reach_the_audit_pages(env: Env) -> None:
    assert env.client.get("/audit").status_code == 303, "anonymous: sent to the login page"
    _sign_in(env.client, env.agent.username)
    for path in ("/audit", "/audit/verification", "/audit/revue-des-acces"):
        refused = env.client.get(path)
        assert refused.status_code == 403 and "Votre rôle ne donne pas accès à cette page" in refused.text
    assert 'href="/audit"' not in env.client.get("/mes-donnees").text, "no « Audit » entry for an agent"
    _sign_in(env.client, env.auditor.username)
    assert 'href="/audit"' in env.client.get("/mes-donnees").text


def test_log_filters_and_pages(env: Env) -> None:
    client = env.client
    run(client, _record(runtime_of(env.app), 60))
    _sign_in(client, env.auditor.username)

    first = client.get("/audit", params={"action": "test.bulk"})
    assert first.status_code == 200
    ids = _event_ids(first.text)
    assert len(ids) == 50 and ids == sorted(ids, reverse=True), "newest first, 50 a page"
    older = re.search(r'href="/audit\?([^"]+)">Événements plus anciens', first.text)
    assert older
    assert f"avant={ids[-1]}" in older.group(1) and "action=test.bulk" in older.group(1), "filters kept"
    second = client.get("/audit?" + older.group(1).replace("&amp;", "&"))
    rest = _event_ids(second.text)
    assert len(rest) == 10 and max(rest) < min(ids)
    assert "Événements plus anciens" not in second.text and "Événements les plus récents" in second.text

    logins = client.get("/audit", params={"categorie": "connection", "utilisateur": env.auditor.username})
    assert "Connexion<br><code>login</code>" in logins.text and "test.bulk" not in logins.text
    assert '<option value="connection" selected>' in logins.text
    nobody = client.get("/audit", params={"utilisateur": "personne"})
    assert "Aucun événement ne correspond à ces filtres." in nobody.text

    today = client.get("/audit", params={"du": "2000-01-01", "au": "2999-12-31", "action": "test."})
    assert len(_event_ids(today.text)) == 50
    past = client.get("/audit", params={"au": "2000-01-01"})
    assert "Aucun événement" in past.text
    typed = client.get("/audit", params={"du": "01/01/2000", "action": "test."})
    assert typed.status_code == 200 and len(_event_ids(typed.text)) == 50, "a date typed the French way"
    bad = client.get("/audit", params={"du": "31/02/2026"})
    assert bad.status_code == 400 and "La date « du » n&#39;est pas valide" in bad.text
    reversed_dates = client.get("/audit", params={"du": "2026-02-01", "au": "2026-01-01"})
    assert reversed_dates.status_code == 400 and "La date de début doit précéder la date de fin." in reversed_dates.text

    assert 'href="/api/audit/events/export?format=csv&amp;since=' in today.text
    export = client.get("/api/audit/events/export", params={"format": "csv", "category": "audit"})
    assert export.status_code == 200 and "test.bulk" in export.text, "the export link works with the session"
    acceptances = client.get("/api/audit/charter-acceptances", params={"format": "csv"})
    assert acceptances.status_code == 200 and acceptances.text.startswith("user_id,username")


def test_chain_verification_in_plain_french(env: Env) -> None:
    client = env.client
    runtime = runtime_of(env.app)
    run(client, _record(runtime, 3))
    _sign_in(client, env.auditor.username)
    page = client.get("/audit/verification")
    assert page.status_code == 200 and "Journal intègre" in page.text
    assert re.search(r"Les \d+ événements forment une chaîne continue et non modifiée", page.text)

    async def tamper() -> int:
        async with runtime.engine.begin() as connection:
            target = await connection.execute(text("SELECT min(id) FROM audit_events WHERE action = 'test.bulk'"))
            event_id = int(target.scalar_one()) + 1
            # What someone with the database owner's rights could do; the chain must still tell.
            if connection.dialect.name == "postgresql":
                await connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            else:
                await connection.execute(text("DROP TRIGGER audit_events_no_update"))
            await connection.execute(
                text("UPDATE audit_events SET details = '{\"n\": 99}' WHERE id = :id"), {"id": event_id}
            )
        return event_id

    event_id = run(client, tamper())
    broken = client.get("/audit/verification")
    assert "Journal altéré" in broken.text
    assert f"La chaîne est rompue à l'événement n° {event_id} : contenu modifié" in broken.text
    assert f'href="/audit?avant={event_id + 1}"' in broken.text


def test_access_review_page(env: Env) -> None:
    _sign_in(env.client, env.agent.username)
    _sign_in(env.client, env.auditor.username)
    page = env.client.get("/audit/revue-des-acces", params={"jours": 30})
    assert page.status_code == 200
    users = page.text.split('id="comptes-titre"', 1)[1].split("</section>", 1)[0]
    assert "<td>agent.audit</td>" in users and "<td>Agent</td>" in users and "<td>Auditeur</td>" in users
    assert "Usage des modèles (30 derniers jours)" in page.text
    assert 'href="/api/audit/access-review?format=csv&amp;section=users&amp;days=30"' in page.text
    exported = env.client.get("/api/audit/access-review", params={"format": "csv", "section": "users"})
    assert exported.status_code == 200 and "agent.audit" in exported.text
