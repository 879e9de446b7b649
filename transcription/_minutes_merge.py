"""Merging the item lists of every chunk and of both passes, deterministically: nothing is re-summarised away.

The reduce step of the first version asked the model to merge the notes of each chunk, and a small model dropped
decisions on the way. Here the lists are concatenated and deduplicated by rule: two items are the same when they
cite overlapping passages and share words, or when their words nearly coincide. The first one seen wins (the
deterministic pass comes first), and it takes from its duplicate an owner or a date it lacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from transcription._minutes_extract import ExtractedItems
from transcription._minutes_items import ActionItem, Decision, MeetingNote
from transcription._minutes_model import content_words

__all__ = ["merge_items"]

_Item = TypeVar("_Item", Decision, ActionItem, MeetingNote)
_SAME_PLACE_OVERLAP = 0.25
_SAME_WORDS = 0.7


def _text(item: Decision | ActionItem | MeetingNote) -> str:
    return item.task if isinstance(item, ActionItem) else item.text


def _similar(a: Decision | ActionItem | MeetingNote, b: Decision | ActionItem | MeetingNote) -> bool:
    words_a, words_b = content_words(_text(a)), content_words(_text(b))
    if not words_a or not words_b:
        return _text(a).strip().lower() == _text(b).strip().lower()
    jaccard = len(words_a & words_b) / len(words_a | words_b)
    same_place = bool(set(a.segments) & set(b.segments))
    return jaccard >= _SAME_WORDS or (same_place and jaccard >= _SAME_PLACE_OVERLAP)


def _complete(kept: _Item, duplicate: _Item) -> _Item:
    if isinstance(kept, ActionItem) and isinstance(duplicate, ActionItem):
        if kept.owner is None and duplicate.owner:
            kept = replace(kept, owner=duplicate.owner)
        if kept.due_date is None and duplicate.due_date:
            kept = replace(kept, due=duplicate.due, due_date=duplicate.due_date)
    if isinstance(kept, Decision) and isinstance(duplicate, Decision) and kept.effective_date is None:  # noqa: SIM102
        if duplicate.effective_date:
            kept = replace(kept, effective_date=duplicate.effective_date, effective_said=duplicate.effective_said)
    return kept


def _dedupe(items: Iterable[_Item]) -> list[_Item]:
    kept: list[_Item] = []
    for item in items:
        for position, existing in enumerate(kept):
            if _similar(existing, item):
                kept[position] = _complete(existing, item)
                break
        else:
            kept.append(item)
    return sorted(kept, key=lambda i: i.start if i.start is not None else float("inf"))


def merge_items(passes: Sequence[ExtractedItems]) -> ExtractedItems:
    """One list of each kind from several passes (in priority order): every item kept once, in time order."""
    merged = ExtractedItems(
        decisions=_dedupe(d for p in passes for d in p.decisions),
        actions=_dedupe(a for p in passes for a in p.actions),
        open_questions=_dedupe(q for p in passes for q in p.open_questions),
    )
    meetings = [p.next_meeting for p in passes if p.next_meeting is not None]
    # the deterministic pass first; among its own, the last announcement said wins (it is the one that stood)
    merged.next_meeting = meetings[0] if meetings else None
    return merged
