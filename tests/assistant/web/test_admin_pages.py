"""The administration pages over HTTP (no browser): who may open them, every action, CSRF, French outcomes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.security import Scope
from assistant.services.gateway.quotas import get_quota
from assistant.services.governance.audit_log import search_events
from assistant.services.identity.api_keys import list_api_keys
from assistant.services.identity.users import get_user
from assistant.store.models import Role
from tests.assistant.governance.helpers import MODEL, answer, backends, report_body
from tests.factories import PASSWORD, Account, make_account, run, runtime_of
from tests.fakes import FakeUpstream

GET_PAGES = [
    "/admin",
    "/admin/comptes",
    "/admin/groupes",
    "/admin/cles",
    "/admin/quotas",
    "/admin/modeles",
    "/admin/signalements",
    "/admin/indicateurs",
    "/admin/registre",
    "/admin/conformite",
]
GOVERNANCE_PAGES = ["/admin", "/admin/modeles", "/admin/signalements", "/admin/indicateurs", "/admin/registre"]


@pytest.fixture
def app(settings_factory, openai_upstream: FakeUpstream) -> FastAPI:  # type: ignore[no-untyped-def]
    return create_app_for(settings_factory, openai_upstream)


def create_app_for(settings_factory, upstream: FakeUpstream, **overrides: object) -> FastAPI:  # type: ignore[no-untyped-def]
    from assistant.app import create_app

    return create_app(
        settings_factory(llm_backends=backends(upstream.url), default_model=MODEL, **overrides)  # type: ignore[arg-type]
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def accounts(client: TestClient, app: FastAPI) -> dict[str, Account]:
    return {
        role.value: make_account(client, app, f"{role.value}.admin", role, scopes=list(Scope))
        for role in (Role.AGENT, Role.REFERENT, Role.AUDITEUR)
    }


def _login_token(html: str) -> str:
    match = re.search(r'name="jeton" value="([^"]+)"', html)
    assert match
    return match.group(1)


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the login form; returns the session's anti-CSRF token."""
    client.cookies.clear()
    form = client.get("/connexion")
    response = client.post(
        "/connexion",
        data={"identifiant": username, "mot_de_passe": PASSWORD, "jeton": _login_token(form.text), "suivant": "/"},
    )
    assert response.status_code == 303, response.text
    page = client.get("/mes-donnees")
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert match
    return match.group(1)


def post(client: TestClient, path: str, csrf: str, **fields: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": csrf, **fields})


def test_anonymous_visitors_are_sent_to_the_login_page(client: TestClient) -> None:
    for path in GET_PAGES:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/connexion?suivant=")


def test_an_agent_gets_a_french_403_and_no_administration_entry(
    client: TestClient, accounts: dict[str, Account]
) -> None:
    csrf = sign_in(client, accounts["agent"].username)
    assert "Administration" not in client.get("/chat").text
    for path in GET_PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Accès refusé" in response.text and "Votre rôle ne donne pas accès" in response.text
    refused = post(client, "/admin/comptes", csrf, identifiant="intrus", role="referent")
    assert refused.status_code == 403


def test_a_referent_opens_every_page_from_the_navigation(client: TestClient, accounts: dict[str, Account]) -> None:
    sign_in(client, accounts["referent"].username)
    chat = client.get("/chat").text
    assert '<a class="fr-nav__link" href="/admin">Administration</a>' in chat
    for path in GET_PAGES:
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.text[:500]}"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert 'aria-current="page">Administration</a>' in response.text
        assert 'style="' not in response.text and "onclick" not in response.text, "CSP: nothing inline"
    home = client.get("/admin").text
    for label in ("Comptes", "Groupes", "Clés d&#39;API", "Quotas", "Modèles", "Signalements", "Indicateurs"):
        assert label in home


def test_an_auditor_reads_governance_but_changes_nothing(client: TestClient, accounts: dict[str, Account]) -> None:
    csrf = sign_in(client, accounts["auditeur"].username)
    for path in [*GOVERNANCE_PAGES, "/admin/conformite"]:
        assert client.get(path).status_code == 200, path
    for path in ("/admin/comptes", "/admin/groupes", "/admin/cles", "/admin/quotas"):
        assert client.get(path).status_code == 403, path
    models = client.get("/admin/modeles").text
    assert "Retirer du service" not in models, "no action the role cannot take is offered"
    assert post(client, "/admin/modeles/retrait", csrf, modele=MODEL, motif="x").status_code == 403
    assert "Marquer « revue effectuée »" not in client.get("/admin/registre").text


