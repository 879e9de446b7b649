"""The speech engine: weights integrity without loading the model, error translation, public surface."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import assistant.speech
from assistant.errors import (
    InvalidRequestError,
    OperationCancelledError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)
from assistant.speech import SpeechEngine, speech_errors
from transcription import errors as stt


def test_public_surface() -> None:
    assert set(assistant.speech.__all__) == {"SpeechEngine", "SpeechModel", "speech_errors"}
    for name in assistant.speech.__all__:
        assert getattr(assistant.speech, name) is not None


def test_unprepared_embedded_model_is_checked_in_its_packages(tmp_path: Path) -> None:
    engine = SpeechEngine(data_dir=tmp_path)
    assert engine.check_weights() == "whisper-base : sha256 vérifiés (paquets)"
    assert not (tmp_path / "models").exists(), "checking never writes the 145 MB model"
    assert engine.model.model_id == "whisper-base" and engine.model.sovereign is True
    assert engine.model.version is not None and len(engine.model.version) == 64


def test_prepared_embedded_model_is_checked_in_place(tmp_path: Path, whisper_dir: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "whisper-base").symlink_to(whisper_dir, target_is_directory=True)
    assert SpeechEngine(data_dir=tmp_path).check_weights() == "whisper-base : sha256 vérifiés (dossier)"


def _model_dir(path: Path) -> dict[str, str]:
    path.mkdir()
    (path / "model.bin").write_bytes(b"poids" * 100)
    (path / "config.json").write_text("{}", encoding="utf-8")
    return {name: hashlib.sha256((path / name).read_bytes()).hexdigest() for name in ("model.bin", "config.json")}


def test_configured_model_directory_with_pinned_hashes(tmp_path: Path) -> None:
    model_dir = tmp_path / "large-v3"
    hashes = _model_dir(model_dir)
    engine = SpeechEngine(data_dir=tmp_path, model_dir=model_dir, model_sha256=hashes)
    assert engine.check_weights() == "large-v3 : sha256 vérifiés (dossier)"
    assert engine.model.version == hashes["model.bin"]

    (model_dir / "model.bin").write_bytes(b"poids modifies")
    with pytest.raises(ServiceUnavailableError, match=r"altérés : model\.bin"):
        engine.check_weights()
    unpinned = SpeechEngine(data_dir=tmp_path, model_dir=model_dir)
    assert "aucune empreinte configurée" in unpinned.check_weights()
    with pytest.raises(ServiceUnavailableError, match=r"absents : model\.bin"):
        SpeechEngine(data_dir=tmp_path, model_dir=tmp_path / "absent").check_weights()


def test_remote_engine_has_no_local_weights(tmp_path: Path) -> None:
    engine = SpeechEngine(data_dir=tmp_path, remote_url="http://whisper.interne:8000/v1", remote_sovereign=False)
    assert "pas de poids locaux" in engine.check_weights()
    assert engine.model.model_id == "openai/whisper-large-v3" and engine.model.sovereign is False


def test_readyz_names_altered_transcription_weights(transcription_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model_dir = tmp_path / "modele"
    hashes = _model_dir(model_dir)
    hashes["model.bin"] = "0" * 64
    app = transcription_app(transcription_model_dir=model_dir, transcription_model_sha256=hashes)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    failing = [check for check in response.json()["checks"] if not check["ok"]]
    assert [check["name"] for check in failing] == ["transcription_weights"]
    assert "altérés" in failing[0]["detail"]


@pytest.mark.parametrize(
    ("raised", "expected", "code"),
    [
        (stt.AudioTooLongError("long", duration_s=9, max_duration_s=1), PayloadTooLargeError, "audio_too_long"),
        (stt.UnsupportedAudioError("type"), UnsupportedMediaTypeError, "unsupported_audio"),
        (stt.SilentAudioError("silence"), InvalidRequestError, "silent_audio"),
        (stt.CorruptAudioError("abîmé"), InvalidRequestError, "corrupt_audio"),
        (stt.EmptyAudioError("vide"), InvalidRequestError, "empty_audio"),
        (stt.TranscriptionCancelled("annulée"), OperationCancelledError, "cancelled"),
        (stt.ModelIntegrityError("poids"), ServiceUnavailableError, "transcription_unavailable"),
        (stt.BackendError("moteur"), ServiceUnavailableError, "transcription_unavailable"),
        (stt.MinutesError("json"), ServiceUnavailableError, "minutes_failed"),
    ],
)
def test_library_errors_are_translated_with_their_message(
    raised: stt.TranscriptionError, expected: type[Exception], code: str
) -> None:
    with pytest.raises(expected) as caught, speech_errors():
        raise raised
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert caught.value.message == str(raised)  # type: ignore[attr-defined]
    assert caught.value.__cause__ is raised
