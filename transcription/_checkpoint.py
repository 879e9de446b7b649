"""Resuming a long transcription: what each finished window produced, kept so that a re-run skips it.

:meth:`BaseTranscriber.stream` records a :class:`WindowRecord` after each window (its segments, the
language locked so far, the prompt carried to the next window) in a :class:`TranscriptionCheckpoint`,
and on the next run replays the recorded windows instead of transcribing them again. Records are
filed under a key that names the engine, its options and the recording, so a checkpoint left by
another model or other options is never replayed.

:class:`FileCheckpoint` keeps them in a JSON-lines file, one line per window, each appended and
flushed to disk (``fsync``) before the next window starts: a process killed at any instant loses at
most the window it was transcribing.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from transcription._types import Segment

__all__ = ["FileCheckpoint", "TranscriptionCheckpoint", "WindowRecord"]

logger = logging.getLogger(__name__)

_FORMAT = 1


@dataclass(frozen=True, slots=True)
class WindowRecord:
    """What one finished window produced: its segments in absolute time and the state after it.

    ``index`` counts windows from 0; ``language`` is the language locked after this window (``None``
    while no speech was heard); ``prompt`` is the text carried to the next window.
    """

    index: int
    start: float
    end: float
    segments: tuple[Segment, ...]
    language: str | None
    language_probability: float | None
    prompt: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "language": self.language,
            "language_probability": self.language_probability,
            "prompt": self.prompt,
            "segments": [segment.to_dict() for segment in self.segments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindowRecord:
        probability = data.get("language_probability")
        return cls(
            index=int(data["index"]),
            start=float(data["start"]),
            end=float(data["end"]),
            segments=tuple(Segment.from_dict(item) for item in data["segments"]),
            language=data.get("language"),
            language_probability=None if probability is None else float(probability),
            prompt=data.get("prompt"),
        )


class TranscriptionCheckpoint(Protocol):
    """Where a transcription keeps its finished windows between runs.

    Example::

        records = checkpoint.load(key)  # [] on a first run
        checkpoint.append(key, WindowRecord(index=len(records), ...))
    """

    def load(self, key: str) -> list[WindowRecord]:
        """The windows recorded under ``key``, from index 0 without gaps; ``[]`` when there are none.

        Records made under another key are forgotten here: they must never be replayed.
        """
        ...

    def append(self, key: str, record: WindowRecord) -> None:
        """Record one more finished window durably, before the transcription goes on."""
        ...

    def clear(self) -> None:
        """Forget every record (when the recording turns out not to match them)."""
        ...


def _fsync_dir(folder: Path) -> None:
    # The new directory entry must reach the disk too, or a crash may lose a file fsync'ed inside it.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some filesystems do not open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class FileCheckpoint:
    """:class:`TranscriptionCheckpoint` in a JSON-lines file: a header naming the key, then one line per window.

    The file may live on a volume shared by several processes (API and workers); only one process
    transcribes a given recording at a time (the job queue's lease sees to that).

    Example::

        checkpoint = FileCheckpoint(Path("audio/1234.checkpoint.jsonl"))
        transcript = transcriber.transcribe("audio/1234.ogg", checkpoint=checkpoint)
        checkpoint.clear()  # once the transcript is stored
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self, key: str) -> list[WindowRecord]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        except FileNotFoundError:
            return []
        header = self._parse(lines[0]) if lines else None
        if header is None or header.get("key") != key or header.get("format") != _FORMAT:
            logger.info("Checkpoint %s made with other options: not reused", self.path.name)
            self.clear()
            return []
        records: list[WindowRecord] = []
        for line in lines[1:]:
            data = self._parse(line)
            try:
                record = WindowRecord.from_dict(data) if data is not None else None
            except (KeyError, TypeError, ValueError):
                record = None
            if record is None or record.index != len(records):
                break
            records.append(record)
        if len(records) != len(lines) - 1:
            # A torn last line (killed mid-write): rewrite the good part, or later appends would follow the tear.
            logger.warning("Checkpoint %s: %d damaged line(s) dropped", self.path.name, len(lines) - 1 - len(records))
            self._rewrite(key, records)
        return records

    def append(self, key: str, record: WindowRecord) -> None:
        if not self.path.is_file():
            self._rewrite(key, [])
        line = json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
        # One write of a whole line in append mode, then fsync: the record is on disk before the next window.
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self._temporary.unlink(missing_ok=True)  # left by a process killed while rewriting

    @property
    def _temporary(self) -> Path:
        return self.path.with_name(f".{self.path.name}.tmp")

    def _rewrite(self, key: str, records: list[WindowRecord]) -> None:
        """Replace the file atomically (temporary file, fsync, rename) by the header and ``records``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._temporary
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps({"format": _FORMAT, "key": key}) + "\n")
            for record in records:
                handle.write(json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        _fsync_dir(self.path.parent)

    @staticmethod
    def _parse(line: str) -> dict[str, Any] | None:
        if not line.endswith("\n"):
            return None  # the write that would have ended it never completed
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            return None
        return data if isinstance(data, dict) else None
