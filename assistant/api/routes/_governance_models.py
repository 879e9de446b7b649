"""Request and response bodies of the incident and governance routes (API schemas, separate from the tables)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.llm import ModelCard, ModelStatus
from assistant.provenance import Manifest, Provenance
from assistant.services.chat.comparisons import ModelPreference
from assistant.services.governance.incidents import IncidentStats
from assistant.services.governance.kpis import Kpis
from assistant.services.governance.model_access import ModelAccessEntry
from assistant.services.governance.satisfaction import ModelSatisfaction
from assistant.services.governance.supervision import ModelSupervision
from assistant.store.kpis import Aggregate
from assistant.store.models import (
    FeedbackReason,
    IncidentCategory,
    IncidentReport,
    IncidentStatus,
    RegistryReview,
)

__all__ = [
    "IncidentCreate",
    "IncidentOut",
    "IncidentStatsOut",
    "IncidentTriage",
    "ModelAccessIn",
    "ModelAccessOut",
    "ModelDecisionIn",
    "ModelSupervisionOut",
    "PreferenceOut",
    "RegistryReviewIn",
    "RegistryReviewOut",
    "SatisfactionOut",
]


class IncidentCreate(BaseModel):
    """A report on a generated answer: what is wrong, and what was shown (excerpt, provenance, manifest)."""

    model_config = ConfigDict(extra="forbid")

    category: IncidentCategory = Field(
        description="erreur_factuelle, biais, contenu_inapproprie, fuite_de_donnees ou autre."
    )
    description: str = Field(min_length=1, max_length=5000, description="Le problème, dans vos mots.")
    excerpt: str = Field(min_length=1, max_length=20_000, description="Le passage de la réponse concerné.")
    provenance: Provenance | None = Field(default=None, description="L'objet provenance de la réponse.")
    manifest: Manifest | None = Field(
        default=None, description="Le manifeste signé de la réponse ; sa signature est vérifiée et consignée."
    )
    model: str | None = Field(default=None, max_length=128, description="Modèle, si ni provenance ni manifeste.")
    message_id: str | None = Field(default=None, max_length=100, description="Identifiant du message concerné.")


class IncidentOut(BaseModel):
    """A report as its author and the référents see it."""

    id: uuid.UUID
    category: IncidentCategory
    category_label: str
    description: str
    excerpt: str
    model_id: str | None
    provenance: dict[str, Any] | None
    manifest_attached: bool
    manifest_valid: bool | None = Field(description="Signature du manifeste valide (null : aucun manifeste joint).")
    manifest_content_matches: bool | None = Field(description="L'extrait est exactement le contenu signé.")
    manifest_check: str | None
    message_id: str | None
    status: IncidentStatus
    status_label: str
    reporter_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    triage_comment: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, report: IncidentReport) -> IncidentOut:
        return cls(
            id=report.id,
            category=report.category,
            category_label=report.category.label,
            description=report.description,
            excerpt=report.excerpt,
            model_id=report.model_id,
            provenance=report.provenance,
            manifest_attached=report.manifest is not None,
            manifest_valid=report.manifest_valid,
            manifest_content_matches=report.manifest_content_matches,
            manifest_check=report.manifest_check,
            message_id=report.message_ref,
            status=report.status,
            status_label=report.status.label,
            reporter_id=report.reporter_id,
            assignee_id=report.assignee_id,
            triage_comment=report.triage_comment,
            created_at=report.created_at,
            updated_at=report.updated_at,
            closed_at=report.closed_at,
        )


class IncidentTriage(BaseModel):
    """A triage step: any of a new status, a comment (required to close), an assignee (null to unassign)."""

    model_config = ConfigDict(extra="forbid")

    status: IncidentStatus | None = None
    comment: str | None = Field(default=None, max_length=5000)
    assignee_id: uuid.UUID | None = None

    @property
    def unassign(self) -> bool:
        """True when the body says ``"assignee_id": null`` explicitly."""
        return "assignee_id" in self.model_fields_set and self.assignee_id is None


class IncidentStatsOut(BaseModel):
    """Reports of one model and category."""

    model_id: str | None
    category: IncidentCategory
    category_label: str
    total: int
    unresolved: int

    @classmethod
    def of(cls, stats: IncidentStats) -> IncidentStatsOut:
        return cls(
            model_id=stats.model_id,
            category=stats.category,
            category_label=stats.category.label,
            total=stats.total,
            unresolved=stats.unresolved,
        )


class SatisfactionOut(BaseModel):
    """The agents' 👍/👎 on one model's answers over the window, and why the 👎."""

    model_id: str | None
    up: int = Field(description="Réponses jugées utiles (👍).")
    down: int = Field(description="Réponses jugées à améliorer (👎).")
    satisfaction: float | None = Field(description="Part des 👍 parmi les avis (null : aucun avis).")
    reasons: dict[FeedbackReason, int] = Field(description="Motifs des 👎 (ceux qui en ont donné un).")

    @classmethod
    def of(cls, item: ModelSatisfaction) -> SatisfactionOut:
        return cls(
            model_id=item.model_id, up=item.up, down=item.down, satisfaction=item.satisfaction, reasons=item.reasons
        )


class ModelDecisionIn(BaseModel):
    """Withdraw (with the message shown to users) or reinstate one model."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=128)
    reason: str | None = Field(default=None, max_length=1000, description="Motif affiché aux utilisateurs.")


