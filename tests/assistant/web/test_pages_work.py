"""The « Documents » and « Tâches » pages over HTTP: policies, forms with their anti-CSRF token, French pages."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.audit import ClientInfo
from assistant.security import Principal, permissions_for
from assistant.services.charter.usage_charter import accept_charter, publish_charter
from assistant.services.governance.admin import add_group_member, create_group
from assistant.store.models import Role
from assistant.web._pages_work import format_size_fr
from tests.factories import PASSWORD, Account, make_account, run, runtime_of


@pytest.fixture
def app(settings_factory) -> FastAPI:  # type: ignore[no-untyped-def]
    # Small documents only: the uploads below are refused on arrival, so no ingestion job outlives a test.
    return create_app(settings_factory(default_requests_per_minute=10_000, rag_max_document_bytes=2048))


@pytest.fixture
def accounts(app: FastAPI) -> Iterator[tuple[TestClient, dict[str, Account]]]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        made = {
            name: make_account(client, app, name, role)
            for name, role in [
                ("agent.a", Role.AGENT),
                ("agent.b", Role.AGENT),
                ("referent.r", Role.REFERENT),
                ("auditeur.x", Role.AUDITEUR),
            ]
        }
        yield client, made


@pytest.fixture
def client(accounts: tuple[TestClient, dict[str, Account]]) -> TestClient:
    return accounts[0]


def _sign_in(client: TestClient, username: str) -> str:
    """A session for ``username`` (through the login form); returns the pages' anti-CSRF token."""
    client.cookies.clear()
    form = client.get("/connexion")
    token = re.search(r'name="jeton" value="([^"]+)"', form.text)
    assert token
    response = client.post(
        "/connexion", data={"identifiant": username, "mot_de_passe": PASSWORD, "jeton": token.group(1)}
    )
    assert response.status_code == 303, response.text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/mes-donnees").text)
    assert csrf
    return csrf.group(1)


def _create(client: TestClient, csrf: str, name: str, **fields: str) -> str:
    response = client.post("/documents", data={"csrf_token": csrf, "nom": name, **fields})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/documents/([0-9a-f-]{36})\?fait=creee", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def _text(response_text: str) -> str:
    return html.unescape(response_text)


@pytest.mark.parametrize("path", ["/documents", "/taches", f"/documents/{uuid.UUID(int=42)}"])
def test_anonymous_visitors_are_sent_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion?suivant=%2F")


def test_an_auditor_gets_a_french_403_and_no_navigation_entry(client: TestClient) -> None:
    _sign_in(client, "auditeur.x")
    for path in ("/documents", "/taches"):
        response = client.get(path)
        assert response.status_code == 403 and "Accès refusé" in response.text
    page = client.get("/mes-donnees").text
    assert 'href="/documents"' not in page and 'href="/taches"' not in page


def test_an_agent_sees_both_entries_in_the_navigation(client: TestClient) -> None:
    _sign_in(client, "agent.a")
    page = client.get("/documents")
    assert page.status_code == 200
    nav = page.text.split('aria-label="Menu principal"')[1].split("</nav>")[0]
    assert '<a class="fr-nav__link" href="/documents" aria-current="page">Documents</a>' in nav
    assert 'href="/taches"' in nav and "Tâches" in _text(nav)
    assert "Vous n'avez encore créé aucune collection." in _text(page.text)


def test_create_then_list_with_french_dates_and_counts(client: TestClient) -> None:
    csrf = _sign_in(client, "agent.a")
    collection_id = _create(client, csrf, "  Notes   de service ", description="Circulaires RH", sensibilite="public")
    page = client.get(f"/documents/{collection_id}?fait=creee")
    text = _text(page.text)
    assert page.status_code == 200
    assert "<h1>Notes de service</h1>" in text, "names are tidied by the service"
    assert "La collection a été créée." in text and "Publique" in text and "Propriétaire" in text
    assert 'id="fichiers"' in text, "the owner may upload"
    listing = _text(client.get("/documents").text)
    row = listing.split("Notes de service</a>")[1].split("</tr>")[0]
    assert "Circulaires RH" in row and "<td>0</td>" in row
    assert re.search(r"\d{1,2} [a-zéû]+ \d{4} à \d{2}:\d{2}", row), "dates in French"


