"""``assistant transcribe FILE``: the labelled transcript on stdout, a progress bar on stderr."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import app as cli
from assistant.provenance import AI_LABEL


def test_transcribe_writes_a_labelled_transcript(tmp_path: Path, whisper_dir: Path, french_wav: Path) -> None:
    env = {
        "SOUVERAIN_DATA_DIR": str(tmp_path / "data"),
        "SOUVERAIN_TRANSCRIPTION_MODEL_DIR": str(whisper_dir),
        "SOUVERAIN_TRANSCRIPTION_BEAM_SIZE": "1",
        "SOUVERAIN_LOG_LEVEL": "WARNING",
    }
    result = CliRunner().invoke(cli, ["transcribe", str(french_wav), "--format", "srt", "--language", "fr"], env=env)
    assert result.exit_code == 0, result.output
    assert AI_LABEL in result.stdout
    text = result.stdout.lower()
    assert "conseil" in text and "-->" in text
    assert "100 %" in result.stderr and "conseil" not in result.stderr.lower()


def test_transcribe_refuses_a_file_that_is_not_audio(tmp_path: Path, whisper_dir: Path) -> None:
    bogus = tmp_path / "note.txt"
    bogus.write_text("ceci n'est pas un enregistrement")
    env = {"SOUVERAIN_DATA_DIR": str(tmp_path / "data"), "SOUVERAIN_TRANSCRIPTION_MODEL_DIR": str(whisper_dir)}
    result = CliRunner().invoke(cli, ["transcribe", str(bogus)], env=env)
    assert result.exit_code == 1
    assert "Erreur" in result.stderr