def test_actions_without_the_csrf_token_are_refused(
    client: TestClient, app: FastAPI, accounts: dict[str, Account]
) -> None:
    sign_in(client, accounts["referent"].username)
    response = client.post("/admin/comptes", data={"identifiant": "sans.jeton", "role": "agent"})
    assert response.status_code == 403 and "Le formulaire a expiré" in response.text
    forged = client.post("/admin/comptes", data={"identifiant": "sans.jeton", "role": "agent", "csrf_token": "x"})
    assert forged.status_code == 403
    assert "sans.jeton" not in client.get("/admin/comptes").text, "nothing was created"
    agent = accounts["agent"]
    assert client.post(f"/admin/comptes/{agent.id}/etat", data={"actif": "non"}).status_code == 403
    assert run(client, get_user(runtime_of(app), user_id=agent.id)).is_active


def test_create_search_change_role_disable_and_enable_an_account(
    client: TestClient, app: FastAPI, accounts: dict[str, Account]
) -> None:
    csrf = sign_in(client, accounts["referent"].username)
    created = post(
        client,
        "/admin/comptes",
        csrf,
        identifiant="nouvelle.agente",
        role="agent",
        nom="Nouvelle Agente",
        courriel="nouvelle@exemple.gouv.fr",
        mot_de_passe=PASSWORD,
    )
    assert created.status_code == 303 and created.headers["location"] == "/admin/comptes?fait=compte-cree"
    page = client.get("/admin/comptes?fait=compte-cree").text
    assert "Le compte a été créé." in page and 'role="status"' in page
    found = client.get("/admin/comptes", params={"recherche": "NOUVELLE"}).text
    assert "nouvelle.agente" in found and "agent.admin" not in found
    user_id = re.search(r'action="/admin/comptes/([0-9a-f-]+)/role"', found)
    assert user_id
    target = uuid.UUID(user_id.group(1))

    assert post(client, f"/admin/comptes/{target}/role", csrf, role="auditeur").status_code == 303
    assert run(client, get_user(runtime_of(app), user_id=target)).role is Role.AUDITEUR
    assert post(client, f"/admin/comptes/{target}/etat", csrf, actif="non").status_code == 303
    assert not run(client, get_user(runtime_of(app), user_id=target)).is_active
    assert "Désactivé" in client.get("/admin/comptes", params={"recherche": "nouvelle"}).text
    assert post(client, f"/admin/comptes/{target}/etat", csrf, actif="oui").status_code == 303
    assert run(client, get_user(runtime_of(app), user_id=target)).is_active

    events = run(client, search_events(runtime_of(app), action_prefix="user."))
    audited = [(event.action, event.actor_label) for event in events if event.resource_id == str(target)]
    assert sorted(audited) == [
        ("user.create", "referent.admin"),
        ("user.disable", "referent.admin"),
        ("user.update", "referent.admin"),
        ("user.update", "referent.admin"),
    ], "every action is audited under the référent's name"


def test_account_errors_are_french_and_keep_what_was_typed(client: TestClient, accounts: dict[str, Account]) -> None:
    csrf = sign_in(client, accounts["referent"].username)
    bad = post(client, "/admin/comptes", csrf, identifiant="!", role="agent", nom="Jeanne")
    assert bad.status_code == 400 and "Identifiant invalide" in bad.text
    assert 'role="alert"' in bad.text and 'value="Jeanne"' in bad.text
    taken = post(client, "/admin/comptes", csrf, identifiant="agent.admin", role="agent")
    assert taken.status_code == 409 and "déjà pris" in taken.text
    short = post(client, "/admin/comptes", csrf, identifiant="court.mdp", role="agent", mot_de_passe="abc")
    assert short.status_code == 400 and "Mot de passe trop court" in short.text
    role = post(client, "/admin/comptes", csrf, identifiant="sans.role", role="roi")
    assert role.status_code == 400 and "Choisissez un rôle" in role.text
    me = accounts["referent"]
    self_demote = post(client, f"/admin/comptes/{me.id}/role", csrf, role="agent")
    assert self_demote.status_code == 400 and "propre rôle" in self_demote.text
    missing = post(client, f"/admin/comptes/{uuid.uuid4()}/etat", csrf, actif="non")
    assert missing.status_code == 404 and "Utilisateur introuvable" in missing.text