def test_a_form_without_its_token_is_refused_and_changes_nothing(client: TestClient) -> None:
    csrf = _sign_in(client, "agent.a")
    refused = client.post("/documents", data={"nom": "Sans jeton"})
    assert refused.status_code == 403 and "formulaire a expiré" in refused.text
    forged = client.post("/documents", data={"nom": "Jeton faux", "csrf_token": "faux"})
    assert forged.status_code == 403
    collection_id = _create(client, csrf, "Gardée")
    for action in ("modifier", "partage", "supprimer"):
        response = client.post(f"/documents/{collection_id}/{action}", data={"nom": "Volée"})
        assert response.status_code == 403, action
    listing = _text(client.get("/documents").text)
    assert "Gardée" in listing and "Sans jeton" not in listing and "Volée" not in listing


def test_invalid_input_comes_back_in_french_with_the_values_kept(client: TestClient) -> None:
    csrf = _sign_in(client, "agent.a")
    empty = client.post("/documents", data={"csrf_token": csrf, "nom": "   ", "description": "Ma description"})
    assert empty.status_code == 400
    text = _text(empty.text)
    assert 'role="alert"' in text and "de 1 à 150 caractères" in text and "Ma description" in text
    odd = client.post("/documents", data={"csrf_token": csrf, "nom": "X", "sensibilite": "secret"})
    assert odd.status_code == 400 and "interne ou publique" in _text(odd.text)
    long = client.post("/documents", data={"csrf_token": csrf, "nom": "X", "description": "a" * 1001})
    assert long.status_code == 400 and "1000 au plus" in _text(long.text)


def test_rename_and_reclassify(client: TestClient) -> None:
    csrf = _sign_in(client, "agent.a")
    collection_id = _create(client, csrf, "Brouillon")
    response = client.post(
        f"/documents/{collection_id}/modifier",
        data={"csrf_token": csrf, "nom": "Définitif", "description": "Relu", "sensibilite": "public"},
    )
    assert response.status_code == 303 and response.headers["location"] == f"/documents/{collection_id}?fait=modifiee"
    text = _text(client.get(response.headers["location"]).text)
    assert "<h1>Définitif</h1>" in text and "La collection a été modifiée." in text and "Relu" in text
    assert 'id="sensibilite-public" name="sensibilite" value="public" checked' in text


def test_share_with_a_group_then_the_member_sees_it_read_only(
    accounts: tuple[TestClient, dict[str, Account]], app: FastAPI
) -> None:
    client, made = accounts
    referent = made["referent.r"]
    actor = Principal(referent.id, referent.username, Role.REFERENT, "session", permissions_for(Role.REFERENT))

    async def group() -> None:
        created = await create_group(runtime_of(app), name="juristes", description="Service juridique", actor=actor)
        await add_group_member(runtime_of(app), group_id=created.id, user_id=made["agent.b"].id, actor=actor)

    run(client, group())
    csrf = _sign_in(client, "agent.a")
    collection_id = _create(client, csrf, "Jurisprudence")
    page = _text(client.get(f"/documents/{collection_id}").text)
    assert "Accès du groupe juristes" in page and "Service juridique" in page
    shared = client.post(
        f"/documents/{collection_id}/partage", data={"csrf_token": csrf, "groupe": ["juristes"], "acces": ["read"]}
    )
    assert shared.status_code == 303 and shared.headers["location"].endswith("?fait=partagee#partage")
    page = _text(client.get(f"/documents/{collection_id}").text)
    assert '<option value="read" selected>Lecture</option>' in page
    assert client.get(f"/api/collections/{collection_id}/access").json()["groups"] == {"juristes": "read"}
    bad = client.post(
        f"/documents/{collection_id}/partage", data={"csrf_token": csrf, "groupe": ["juristes"], "acces": ["tout"]}
    )
    assert bad.status_code == 400 and "formulaire de partage est incomplet" in _text(bad.text)

    _sign_in(client, "agent.b")
    listing = _text(client.get("/documents").text)
    row = listing.split("Partagées avec moi")[1].split("Jurisprudence</a>")[1].split("</tr>")[0]
    assert "<td>agent.a</td>" in row and "Lecture seule" in row
    page = _text(client.get(f"/documents/{collection_id}").text)
    assert 'id="fichiers"' not in page, "a reader cannot upload"
    assert "Enregistrer le partage" not in page and "Supprimer la collection" not in page
    assert 'id="question"' in page, "a reader may search the collection"

    # A référent administers it (sharing, deletion) but neither uploads nor searches its content.
    _sign_in(client, "referent.r")
    listing = _text(client.get("/documents").text)
    assert "Autres collections" in listing and "Administration (référent)" in listing
    page = _text(client.get(f"/documents/{collection_id}").text)
    assert "Enregistrer le partage" in page and "Supprimer la collection" in page
    assert 'id="fichiers"' not in page and 'id="question"' not in page


