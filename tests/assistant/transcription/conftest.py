"""Fixtures of the transcription service tests: one prepared Whisper model, French speech, an app using both."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.app import create_app
from assistant.core.config import Settings
from assistant.llm import BackendConfig, ModelCard, ModelConfig
from assistant.store.models import Role
from tests.assistant.security.helpers import Account, make_account
from tests.fakes import FakeUpstream
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


def upstream_backend(url: str, *, name: str = "vllm", sovereign: bool = True) -> BackendConfig:
    return BackendConfig(
        name=name,
        kind="openai",
        sovereign=sovereign,
        options={"base_url": url, "max_retries": 0},
        models=[
            ModelConfig(
                id=f"{name}-model",
                upstream_name="fake-model",
                context_length=8192,
                card=ModelCard(name="Modèle de test", licence="Apache-2.0", languages=["fr"], parameters="24B"),
            )
        ],
    )


@pytest.fixture
def make_settings(settings_factory, whisper_dir: Path, tmp_path: Path, openai_upstream: FakeUpstream):  # type: ignore[no-untyped-def]
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
            "llm_backends": [upstream_backend(openai_upstream.url)],
            "default_model": "vllm-model",
            "job_recovery_interval_seconds": 0.5,
            "default_requests_per_minute": 100_000,  # the tests poll job states
        }
        settings.update(overrides)
        built: Settings = settings_factory(**settings)
        return built

    return build


@pytest.fixture
def make_app(make_settings):  # type: ignore[no-untyped-def]
    def build(**overrides: Any) -> FastAPI:
        return create_app(make_settings(**overrides))

    return build


@pytest.fixture
def app(make_app) -> FastAPI:  # type: ignore[no-untyped-def]
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def agent(client: TestClient, app: FastAPI) -> Account:
    return make_account(client, app, "secretaire", Role.AGENT)


def upload(client: TestClient, account: Account, path: Path, **fields: Any):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post(
            "/api/transcriptions",
            files={"file": (path.name, handle, "application/octet-stream")},
            data={key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in fields.items()},
            headers=account.bearer,
        )


def wait_until_finished(
    client: TestClient, account: Account, transcription_id: str, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/transcriptions/{transcription_id}", headers=account.bearer).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"transcription {transcription_id} did not finish in {timeout}s")


@pytest.fixture(scope="session")
def meeting_wav(speech_dir: Path, french_wav: Path) -> Path:
    """About a minute of speech: long enough to be caught while it is being transcribed."""
    samples = load_audio(french_wav)
    return write_wav(np.concatenate([np.concatenate([samples, silence(0.5)])] * 8), speech_dir / "reunion.wav")
