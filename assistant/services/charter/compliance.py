"""The compliance report: each requirement of the administrations' AI charters, with evidence from this deployment.

Evidence is read from the running configuration and data (never asserted blindly): an item is ``ok``, ``warning``
(works, but a référent should act) or ``failed`` (the requirement is not met). The report is rendered as JSON or
Markdown for the référent and the auditor.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from assistant.provenance import AI_LABEL
from assistant.runtime import Runtime
from assistant.services.charter import usage_charter as charter
from assistant.services.gateway import guard
from assistant.services.governance import kpis
from assistant.services.identity import separation
from assistant.store import audit as audit_store
from assistant.store import governance as governance_store
from assistant.store import utcnow
from assistant.store.models import IncidentCategory

__all__ = ["Check", "ComplianceReport", "Status", "build_report", "render_report"]

Status = Literal["ok", "warning", "failed"]
_MARKS = {"ok": "✅ conforme", "warning": "⚠️ à surveiller", "failed": "❌ non conforme"}


@dataclass(frozen=True)
class Check:
    """One requirement and what the deployment shows about it."""

    requirement: str
    status: Status
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ComplianceReport:
    """All checks at one moment."""

    generated_at: datetime
    environment: str
    checks: list[Check]

    @property
    def failures(self) -> int:
        """How many requirements are not met."""
        return sum(check.status == "failed" for check in self.checks)


async def _labelling(runtime: Runtime) -> Check:
    return Check(
        "Étiquetage des contenus générés",
        "ok",
        [
            f"Mention « {AI_LABEL} » sur chaque réponse (en-têtes, JSON, flux, exports) ; non désactivable.",
            f"Manifestes de provenance signés Ed25519 (clé {runtime.signer.key_id}).",
        ],
    )


async def _traceability(runtime: Runtime) -> Check:
    report = await runtime.audit.verify()
    if not report.ok:
        return Check(
            "Traçabilité (journal d'audit chaîné)",
            "failed",
            [f"Chaîne rompue à l'événement n° {report.first_bad_id} : {report.problem}."],
        )
    return Check(
        "Traçabilité (journal d'audit chaîné)",
        "ok",
        [f"{report.events} événements, chaîne intègre (empreinte de tête {report.head_hash[:16]}…)."],
    )


async def _access_control(runtime: Runtime) -> Check:
    settings = runtime.settings
    evidence = ["Rôles agent / référent / auditeur, refus par défaut, clés d'API à portée limitée."]
    status: Status = "ok"
    if settings.oidc.issuer:
        evidence.append(f"Authentification OIDC : {settings.oidc.issuer}.")
    else:
        evidence.append("OIDC non configuré : comptes locaux seulement.")
        status = "warning"
    if settings.environment != "production":
        evidence.append("Environnement « dev » : secrets générés localement.")
        status = "warning"
    return Check("Contrôle d'accès", status, evidence)


# How far back the report looks for role changes that widened access: one quarter, a usual access-review period.
_ROLE_REVIEW_DAYS = 90


async def _separation_of_duties(runtime: Runtime) -> Check:
    requirement = "Séparation des tâches (rôles élargis)"
    evidence = [
        "Un référent administre les collections sans en lire le contenu : seul le propriétaire le lui ouvre ; "
        "un référent ne peut s'ajouter lui-même à un groupe."
    ]
    widened = await separation.recent_role_widenings(runtime, since=utcnow() - timedelta(days=_ROLE_REVIEW_DAYS))
    if not widened:
        return Check(requirement, "ok", [*evidence, f"Aucun rôle élargi depuis {_ROLE_REVIEW_DAYS} jours."])
    evidence.append(f"{len(widened)} élargissement(s) de rôle depuis {_ROLE_REVIEW_DAYS} jours, à faire revoir :")
    for event in widened:
        before = event.details.get("from") or "nouveau compte"
        evidence.append(
            f"{event.occurred_at:%Y-%m-%d %H:%M} : {event.actor_label} a donné le rôle « {event.details.get('to')} » "
            f"à {event.details.get('user')} ({before})."
        )
    return Check(requirement, "warning", evidence)


async def _sovereignty(runtime: Runtime) -> Check:
    models = runtime.models.models()
    foreign = [model.id for model in models if not model.sovereign]
    evidence = [f"{len(models) - len(foreign)} modèle(s) souverain(s) sur {len(models)}."]
    if foreign:
        evidence.append(
            "Modèles non souverains : " + ", ".join(foreign) + " — données internes et personnelles refusées "
            "(détecteur NIR, IBAN, téléphone, courriel ; sensibilité déclarée ; classification des collections)."
        )
    transcription_remote = runtime.settings.transcription.remote_url
    if transcription_remote and not runtime.settings.transcription.remote_sovereign:
        return Check(
            "Souveraineté des données", "failed", [*evidence, "Transcription confiée à un serveur non souverain."]
        )
    return Check("Souveraineté des données", "ok", evidence)


async def _rgpd(runtime: Runtime) -> Check:
    evidence = ["Droits d'accès, de portabilité (/api/me/export), de rectification et d'effacement (/api/me/erase)."]
    audio = "conservé" if runtime.settings.transcription.keep_audio else "supprimé après transcription"
    evidence.append(f"Audio des réunions {audio} par défaut.")
    settings = runtime.settings
    limits = {
        "conversations": settings.retention_conversations_days,
        "transcriptions": settings.retention_transcriptions_days,
        "relevés de consommation": settings.retention_usage_days,
    }
    unlimited = [name for name, days in limits.items() if not days]
    evidence.append(
        "Durées de conservation : "
        + ", ".join(f"{name} {days} jours" if days else f"{name} sans limite" for name, days in limits.items())
        + f" ; purge automatique toutes les {settings.retention_interval_hours:g} h."
    )
    return Check("Protection des données (RGPD)", "warning" if unlimited else "ok", evidence)


_GUARD_ACTIONS = {
    "guard.blocked": "refus",
    "guard.confirmation_required": "justifications demandées",
    "guard.confirmed": "poursuites justifiées",
    "guard.warned": "rappels",
}


async def _guard_activity(runtime: Runtime, *, days: int = 30) -> str:
    since = utcnow() - timedelta(days=days)
    async with runtime.session_factory() as session:
        counts = await audit_store.count_actions(session=session, action_prefix="guard.", since=since)
        reports = await governance_store.count_reports(
            session=session, since=since, categories=[IncidentCategory.GUARD_FALSE_POSITIVE]
        )
    activity = ", ".join(f"{counts.get(action, 0)} {label}" for action, label in _GUARD_ACTIONS.items())
    false_alarms = sum(cell.count for cell in reports)
    return (
        f"Activité du garde-fou ({days} derniers jours) : {activity} ; "
        f"{false_alarms} alerte(s) signalée(s) injustifiée(s)."
    )


async def _oversight(runtime: Runtime) -> Check:
    version, accepted, active = await charter.acceptance_rate(runtime)
    engine = await guard.current_engine(runtime)
    enabled = [rule.id for rule in engine.rules if rule.enabled]
    withdrawn = [model.id for model in runtime.models.models(include_withdrawn=True) if model.status.value != "active"]
    evidence = [
        f"Garde des usages interdits : {len(enabled)} règle(s) active(s) (version {engine.version}).",
        await _guard_activity(runtime),
        "Relecture humaine « relu et validé » disponible ; l'étiquette IA demeure.",
        "Signalement d'erreurs et de biais sur chaque réponse ; retrait d'un modèle par le référent.",
    ]
    if withdrawn:
        evidence.append("Modèles retirés : " + ", ".join(withdrawn) + ".")
    if version is None:
        evidence.append("Aucune charte d'utilisation publiée.")
        return Check("Contrôle humain et charte d'utilisation", "warning", evidence)
    rate = f"{accepted}/{active} ({100 * accepted / active:.0f} %)" if active else "0/0"
    evidence.append(f"Charte version {version} acceptée par {rate} utilisateurs actifs.")
    return Check("Contrôle humain et charte d'utilisation", "ok" if enabled else "warning", evidence)


async def _frugality(runtime: Runtime) -> Check:
    figures = await kpis.service_kpis(runtime, days=30)
    total = figures.total
    return Check(
        "Frugalité (énergie et CO2e mesurés)",
        "ok",
        [
            f"30 derniers jours : {total.requests} générations, {total.energy_wh:.3f} Wh, {total.gco2e:.3f} gCO2e "
            f"(mix électrique {runtime.settings.grid_gco2_per_kwh} gCO2e/kWh).",
            "Énergie et CO2e affichés sous chaque réponse et agrégés par service, modèle et utilisateur.",
        ],
    )


async def _accessibility(runtime: Runtime) -> Check:
    return Check(
        "Accessibilité (RGAA)",
        "warning",
        [
            "Interface en français avec le système de design de l'État (DSFR), testée avec axe-core.",
            "Déclaration d'accessibilité : partiellement conforme, audit RGAA complet à mener.",
        ],
    )


async def _security(runtime: Runtime) -> Check:
    settings = runtime.settings
    evidence = ["En-têtes de sécurité (CSP, X-Content-Type-Options, HSTS derrière TLS), erreurs sans trace."]
    integrity = runtime.models.integrity
    if integrity is not None and not integrity.ok:
        failed = ", ".join(sorted(integrity.failed_backends()))
        return Check("Sécurité et intégrité des modèles", "failed", [*evidence, f"Poids altérés : {failed}."])
    evidence.append("Empreintes sha256 des poids locaux vérifiées au démarrage.")
    if settings.environment != "production":
        return Check("Sécurité et intégrité des modèles", "warning", [*evidence, "Mode « dev »."])
    return Check("Sécurité et intégrité des modèles", "ok", evidence)


async def build_report(runtime: Runtime) -> ComplianceReport:
    """Check every requirement now."""
    checks = [
        await check(runtime)
        for check in (
            _labelling,
            _traceability,
            _access_control,
            _separation_of_duties,
            _sovereignty,
            _rgpd,
            _oversight,
            _frugality,
            _accessibility,
            _security,
        )
    ]
    return ComplianceReport(generated_at=utcnow(), environment=runtime.settings.environment, checks=checks)


def render_report(report: ComplianceReport, file_format: Literal["md", "json"]) -> str:
    """The report as Markdown (failures first in the summary) or JSON."""
    if file_format == "json":
        body = {**asdict(report), "failures": report.failures}
        return json.dumps(body, ensure_ascii=False, indent=1, default=str)
    lines = [
        "# Rapport de conformité — Souverain",
        "",
        f"Généré le {report.generated_at:%d/%m/%Y à %H:%M} UTC — environnement « {report.environment} ».",
        "",
        f"**{report.failures} exigence(s) non conforme(s)** sur {len(report.checks)}.",
        "",
        "| exigence | état |",
        "|---|---|",
        *(f"| {check.requirement} | {_MARKS[check.status]} |" for check in report.checks),
        "",
    ]
    for check in report.checks:
        lines += [f"## {check.requirement} — {_MARKS[check.status]}", "", *(f"- {item}" for item in check.evidence), ""]
    return "\n".join(lines)
