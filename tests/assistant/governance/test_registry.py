"""The AI-system registry: every model and use, reviews stored, exports in JSON, CSV and Markdown."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.services.governance.ai_registry import LEGAL_BASIS_PLACEHOLDER, USES
from assistant.store.models import Role
from tests.assistant.governance.helpers import MODEL, OTHER_MODEL, backends
from tests.factories import make_account
from tests.fakes import FakeUpstream

USE_IDS = {use.id for use in USES}
LEGAL_BASIS = "Mission d'intérêt public (art. 6-1-e RGPD), arrêté du 3 mars"


def test_registry_exports_every_model_and_use_with_reviews(  # type: ignore[no-untyped-def]
    settings_factory, openai_upstream: FakeUpstream, database_url: str
) -> None:
    app = create_app(settings_factory(database_url=database_url, llm_backends=backends(openai_upstream.url)))
    with TestClient(app, raise_server_exceptions=False) as client:
        referent = make_account(client, app, "referent.r", Role.REFERENT).bearer
        auditor = make_account(client, app, "auditeur.x", Role.AUDITEUR).bearer
        assert {"chat", "rag", "transcription", "minutes", "documents"} == USE_IDS
        client.post(
            "/api/governance/models/withdraw", json={"model": OTHER_MODEL, "reason": "Obsolète."}, headers=referent
        )

        review = {"kind": "use", "id": "rag", "legal_basis": LEGAL_BASIS, "note": "Revu avec le DPD."}
        reviewed = client.post("/api/governance/registry/reviews", json=review, headers=referent)
        assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == "referent.r"
        model_review = client.post(
            "/api/governance/registry/reviews", json={"kind": "model", "id": MODEL}, headers=referent
        )
        assert model_review.status_code == 200
        assert (
            client.post(
                "/api/governance/registry/reviews", json={"kind": "use", "id": "inconnu"}, headers=referent
            ).status_code
            == 404
        )
        assert client.post("/api/governance/registry/reviews", json=review, headers=auditor).status_code == 403

        document = client.get("/api/governance/registry", headers=auditor)
        assert document.status_code == 200 and document.headers["content-type"].startswith("application/json")
        registry = json.loads(document.text)
        models = {row["identifiant"]: row for row in registry["modeles"]}
        uses = {row["identifiant"]: row for row in registry["usages"]}
        assert set(models) == {MODEL, OTHER_MODEL} and set(uses) == USE_IDS
        assert models[MODEL]["licence"] == "Apache-2.0" and models[MODEL]["langues"] == ["fr", "en"]
        assert models[MODEL]["empreinte_sha256"] == "ab" * 32 and models[MODEL]["souverain"] is True
        assert models[MODEL]["hebergement"] == "vllm (openai)" and models[MODEL]["taille"] == "24B"
        assert models[MODEL]["derniere_revue"] and models[MODEL]["base_legale"] == LEGAL_BASIS_PLACEHOLDER
        assert models[OTHER_MODEL]["statut"] == "retiré" and models[OTHER_MODEL]["motif_retrait"] == "Obsolète."
        assert uses["rag"]["base_legale"] == LEGAL_BASIS and uses["rag"]["revu_par"] == "referent.r"
        assert uses["chat"]["derniere_revue"] is None and uses["chat"]["base_legale"] == LEGAL_BASIS_PLACEHOLDER
        assert uses["chat"]["modeles"] == [MODEL], "withdrawn models serve no use"
        assert any("Whisper" in name for name in uses["transcription"]["modeles"])

        table = client.get("/api/governance/registry", params={"format": "csv"}, headers=auditor)
        assert table.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(table.text)))
        assert {row["Identifiant"] for row in rows} == {MODEL, OTHER_MODEL} | USE_IDS
        rag = next(row for row in rows if row["Identifiant"] == "rag")
        assert rag["Type"] == "Usage" and rag["Base légale"] == LEGAL_BASIS and rag["Finalité"]
        assert next(row for row in rows if row["Identifiant"] == MODEL)["Souverain"] == "oui"

        markdown = client.get("/api/governance/registry", params={"format": "markdown"}, headers=auditor)
        assert markdown.headers["content-type"].startswith("text/markdown")
        text = markdown.text
        assert text.startswith("# Registre des systèmes d'IA") and "## Modèles" in text and "## Usages" in text
        for identifier in {MODEL, OTHER_MODEL} | USE_IDS:
            assert f"| {identifier} |" in text
        assert "| Identifiant | Nom | Licence |" in text and LEGAL_BASIS in text

        assert client.get("/api/governance/registry", params={"format": "pdf"}, headers=auditor).status_code == 422