def test_strangers_get_a_french_404_and_readers_cannot_delete(
    accounts: tuple[TestClient, dict[str, Account]],
) -> None:
    client, _ = accounts
    csrf = _sign_in(client, "agent.a")
    collection_id = _create(client, csrf, "Privée")
    csrf_b = _sign_in(client, "agent.b")
    page = client.get(f"/documents/{collection_id}")
    assert page.status_code == 404 and "Collection introuvable" in page.text
    deleted = client.post(f"/documents/{collection_id}/supprimer", data={"csrf_token": csrf_b})
    assert deleted.status_code == 404
    _sign_in(client, "agent.a")
    assert client.get(f"/documents/{collection_id}").status_code == 200, "still there"


def test_forms_need_the_charter_accepted_like_the_api(
    accounts: tuple[TestClient, dict[str, Account]], app: FastAPI
) -> None:
    client, made = accounts
    csrf = _sign_in(client, "agent.a")
    collection_id = _create(client, csrf, "Avant la charte")
    referent = made["referent.r"]
    actor = Principal(referent.id, referent.username, Role.REFERENT, "session", permissions_for(Role.REFERENT))
    run(client, publish_charter(runtime_of(app), principal=actor, client=ClientInfo()))
    # Like every page of the assistant, the forms send the user to the charter first; nothing is done meanwhile.
    refused = client.post("/documents", data={"csrf_token": csrf, "nom": "Après la charte"})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/charte?suivant=")
    deleted = client.post(f"/documents/{collection_id}/supprimer", data={"csrf_token": csrf})
    assert deleted.status_code == 303 and deleted.headers["location"].startswith("/charte?suivant=")
    agent = made["agent.a"]
    reader = Principal(agent.id, agent.username, Role.AGENT, "session", permissions_for(Role.AGENT))
    run(client, accept_charter(runtime_of(app), principal=reader, client=ClientInfo(), version=1))
    listing = _text(client.get("/documents").text)
    assert "Avant la charte" in listing and "Après la charte" not in listing


