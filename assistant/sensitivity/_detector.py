"""Detection of personal data in text: French NIR, IBAN, phone numbers, e-mail addresses.

Candidates are found with permissive patterns, then confirmed with the checksums that python-stdnum and
phonenumbers implement, so that an order number or a date does not pass for a social security number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from stdnum import iban
from stdnum.fr import nir

__all__ = ["Finding", "FindingKind", "detect_personal_data"]

FindingKind = Literal["nir", "iban", "phone", "email"]

_LABELS: dict[FindingKind, str] = {
    "nir": "numéro de sécurité sociale (NIR)",
    "iban": "IBAN",
    "phone": "numéro de téléphone",
    "email": "adresse électronique",
}

# 13 digits + 2-digit key, with optional spaces/dots; Corsican departments use 2A/2B.
_NIR_CANDIDATE = re.compile(
    r"(?<![\w])[12][\s.]?\d{2}[\s.]?\d{2}[\s.]?(?:\d{2}|2[AB])[\s.]?\d{3}[\s.]?\d{3}[\s.]?\d{2}(?![\w])", re.I
)
_IBAN_CANDIDATE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?(?![\w])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w])")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: what it is and where (the value itself is never kept or logged)."""

    kind: FindingKind
    start: int
    end: int

    @property
    def label(self) -> str:
        """French name of the kind of data, for messages to the user."""
        return _LABELS[self.kind]


def _compact(value: str) -> str:
    return re.sub(r"[\s.]", "", value)


def detect_personal_data(text: str, *, region: str = "FR") -> list[Finding]:
    """Every confirmed piece of personal data in ``text``, in order of appearance."""
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: FindingKind, start: int, end: int) -> None:
        if any(start < other_end and other_start < end for other_start, other_end in taken):
            return
        taken.append((start, end))
        findings.append(Finding(kind, start, end))

    for match in _NIR_CANDIDATE.finditer(text):
        if nir.is_valid(_compact(match.group())):
            add("nir", match.start(), match.end())
    for match in _IBAN_CANDIDATE.finditer(text):
        if iban.is_valid(_compact(match.group())):
            add("iban", match.start(), match.end())
    for match in _EMAIL.finditer(text):
        add("email", match.start(), match.end())
    for phone in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        add("phone", phone.start, phone.end)
    return sorted(findings, key=lambda finding: finding.start)
