"""The authorization matrix: every route x every kind of caller x own/foreign objects, on SQLite and PostgreSQL.

The expected status comes from the route's declared permission and the caller's role and key scopes; the request
table must cover every route the app serves, so a new route cannot escape the matrix.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, WebSocketDisconnect
from fastapi.testclient import TestClient

from assistant.api.policies import route_policies
from assistant.app import create_app
from assistant.runtime import Runtime
from assistant.security import Permission, Principal, Scope, permissions_for
from assistant.services.governance.admin import create_group
from assistant.services.governance.incidents import report_incident
from assistant.store.models import IncidentCategory, Role
from tests.factories import PASSWORD, Account, make_account, new_key, run, runtime_of

_counter = itertools.count()


@dataclass
class Caller:
    name: str
    headers: dict[str, str]
    role: Role | None
    scopes: list[Scope] | None  # None: interactive session
    owner: Account | None


@dataclass
class World:
    agent: Account
    other: Account
    group_id: uuid.UUID
    spare_keys: dict[str, str]  # caller name -> id of a key of their own
    foreign_key_id: str
    own_reports: dict[str, str]  # caller name -> id of an incident report of their own
    report_id: str  # a report of the agent's, for the governance routes


# Transcription routes are reached with an id that exists nowhere: allowed callers get 404.
_NOBODY_S_TRANSCRIPTION = uuid.UUID(int=7)

Request = tuple[str, str, Callable[[World, Caller], dict[str, object] | None], int]


_REPORT = {"category": "autre", "description": "Réponse hors sujet.", "excerpt": "Bonjour.", "model": "smollm2-135m"}


_SOURCE = {"name": "Partage", "kind": "webdav", "location": "https://cloud.example.fr/dav/", "username": "u"}


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


ADMIN_PAGES = [
    "/admin",
    "/admin/comptes",
    "/admin/groupes",
    "/admin/groupes/{group_id}",
    "/admin/cles",
    "/admin/quotas",
    "/admin/modeles",
    "/admin/signalements",
    "/admin/signalements/{report_id}",
    "/admin/indicateurs",
    "/admin/registre",
    "/admin/conformite",
]

# (method, path template, body factory, expected status when allowed)
REQUESTS: list[Request] = [
    ("GET", "/healthz", lambda w, c: None, 200),
    ("GET", "/readyz", lambda w, c: None, 200),
    ("GET", "/metrics", lambda w, c: None, 200),
    ("GET", "/openapi.json", lambda w, c: None, 200),
    ("GET", "/docs", lambda w, c: None, 200),
    ("GET", "/redoc", lambda w, c: None, 200),
    ("POST", "/api/auth/login", lambda w, c: {"username": "nobody", "password": "x"}, 401),
    ("GET", "/api/me", lambda w, c: None, 200),
    ("GET", "/api/me/quota", lambda w, c: None, 200),
    ("PATCH", "/api/me", lambda w, c: {"display_name": "Agent matrice"}, 200),
    ("GET", "/api/me/export", lambda w, c: None, 200),
    ("POST", "/api/me/erase", lambda w, c: {"confirmation": "non"}, 400),
    ("GET", "/api/me/keys", lambda w, c: None, 200),
    ("POST", "/api/me/keys", lambda w, c: {"name": "m", "scopes": ["chat"]}, 201),
    ("DELETE", "/api/me/keys/{own_key}", lambda w, c: None, 200),
    ("GET", "/api/admin/users", lambda w, c: None, 200),
    ("POST", "/api/admin/users", lambda w, c: {"username": _unique("new.user"), "role": "agent"}, 201),
    ("GET", "/api/admin/users/{user_id}", lambda w, c: None, 200),
    ("PATCH", "/api/admin/users/{user_id}", lambda w, c: {}, 200),
    ("GET", "/api/admin/groups", lambda w, c: None, 200),
    ("POST", "/api/admin/groups", lambda w, c: {"name": _unique("groupe ")}, 201),
    ("GET", "/api/admin/groups/{group_id}", lambda w, c: None, 200),
    ("PUT", "/api/admin/groups/{group_id}/members/{user_id}", lambda w, c: None, 204),
    ("DELETE", "/api/admin/groups/{group_id}/members/{user_id}", lambda w, c: None, 204),
    ("GET", "/api/admin/keys", lambda w, c: None, 200),
    ("DELETE", "/api/admin/keys/{foreign_key}", lambda w, c: None, 200),
    ("GET", "/api/admin/users/{user_id}/quota", lambda w, c: None, 200),
    ("PUT", "/api/admin/users/{user_id}/quota", lambda w, c: {"tokens_per_day": 1000}, 200),
    ("GET", "/api/audit/events", lambda w, c: None, 200),
    ("GET", "/api/audit/verify", lambda w, c: None, 200),
    ("GET", "/api/audit/events/export", lambda w, c: None, 200),
    ("GET", "/api/audit/access-review", lambda w, c: None, 200),
    ("POST", "/api/incidents", lambda w, c: _REPORT, 201),
    ("GET", "/api/incidents", lambda w, c: None, 200),
    ("GET", "/api/incidents/{own_report}", lambda w, c: None, 200),
    ("GET", "/api/governance/incidents", lambda w, c: None, 200),
    ("GET", "/api/governance/incidents/stats", lambda w, c: None, 200),
    ("GET", "/api/governance/incidents/{report_id}", lambda w, c: None, 200),
    ("PATCH", "/api/governance/incidents/{report_id}", lambda w, c: {"status": "in_progress"}, 200),
    ("GET", "/api/governance/models", lambda w, c: None, 200),
    ("GET", "/api/governance/models/access", lambda w, c: None, 200),
    # Opening a model to all is idempotent: it changes nothing for the chat rows of the other callers.
    ("POST", "/api/governance/models/access", lambda w, c: {"model": "smollm2-135m", "groups": None}, 200),
    ("GET", "/api/governance/kpis", lambda w, c: None, 200),
    ("GET", "/api/governance/compliance", lambda w, c: None, 200),
    ("GET", "/api/governance/registry", lambda w, c: None, 200),
    ("POST", "/api/governance/registry/reviews", lambda w, c: {"kind": "use", "id": "chat"}, 200),
    ("GET", "/v1/models", lambda w, c: None, 200),
    (
        "POST",
        "/v1/chat/completions",
        lambda w, c: {"model": "smollm2-135m", "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 2},
        200,
    ),
    ("GET", "/api/me/usage", lambda w, c: None, 200),
    ("GET", "/api/conversations", lambda w, c: None, 200),
    ("POST", "/api/conversations", lambda w, c: {"title": "Matrice"}, 201),
    # Conversations are private: an id that is not the caller's is "not found" once the policy lets them in.
    ("GET", "/api/conversations/{conversation_id}", lambda w, c: None, 404),
    ("PATCH", "/api/conversations/{conversation_id}", lambda w, c: {"title": "x"}, 404),
    ("DELETE", "/api/conversations/{conversation_id}", lambda w, c: None, 404),
    ("POST", "/api/conversations/{conversation_id}/messages", lambda w, c: {"content": "Bonjour"}, 404),
    ("POST", "/api/conversations/{conversation_id}/messages/{message_id}/review", lambda w, c: None, 404),
    ("PUT", "/api/conversations/{conversation_id}/messages/{message_id}/feedback", lambda w, c: {"rating": "up"}, 404),
    ("DELETE", "/api/conversations/{conversation_id}/messages/{message_id}/feedback", lambda w, c: None, 404),
    ("GET", "/api/conversations/{conversation_id}/export", lambda w, c: None, 404),
    ("GET", "/api/conversations/{conversation_id}/messages/{message_id}/export", lambda w, c: None, 404),
    ("GET", "/api/tasks", lambda w, c: None, 200),
    ("POST", "/api/tasks/{preset}", lambda w, c: {"text": "Bonjour"}, 404),
    ("POST", "/api/provenance/verify", lambda w, c: {"content": "x", "manifest": {}}, 400),
    ("GET", "/api/provenance/public-key", lambda w, c: None, 200),
    ("POST", "/v1/embeddings", lambda w, c: {"model": "multilingual-e5-small-q4", "input": "Bonjour"}, 200),
    # Batches: the upload is multipart (a JSON body is a 422 once allowed); files and batches are nobody's (404).
    ("POST", "/v1/files", lambda w, c: {}, 422),
    ("GET", "/v1/files", lambda w, c: None, 200),
    ("GET", "/v1/files/{file_id}", lambda w, c: None, 404),
    ("GET", "/v1/files/{file_id}/content", lambda w, c: None, 404),
    ("DELETE", "/v1/files/{file_id}", lambda w, c: None, 404),
    (
        "POST",
        "/v1/batches",
        lambda w, c: {
            "input_file_id": f"file-{uuid.uuid4().hex}",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
        404,
    ),
    ("GET", "/v1/batches", lambda w, c: None, 200),
    ("GET", "/v1/batches/{batch_id}", lambda w, c: None, 404),
    ("POST", "/v1/batches/{batch_id}/cancel", lambda w, c: None, 404),
    ("POST", "/api/collections", lambda w, c: {"name": _unique("collection ")}, 201),
    ("GET", "/api/collections", lambda w, c: None, 200),
    # Unknown ids: allowed callers get 404 (ownership and access lists are tested in tests/assistant/rag).
    ("GET", "/api/collections/{collection_id}", lambda w, c: None, 404),
    ("PATCH", "/api/collections/{collection_id}", lambda w, c: {"name": "x"}, 404),
    ("DELETE", "/api/collections/{collection_id}", lambda w, c: None, 404),
    ("GET", "/api/collections/{collection_id}/access", lambda w, c: None, 404),
    ("PUT", "/api/collections/{collection_id}/access", lambda w, c: {"users": {}}, 404),
    ("GET", "/api/collections/{collection_id}/documents", lambda w, c: None, 404),
    ("POST", "/api/collections/{collection_id}/documents", lambda w, c: None, 422),  # no multipart body
    ("GET", "/api/documents/{document_id}", lambda w, c: None, 404),
    ("DELETE", "/api/documents/{document_id}", lambda w, c: None, 404),
    ("POST", "/api/search", lambda w, c: {"query": "congés annuels"}, 200),
    ("POST", "/api/rag/answer", lambda w, c: {"query": "Bonjour", "max_tokens": 2}, 200),
    # Web pages (sessions only: callers without one are redirected to the login page).
    ("GET", "/", lambda w, c: None, 303),
    ("GET", "/connexion", lambda w, c: None, 200),
    ("POST", "/connexion", lambda w, c: None, 400),  # without the login form's anti-CSRF token
    # Sign-in through the identity provider: not configured in this app, so a French 404 page for everyone.
    ("GET", "/connexion/oidc", lambda w, c: None, 404),
    ("GET", "/connexion/oidc/retour", lambda w, c: None, 404),
    ("GET", "/static/{path:path}", lambda w, c: None, 200),
    ("GET", "/chat", lambda w, c: None, 200),
    ("GET", "/mes-donnees", lambda w, c: None, 200),
    ("GET", "/bonnes-pratiques", lambda w, c: None, 200),
    ("GET", "/accessibilite", lambda w, c: None, 200),
    # Administration pages: empty forms are refused (400) or change nothing harmful (303), so no row disturbs another.
    *[("GET", path, lambda w, c: None, 200) for path in ADMIN_PAGES],
    ("POST", "/admin/comptes", lambda w, c: None, 400),
    ("POST", "/admin/comptes/{user_id}/role", lambda w, c: None, 400),
    ("POST", "/admin/comptes/{user_id}/etat", lambda w, c: None, 400),
    ("POST", "/admin/groupes", lambda w, c: None, 400),
    ("POST", "/admin/groupes/{group_id}/membres", lambda w, c: None, 400),
    ("POST", "/admin/groupes/{group_id}/membres/{user_id}/retrait", lambda w, c: None, 303),
    ("POST", "/admin/cles/{foreign_key}/revocation", lambda w, c: None, 303),
    ("POST", "/admin/quotas/{user_id}", lambda w, c: None, 303),
    ("POST", "/admin/modeles/retrait", lambda w, c: None, 400),
    ("POST", "/admin/modeles/remise-en-service", lambda w, c: None, 400),
    ("POST", "/admin/modeles/acces", lambda w, c: None, 400),
    ("POST", "/admin/signalements/{report_id}", lambda w, c: None, 303),
    ("POST", "/admin/registre/revue", lambda w, c: None, 400),
    # Charter, guard and audit pages: posts without their form fields change nothing (422, or 400 re-rendered).
    ("GET", "/charte", lambda w, c: None, 200),
    ("POST", "/charte", lambda w, c: None, 422),
    ("GET", "/admin/charte", lambda w, c: None, 200),
    ("POST", "/admin/charte", lambda w, c: None, 400),
    ("GET", "/admin/garde-fou", lambda w, c: None, 200),
    ("POST", "/admin/garde-fou", lambda w, c: None, 422),
    ("POST", "/admin/garde-fou/activation", lambda w, c: None, 422),
    ("GET", "/audit", lambda w, c: None, 200),
    ("GET", "/audit/verification", lambda w, c: None, 200),
    ("GET", "/audit/revue-des-acces", lambda w, c: None, 200),
    ("GET", "/documents", lambda w, c: None, 200),
    ("POST", "/documents", lambda w, c: None, 400),  # no name: the form comes back with a French error
    ("GET", "/documents/{collection_id}", lambda w, c: None, 404),  # nobody's collection: a French 404 page
    ("POST", "/documents/{collection_id}/modifier", lambda w, c: None, 404),
    ("POST", "/documents/{collection_id}/partage", lambda w, c: None, 404),
    ("POST", "/documents/{collection_id}/supprimer", lambda w, c: None, 404),
    ("POST", "/documents/{collection_id}/sources", lambda w, c: None, 404),
    ("POST", "/documents/{collection_id}/sources/{source_id}/synchroniser", lambda w, c: None, 404),
    ("POST", "/documents/{collection_id}/sources/{source_id}/supprimer", lambda w, c: None, 404),
    ("GET", "/taches", lambda w, c: None, 200),
    # Knowledge sources: nobody's collection and nobody's source are « introuvables » once allowed.
    ("GET", "/api/collections/{collection_id}/sources", lambda w, c: None, 404),
    ("POST", "/api/collections/{collection_id}/sources", lambda w, c: _SOURCE, 404),
    ("GET", "/api/sources/{source_id}", lambda w, c: None, 404),
    ("PATCH", "/api/sources/{source_id}", lambda w, c: {"name": "Renommée"}, 404),
    ("DELETE", "/api/sources/{source_id}", lambda w, c: None, 404),
    ("POST", "/api/sources/{source_id}/sync", lambda w, c: None, 404),
    # Projects: a new one is the caller's own; an id that exists nowhere is « introuvable » once allowed.
    ("GET", "/api/projects", lambda w, c: None, 200),
    ("POST", "/api/projects", lambda w, c: {"name": _unique("Projet ")}, 201),
    ("GET", "/api/projects/{project_id}", lambda w, c: None, 404),
    ("PATCH", "/api/projects/{project_id}", lambda w, c: {"name": "Renommé"}, 404),
    ("DELETE", "/api/projects/{project_id}", lambda w, c: None, 422),  # what becomes of its conversations: required
    # The prompt library: a new prompt is the caller's own; an id that exists nowhere is « introuvable ».
    ("GET", "/api/prompts", lambda w, c: None, 200),
    ("POST", "/api/prompts", lambda w, c: {"title": _unique("Prompt "), "body": "Résume {{texte}}."}, 201),
    ("GET", "/api/prompts/{prompt_id}", lambda w, c: None, 404),
    ("PATCH", "/api/prompts/{prompt_id}", lambda w, c: {"title": "Renommé"}, 404),
    ("DELETE", "/api/prompts/{prompt_id}", lambda w, c: None, 404),
    ("GET", "/api/prompts/{prompt_id}/versions", lambda w, c: None, 404),
    ("POST", "/api/prompts/{prompt_id}/fill", lambda w, c: {"values": {}}, 404),
    ("GET", "/prompts", lambda w, c: None, 200),
    ("POST", "/prompts", lambda w, c: None, 400),  # no title: the form comes back with a French error
    ("POST", "/prompts/{prompt_id}/modifier", lambda w, c: None, 404),
    ("POST", "/prompts/{prompt_id}/supprimer", lambda w, c: None, 404),
    # Side by side: the app serves one model, so a comparison is refused (400) once the policy lets the caller in;
    # an id that exists nowhere is « introuvable ».
    ("GET", "/api/comparisons", lambda w, c: None, 200),
    ("POST", "/api/comparisons", lambda w, c: {"question": "Bonjour"}, 400),
    ("GET", "/api/comparisons/{comparison_id}", lambda w, c: None, 404),
    ("POST", "/api/comparisons/{comparison_id}/vote", lambda w, c: {"vote": "a"}, 404),
    ("GET", "/api/governance/comparisons", lambda w, c: None, 200),
    ("GET", "/comparer", lambda w, c: None, 200),
    ("POST", "/comparer", lambda w, c: None, 400),  # no question: the form comes back with a French error
    ("GET", "/comparer/{comparison_id}", lambda w, c: None, 404),  # nobody's: the French 404 page
    ("POST", "/comparer/{comparison_id}/vote", lambda w, c: None, 404),
    # Shared conversations: nobody's conversation and nobody's share are « introuvables » once allowed.
    ("POST", "/api/conversations/{conversation_id}/shares", lambda w, c: {"users": ["agent.b"]}, 404),
    ("GET", "/api/conversations/{conversation_id}/shares", lambda w, c: None, 404),
    ("GET", "/api/shares/received", lambda w, c: None, 200),
    ("GET", "/api/shares/{share_id}", lambda w, c: None, 404),
    ("DELETE", "/api/shares/{share_id}", lambda w, c: None, 404),
    ("POST", "/api/shares/{share_id}/copy", lambda w, c: None, 404),
    ("GET", "/partages", lambda w, c: None, 200),
    ("GET", "/partages/{share_id}", lambda w, c: None, 404),  # nobody's: the French 404 page
    ("POST", "/partages/{share_id}/copie", lambda w, c: None, 404),
    ("GET", "/projets", lambda w, c: None, 200),
    ("POST", "/projets", lambda w, c: None, 400),  # no name: the form comes back with a French error
    ("POST", "/projets/{project_id}/modifier", lambda w, c: None, 400),
    ("POST", "/projets/{project_id}/supprimer", lambda w, c: None, 400),  # keep or delete its conversations?
    # Charter rows change nothing (no charter published, invalid rules): publishing would gate the chat rows.
    ("GET", "/api/charter", lambda w, c: None, 200),
    ("POST", "/api/charter/accept", lambda w, c: {"version": 1}, 400),  # nothing published: nothing to accept
    ("POST", "/api/admin/charter", lambda w, c: {"summary": "Sans texte"}, 400),
    ("GET", "/api/audit/charter-acceptances", lambda w, c: None, 200),
    ("GET", "/api/admin/guard-rules", lambda w, c: None, 200),
    ("PUT", "/api/admin/guard-rules", lambda w, c: {"rules": [{"id": "!"}]}, 400),
    # After the chat row, withdraw then reinstate: every caller's withdrawal is undone before anything else runs.
    ("POST", "/api/governance/models/withdraw", lambda w, c: {"model": "smollm2-135m", "reason": "Test."}, 200),
    ("POST", "/api/governance/models/reinstate", lambda w, c: {"model": "smollm2-135m"}, 200),
    # Transcriptions: the upload is multipart (a JSON body is a 422 once allowed); ids are nobody's (404).
    ("POST", "/api/transcriptions", lambda w, c: {}, 422),
    ("GET", "/api/transcriptions", lambda w, c: None, 200),
    ("GET", "/api/transcriptions/{transcription_id}", lambda w, c: None, 404),
    ("GET", "/api/transcriptions/{transcription_id}/events", lambda w, c: None, 404),
    ("GET", "/api/transcriptions/{transcription_id}/result", lambda w, c: None, 404),
    ("PATCH", "/api/transcriptions/{transcription_id}/result", lambda w, c: {"speakers": {"A": "B"}}, 404),
    ("GET", "/api/transcriptions/{transcription_id}/speakers", lambda w, c: None, 404),
    ("PUT", "/api/transcriptions/{transcription_id}/speakers", lambda w, c: {"names": {"A": "B"}}, 404),
    ("GET", "/api/transcriptions/{transcription_id}/export", lambda w, c: None, 404),
    ("POST", "/api/transcriptions/{transcription_id}/cancel", lambda w, c: None, 404),
    ("DELETE", "/api/transcriptions/{transcription_id}", lambda w, c: None, 404),
    ("POST", "/api/transcriptions/{transcription_id}/minutes", lambda w, c: {}, 404),
    ("GET", "/api/transcriptions/{transcription_id}/minutes", lambda w, c: None, 404),
    ("GET", "/api/transcriptions/{transcription_id}/minutes/export", lambda w, c: None, 404),
    ("GET", "/api/transcriptions/{transcription_id}/audio", lambda w, c: None, 404),
    ("GET", "/transcriptions", lambda w, c: None, 200),
    ("POST", "/api/live-transcriptions", lambda w, c: {"inconnu": 1}, 422),
    ("GET", "/api/live-transcriptions/{session_id}", lambda w, c: None, 404),
    ("POST", "/api/live-transcriptions/{session_id}/finish", lambda w, c: None, 404),
    # A WebSocket: the handshake's outcome is read from its close code (4000 + the HTTP status it mirrors).
    ("*", "/api/live-transcriptions/{session_id}/ws", lambda w, c: None, 404),
    ("GET", "/transcription-en-direct", lambda w, c: None, 200),
    ("GET", "/api/glossary", lambda w, c: None, 200),
    ("POST", "/api/glossary", lambda w, c: {"term": _unique("Terme ")}, 201),
    ("PATCH", "/api/glossary/{entry_id}", lambda w, c: {"note": "n"}, 404),
    ("DELETE", "/api/glossary/{entry_id}", lambda w, c: None, 404),
    # Group glossaries are reached with a group that exists nowhere: allowed callers get 404.
    ("GET", "/api/groups/{nobody_s_group}/glossary", lambda w, c: None, 404),
    ("POST", "/api/groups/{nobody_s_group}/glossary", lambda w, c: {"term": "CSA"}, 404),
    ("PATCH", "/api/groups/{nobody_s_group}/glossary/{entry_id}", lambda w, c: {"note": "n"}, 404),
    ("DELETE", "/api/groups/{nobody_s_group}/glossary/{entry_id}", lambda w, c: None, 404),
    ("GET", "/api/transcriptions/{transcription_id}/glossary", lambda w, c: None, 404),
    ("GET", "/glossaire", lambda w, c: None, 200),
    ("POST", "/glossaire", lambda w, c: None, 400),  # no term: the form comes back with a French error
    ("POST", "/glossaire/{entry_id}/modifier", lambda w, c: None, 404),
    ("POST", "/glossaire/{entry_id}/supprimer", lambda w, c: None, 404),
    ("GET", "/transcriptions/{transcription_id}", lambda w, c: None, 404),  # nobody's: the French 404 page
    ("POST", "/v1/audio/transcriptions", lambda w, c: {"model": "whisper-1"}, 422),
    ("POST", "/api/auth/logout", lambda w, c: None, 204),  # last: it ends the session callers' sessions
    # After the sessions ended, every caller is sent to the login page.
    ("POST", "/deconnexion", lambda w, c: None, 303),
]
WEB_PAGES = {"/chat", "/mes-donnees", "/deconnexion"} | {
    path for _, path, _, _ in REQUESTS if path == "/admin" or path.startswith("/admin/")
}
WEB_PAGES |= {"/charte", "/admin/charte", "/admin/garde-fou", "/admin/garde-fou/activation"}
WEB_PAGES |= {"/audit", "/audit/verification", "/audit/revue-des-acces"}
WEB_PAGES |= {"/documents", "/documents/{collection_id}", "/taches"}
WEB_PAGES |= {f"/documents/{{collection_id}}/{action}" for action in ("modifier", "partage", "supprimer", "sources")}
WEB_PAGES |= {
    f"/documents/{{collection_id}}/sources/{{source_id}}/{action}" for action in ("synchroniser", "supprimer")
}
WEB_PAGES |= {"/transcriptions", "/transcriptions/{transcription_id}", "/transcription-en-direct"}
WEB_PAGES |= {"/glossaire", "/glossaire/{entry_id}/modifier", "/glossaire/{entry_id}/supprimer"}
WEB_PAGES |= {"/projets", "/projets/{project_id}/modifier", "/projets/{project_id}/supprimer"}
WEB_PAGES |= {"/prompts", "/prompts/{prompt_id}/modifier", "/prompts/{prompt_id}/supprimer"}
WEB_PAGES |= {"/comparer", "/comparer/{comparison_id}", "/comparer/{comparison_id}/vote"}
WEB_PAGES |= {"/partages", "/partages/{share_id}", "/partages/{share_id}/copie"}


def _path(template: str, world: World, caller: Caller) -> str:
    return template.replace("{path:path}", "souverain.css").format(
        own_key=world.spare_keys.get(caller.name, uuid.uuid4()),
        user_id=world.agent.id,
        group_id=world.group_id,
        foreign_key=world.foreign_key_id,
        conversation_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        preset="inconnue",
        collection_id=uuid.uuid4(),
        document_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        prompt_id=uuid.uuid4(),
        comparison_id=uuid.uuid4(),
        share_id=uuid.uuid4(),
        source_id=uuid.uuid4(),
        own_report=world.own_reports.get(caller.name, uuid.uuid4()),
        report_id=world.report_id,
        transcription_id=_NOBODY_S_TRANSCRIPTION,
        session_id=uuid.uuid4(),
        entry_id=uuid.uuid4(),
        nobody_s_group=uuid.uuid4(),
        file_id=f"file-{uuid.uuid4().hex}",
        batch_id=f"batch_{uuid.uuid4().hex}",
    )


def _login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies["souverain_session"]
    client.cookies.clear()
    return {"Cookie": f"souverain_session={cookie}", "X-CSRF-Token": response.json()["csrf_token"]}


def _callers(client: TestClient, app: FastAPI) -> tuple[list[Caller], World]:
    agent = make_account(client, app, "agent.a", Role.AGENT)
    referent = make_account(client, app, "referent.r", Role.REFERENT)
    auditor = make_account(client, app, "auditeur.x", Role.AUDITEUR)
    other = make_account(client, app, "agent.b", Role.AGENT)
    runtime = runtime_of(app)

    async def group() -> uuid.UUID:
        admin = Principal(referent.id, referent.username, Role.REFERENT, "session", permissions_for(Role.REFERENT))
        return (await create_group(runtime, name="matrice", description="", actor=admin)).id

    def key(account: Account, scopes: list[Scope]) -> dict[str, str]:
        return {"Authorization": f"Bearer {new_key(client, app, account, scopes)}"}

    callers = [
        Caller("anonymous", {}, None, None, None),
        Caller("agent-session", _login(client, agent.username), Role.AGENT, None, agent),
        Caller("referent-session", _login(client, referent.username), Role.REFERENT, None, referent),
        Caller("auditeur-session", _login(client, auditor.username), Role.AUDITEUR, None, auditor),
        Caller("agent-key-all", key(agent, list(Scope)), Role.AGENT, list(Scope), agent),
        Caller("referent-key-admin", key(referent, [Scope.ADMIN]), Role.REFERENT, [Scope.ADMIN], referent),
        Caller("referent-key-chat", key(referent, [Scope.CHAT]), Role.REFERENT, [Scope.CHAT], referent),
        Caller("auditeur-key-audit", key(auditor, [Scope.AUDIT]), Role.AUDITEUR, [Scope.AUDIT], auditor),
        Caller("auditeur-key-chat", key(auditor, [Scope.CHAT]), Role.AUDITEUR, [Scope.CHAT], auditor),
    ]
    spare: dict[str, str] = {}
    for caller in callers:
        if caller.owner is not None:
            listed = client.get("/api/admin/keys", params={"user_id": str(caller.owner.id)}, headers=referent.bearer)
            spare[caller.name] = listed.json()[-1]["id"]  # the oldest: the account's first key, not the caller's own
    foreign = client.get("/api/admin/keys", params={"user_id": str(other.id)}, headers=referent.bearer).json()[0]
    reports = {account.username: run(client, _report(runtime, account)) for account in (agent, referent, auditor)}
    world = World(
        agent=agent,
        other=other,
        group_id=run(client, group()),
        spare_keys=spare,
        foreign_key_id=foreign["id"],
        own_reports={c.name: reports[c.owner.username] for c in callers if c.owner is not None},
        report_id=reports[agent.username],
    )
    return callers, world


async def _report(runtime: Runtime, account: Account) -> str:
    reporter = Principal(account.id, account.username, account.role, "session", permissions_for(account.role))
    created = await report_incident(
        runtime, reporter=reporter, category=IncidentCategory.OTHER, description="d", excerpt="e"
    )
    return str(created.id)


def _expected(policy: Permission | str | None, caller: Caller, allowed_status: int, template: str) -> int:
    if policy == "public":
        return allowed_status
    if template in WEB_PAGES and (caller.role is None or caller.scopes is not None):
        return 303
    if caller.role is None:
        return 401
    assert isinstance(policy, Permission)
    return allowed_status if policy in permissions_for(caller.role, caller.scopes) else 403


def _route(template: str) -> str:
    """The route path a request template exercises."""
    for placeholder, parameter in [
        ("{own_key}", "{key_id}"),
        ("{foreign_key}", "{key_id}"),
        ("{own_report}", "{report_id}"),
        ("{nobody_s_group}", "{group_id}"),
    ]:
        template = template.replace(placeholder, parameter)
    return template


def _websocket_status(client: TestClient, path: str, headers: dict[str, str]) -> int:
    """The HTTP status a WebSocket's close code mirrors (4401 → 401), from this site's origin as a browser."""
    try:
        with client.websocket_connect(path, headers={**headers, "Origin": "http://testserver"}) as socket:
            socket.receive_json()
    except WebSocketDisconnect as exc:
        return exc.code - 4000 if exc.code >= 4000 else exc.code
    return 101  # open and talking: no refusal


def test_authorization_matrix(settings_factory, database_url: str) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        settings_factory(
            database_url=database_url, default_requests_per_minute=100_000, login_max_failures_per_account=1000
        )
    )
    policies = {(p.method, p.path): p.policy for p in route_policies(app)}
    covered = {(method, _route(template)) for method, template, _, _ in REQUESTS}
    assert covered == set(policies), f"matrix misses routes: {set(policies) - covered}"
    with TestClient(app, raise_server_exceptions=False) as client:
        callers, world = _callers(client, app)
        failures: list[str] = []
        for method, template, body, allowed in REQUESTS:
            key = (method, _route(template))
            for caller in callers:
                expected = _expected(policies[key], caller, allowed, template)
                if method == "*":
                    got = _websocket_status(client, _path(template, world, caller), caller.headers)
                    if got != expected:
                        failures.append(f"{caller.name} WS {template}: {got} != {expected}")
                    continue
                payload = body(world, caller)
                response = client.request(
                    method, _path(template, world, caller), json=payload, headers=caller.headers, follow_redirects=False
                )
                if response.status_code != expected:
                    failures.append(f"{caller.name} {method} {template}: {response.status_code} != {expected}")
                if response.status_code >= 400 and response.headers.get("content-type") == "application/json":
                    assert "error" in response.json(), "every error uses the envelope"
        assert failures == []

        # Own versus foreign objects: another user's key is "not found", never "forbidden".
        mine = callers[1]  # agent-session
        foreign = client.delete(f"/api/me/keys/{world.foreign_key_id}", headers=_login(client, "agent.a"))
        assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
        listed = client.get("/api/me/keys", headers=_login(client, "agent.a")).json()
        assert {key["user_id"] for key in listed} == {str(world.agent.id)}, "a user only ever lists their own keys"
        assert mine.owner is not None