class ModelAccessIn(BaseModel):
    """Reserve a model to some groups, or open it to every user (``groups``: null)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=128)
    groups: list[Annotated[str, Field(min_length=1, max_length=150)]] | None = Field(
        max_length=200, description="Noms des groupes autorisés ; null : ouvert à tous les utilisateurs."
    )


class ModelAccessOut(BaseModel):
    """Who may use one model."""

    model: str
    open_to_all: bool
    groups: list[str] | None = Field(description="Groupes autorisés (null : ouvert à tous).")
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, entry: ModelAccessEntry) -> ModelAccessOut:
        return cls(
            model=entry.model_id,
            open_to_all=entry.open_to_all,
            groups=list(entry.groups) if entry.groups is not None else None,
            decided_by=entry.decided_by,
            decided_at=entry.decided_at,
        )


class ModelSupervisionOut(BaseModel):
    """One model under supervision: state, decision, reports over the window, rates and alert flag."""

    id: str
    status: ModelStatus
    withdrawn_reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    sovereign: bool
    hosting: str
    card: ModelCard
    window_days: int
    reports: int
    reports_by_category: dict[IncidentCategory, int]
    unresolved_reports: int
    alert: bool = Field(description="Seuil d'alerte atteint (biais ou fuite de données non clos sur la fenêtre).")
    alert_reports: int
    alert_threshold: int
    requests: int | None = Field(description="Requêtes servies sur la fenêtre (null : inconnu).")
    report_rate: float | None = Field(description="Signalements / requêtes (null : requêtes inconnues).")
    error_rate: float | None = Field(description="Requêtes en erreur / requêtes (null : inconnu).")
    feedback: SatisfactionOut | None = Field(description="Avis 👍/👎 des agents sur la fenêtre (null : aucun).")

    @classmethod
    def of(cls, item: ModelSupervision) -> ModelSupervisionOut:
        model = item.model
        return cls(
            id=model.id,
            status=model.status,
            withdrawn_reason=model.withdrawn_reason,
            decided_by=item.decision.decided_by if item.decision else None,
            decided_at=item.decision.decided_at if item.decision else None,
            sovereign=model.sovereign,
            hosting=f"{model.backend_name} ({model.backend.kind})",
            card=model.card,
            window_days=item.window_days,
            reports=item.reports,
            reports_by_category=item.reports_by_category,
            unresolved_reports=item.unresolved_reports,
            alert=item.alert,
            alert_reports=item.alert_reports,
            alert_threshold=item.alert_threshold,
            requests=item.requests,
            report_rate=item.report_rate,
            error_rate=item.error_rate,
            feedback=SatisfactionOut.of(item.satisfaction) if item.satisfaction is not None else None,
        )


class RegistryReviewIn(BaseModel):
    """« Revue effectuée » on one registry entry, optionally with its legal basis and a note."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["model", "use"]
    id: str = Field(min_length=1, max_length=128)
    legal_basis: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)


