"""The model's pass of the minutes, checked against the transcript before anything of it is kept.

The model reads numbered passages (``[00:12:04] #37 Paul Martin : …``) and must cite, for each item, the passage
numbers where it was said. An item is kept only when its citation exists in the extract and the cited words
support it (or, uncited, when its words can be found in one passage of the extract); its date only when that date
is said in the cited passages; its owner only when it is a known participant. What fails is dropped and counted,
never passed on: a small model otherwise invents (« le premier octobre 1905 »).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from transcription._minutes_dates import DateMention, find_dates
from transcription._minutes_extract import ExtractedItems, not_a_decision
from transcription._minutes_items import ActionItem, Decision, MeetingNote
from transcription._minutes_people import fold, match_person
from transcription._types import Segment

__all__ = ["ChunkNotes", "check_notes", "content_words", "numbered_lines"]

SOURCE = "modèle"
# Share of an item's content words that its cited passages must contain (the rest may be paraphrase).
_MIN_SUPPORT = 0.34
_GRAMMAR = """avec dans pour par sur sous les des une aux est sont elle elles nous vous ils leur leurs cette ces que
qui quoi dont plus moins tres tout tous toute toutes faire fait etre avoir sera seront doit devra avant apres entre
comme mais donc ainsi alors aussi bien deja encore ensuite reunion decision decide decidee action"""
_STOPWORDS = frozenset(_GRAMMAR.split())


def numbered_lines(segments: Sequence[Segment], first_index: int) -> list[str]:
    """The prompt lines of a chunk: ``[hh:mm:ss] #n speaker : text`` with n = transcript index + 1."""
    lines = []
    for offset, segment in enumerate(segments):
        total = int(segment.start)
        stamp = f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
        speaker = f"{segment.speaker} : " if segment.speaker else ""
        lines.append(f"[{stamp}] #{first_index + offset + 1} {speaker}{segment.text}")
    return lines


def content_words(text: str) -> set[str]:
    """The words that carry meaning (4 letters or more, not grammar), folded, for support and dedupe checks."""
    return {w for w in re.findall(r"[a-z0-9]+", fold(text)) if len(w) >= 4 and w not in _STOPWORDS}


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and fold(value).strip() in ("", "null", "none", "non precise", "inconnu", "aucun"):
        return None
    return value


def _cited(value: Any) -> Any:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    numbers = []
    for item in values:
        numbers += [int(n) for n in re.findall(r"\d+", str(item))]
    return numbers


class _Cited(BaseModel):
    model_config = ConfigDict(extra="ignore")
    segments: list[int] = Field(default_factory=list, validation_alias=AliasChoices("segments", "passages", "segment"))
    _numbers = field_validator("segments", mode="before")(_cited)


class _DecisionModel(_Cited):
    text: str = Field(validation_alias=AliasChoices("text", "decision", "décision", "texte"))
    effective_date: str | None = Field(default=None, validation_alias=AliasChoices("effective_date", "date", "effet"))
    _clean = field_validator("effective_date", mode="before")(_blank_to_none)


class _ActionModel(_Cited):
    task: str = Field(validation_alias=AliasChoices("task", "action", "tâche", "description", "text"))
    owner: str | None = Field(default=None, validation_alias=AliasChoices("owner", "responsable", "who"))
    due: str | None = Field(default=None, validation_alias=AliasChoices("due", "échéance", "deadline", "date"))
    _clean = field_validator("owner", "due", mode="before")(_blank_to_none)


class _NoteModel(_Cited):
    text: str = Field(validation_alias=AliasChoices("text", "question", "texte", "date"))


