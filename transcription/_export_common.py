"""What every export format shares: the caller's metadata, the mandatory label, timestamps (a leaf module)."""

from __future__ import annotations

from collections.abc import Mapping

from transcription.errors import ExportError

__all__ = ["Metadata", "check_label", "clock_time", "format_timestamp", "meta_items"]

#: Document metadata given by the caller (title, author, date, job id, model…).
Metadata = Mapping[str, str | int | float | bool | None]


def check_label(label: str) -> str:
    """Return the label on one line; refuse a blank one (the notice is mandatory)."""
    if not isinstance(label, str) or not label.strip():
        raise ExportError("L'étiquette du document est obligatoire.")
    return " ".join(label.split())


def meta_items(metadata: Metadata | None) -> list[tuple[str, str]]:
    return [(str(key), "" if value is None else str(value)) for key, value in (metadata or {}).items()]


def format_timestamp(seconds: float, *, separator: str = ".") -> str:
    """``HH:MM:SS.mmm`` (``separator=","`` for SRT), from seconds, rounded to the millisecond."""
    total_ms = max(0, round(seconds * 1000))
    h, rest = divmod(total_ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def clock_time(seconds: float) -> str:
    return format_timestamp(seconds)[:8]