def test_groups_create_add_and_remove_members(client: TestClient, accounts: dict[str, Account]) -> None:
    csrf = sign_in(client, accounts["referent"].username)
    created = post(client, "/admin/groupes", csrf, nom="Service juridique", description="Les juristes")
    assert created.status_code == 303
    group_path = created.headers["location"].split("?")[0]
    agent = accounts["agent"]
    assert post(client, f"{group_path}/membres", csrf, utilisateur=str(agent.id)).status_code == 303
    page = client.get(group_path).text
    assert "Groupe « Service juridique »" in page and "1 membre(s)" in page and "agent.admin" in page
    assert post(client, f"{group_path}/membres/{agent.id}/retrait", csrf).status_code == 303
    assert "Ce groupe n'a aucun membre." in client.get(group_path).text
    duplicate = post(client, "/admin/groupes", csrf, nom="Service juridique")
    assert duplicate.status_code == 409 and "existe déjà" in duplicate.text
    nobody = post(client, f"{group_path}/membres", csrf, utilisateur="")
    assert nobody.status_code == 400 and "Choisissez le compte" in nobody.text
    assert client.get(f"/admin/groupes/{uuid.uuid4()}").status_code == 404


def test_revoke_an_api_key(client: TestClient, app: FastAPI, accounts: dict[str, Account]) -> None:
    agent = accounts["agent"]
    assert client.get("/api/me", headers=agent.bearer).status_code == 200
    csrf = sign_in(client, accounts["referent"].username)
    page = client.get("/admin/cles", params={"compte": str(agent.id)}).text
    assert "1 clé(s)" in page and "Active" in page
    key_id = run(client, list_api_keys(runtime_of(app), owner_id=agent.id))[0].id
    revoked = post(client, f"/admin/cles/{key_id}/revocation?compte={agent.id}", csrf)
    assert revoked.status_code == 303
    assert revoked.headers["location"] == f"/admin/cles?compte={agent.id}&fait=cle-revoquee"
    assert client.get("/api/me", headers=agent.bearer).status_code == 401, "the key no longer opens anything"
    assert "Révoquée" in client.get("/admin/cles", params={"compte": str(agent.id)}).text
    assert post(client, f"/admin/cles/{uuid.uuid4()}/revocation", csrf).status_code == 404


def test_quotas_per_account(client: TestClient, app: FastAPI, accounts: dict[str, Account]) -> None:
    agent = accounts["agent"]
    csrf = sign_in(client, accounts["referent"].username)
    page = client.get("/admin/quotas", params={"compte": str(agent.id)}).text
    assert "Quotas de agent.admin" in page and "(valeur par défaut)" in page
    saved = post(client, f"/admin/quotas/{agent.id}", csrf, jetons_par_jour="12 000", requetes_par_minute="")
    assert saved.status_code == 303
    quota = run(client, get_quota(runtime_of(app), agent.id, fresh=True))
    assert quota.tokens_per_day == 12_000 and quota.overridden == frozenset({"tokens_per_day"})
    assert "12\u202f000 (valeur propre au compte)" in client.get("/admin/quotas", params={"compte": str(agent.id)}).text
    bad = post(client, f"/admin/quotas/{agent.id}", csrf, jetons_par_jour="-5")
    assert bad.status_code == 400 and "nombre entier positif" in bad.text
    assert client.get("/admin/quotas", params={"compte": "pas-un-id"}).status_code == 404


