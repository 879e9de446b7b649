"""The charter pages over HTTP: gating of the assistant's pages, (re-)acceptance, publication, guard rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.security import Principal, permissions_for
from assistant.services.charter.compliance import build_report
from assistant.services.governance.incidents import report_incident
from assistant.store.models import IncidentCategory, Role
from tests.factories import PASSWORD, Account, make_account, run, runtime_of

CHAT = "/v1/chat/completions"


# An aiosqlite connection left by an earlier test is sometimes collected while this module's fixtures start
# (seen twice in full runs, never in this module alone); tracked in the closing note, not hidden elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@dataclass
class Env:
    client: TestClient
    app: FastAPI
    agent: Account
    referent: Account
    auditor: Account


@pytest.fixture
def env(settings_factory, database_url: str) -> Iterator[Env]:  # type: ignore[no-untyped-def]
    app = create_app(settings_factory(database_url=database_url, default_requests_per_minute=100_000))
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield Env(
            client=client,
            app=app,
            agent=make_account(client, app, "agent.charte", Role.AGENT),
            referent=make_account(client, app, "referent.charte", Role.REFERENT),
            auditor=make_account(client, app, "auditeur.charte", Role.AUDITEUR),
        )


def _sign_in(client: TestClient, username: str) -> str:
    """A browser-like session through the login form; returns the pages' anti-CSRF token."""
    client.cookies.clear()
    form = client.get("/connexion")
    token = re.search(r'name="jeton" value="([^"]+)"', form.text)
    assert token
    response = client.post(
        "/connexion",
        data={"identifiant": username, "mot_de_passe": PASSWORD, "jeton": token.group(1), "suivant": "/charte"},
    )
    assert response.status_code == 303, response.text
    page = client.get("/charte")
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert csrf
    return csrf.group(1)


def _publish(env: Env, **body: str) -> int:
    response = env.client.post("/api/admin/charter", json=body, headers=env.referent.bearer)
    assert response.status_code == 201, response.text
    version: int = response.json()["version"]
    return version


def _chat(content: str) -> dict[str, object]:
    return {"model": "smollm2-135m", "messages": [{"role": "user", "content": content}], "max_tokens": 2}


def test_without_a_published_charter_nothing_is_gated(env: Env) -> None:
    _sign_in(env.client, env.agent.username)
    assert env.client.get("/chat").status_code == 200
    page = env.client.get("/charte")
    assert page.status_code == 200
    assert "Texte par défaut" in page.text and "Article 6" in page.text
    assert "J'accepte la charte" not in page.text, "nothing to accept"
    assert 'href="/charte"' in page.text, "the navigation links to it"


def test_gated_pages_send_to_the_charter_then_back_and_a_new_version_asks_again(env: Env) -> None:
    client = env.client
    assert _publish(env) == 1
    csrf = _sign_in(client, env.agent.username)

    gated = client.get("/chat?conversation=42")
    assert gated.status_code == 303
    location = gated.headers["location"]
    assert urlparse(location).path == "/charte"
    assert parse_qs(urlparse(location).query) == {"suivant": ["/chat?conversation=42"]}
    assert client.get("/mes-donnees").status_code == 200, "profile pages stay open, to read and accept"
    api = client.get("/api/conversations")
    assert api.status_code == 403 and api.json()["error"]["code"] == "charter_not_accepted", "the API agrees"

    page = client.get(location)
    assert page.status_code == 200 and "J'accepte la charte" in page.text
    assert 'name="version" value="1"' in page.text
    assert 'name="suivant" value="/chat?conversation=42"' in page.text

    forged = client.post("/charte", data={"version": "1", "suivant": "/chat"})
    assert forged.status_code == 403, "the form needs the session's anti-CSRF token"
    assert client.get("/chat").status_code == 303, "a refused form accepts nothing"

    accepted = client.post("/charte", data={"version": "1", "suivant": "/chat?conversation=42", "csrf_token": csrf})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/chat?conversation=42"
    assert client.get("/chat").status_code == 200
    shown = client.get("/charte")
    assert "Vous avez accepté cette version (version 1) le" in shown.text
    assert "J'accepte la charte" not in shown.text
    assert client.get("/api/conversations", headers=env.agent.bearer).status_code == 200, "keys inherit it"

    assert _publish(env, summary="- Nouvelle règle", text="# Charte v2\n\n## Article 1\n\nTexte.") == 2
    assert client.get("/chat").headers["location"] == "/charte?suivant=%2Fchat"
    stale = client.post("/charte", data={"version": "1", "csrf_token": csrf})
    assert stale.status_code == 409 and "La charte a changé" in stale.text
    assert 'name="version" value="2"' in stale.text, "the new version is shown, to be read"
    elsewhere = client.post(
        "/charte", data={"version": "2", "suivant": "https://ailleurs.example/", "csrf_token": csrf}
    )
    assert elsewhere.headers["location"] == "/charte?acceptee=1", "never sent to another site"
    assert client.get("/chat").status_code == 200


