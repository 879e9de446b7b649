from __future__ import annotations

import pytest

from assistant.sensitivity import (
    Sensitivity,
    SovereigntyViolationError,
    assess,
    detect_personal_data,
    enforce_sovereignty,
)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Mon numéro de sécu est 2 55 08 14 168 025 38, merci.", "nir", "2 55 08 14 168 025 38"),
        ("NIR : 255081416802538", "nir", "255081416802538"),
        ("Virement sur FR76 3000 6000 0112 3456 7890 189 demain", "iban", "FR76 3000 6000 0112 3456 7890 189"),
        ("IBAN FR7630006000011234567890189.", "iban", "FR7630006000011234567890189"),
        ("Appelez-moi au 06 12 34 56 78 avant midi", "phone", "06 12 34 56 78"),
        ("ou au +33 1 23 45 67 89", "phone", "+33 1 23 45 67 89"),
        ("Écrire à jeanne.dupont@interieur.gouv.fr pour la suite", "email", "jeanne.dupont@interieur.gouv.fr"),
    ],
)
def test_detects_each_kind_of_personal_data(text: str, kind: str, value: str) -> None:
    findings = detect_personal_data(text)
    assert [(finding.kind, text[finding.start : finding.end]) for finding in findings] == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "Le décret n° 2023-1234 du 12 mars 2023 s'applique.",
        "Commande 255081416802539 (clé fausse : pas un NIR).",
        "FR76 3000 6000 0112 3456 7890 188 a une clé fausse.",
        "Le budget est de 1 234 567 euros pour 2026.",
        "Rendez-vous salle 12, bâtiment B, à 14 h 30.",
    ],
)
def test_ordinary_administrative_text_is_not_flagged(text: str) -> None:
    assert detect_personal_data(text) == []


def test_assessment_takes_the_highest_level_and_says_why() -> None:
    public = assess(["Résume le décret sur les congés."])
    assert public.level == Sensitivity.PUBLIC and public.reasons == ()
    internal = assess(["Résume ce document."], collections=Sensitivity.INTERNAL)
    assert internal.level == Sensitivity.INTERNAL
    sensitive = assess(["Contacter jeanne@exemple.fr ou 06 12 34 56 78"], declared=Sensitivity.INTERNAL)
    assert sensitive.level == Sensitivity.SENSITIVE
    assert any("adresse électronique (1)" in reason and "téléphone (1)" in reason for reason in sensitive.reasons)


def test_non_sovereign_model_is_refused_for_anything_but_public() -> None:
    enforce_sovereignty(assess(["Bonjour"]), model_id="gpt-externe", sovereign=False)
    enforce_sovereignty(assess(["NIR 255081416802538"]), model_id="mistral-interne", sovereign=True)
    with pytest.raises(SovereigntyViolationError) as caught:
        enforce_sovereignty(assess(["NIR 255081416802538"]), model_id="gpt-externe", sovereign=False)
    assert "gpt-externe" in caught.value.message and "sécurité sociale" in caught.value.message
    assert "255081416802538" not in caught.value.message, "the refusal must not echo the personal data"