def test_withdraw_with_a_message_then_reinstate_a_model(client: TestClient, accounts: dict[str, Account]) -> None:
    agent = accounts["agent"]
    csrf = sign_in(client, accounts["referent"].username)
    empty = post(client, "/admin/modeles/retrait", csrf, modele=MODEL, motif="  ")
    assert empty.status_code == 400 and "motif du retrait" in empty.text
    unknown = post(client, "/admin/modeles/retrait", csrf, modele="inconnu", motif="x")
    assert unknown.status_code == 404
    reason = "Biais constatés sur les réponses RH : utilisez « secours »."
    assert post(client, "/admin/modeles/retrait", csrf, modele=MODEL, motif=reason).status_code == 303
    page = client.get("/admin/modeles?fait=modele-retire").text
    assert "Retiré" in page and "Biais constatés sur les réponses RH" in page and "Remettre en service" in page
    listed = client.get("/v1/models", headers=agent.bearer).json()["data"]
    assert MODEL not in {model["id"] for model in listed}
    refused = client.post(
        "/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
        headers=agent.bearer,
    )
    assert refused.status_code == 410 and reason in refused.json()["error"]["message"]
    assert post(client, "/admin/modeles/remise-en-service", csrf, modele=MODEL).status_code == 303
    assert MODEL in {model["id"] for model in client.get("/v1/models", headers=agent.bearer).json()["data"]}


def test_models_page_shows_signals_charts_and_alert(
    settings_factory,
    openai_upstream: FakeUpstream,  # type: ignore[no-untyped-def]
) -> None:
    app = create_app_for(settings_factory, openai_upstream, incident_alert_threshold=1)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        agent = make_account(client, app, "agent.signaux", Role.AGENT)
        make_account(client, app, "referent.signaux", Role.REFERENT)
        text, manifest = answer(client, agent.bearer)
        report = report_body(text, manifest, category="biais")
        assert client.post("/api/incidents", json=report, headers=agent.bearer).status_code == 201
        sign_in(client, "referent.signaux")
        page = client.get("/admin/modeles").text
    assert "Seuil d'alerte dépassé" in page and "1 signalement(s) de biais" in page
    assert page.count('role="img"') == 4 * 2, "four charts per model"
    assert '<title id="tendance-0-latence-titre">Latence moyenne par jour</title>' in page
    assert "Taux de signalement</dt><dd>100 %</dd>" in page
    assert "Données par jour (tableau)" in page


def test_incident_triage_filters_and_provenance(client: TestClient, accounts: dict[str, Account]) -> None:
    agent = accounts["agent"]
    text, manifest = answer(client, agent.bearer)
    created = client.post("/api/incidents", json=report_body(text, manifest), headers=agent.bearer).json()
    csrf = sign_in(client, accounts["referent"].username)
    listing = client.get("/admin/signalements", params={"statut": "open", "categorie": "erreur_factuelle"}).text
    assert f"/admin/signalements/{created['id']}" in listing and "Erreur factuelle" in listing
    assert "Aucun signalement" in client.get("/admin/signalements", params={"statut": "closed"}).text
    assert "Aucun signalement" in client.get("/admin/signalements", params={"modele": "secours-model"}).text
    detail = client.get(f"/admin/signalements/{created['id']}").text
    assert "Manifeste signé valide" in detail and "La réponse cite un délai erroné." in detail
    assert "Contenu généré par IA — à vérifier" in detail and MODEL in detail

    path = f"/admin/signalements/{created['id']}"
    refused = post(client, path, csrf, statut="closed", commentaire="")
    assert refused.status_code == 400 and "avant de clore" in refused.text
    moved = post(client, path, csrf, statut="in_progress", commentaire="Vérification en cours.", attribuer="oui")
    assert moved.status_code == 303
    after = client.get(path).text
    assert "En cours de traitement" in after and "Vérification en cours." in after and "<dd>vous</dd>" in after
    assert post(client, path, csrf, statut="closed", commentaire="Corrigé dans le prompt.").status_code == 303
    mine = client.get(f"/api/incidents/{created['id']}", headers=agent.bearer).json()
    assert mine["status"] == "closed" and mine["triage_comment"] == "Corrigé dans le prompt."
    assert client.get(f"/admin/signalements/{uuid.uuid4()}").status_code == 404


def test_kpi_page_draws_charts_and_prints_the_same_figures(client: TestClient, accounts: dict[str, Account]) -> None:
    for _ in range(3):
        answer(client, accounts["agent"].bearer)
    sign_in(client, accounts["referent"].username)
    page = client.get("/admin/indicateurs", params={"jours": "7"}).text
    assert page.count('role="img"') == 6
    assert '<title id="graphe-modeles-titre">Requêtes par modèle</title>' in page
    assert re.search(r"<desc id=\"graphe-modeles-desc\">1 valeur ; total 3 ; maximum 3 \(vllm-model\)\.</desc>", page)
    assert re.search(r'<th scope="row">vllm-model</th><td>3</td>', page), "the same data as a table"
    assert '<option value="7" selected>' in page
    energy = re.search(r'<span class="sv-kpi__value">([^<]+)</span> <span class="sv-kpi__label">Énergie estimée', page)
    assert energy and energy.group(1).endswith("\u202fWh") and energy.group(1) != "0\u202fWh", "small, not zero"
    assert client.get("/admin/indicateurs", params={"jours": "abc"}).status_code == 200, "bad window: default"