class RegistryReviewOut(BaseModel):
    """The stored review of one entry."""

    kind: str
    id: str
    legal_basis: str | None
    note: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None

    @classmethod
    def of(cls, review: RegistryReview) -> RegistryReviewOut:
        return cls(
            kind=review.kind,
            id=review.subject_id,
            legal_basis=review.legal_basis,
            note=review.note,
            reviewed_by=review.reviewed_by,
            reviewed_at=review.reviewed_at,
        )


class UsageAggregateOut(BaseModel):
    """Sums over the usage records sharing ``key`` (model id, service, day; null for the total)."""

    key: str | None
    requests: int
    incomplete: int
    users: int
    prompt_tokens: int
    completion_tokens: int
    energy_wh: float
    gco2e: float
    mean_latency_ms: float

    @classmethod
    def of(cls, aggregate: Aggregate) -> UsageAggregateOut:
        return cls(
            key=aggregate.key,
            requests=aggregate.requests,
            incomplete=aggregate.incomplete,
            users=aggregate.users,
            prompt_tokens=aggregate.prompt_tokens,
            completion_tokens=aggregate.completion_tokens,
            energy_wh=round(aggregate.energy_wh, 6),
            gco2e=round(aggregate.gco2e, 6),
            mean_latency_ms=round(aggregate.latency_ms, 1),
        )


class PreferenceOut(BaseModel):
    """Votes won, lost and tied by one model over the window, and the mean cost of its comparison answers."""

    model_id: str
    wins: int
    losses: int
    ties: int
    votes: int
    win_rate: float | None = Field(description="Part des votes gagnés (null : aucun vote).")
    answers: int = Field(description="Réponses données en comparaison sur la fenêtre.")
    mean_energy_wh: float | None = Field(description="Énergie moyenne estimée par réponse (Wh).")
    mean_gco2e: float | None = Field(description="Émissions moyennes estimées par réponse (g CO₂e).")

    @classmethod
    def of(cls, item: ModelPreference) -> PreferenceOut:
        return cls(
            model_id=item.model_id,
            wins=item.wins,
            losses=item.losses,
            ties=item.ties,
            votes=item.votes,
            win_rate=item.win_rate,
            answers=item.answers,
            mean_energy_wh=round(item.mean_energy_wh, 6) if item.mean_energy_wh is not None else None,
            mean_gco2e=round(item.mean_gco2e, 6) if item.mean_gco2e is not None else None,
        )


class PromptUsesOut(BaseModel):
    """How often one prompt of the library was used over the window."""

    prompt_id: uuid.UUID
    title: str
    published: bool = Field(description="Prompt publié par un référent (sinon personnel).")
    uses: int


class KpisOut(BaseModel):
    """KPIs of the service over a window: usage by service, model and day, active users, reports."""

    since: datetime
    until: datetime
    total: UsageAggregateOut
    active_users: int
    by_service: list[UsageAggregateOut]
    by_model: list[UsageAggregateOut]
    by_day: list[UsageAggregateOut]
    reports: list[IncidentStatsOut]
    satisfaction: list[SatisfactionOut] = Field(description="Avis 👍/👎 des agents par modèle sur la fenêtre.")
    prompts: list[PromptUsesOut] = Field(description="Prompts de la bibliothèque les plus utilisés sur la fenêtre.")
    preferences: list[PreferenceOut] = Field(description="Votes des comparaisons côte à côte, par modèle.")

    @classmethod
    def of(cls, kpis: Kpis) -> KpisOut:
        return cls(
            since=kpis.since,
            until=kpis.until,
            total=UsageAggregateOut.of(kpis.total),
            active_users=kpis.active_users,
            by_service=[UsageAggregateOut.of(item) for item in kpis.by_service],
            by_model=[UsageAggregateOut.of(item) for item in kpis.by_model],
            by_day=[UsageAggregateOut.of(item) for item in kpis.by_day],
            reports=[IncidentStatsOut.of(item) for item in kpis.reports],
            satisfaction=[SatisfactionOut.of(item) for item in kpis.satisfaction],
            prompts=[
                PromptUsesOut(prompt_id=item.prompt_id, title=item.title, published=item.published, uses=item.uses)
                for item in kpis.prompts
            ],
            preferences=[PreferenceOut.of(item) for item in kpis.preferences],
        )
