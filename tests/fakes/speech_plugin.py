"""Pytest fixtures for transcription: the prepared Whisper base, French speech, and an app using both.

Registered once in the root ``tests/conftest.py`` next to ``tests.fakes.pytest_plugin``, so that any package may
request them. The model and the recordings are made once per session; ``transcription_settings`` and
``transcription_app`` build a fresh data directory (linking the prepared model) on each call.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI

from assistant.app import create_app
from assistant.core.config import Settings
from tests.factories import upstream_backend
from tests.fakes.openai_upstream import FakeUpstream
from tests.transcription.factories import silence, speak, write_wav
from transcription import load_audio, prepare_model

SPEECH = "Bonjour à tous. La séance du conseil municipal est ouverte. Nous avons décidé de rénover la bibliothèque."


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Whisper base joined once for the whole session (145 MB)."""
    return prepare_model(tmp_path_factory.mktemp("whisper-base"))


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def french_wav(speech_dir: Path) -> Path:
    """About seven seconds of French from espeak-ng."""
    return speak(SPEECH, speech_dir / "conseil.wav")


@pytest.fixture(scope="session")
def silent_wav(speech_dir: Path) -> Path:
    return write_wav(silence(3.0), speech_dir / "silence.wav")


@pytest.fixture(scope="session")
def long_wav(speech_dir: Path, french_wav: Path) -> Path:
    """Twenty seconds: too long for the limits some tests set."""
    samples = load_audio(french_wav)
    return write_wav(np.concatenate([samples, silence(20.0)]), speech_dir / "long.wav")


@pytest.fixture(scope="session")
def meeting_wav(speech_dir: Path, french_wav: Path) -> Path:
    """About a minute of speech: long enough to be caught while it is being transcribed."""
    samples = load_audio(french_wav)
    return write_wav(np.concatenate([np.concatenate([samples, silence(0.5)])] * 8), speech_dir / "reunion.wav")


@pytest.fixture
def transcription_settings(
    settings_factory: Callable[..., Settings], whisper_dir: Path, tmp_path: Path, openai_upstream: FakeUpstream
) -> Callable[..., Settings]:
    """Settings whose default model directory is the session's prepared Whisper base (a link, nothing copied)."""

    def build(**overrides: Any) -> Settings:
        data_dir = tmp_path / f"data-{uuid.uuid4().hex[:6]}"
        (data_dir / "models").mkdir(parents=True)
        (data_dir / "models" / "whisper-base").symlink_to(whisper_dir, target_is_directory=True)
        settings: dict[str, Any] = {
            "data_dir": data_dir,
            "transcription_beam_size": 1,
            "transcription_cpu_threads": 2,
            "transcription_device": "cpu",
            "transcription_diarization": False,
            "llm_backends": [upstream_backend(openai_upstream.url, context_length=8192)],
            "default_model": "vllm-model",
            "job_recovery_interval_seconds": 0.5,
            "default_requests_per_minute": 100_000,  # the tests poll job states
        }
        settings.update(overrides)
        return settings_factory(**settings)

    return build


@pytest.fixture
def transcription_app(transcription_settings: Callable[..., Settings]) -> Callable[..., FastAPI]:
    """An app on ``transcription_settings`` (``overrides`` passed on), not started."""

    def build(**overrides: Any) -> FastAPI:
        return create_app(transcription_settings(**overrides))

    return build
