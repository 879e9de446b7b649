"""The items of signable minutes: decisions, actions, next meeting, open questions, each tied to where it was said.

Every item carries the transcript segments it comes from (``segments``, indexes into the transcript) and their
time span (``start``/``end`` in seconds), so a secretary can check it against the transcript side by side.
``source`` says who found it (``"extrait"``: the deterministic pass over the words; ``"modèle"``: the language
model, checked against the transcript) and ``check`` carries a French warning when part of it could not be
verified (a date or an owner dropped). Old stored minutes (decisions as plain strings, actions without times)
load through each class's ``from_stored`` with empty links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ActionItem", "Decision", "MeetingNote"]


def _link_dict(segments: tuple[int, ...], start: float | None, end: float | None) -> dict[str, Any]:
    return {"segments": list(segments), "start": start, "end": end}


def _segments(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(int(v) for v in value if isinstance(v, int | float | str) and str(v).lstrip("-").isdigit())


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision taken in the meeting, with the date it takes effect when one was said."""

    text: str
    effective_date: str | None = None  # ISO, only when said and unambiguous
    effective_said: str | None = None  # the words, as said (« au 1er janvier »)
    segments: tuple[int, ...] = ()
    start: float | None = None
    end: float | None = None
    source: str | None = None
    check: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "effective_date": self.effective_date,
            "effective_said": self.effective_said,
            **_link_dict(self.segments, self.start, self.end),
            "source": self.source,
            "check": self.check,
        }

    @classmethod
    def from_stored(cls, value: Any) -> Decision:
        """A decision from stored JSON: the current object, or the plain string of minutes written before."""
        if isinstance(value, str):
            return cls(text=value)
        return cls(
            text=str(value.get("text", "")),
            effective_date=value.get("effective_date"),
            effective_said=value.get("effective_said"),
            segments=_segments(value.get("segments")),
            start=_float(value.get("start")),
            end=_float(value.get("end")),
            source=value.get("source"),
            check=value.get("check"),
        )


@dataclass(frozen=True, slots=True)
class ActionItem:
    """An action decided in the meeting: what, who (a participant) and by when, as said and as an ISO date."""

    task: str
    owner: str | None = None
    due: str | None = None  # as said (« avant le 15 octobre »)
    due_date: str | None = None  # ISO, only when said and unambiguous
    segments: tuple[int, ...] = ()
    start: float | None = None
    end: float | None = None
    source: str | None = None
    check: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "owner": self.owner,
            "due": self.due,
            "due_date": self.due_date,
            **_link_dict(self.segments, self.start, self.end),
            "source": self.source,
            "check": self.check,
        }

    @classmethod
    def from_stored(cls, value: Any) -> ActionItem:
        if isinstance(value, str):
            return cls(task=value)
        return cls(
            task=str(value.get("task", "")),
            owner=value.get("owner"),
            due=value.get("due"),
            due_date=value.get("due_date"),
            segments=_segments(value.get("segments")),
            start=_float(value.get("start")),
            end=_float(value.get("end")),
            source=value.get("source"),
            check=value.get("check"),
        )


@dataclass(frozen=True, slots=True)
class MeetingNote:
    """A next meeting (``date`` set when said) or an open question, with where it was said."""

    text: str
    date: str | None = None
    segments: tuple[int, ...] = ()
    start: float | None = None
    end: float | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "date": self.date,
            **_link_dict(self.segments, self.start, self.end),
            "source": self.source,
        }

    @classmethod
    def from_stored(cls, value: Any) -> MeetingNote:
        if isinstance(value, str):
            return cls(text=value)
        return cls(
            text=str(value.get("text", "")),
            date=value.get("date"),
            segments=_segments(value.get("segments")),
            start=_float(value.get("start")),
            end=_float(value.get("end")),
            source=value.get("source"),
        )
