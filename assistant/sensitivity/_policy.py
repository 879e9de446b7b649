"""Sensitivity levels and the sovereignty rule: internal or personal data never goes to a non-sovereign model."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass

from assistant.errors import PermissionDeniedError
from assistant.sensitivity._detector import Finding, detect_personal_data

__all__ = ["Sensitivity", "SensitivityAssessment", "SovereigntyViolationError", "assess", "enforce_sovereignty"]


class Sensitivity(enum.IntEnum):
    """Ordered levels; a request takes the highest level of anything it carries."""

    PUBLIC = 0
    INTERNAL = 1
    SENSITIVE = 2

    @property
    def label(self) -> str:
        """French name of the level."""
        return {0: "public", 1: "interne", 2: "sensible"}[self.value]


class SovereigntyViolationError(PermissionDeniedError):
    """Raised when internal or sensitive data would be sent to a model that is not sovereign."""

    code = "sovereignty_violation"


@dataclass(frozen=True)
class SensitivityAssessment:
    """The level of a request and why."""

    level: Sensitivity
    findings: tuple[Finding, ...]
    reasons: tuple[str, ...]


def assess(
    texts: list[str],
    *,
    declared: Sensitivity | None = Sensitivity.PUBLIC,
    collections: Sensitivity = Sensitivity.PUBLIC,
) -> SensitivityAssessment:
    """Max of the user's declaration, the collections' classification and what the detector finds.

    ``declared=None`` (nothing declared) counts as internal: only what the user declared public may go to a
    non-sovereign model.
    """
    findings = tuple(finding for text in texts for finding in detect_personal_data(text))
    reasons = []
    level = Sensitivity.PUBLIC
    if declared is None:
        level = Sensitivity.INTERNAL
        reasons = ["niveau de sensibilité non déclaré (déclarez « public » ce qui peut sortir)"]
    elif declared > level:
        level, reasons = declared, [f"déclaré « {declared.label} » par l'utilisateur"]
    if collections > level:
        level = collections
    if collections > Sensitivity.PUBLIC:
        reasons.append(f"documents classés « {collections.label} »")
    if findings:
        level = Sensitivity.SENSITIVE
        counts = Counter(finding.label for finding in findings)
        reasons.append("données personnelles détectées : " + ", ".join(f"{label} ({n})" for label, n in counts.items()))
    return SensitivityAssessment(level, findings, tuple(reasons))


def enforce_sovereignty(assessment: SensitivityAssessment, *, model_id: str, sovereign: bool) -> None:
    """Refuse, with the reasons, to send anything above public to a non-sovereign model."""
    if sovereign or assessment.level == Sensitivity.PUBLIC:
        return
    raise SovereigntyViolationError(
        f"Requête refusée : elle contient des données de niveau « {assessment.level.label} » "
        f"({'; '.join(assessment.reasons)}) et le modèle « {model_id} » n'est pas hébergé sur une "
        "infrastructure souveraine. Choisissez un modèle souverain ou retirez ces données."
    )
