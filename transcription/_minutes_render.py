"""How minutes items read in an export: the item, its dates as said and as dates, and where it was said."""

from __future__ import annotations

from datetime import date

from transcription._export_common import clock_time
from transcription._minutes_items import ActionItem, Decision, MeetingNote

__all__ = ["action_cells", "decision_text", "french_date", "note_text", "said_at"]


def french_date(iso: str | None) -> str | None:
    """``2026-10-15`` → ``15/10/2026`` (None stays None; a malformed value is shown as stored)."""
    if not iso:
        return None
    try:
        return date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def said_at(item: Decision | ActionItem | MeetingNote) -> str:
    """« dit à 00:12:04 (passage 38) », or « — » for minutes written before items had times."""
    if item.start is None or not item.segments:
        return "—"
    passages = ", ".join(str(i + 1) for i in item.segments)
    return f"{clock_time(item.start)} (passage{'s' if len(item.segments) > 1 else ''} {passages})"


def _dated(iso: str | None, said: str | None) -> str | None:
    shown = french_date(iso)
    if shown and said:
        return f"{shown} (« {said} »)"
    return shown or (f"« {said} »" if said else None)


def decision_text(decision: Decision) -> str:
    parts = [decision.text]
    effect = _dated(decision.effective_date, decision.effective_said)
    if effect:
        parts.append(f"effet : {effect}")
    if decision.segments:
        parts.append(f"dit à {said_at(decision)}")
    if decision.check:
        parts.append(f"à vérifier : {decision.check}")
    return " — ".join(parts)


def action_cells(action: ActionItem) -> tuple[str, str, str, str]:
    """(action, owner, due date, said at) for a table row."""
    task = action.task + (f" (à vérifier : {action.check})" if action.check else "")
    return task, action.owner or "—", _dated(action.due_date, action.due) or "—", said_at(action)


def note_text(note: MeetingNote) -> str:
    parts = [note.text]
    if note.date:
        parts.append(f"date : {french_date(note.date)}")
    if note.segments:
        parts.append(f"dit à {said_at(note)}")
    return " — ".join(parts)
