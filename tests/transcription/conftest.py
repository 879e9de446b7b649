"""Shared fixtures: the real Whisper base model (prepared once) and French speech from espeak-ng."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.transcription.factories import LONG_FRENCH_SENTENCES, SENTENCE_1, SENTENCE_2, silence, speak, write_wav
from transcription import Transcriber, load_audio, prepare_model


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_model(tmp_path_factory.mktemp("whisper-base"))


@pytest.fixture(scope="session")
def transcriber(model_dir: Path) -> Transcriber:
    # Greedy decoding keeps the suite fast on two cores (beam search is measured in benchmarks/);
    # a single temperature disables the sampling fallback, so results are reproducible.
    return Transcriber(model_dir=model_dir, device="cpu", beam_size=1, cpu_threads=2, temperature=0.0)


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def french_wav(audio_dir: Path) -> Path:
    """About seven seconds of French: two sentences by espeak-ng's default French voice."""
    return speak(f"{SENTENCE_1} {SENTENCE_2}", audio_dir / "fr.wav")


@pytest.fixture(scope="session")
def long_french_wav(audio_dir: Path) -> Path:
    """About fifteen seconds: three sentences separated by pauses, for windowing tests."""
    parts = []
    for i, text in enumerate(LONG_FRENCH_SENTENCES):
        parts += [load_audio(speak(text, audio_dir / f"long-{i}.wav")), silence(1.0)]
    return write_wav(np.concatenate(parts), audio_dir / "long.wav")