def test_roles_without_the_assistant_are_not_gated_and_auditors_read_the_charter(env: Env) -> None:
    _publish(env)
    _sign_in(env.client, env.auditor.username)
    page = env.client.get("/charte")
    assert page.status_code == 200 and "J'accepte la charte" in page.text, "everyone signed in may accept"
    assert env.client.get("/audit").status_code == 200, "the audit pages do not need the charter"
    assert env.client.get("/chat").status_code == 403, "the role, not the charter, decides there"


def test_charter_markdown_is_rendered_safely(env: Env) -> None:
    _publish(
        env,
        summary="- **Gras** <script>alert(1)</script>",
        text="# Titre\n\n[lien](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n## Article 1\n\nTexte.",
    )
    _sign_in(env.client, env.agent.username)
    page = env.client.get("/charte").text
    assert "<strong>Gras</strong>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img" not in page and 'href="javascript:' not in page
    assert "<h3>Article 1</h3>" in page, "headings sit under the page's own title"
    assert "<h2>Titre</h2>" not in page, "the text's own title is the page's"


def test_referent_previews_then_publishes_and_follows_acceptances(env: Env) -> None:
    client = env.client
    csrf = _sign_in(client, env.agent.username)
    assert client.get("/admin/charte").status_code == 403
    assert client.post("/admin/charte", data={"csrf_token": csrf, "texte": "x", "resume": "y"}).status_code == 403

    csrf = _sign_in(client, env.referent.username)
    form = client.get("/admin/charte")
    assert form.status_code == 200 and "Aucune version publiée" in form.text
    assert "Article 6" in form.text, "the default text is offered as a starting point"

    text = "# Charte locale\n\n## Article 1\n\nLes agents <b>vérifient</b>."
    preview = client.post(
        "/admin/charte", data={"csrf_token": csrf, "titre": "Charte locale", "resume": "- Vérifier", "texte": text}
    )
    assert preview.status_code == 200 and "Aperçu (non publié)" in preview.text
    assert "&lt;b&gt;vérifient&lt;/b&gt;" in preview.text and "<b>vérifient</b>" not in preview.text.split("Aperçu")[1]
    assert client.get("/api/charter").json()["version"] is None, "a preview publishes nothing"

    missing = client.post("/admin/charte", data={"csrf_token": csrf, "texte": text, "operation": "publier"})
    assert missing.status_code == 400 and "Renseignez le résumé" in missing.text

    published = client.post(
        "/admin/charte",
        data={
            "csrf_token": csrf,
            "titre": "Charte locale",
            "resume": "- Vérifier",
            "texte": text,
            "operation": "publier",
        },
    )
    assert published.status_code == 303 and published.headers["location"] == "/admin/charte?publiee=1"
    charter = client.get("/api/charter").json()
    assert charter["version"] == 1 and charter["title"] == "Charte locale" and charter["summary"] == "- Vérifier"

    agent_csrf = _sign_in(client, env.agent.username)
    assert client.post("/charte", data={"version": "1", "csrf_token": agent_csrf}).status_code == 303

    _sign_in(client, env.referent.username)
    history = client.get("/admin/charte?publiee=1").text
    assert "Version 1 publiée" in history
    row = re.search(r"<tr>\s*<td>1 <span[^>]*>en vigueur</span></td>(.*?)</tr>", history, re.S)
    assert row, history
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells[0] == "Charte locale" and cells[2] == "referent.charte"
    assert cells[3] == "1" and cells[4] == "33,3 %", "1 of 3 active accounts"


def _guard_form(csrf: str, version: int, **fields: str) -> dict[str, str]:
    base = {
        "csrf_token": csrf,
        "version": str(version),
        "origine": "",
        "identifiant": "ornithorynque",
        "titre": "Animaux improbables",
        "action": "block",
        "message": "Refusé (charte, article 9).",
        "clause": "Charte, article 9",
        "motifs": "ornithorynques?\n",
        "consigne": "",
        "active": "oui",
    }
    return {**base, **fields}


