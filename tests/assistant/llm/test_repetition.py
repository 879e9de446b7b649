"""The loop detector stops what small models really produce, and leaves administrative prose alone."""

from __future__ import annotations

import pytest

from assistant.llm._repetition import RepetitionDetector


def _first_trigger(text: str, step: int = 3) -> int | None:
    detector = RepetitionDetector()
    for start in range(0, len(text), step):
        if detector.feed(text[start : start + step]):
            return start
    return None


@pytest.mark.parametrize(
    "looping",
    [
        "L'administration est toujé. " * 20,
        "La présente note de la présente note est de la présente note de la présente note est " * 6,
        "Le maire, le maire, le maire, le maire, le maire, le maire, le maire, le maire. " * 2,
        "très " * 40,
    ],
)
def test_loops_are_caught_early(looping: str) -> None:
    position = _first_trigger(looping)
    assert position is not None and position < len(looping) * 0.7


@pytest.mark.parametrize(
    "prose",
    [
        "Le présent arrêté fixe les modalités d'attribution de la prime de fin d'année aux agents de la commune. "
        "La prime est versée en décembre aux agents titulaires et contractuels ayant au moins six mois "
        "d'ancienneté au 1er décembre. Son montant est fixé par délibération du conseil municipal. Les agents à "
        "temps partiel perçoivent la prime au prorata de leur temps de travail. Le directeur général des services "
        "est chargé de l'exécution du présent arrêté, qui sera publié au recueil des actes administratifs de la "
        "commune et transmis au représentant de l'État.",
        "- Lundi : réunion du comité.\n- Mardi : réunion du bureau.\n- Mercredi : réunion de service.\n"
        "- Jeudi : réunion du conseil.\n- Vendredi : réunion de direction.\n",
        "| Service | Agents | Budget |\n|---|---|---|\n| RH | 12 | 1 200 |\n| Finances | 8 | 900 |\n"
        "| Informatique | 15 | 2 400 |\n| Juridique | 5 | 600 |\n",
        "Article 1er. – Objet. Article 2. – Champ d'application. Article 3. – Définitions. Article 4. – "
        "Procédure. Article 5. – Délais. Article 6. – Exécution.",
    ],
)
def test_ordinary_text_is_not_a_loop(prose: str) -> None:
    assert _first_trigger(prose) is None


def test_words_split_across_pieces_are_counted_once() -> None:
    detector = RepetitionDetector()
    for piece in ["adminis", "tration ", "est ", "tou", "jours ", "là. "] * 2:
        assert detector.feed(piece) is False
