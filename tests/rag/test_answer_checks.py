"""Checks of a question and an answer against passages, on the French the corpus and small models write."""

from __future__ import annotations

import pytest

from rag import absent_question_words, check_citations, question_coverage, unsupported_figures

REPAS = (
    "Note de service n° 2026-14. À compter du 1er mars 2026, l'indemnité de repas versée à l'agent en mission "
    "est fixée à 20,50 euros par repas. L'indemnité de nuitée est de 90 euros en province et de 140 euros à Paris."
)
CONGES = "Un agent à temps plein a droit à vingt-cinq jours de congés annuels et à trois mois de report."


def test_near_topic_questions_whose_key_terms_are_absent_have_low_coverage() -> None:
    assert question_coverage("Quel est le montant de la prime de fin d'année ?", [REPAS]) < 0.34
    assert question_coverage("Quel est le montant de l'indemnité de nuitée à Paris ?", [REPAS]) == 1.0
    # Question words say what is wanted, not what it is about: they never count against a question.
    assert question_coverage("Combien ?", [REPAS]) == 1.0


@pytest.mark.parametrize(
    ("answer", "invented"),
    [
        ("L'indemnité de nuitée à Paris est de 140 euros [1].", []),
        ("Elle est de 20.5 € par repas depuis le 1er mars 2026.", []),  # 20,50 written another way
        ("Un agent a droit à 25 jours et 3 mois de report.", []),  # numbers the passage writes in words
        ("La prime de fin d'année est de 120 € [1].", ["120"]),
        ("La nuitée coûte 140 euros, le petit-déjeuner 12,50 euros.", ["12.5"]),
    ],
)
def test_figures_of_an_answer_must_come_from_the_passages(answer: str, invented: list[str]) -> None:
    assert unsupported_figures(answer, [REPAS, CONGES]) == invented


def test_figures_of_the_question_may_be_repeated() -> None:
    assert unsupported_figures("Pour un contrat de 18 mois, rien n'est prévu.", [REPAS], "Un CDD de 18 mois ?") == []


def test_citations_are_checked_against_the_passage_they_name() -> None:
    answer = (
        "L'indemnité de repas est de 20,50 euros [1]. Un agent a vingt-cinq jours de congés [2]. "
        "La prime de fin d'année est de 120 euros [2]. Voir aussi [5]."
    )
    check = check_citations(answer, [REPAS, CONGES])
    assert check.cited == (1, 2, 5)
    assert check.unknown == (5,)  # no passage 5 was given: a defect
    assert check.unsupported == (2,)  # the 120 € sentence is not in passage 2
    assert check.first == 1


def test_an_answer_without_markers_cites_nothing() -> None:
    check = check_citations("Les extraits ne le précisent pas.", [REPAS])
    assert check.cited == () and check.first is None


def test_a_year_or_figure_of_the_question_that_no_passage_has_is_reported() -> None:
    from rag import missing_question_figures

    assert missing_question_figures("Quelle était l'indemnité de repas en 2023 ?", [REPAS]) == ["2023"]
    assert missing_question_figures("Quelle est l'indemnité de repas en 2026 ?", [REPAS]) == []
    assert missing_question_figures("Combien pour vingt-cinq jours ? Et pour 25 ?", [CONGES]) == []


def test_the_question_words_no_passage_has_are_listed_as_the_user_wrote_them() -> None:
    passages = [
        "Le congé de maternité dure seize semaines pour un premier enfant.",
        "À partir du troisième enfant, le congé de maternité dure vingt-six semaines.",
    ]
    question = "Quelle est la durée du congé de maternité en cas de naissance de jumeaux ?"
    # « durée » and « quelle » say what kind of answer is wanted; « congés » is « congé » once stemmed.
    assert absent_question_words(question, passages) == ["naissance", "jumeaux"]
    assert absent_question_words("Combien dure le congé de maternité ?", passages) == []
    assert absent_question_words("Jumeaux, triplés, quadruplés, quintuplés et sextuplés ?", [], limit=2) == [
        "Jumeaux",
        "triplés",
    ]
