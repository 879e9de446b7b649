"""The glossary with the real Whisper base model: its prompt within Whisper's budget (real tokenizer), one
transcriber shared by transcriptions with different glossaries, and a recited prompt never taking the speech's
place."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from transcription import Glossary, GlossaryTerm, Segment, Transcriber, correct_transcript, iter_audio_windows

pytestmark = pytest.mark.slow

GLOSSARY = Glossary.of([GlossaryTerm("Médiathèque", ("bibliothèque",)), "SGAMI", "Kerdraon", "CSA"])


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def test_with_glossary_is_a_copy_sharing_the_model(transcriber: Transcriber) -> None:
    biased = transcriber.with_glossary(GLOSSARY)
    assert biased.glossary is GLOSSARY and transcriber.glossary is None
    assert biased._model is transcriber._model
    assert transcriber.with_glossary(Glossary()).glossary is None


def test_the_prompt_fits_whispers_budget_with_the_real_tokenizer(transcriber: Transcriber) -> None:
    huge = Glossary.of([f"Direction{i} départementale des territoires et de la mer" for i in range(200)])
    initial, hotwords = transcriber.with_glossary(huge)._glossary_prompts("la séance est ouverte")
    assert initial is not None and initial.startswith("Sigles et noms cités : Direction0 ")
    assert initial.endswith(". la séance est ouverte")
    glossary_part = initial.removesuffix(" la séance est ouverte")
    assert transcriber._count_tokens(glossary_part) <= 120
    assert transcriber._count_tokens(initial) <= 223  # faster-whisper would otherwise cut the glossary off
    assert hotwords is None  # off unless asked (see benchmarks/transcription_glossary.py)
    assert transcriber._glossary_prompts("suite") == ("suite", None)


def test_a_glossary_transcription_keeps_the_speech_and_the_terms_are_written(
    transcriber: Transcriber, french_wav: Path
) -> None:
    transcript = transcriber.with_glossary(GLOSSARY).transcribe(french_wav, language="fr")
    corrected, _ = correct_transcript(transcript, GLOSSARY)
    assert "bonjour" in _plain(corrected.text)
    assert "Médiathèque" in corrected.text and "bibliotheque" not in _plain(corrected.text)
    assert not GLOSSARY.is_echo(corrected.text)


def test_a_window_where_whisper_only_recited_the_glossary_is_decoded_again_without_it(
    transcriber: Transcriber, french_wav: Path
) -> None:
    biased = transcriber.with_glossary(GLOSSARY)
    window = next(iter_audio_windows(french_wav))
    recited = iter([Segment(0.0, 2.0, "Médiathèque, SGAMI, Kerdraon, CSA.")])
    segments = list(biased._without_echoes(recited, window, "fr", None))
    assert segments, "the speech of the window is kept"
    assert "bonjour" in _plain(" ".join(segment.text for segment in segments))
    # A window with real speech besides is not decoded twice: the recited segment is only dropped.
    mixed = iter([Segment(0.0, 1.0, "SGAMI, CSA, Kerdraon"), Segment(1.0, 2.0, "Bonjour à tous.")])
    assert [s.text for s in biased._without_echoes(mixed, window, "fr", None)] == ["Bonjour à tous."]
