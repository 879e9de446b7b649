"""The glossary: Whisper's prompt and hotwords within their budget, and the post-correction pass."""

from __future__ import annotations

import pytest

from transcription import (
    Glossary,
    GlossaryTerm,
    Segment,
    Transcript,
    Word,
    correct_text,
    correct_transcript,
    correct_words,
)
from transcription._glossary import approx_whisper_tokens

GLOSSARY = Glossary.of(
    [
        GlossaryTerm("SGAMI", variants=("esse gé ami", "esse gamie")),
        GlossaryTerm("CSA"),
        GlossaryTerm("Kerdraon"),
        GlossaryTerm("DIRE"),
        GlossaryTerm("Préfecture de police"),
    ]
)


def fixed(text: str, glossary: Glossary = GLOSSARY) -> str:
    return correct_text(text, glossary).text


def test_glossary_drops_blanks_and_merges_duplicates_keeping_the_first_place() -> None:
    glossary = Glossary.of(
        ["  Kerdraon ", GlossaryTerm("CSA", ("cé esse a",)), "", GlossaryTerm("kerdraon", ("Ker Dran", "Kerdraon"))]
    )
    assert glossary.terms == (GlossaryTerm("Kerdraon", ("Ker Dran",)), GlossaryTerm("CSA", ("cé esse a",)))
    assert Glossary.from_dicts(glossary.to_dicts()) == glossary
    assert len(glossary) == 2 and not Glossary()


def test_initial_prompt_lists_the_terms_within_the_token_budget_most_relevant_first() -> None:
    prompt = GLOSSARY.initial_prompt()
    assert prompt == "Sigles et noms cités : SGAMI, CSA, Kerdraon, DIRE, Préfecture de police."
    many = Glossary.of([f"Terme{i:03d}" for i in range(300)])
    bounded = many.initial_prompt(max_tokens=60)
    assert bounded is not None and approx_whisper_tokens(bounded) <= 60
    assert bounded.startswith("Sigles et noms cités : Terme000, Terme001,")  # the first (most relevant) are kept
    assert "Terme299" not in bounded
    # Whisper's own limit holds with the default budget, whatever the glossary's size.
    assert approx_whisper_tokens(many.initial_prompt() or "") <= 223


def test_a_term_too_long_for_what_is_left_is_skipped_and_shorter_ones_still_fit() -> None:
    glossary = Glossary.of(["CSA", "Direction départementale de l'emploi, du travail et des solidarités", "SGAMI"])
    assert glossary.hotwords(max_tokens=12, count_tokens=len) == "CSA, SGAMI"
    assert Glossary().initial_prompt() is None and Glossary().hotwords() is None


def test_listed_variants_and_spelled_sigles_are_restored_to_their_written_form() -> None:
    assert fixed("Le esse gé ami a validé.") == "Le SGAMI a validé."
    assert fixed("l'esse gamie de Rennes") == "l'SGAMI de Rennes"
    assert fixed("Le c.s.a. se réunit, puis le C S A.") == "Le CSA se réunit, puis le CSA."
    assert fixed("le cé esse a") == "le CSA"  # sigles are also recognised said letter by letter
    assert fixed("le csa et le Sgami") == "le CSA et le SGAMI"  # case-insensitive


def test_close_mistranscriptions_of_names_are_corrected_but_everyday_words_are_not() -> None:
    result = correct_text("Madame Kerdran et madame Ker draon, de la prefecture de polise.", GLOSSARY)
    assert result.text == "Madame Kerdraon et madame Kerdraon, de la Préfecture de police."
    assert [c.replacement for c in result.corrections] == ["Kerdraon", "Kerdraon,", "Préfecture de police."]
    assert result.corrections[0].score < 100 <= result.corrections[1].score
    # « dire » is the sigle DIRE written in lower case, « samedi » is close to nothing, « ça » is not « CSA ».
    untouched = "Il faut dire que ça ira samedi, civil et serein."
    assert correct_text(untouched, GLOSSARY) == correct_text(untouched, Glossary())
    assert fixed(untouched) == untouched


def test_the_threshold_governs_fuzzy_matches_only() -> None:
    assert correct_text("madame Kerdrain", GLOSSARY, threshold=95).text == "madame Kerdrain"
    assert correct_text("madame Kerdrain", GLOSSARY, threshold=85).text == "madame Kerdraon"
    assert correct_text("le esse gé ami", GLOSSARY, threshold=100).text == "le SGAMI"


def test_a_match_never_spans_punctuation_and_spacing_is_kept() -> None:
    assert fixed("Ker, draon") == "Ker, draon"
    assert fixed("  le  csa  ") == "  le  CSA  "


def test_an_everyday_word_listed_as_a_variant_is_corrected() -> None:
    glossary = Glossary.of([GlossaryTerm("CSA", ("ça",))])
    assert fixed("le ça a voté", glossary) == "le CSA a voté"


@pytest.mark.parametrize("text", ["", "   ", "—", "…"])
def test_empty_and_punctuation_only_texts(text: str) -> None:
    assert fixed(text) == text


def test_words_replaced_by_a_term_merge_into_one_timed_word() -> None:
    words = [
        Word(0.0, 0.3, "Le", 0.9),
        Word(0.3, 0.6, "esse", 0.5),
        Word(0.6, 0.8, "gé", 0.4),
        Word(0.8, 1.2, "ami,", 0.7),
        Word(1.2, 1.5, "voilà.", 0.9),
    ]
    assert correct_words(words, GLOSSARY) == (
        Word(0.0, 0.3, "Le", 0.9),
        Word(0.3, 1.2, "SGAMI,", 0.4),
        Word(1.2, 1.5, "voilà.", 0.9),
    )


def test_a_transcript_is_corrected_segment_by_segment() -> None:
    transcript = Transcript(
        segments=(
            Segment(0.0, 2.0, "Madame Kerdran ouvre la séance.", (Word(0.0, 0.5, "Madame"), Word(0.5, 1.0, "Kerdran"))),
            Segment(2.0, 4.0, "Le csa est saisi.", speaker="SPEAKER_1"),
        ),
        language="fr",
        duration=4.0,
        model="faster-whisper:test",
    )
    corrected, corrections = correct_transcript(transcript, GLOSSARY)
    assert corrected.text == "Madame Kerdraon ouvre la séance. Le CSA est saisi."
    assert corrected.segments[0].words[1].text == "Kerdraon"
    assert corrected.segments[1].speaker == "SPEAKER_1" and corrected.duration == 4.0
    assert [(c.original, c.replacement) for c in corrections] == [("Kerdran", "Kerdraon"), ("csa", "CSA")]
    assert correct_transcript(transcript, Glossary()) == (transcript, ())


def test_a_text_made_of_the_glossary_terms_is_an_echo_of_the_prompt() -> None:
    assert GLOSSARY.is_echo("CSA, SGAMI, Kerdraon, DIRE, CSA.")
    assert GLOSSARY.is_echo("SGAMI CSA DIRE")
    assert not GLOSSARY.is_echo("Le CSA et le SGAMI ont reçu madame Kerdraon hier matin à la préfecture.")
    assert not GLOSSARY.is_echo("CSA, CSA, CSA")  # one term said three times is speech
    assert not GLOSSARY.is_echo("") and not Glossary().is_echo("CSA SGAMI DIRE")