def _as_objects(key: str) -> Any:
    def convert(value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        return [{key: v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else []

    return convert


class ChunkNotes(BaseModel):
    """The JSON shape asked of the model for one extract; lenient on keys and on the form of citations."""

    model_config = ConfigDict(extra="ignore")
    summary: str = Field(validation_alias=AliasChoices("summary", "résumé", "synthèse"))
    decisions: list[_DecisionModel] = Field(
        default_factory=list, validation_alias=AliasChoices("decisions", "décisions")
    )
    actions: list[_ActionModel] = Field(default_factory=list)
    next_meeting: _NoteModel | None = Field(
        default=None, validation_alias=AliasChoices("next_meeting", "prochaine_reunion", "prochaine_réunion")
    )
    open_questions: list[_NoteModel] = Field(
        default_factory=list, validation_alias=AliasChoices("open_questions", "questions_ouvertes", "questions")
    )

    @field_validator("summary", mode="before")
    @classmethod
    def _join_summary(cls, value: Any) -> Any:
        return "\n".join(str(v) for v in value) if isinstance(value, list) else value

    _decisions = field_validator("decisions", mode="before")(_as_objects("text"))
    _actions = field_validator("actions", mode="before")(_as_objects("task"))
    _questions = field_validator("open_questions", mode="before")(_as_objects("text"))

    @field_validator("next_meeting", mode="before")
    @classmethod
    def _next(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"text": value} if _blank_to_none(value) else None
        return value or None


@dataclass(slots=True)
class _Chunk:
    segments: Sequence[Segment]  # the whole transcript
    first: int  # index of the chunk's first segment
    last: int  # index of its last segment (inclusive)


def _locate(chunk: _Chunk, cited: list[int], text: str) -> tuple[int, ...] | None:
    """The transcript indexes that support ``text``: its valid citations, else the one passage that says it."""
    words = content_words(text)
    if not words:
        return None
    valid = tuple(sorted({n - 1 for n in cited if chunk.first <= n - 1 <= chunk.last}))
    if valid:
        said = set().union(*(content_words(chunk.segments[i].text) for i in valid))
        if len(words & said) / len(words) >= _MIN_SUPPORT:
            return valid
    best, best_share = None, 0.0
    for index in range(chunk.first, chunk.last + 1):
        share = len(words & content_words(chunk.segments[index].text)) / len(words)
        if share > best_share:
            best, best_share = index, share
    return (best,) if best is not None and best_share >= 0.5 else None


def _said_date(value: str | None, cited_text: str, reference: date | None) -> tuple[DateMention | None, bool]:
    """(the date of the cited passages that ``value`` names, whether ``value`` was refused as not said)."""
    mentions = find_dates(cited_text, reference=reference)
    if not value:
        return (mentions[0] if mentions else None), False
    wanted = fold(value)
    spoken = find_dates(value, reference=reference)
    for mention in mentions:
        if fold(mention.said) in wanted or any(s.iso and s.iso == mention.iso for s in spoken):
            return mention, False
    return None, True


def check_notes(
    notes: ChunkNotes,
    *,
    segments: Sequence[Segment],
    first: int,
    last: int,
    reference: date | None,
    people: Sequence[str],
) -> tuple[ExtractedItems, int]:
    """The model's items for segments ``first..last`` that the transcript supports, and how many were dropped."""
    chunk = _Chunk(segments, first, last)
    kept = ExtractedItems()
    dropped = 0

    def span(indexes: tuple[int, ...]) -> tuple[float, float]:
        return segments[indexes[0]].start, segments[indexes[-1]].end

    def cited_text(indexes: tuple[int, ...]) -> str:
        return " ".join(segments[i].text for i in indexes)

    for decision in notes.decisions:
        indexes = _locate(chunk, decision.segments, decision.text)
        # « on ne décide rien », a rejected proposal: what a small model relays as a decision, and is not one
        if indexes is None or not_a_decision(decision.text) or all(not_a_decision(segments[i].text) for i in indexes):
            dropped += 1
            continue
        mention, refused = _said_date(decision.effective_date, cited_text(indexes), reference)
        start, end = span(indexes)
        kept.decisions.append(
            Decision(
                text=decision.text.strip(),
                effective_date=mention.iso if mention else None,
                effective_said=mention.said if mention else None,
                segments=indexes,
                start=start,
                end=end,
                source=SOURCE,
                check=f"Date d'effet « {decision.effective_date} » non retrouvée dans la transcription : retirée."
                if refused
                else None,
            )
        )
    for action in notes.actions:
        indexes = _locate(chunk, action.segments, action.task)
        if indexes is None:
            dropped += 1
            continue
        mention, refused = _said_date(action.due, cited_text(indexes), reference)
        owner = match_person(action.owner, people)
        checks = []
        if refused:
            checks.append(f"Échéance « {action.due} » non retrouvée dans la transcription : retirée.")
        if action.owner and owner is None:
            checks.append(f"Responsable « {action.owner} » absent des participants : à préciser.")
        start, end = span(indexes)
        kept.actions.append(
            ActionItem(
                task=action.task.strip(),
                owner=owner,
                due=mention.said if mention else None,
                due_date=mention.iso if mention else None,
                segments=indexes,
                start=start,
                end=end,
                source=SOURCE,
                check=" ".join(checks) or None,
            )
        )
    if notes.next_meeting is not None:
        indexes = _locate(chunk, notes.next_meeting.segments, notes.next_meeting.text)
        mentions = find_dates(cited_text(indexes), reference=reference) if indexes else []
        if indexes and mentions:
            start, end = span(indexes)
            kept.next_meeting = MeetingNote(
                notes.next_meeting.text.strip(), mentions[0].iso, indexes, start, end, SOURCE
            )
        else:
            dropped += 1
    for question in notes.open_questions:
        indexes = _locate(chunk, question.segments, question.text)
        if indexes is None:
            dropped += 1
            continue
        start, end = span(indexes)
        kept.open_questions.append(MeetingNote(question.text.strip(), None, indexes, start, end, SOURCE))
    return kept, dropped
