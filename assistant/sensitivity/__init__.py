"""Data sensitivity: personal-data detection and the sovereignty routing rule (design §6)."""

from assistant.sensitivity._detector import Finding, FindingKind, detect_personal_data
from assistant.sensitivity._policy import (
    Sensitivity,
    SensitivityAssessment,
    SovereigntyViolationError,
    assess,
    enforce_sovereignty,
)

__all__ = [
    "Finding",
    "FindingKind",
    "Sensitivity",
    "SensitivityAssessment",
    "SovereigntyViolationError",
    "assess",
    "detect_personal_data",
    "enforce_sovereignty",
]