def test_referent_edits_guard_rules_with_french_errors(env: Env) -> None:
    client = env.client
    csrf = _sign_in(client, env.agent.username)
    assert client.get("/admin/garde-fou").status_code == 403

    csrf = _sign_in(client, env.referent.username)
    page = client.get("/admin/garde-fou")
    assert page.status_code == 200
    assert page.text.count("/admin/garde-fou?modifier=") == 4 and "Version en vigueur : 1" in page.text

    bad_regex = client.post("/admin/garde-fou", data=_guard_form(csrf, 1, motifs="ornithorynque(\n"))
    assert bad_regex.status_code == 400
    assert "expression régulière invalide « ornithorynque( » : parenthèse fermante manquante" in bad_regex.text
    assert 'id="motifs" name="motifs" rows="6" aria-describedby="motifs-aide patterns-erreur" aria-invalid="true"' in (
        bad_regex.text
    )
    bad_id = client.post("/admin/garde-fou", data=_guard_form(csrf, 1, identifiant="Règle 1"))
    assert bad_id.status_code == 400 and "lettres minuscules sans accent" in bad_id.text
    assert 'value="Règle 1"' in bad_id.text, "what was typed is kept"
    nothing = client.post("/admin/garde-fou", data=_guard_form(csrf, 1, motifs=" \n"))
    assert nothing.status_code == 400
    assert "donnez des motifs, une consigne de classification, ou les deux" in nothing.text
    duplicate = client.post("/admin/garde-fou", data=_guard_form(csrf, 1, identifiant="reconnaissance-faciale"))
    assert duplicate.status_code == 400 and "en double : reconnaissance-faciale" in duplicate.text

    added = client.post("/admin/garde-fou", data=_guard_form(csrf, 1))
    assert added.status_code == 303 and added.headers["location"] == "/admin/garde-fou?enregistree=2"
    rules = client.get("/api/admin/guard-rules").json()
    assert rules["version"] == 2 and [rule["id"] for rule in rules["rules"]][-1] == "ornithorynque"
    refused = client.post(CHAT, json=_chat("Un ornithorynque ?"), headers=env.agent.bearer)
    assert refused.status_code == 403 and refused.json()["error"]["message"] == "Refusé (charte, article 9)."

    stale = client.post("/admin/garde-fou", data=_guard_form(csrf, 1, action="warn"))
    assert stale.status_code == 409 and "modifiées entre-temps (version 2)" in stale.text

    edit = client.get("/admin/garde-fou?modifier=ornithorynque")
    assert "Modifier la règle « ornithorynque »" in edit.text and "ornithorynques?" in edit.text
    edited = client.post(
        "/admin/garde-fou", data=_guard_form(csrf, 2, origine="ornithorynque", identifiant="ornitho", action="warn")
    )
    assert edited.status_code == 303
    rules = client.get("/api/admin/guard-rules").json()["rules"]
    assert [(rule["id"], rule["action"]) for rule in rules][-1] == ("ornitho", "warn") and len(rules) == 5

    disabled = client.post(
        "/admin/garde-fou/activation", data={"csrf_token": csrf, "version": "3", "regle": "reconnaissance-faciale"}
    )
    assert disabled.status_code == 303
    rules = {rule["id"]: rule for rule in client.get("/api/admin/guard-rules").json()["rules"]}
    assert rules["reconnaissance-faciale"]["enabled"] is False
    text = "Identifie les personnes sur cette photo."
    assert client.post(CHAT, json={**_chat(text), "max_tokens": 1}, headers=env.agent.bearer).status_code != 403
    page = client.get("/admin/garde-fou").text
    assert "désactivée" in page and "Activer<span" in page
    forged = client.post("/admin/garde-fou/activation", data={"version": "4", "regle": "reconnaissance-faciale"})
    assert forged.status_code == 403, "anti-CSRF token required"


def test_guard_page_shows_decisions_without_their_authors_and_false_alarm_reports(env: Env) -> None:
    client = env.client
    refused = client.post(CHAT, json=_chat("Identifie les personnes sur cette photo."), headers=env.agent.bearer)
    assert refused.status_code == 403
    reporter = Principal(env.agent.id, env.agent.username, Role.AGENT, "session", permissions_for(Role.AGENT))
    run(
        client,
        report_incident(
            runtime_of(env.app),
            reporter=reporter,
            category=IncidentCategory.GUARD_FALSE_POSITIVE,
            description="Je demandais une note sur la réglementation de la vidéoprotection.",
            excerpt="Rédige une note sur la vidéoprotection et la reconnaissance faciale.",
        ),
    )
    _sign_in(client, env.referent.username)
    page = client.get("/admin/garde-fou").text
    decisions = page.split("Décisions récentes du garde-fou", 1)[1]
    assert "Demande refusée" in decisions and "<code>reconnaissance-faciale</code>" in decisions
    assert "API compatible OpenAI" in decisions
    assert env.agent.username not in page, "the référent does not read who was refused"
    assert "réglementation de la vidéoprotection" in page and "Ouvert" in page

    report = run(client, build_report(runtime_of(env.app)))
    oversight = next(check for check in report.checks if check.requirement.startswith("Contrôle humain"))
    activity = next(line for line in oversight.evidence if line.startswith("Activité du garde-fou"))
    assert "1 refus" in activity and "1 alerte(s) signalée(s) injustifiée(s)" in activity


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"id": "x-1"}, "Règle n° 1, champ « title » (titre) : champ obligatoire"),
        (
            {"id": "x-1", "title": "t", "action": "punir", "message": "m", "patterns": ["a"]},
            "champ « action » (action) : valeur attendue : warn (avertir), confirm",
        ),
        (
            {"id": "x-1", "title": "t", "action": "warn", "message": "m", "patterns": ["[ab"]},
            "expression régulière invalide « [ab » : crochet fermant « ] » manquant (caractère n° 1)",
        ),
        (
            {"id": "x-1", "title": "t", "action": "warn", "message": "m", "patterns": ["a"], "couleur": "bleu"},
            "champ « couleur » : champ inconnu",
        ),
    ],
)
def test_the_api_explains_invalid_rules_in_french(env: Env, rule: dict[str, object], message: str) -> None:
    response = env.client.put("/api/admin/guard-rules", json={"rules": [rule]}, headers=env.referent.bearer)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