def test_delete_redirects_to_the_list_with_a_notice(client: TestClient) -> None:
    csrf = _sign_in(client, "agent.a")
    collection_id = _create(client, csrf, "Éphémère")
    response = client.post(f"/documents/{collection_id}/supprimer", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/documents?fait=supprimee"
    text = _text(client.get(response.headers["location"]).text)
    assert "La collection a été supprimée" in text and "Éphémère" not in text
    assert client.get(f"/documents/{collection_id}").status_code == 404


def test_the_list_counts_documents_and_the_page_says_why_one_failed(client: TestClient) -> None:
    csrf = _sign_in(client, "agent.a")
    collection_id = _create(client, csrf, "Comptée")
    uploaded = client.post(
        f"/api/collections/{collection_id}/documents",
        files=[("files", (name, name.encode() * 1024, "text/plain")) for name in ("a.txt", "b.txt")],
        headers={"X-CSRF-Token": csrf},
    )
    assert uploaded.status_code == 202, uploaded.text
    assert [d["status"] for d in uploaded.json()["documents"]] == ["failed", "failed"]
    row = _text(client.get("/documents").text).split("Comptée</a>")[1].split("</tr>")[0]
    assert "<td>2</td>" in row
    page = _text(client.get(f"/documents/{collection_id}").text)
    assert "Échec" in page and "« a.txt » dépasse la taille maximale autorisée (2048 octets)." in page
    assert 'data-supprimer="' in page and 'Supprimer<span class="fr-sr-only"> b.txt</span>' in page


def test_the_tasks_page_offers_the_presets_and_languages(client: TestClient) -> None:
    _sign_in(client, "agent.a")
    page = client.get("/taches")
    assert page.status_code == 200
    text = _text(page.text)
    for title in ("Synthèse", "Traduction"):
        assert title in text
    assert 'data-parametres="langue_cible"' in text and '<option value="de">Allemand</option>' in text
    assert '<script type="module" src="/static/tasks.js"></script>' in text
    assert 'action="' not in text.split('id="tache"')[1].split(">")[0], "the task form is sent by its script"


@pytest.mark.parametrize(
    ("size", "expected"),
    [(0, "0\u00a0octets"), (1000, "1\u202f000\u00a0octets"), (2048, "2\u00a0Ko"), (1536 * 1024, "1,5\u00a0Mo")],
)
def test_sizes_in_french(size: int, expected: str) -> None:
    assert format_size_fr(size) == expected


def test_attach_a_shared_folder_then_sync_and_detach_it(client: TestClient) -> None:
    csrf = _sign_in(client, "agent.a")
    collection = _create(client, csrf, "Procédures RH")
    base = {"csrf_token": csrf, "nom": "Nextcloud RH", "compte": "agent.a", "mot_de_passe": "Secret-Très-Long-42"}
    bad = client.post(f"/documents/{collection}/sources", data={**base, "type": "webdav", "adresse": "ftp://x/"})
    assert bad.status_code == 400 and "Adresse WebDAV invalide" in _text(bad.text)
    frequency = client.post(
        f"/documents/{collection}/sources",
        data={**base, "type": "webdav", "adresse": "https://cloud.example.fr/dav/", "frequence": "souvent"},
    )
    assert frequency.status_code == 400 and "nombre de minutes" in _text(frequency.text)
    attached = client.post(
        f"/documents/{collection}/sources",
        data={
            **base,
            "type": "webdav",
            "adresse": "https://cloud.example.fr/remote.php/dav/files/rh/",
            "dossier": "Procédures",
            "exclure": "archives/**\n",
            "frequence": "60",
        },
    )
    assert attached.status_code == 303
    assert attached.headers["location"] == f"/documents/{collection}?fait=source-rattachee#sources"
    page = _text(client.get(f"/documents/{collection}").text)
    assert "Nextcloud RH" in page and "Jamais synchronisée" in page and "toutes les 60 minutes" in page
    assert "https://cloud.example.fr/remote.php/dav/files/rh/Procédures" in page and "archives/**" in page
    assert "Secret-Très-Long-42" not in page, "the password is never shown again"
    source_id = re.search(r"/sources/([0-9a-f-]{36})/synchroniser", page)
    assert source_id
    started = client.post(
        f"/documents/{collection}/sources/{source_id.group(1)}/synchroniser", data={"csrf_token": csrf}
    )
    assert started.status_code == 303 and "source-en-cours" in started.headers["location"]
    csrf_b = _sign_in(client, "agent.b")
    foreign = client.post(
        f"/documents/{collection}/sources/{source_id.group(1)}/supprimer", data={"csrf_token": csrf_b}
    )
    assert foreign.status_code == 404
    csrf = _sign_in(client, "agent.a")
    detached = client.post(f"/documents/{collection}/sources/{source_id.group(1)}/supprimer", data={"csrf_token": csrf})
    assert detached.status_code == 303
    assert "Aucun dossier partagé n'est rattaché" in _text(client.get(f"/documents/{collection}").text)
