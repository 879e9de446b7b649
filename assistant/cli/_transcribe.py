"""``assistant transcribe FILE``: transcribe a recording on this machine, labelled, to standard output."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from assistant.cli._common import run_async, settings_or_exit
from assistant.core.config import Settings
from assistant.provenance import AI_LABEL
from assistant.runtime import open_runtime
from transcription import Transcript, export_transcript

__all__ = ["transcribe"]


class _ProgressBar:
    """A one-line progress bar on standard error, so that standard output stays the transcript alone."""

    def __init__(self) -> None:
        self._last = -1

    def __call__(self, fraction: float) -> None:
        percent = int(min(max(fraction, 0.0), 1.0) * 100)
        if percent != self._last:
            self._last = percent
            filled = percent // 5
            sys.stderr.write(f"\rTranscription [{'#' * filled}{'.' * (20 - filled)}] {percent:3d} %")
            sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


async def _transcribe(
    settings: Settings, path: Path, language: str | None, speakers: int | None, bar: _ProgressBar
) -> Transcript:
    async with open_runtime(settings, with_worker=False) as runtime:
        engine = runtime.speech
        await asyncio.to_thread(engine.probe, path)
        return await asyncio.to_thread(
            engine.transcribe,
            path,
            language=language,
            diarize=speakers is not None and speakers > 1,
            num_speakers=speakers,
            on_progress=bar,
        )


def transcribe(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Enregistrement audio.")],
    fmt: Annotated[Literal["txt", "srt", "vtt", "json"], typer.Option("--format", "-f", help="Format.")] = "txt",
    language: Annotated[str | None, typer.Option("--language", "-l", help="fr, en… (défaut : détection).")] = None,
    speakers: Annotated[
        int | None, typer.Option("--speakers", min=1, max=20, help="Nombre d'intervenants (active la séparation).")
    ] = None,
) -> None:
    """Transcrire un enregistrement ; la transcription étiquetée va sur la sortie standard."""
    settings = settings_or_exit()
    bar = _ProgressBar()
    try:
        transcript = run_async(_transcribe(settings, file, language, speakers, bar))
    finally:
        bar.close()
    metadata = {"source": file.name, "modele": "whisper"}
    sys.stdout.write(export_transcript(transcript, fmt, label=AI_LABEL, metadata=metadata).decode("utf-8"))