def test_registry_review_and_exports(client: TestClient, accounts: dict[str, Account]) -> None:
    csrf = sign_in(client, accounts["referent"].username)
    page = client.get("/admin/registre").text
    for fmt in ("json", "csv", "markdown"):
        assert f'href="/api/governance/registry?format={fmt}"' in page
    assert "Jamais revue" in page
    done = post(client, "/admin/registre/revue", csrf, nature="use", identifiant="chat", base_legale="Art. 6-1-e RGPD")
    assert done.status_code == 303
    page = client.get("/admin/registre").text
    assert "Revue effectuée" in page and "Art. 6-1-e RGPD" in page
    assert "Art. 6-1-e RGPD" in client.get("/api/governance/registry?format=csv").text, "session export works"
    bad = post(client, "/admin/registre/revue", csrf, nature="use", identifiant="inconnu")
    assert bad.status_code == 404 and "Usage inconnu" in bad.text


def test_compliance_page_highlights_failures_and_offers_downloads(
    settings_factory,
    openai_upstream: FakeUpstream,  # type: ignore[no-untyped-def]
) -> None:
    app = create_app_for(
        settings_factory,
        openai_upstream,
        transcription_remote_url="https://transcription.exemple.com",
        transcription_remote_sovereign=False,
    )
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        make_account(client, app, "referent.conformite", Role.REFERENT)
        sign_in(client, "referent.conformite")
        page = client.get("/admin/conformite").text
        markdown = client.get("/api/governance/compliance?format=md")
    assert "1 exigence(s) non conforme(s)" in page
    first_row = re.search(r'<tr class="sv-check sv-check--(\w+)"><th scope="row"><a[^>]*>([^<]+)</a>', page)
    assert first_row and first_row.groups() == ("failed", "Souveraineté des données"), "failures come first"
    assert "Transcription confiée à un serveur non souverain." in page
    assert 'href="/api/governance/compliance?format=md"' in page and markdown.status_code == 200


def test_reserve_a_model_to_a_group_from_the_models_page(client: TestClient, accounts: dict[str, Account]) -> None:
    agent, referent = accounts["agent"], accounts["referent"]
    assert client.post("/api/admin/groups", json={"name": "juristes"}, headers=referent.bearer).status_code == 201
    csrf = sign_in(client, referent.username)
    page = client.get("/admin/modeles").text
    assert f"Qui peut utiliser {MODEL} ?" in page and "Ouvert à tous les utilisateurs" in page
    empty = post(client, "/admin/modeles/acces", csrf, modele=MODEL, acces="groupes")
    assert empty.status_code == 400 and "au moins un groupe" in empty.text
    saved = client.post(
        "/admin/modeles/acces", data={"csrf_token": csrf, "modele": MODEL, "acces": "groupes", "groupes": ["juristes"]}
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/modeles?fait=acces-modele-enregistre"
    page = client.get("/admin/modeles?fait=acces-modele-enregistre").text
    assert "L&#39;accès au modèle a été enregistré" in page and "Réservé aux groupes : juristes" in page
    assert re.search(r'value="juristes" checked', page), "the form shows the rule in force"
    listed = client.get("/v1/models", headers=agent.bearer).json()["data"]
    assert MODEL not in [model["id"] for model in listed], "the agent is in no group: the model is hidden"
    assert post(client, "/admin/modeles/acces", csrf, modele=MODEL, acces="tous").status_code == 303
    assert MODEL in [model["id"] for model in client.get("/v1/models", headers=agent.bearer).json()["data"]]

    csrf = sign_in(client, accounts["auditeur"].username)
    page = client.get("/admin/modeles").text
    assert "Enregistrer l&#39;accès" not in page and "Ouvert à tous les utilisateurs" in page
    assert post(client, "/admin/modeles/acces", csrf, modele=MODEL, acces="tous").status_code == 403
