"""The AI-system registry: every model and every use of AI in the service, with what the référent must record.

Models come from the running registry (their card: licence, languages, size, weights sha256, sovereignty,
hosting); uses are the features of the product, each with its purpose and the categories of data it processes.
The référent fills the legal basis of each entry and marks it reviewed; both are stored. The registry exports
to JSON, CSV and Markdown with French labels, from the API and the CLI alike.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError, NotFoundError
from assistant.llm import RegisteredModel
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.store import governance as governance_store
from assistant.store import utcnow
from assistant.store.models import RegistryReview

__all__ = [
    "LEGAL_BASIS_PLACEHOLDER",
    "MODEL_FIELDS",
    "USES",
    "USE_FIELDS",
    "AiUse",
    "ExportFormat",
    "Registry",
    "build_registry",
    "export_registry",
    "mark_reviewed",
    "render_registry",
]

ExportFormat = Literal["json", "csv", "markdown"]
EntryKind = Literal["model", "use"]

LEGAL_BASIS_PLACEHOLDER = "À compléter par le référent IA (ex. : mission d'intérêt public, art. 6-1-e du RGPD)"
TRANSCRIPTION_MODEL = "Whisper base multilingue (faster-whisper, CTranslate2, licence MIT)"


@dataclass(frozen=True, slots=True)
class AiUse:
    """One use of AI in the product, as the registry describes it."""

    id: str
    name: str
    purpose: str
    data_categories: tuple[str, ...]
    human_oversight: str
    uses_chat_models: bool = True
    other_models: tuple[str, ...] = ()


USES: tuple[AiUse, ...] = (
    AiUse(
        id="chat",
        name="Conversation avec l'assistant",
        purpose="Aider les agents à rédiger, reformuler et rechercher des informations générales.",
        data_categories=("Questions et réponses saisies par l'agent", "Données personnelles éventuellement saisies"),
        human_oversight="Réponses étiquetées « générées par IA — à vérifier » ; signalement d'incident possible.",
    ),
    AiUse(
        id="rag",
        name="Questions sur les documents internes",
        purpose="Répondre aux questions des agents à partir des collections documentaires autorisées, avec citations.",
        data_categories=("Documents internes des collections", "Questions des agents"),
        human_oversight="Chaque réponse cite ses sources ; accès filtré par les droits sur les collections.",
    ),
    AiUse(
        id="transcription",
        name="Transcription de réunions",
        purpose="Produire la transcription horodatée d'un enregistrement de réunion.",
        data_categories=("Voix des participants (donnée biométrique non exploitée)", "Propos tenus en réunion"),
        human_oversight="Transcription à relire ; audio supprimé après traitement sauf demande contraire.",
        uses_chat_models=False,
        other_models=(TRANSCRIPTION_MODEL,),
    ),
    AiUse(
        id="minutes",
        name="Comptes rendus de réunion",
        purpose="Résumer une transcription en décisions, actions et participants.",
        data_categories=("Transcriptions de réunions", "Noms des participants"),
        human_oversight="Compte rendu étiqueté et à valider par le secrétariat avant diffusion.",
        other_models=(TRANSCRIPTION_MODEL,),
    ),
    AiUse(
        id="documents",
        name="Traitement de documents",
        purpose="Résumer, traduire ou reformuler un document fourni par l'agent ; reconnaissance de texte (OCR).",
        data_categories=("Contenu des documents fournis", "Données personnelles éventuellement contenues"),
        human_oversight="Résultat étiqueté et manifeste de provenance signé ; relecture par l'agent.",
        other_models=("RapidOCR (PP-OCR, ONNX, licence Apache-2.0)",),
    ),
)

# (key, French label) in export order; the JSON export uses the keys, CSV and Markdown the labels.
MODEL_FIELDS: tuple[tuple[str, str], ...] = (
    ("identifiant", "Identifiant"),
    ("nom", "Nom"),
    ("licence", "Licence"),
    ("langues", "Langues"),
    ("taille", "Taille"),
    ("quantification", "Quantification"),
    ("empreinte_sha256", "Empreinte SHA-256 des poids"),
    ("souverain", "Souverain"),
    ("hebergement", "Hébergement"),
    ("statut", "Statut"),
    ("motif_retrait", "Motif du retrait"),
    ("limites", "Limites connues"),
    ("base_legale", "Base légale"),
    ("derniere_revue", "Dernière revue"),
    ("revu_par", "Revu par"),
)
USE_FIELDS: tuple[tuple[str, str], ...] = (
    ("identifiant", "Identifiant"),
    ("nom", "Nom"),
    ("finalite", "Finalité"),
    ("categories_donnees", "Catégories de données traitées"),
    ("modeles", "Modèles utilisés"),
    ("supervision_humaine", "Supervision humaine"),
    ("base_legale", "Base légale"),
    ("derniere_revue", "Dernière revue"),
    ("revu_par", "Revu par"),
)

Row = dict[str, str | bool | list[str] | None]


@dataclass(frozen=True, slots=True)
class Registry:
    """The registry at one moment: one row per model and per use, keyed as in ``MODEL_FIELDS``/``USE_FIELDS``."""

    generated_at: datetime
    models: list[Row]
    uses: list[Row]


def _review_fields(review: RegistryReview | None) -> Row:
    return {
        "base_legale": (review.legal_basis if review and review.legal_basis else LEGAL_BASIS_PLACEHOLDER),
        "derniere_revue": review.reviewed_at.isoformat() if review and review.reviewed_at else None,
        "revu_par": review.reviewed_by if review else None,
    }


def _model_row(model: RegisteredModel, review: RegistryReview | None) -> Row:
    card = model.card
    return {
        "identifiant": model.id,
        "nom": card.name,
        "licence": card.licence,
        "langues": list(card.languages),
        "taille": card.parameters,
        "quantification": card.quantization,
        "empreinte_sha256": card.weights_sha256,
        "souverain": model.sovereign,
        "hebergement": f"{model.backend_name} ({model.backend.kind})",
        "statut": "retiré" if model.status.value == "withdrawn" else "en service",
        "motif_retrait": model.withdrawn_reason,
        "limites": card.limitations or None,
        **_review_fields(review),
    }


def _use_row(use: AiUse, chat_models: Sequence[str], review: RegistryReview | None) -> Row:
    models = [*(chat_models if use.uses_chat_models else ()), *use.other_models]
    return {
        "identifiant": use.id,
        "nom": use.name,
        "finalite": use.purpose,
        "categories_donnees": list(use.data_categories),
        "modeles": models,
        "supervision_humaine": use.human_oversight,
        **_review_fields(review),
    }


async def build_registry(runtime: Runtime) -> Registry:
    """Every configured model (withdrawn ones included) and every use, with their stored reviews."""
    async with runtime.session_factory() as session:
        reviews = {(r.kind, r.subject_id): r for r in await governance_store.list_reviews(session=session)}
    models = runtime.models.models(include_withdrawn=True)
    active = [model.id for model in models if model.status.value == "active"]
    return Registry(
        generated_at=utcnow(),
        models=[_model_row(model, reviews.get(("model", model.id))) for model in models],
        uses=[_use_row(use, active, reviews.get(("use", use.id))) for use in USES],
    )


def _text(value: str | bool | list[str] | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(value)
    return value


def _markdown_cell(value: str | bool | list[str] | None) -> str:
    return _text(value).replace("|", "\\|").replace("\n", " ") or "—"


def render_registry(registry: Registry, fmt: ExportFormat) -> str:
    """The registry as a JSON document, a CSV table (one row per entry) or a Markdown document."""
    if fmt == "json":
        document = {
            "titre": "Registre des systèmes d'IA",
            "genere_le": registry.generated_at.isoformat(),
            "modeles": registry.models,
            "usages": registry.uses,
        }
        return json.dumps(document, ensure_ascii=False, indent=2)
    if fmt == "csv":
        return _csv(registry)
    if fmt == "markdown":
        return _markdown(registry)
    raise InvalidRequestError(f"Format d'export inconnu : « {fmt} » (json, csv ou markdown).")


def _csv(registry: Registry) -> str:
    # One table for both kinds: a "Type" column, then the union of the fields, blank where they do not apply.
    fields = [("type", "Type"), *MODEL_FIELDS, *(field for field in USE_FIELDS if field not in MODEL_FIELDS)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([label for _, label in fields])
    for kind, rows in (("Modèle", registry.models), ("Usage", registry.uses)):
        for row in rows:
            writer.writerow([kind if key == "type" else _text(row.get(key)) for key, _ in fields])
    return buffer.getvalue()


def _table(fields: Sequence[tuple[str, str]], rows: list[Row]) -> list[str]:
    lines = ["| " + " | ".join(label for _, label in fields) + " |", "|" + "---|" * len(fields)]
    lines += ["| " + " | ".join(_markdown_cell(row.get(key)) for key, _ in fields) + " |" for row in rows]
    return lines


def _markdown(registry: Registry) -> str:
    lines = [
        "# Registre des systèmes d'IA",
        "",
        f"Généré le {registry.generated_at:%d/%m/%Y à %H:%M} (UTC).",
        "",
        "## Modèles",
        "",
        *_table(MODEL_FIELDS, registry.models),
        "",
        "## Usages",
        "",
        *_table(USE_FIELDS, registry.uses),
        "",
    ]
    return "\n".join(lines)


async def export_registry(runtime: Runtime, fmt: ExportFormat) -> str:
    """Build the registry now and render it."""
    return render_registry(await build_registry(runtime), fmt)


async def mark_reviewed(
    runtime: Runtime,
    *,
    kind: EntryKind,
    subject_id: str,
    actor: Principal | None,
    legal_basis: str | None = None,
    note: str | None = None,
    client: ClientInfo | None = None,
) -> RegistryReview:
    """Record that the référent reviewed an entry (« revue effectuée »), optionally setting its legal basis."""
    if kind == "model":
        runtime.models.get(subject_id)  # UnknownModelError for a model that is not configured
    elif subject_id not in {use.id for use in USES}:
        raise NotFoundError(f"Usage inconnu : « {subject_id} ». Usages : {', '.join(use.id for use in USES)}.")
    if legal_basis is not None and not legal_basis.strip():
        raise InvalidRequestError("La base légale ne peut pas être vide.")
    reviewer = actor.username if actor else "cli"
    async with runtime.session_factory.begin() as session:
        review = await governance_store.put_review(
            session=session,
            kind=kind,
            subject_id=subject_id,
            reviewed_by=reviewer,
            reviewed_at=utcnow(),
            legal_basis=legal_basis.strip() if legal_basis else None,
            note=note.strip() if note else None,
        )
    await runtime.audit.record(
        category="audit",
        action="registry.review",
        actor_id=actor.user_id if actor else None,
        actor_label=reviewer,
        resource_type=f"registry_{kind}",
        resource_id=subject_id,
        client=client,
        details={"legal_basis_changed": legal_basis is not None},
    )
    return review
