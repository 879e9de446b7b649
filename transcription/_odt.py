"""OpenDocument (ODT) export of minutes, with the label in the body and in the document metadata."""

from __future__ import annotations

import io

from odf import dc, meta, teletype
from odf.opendocument import OpenDocumentText
from odf.text import H, List, ListItem, P

from transcription._export_common import Metadata, check_label, meta_items
from transcription._minutes import Minutes
from transcription._minutes_render import action_cells, decision_text, note_text

__all__ = ["minutes_to_odt"]


def _heading(document: OpenDocumentText, text: str, level: int) -> None:
    heading = H(outlinelevel=level)
    teletype.addTextToElement(heading, text)
    document.text.addElement(heading)


def _paragraph(document: OpenDocumentText, text: str) -> None:
    paragraph = P()
    teletype.addTextToElement(paragraph, text)
    document.text.addElement(paragraph)


def _bullets(document: OpenDocumentText, items: tuple[str, ...] | list[str]) -> None:
    bullets = List()
    for item in items:
        entry = ListItem()
        paragraph = P()
        teletype.addTextToElement(paragraph, item)
        entry.addElement(paragraph)
        bullets.addElement(entry)
    document.text.addElement(bullets)


def minutes_to_odt(minutes: Minutes, *, label: str, metadata: Metadata | None = None) -> bytes:
    """The minutes as an ODT document: label, summary, participants, decisions, actions."""
    label = check_label(label)
    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text="Compte rendu de réunion"))
    document.meta.addElement(dc.Description(text=label))
    document.meta.addElement(meta.Keyword(text="contenu généré par IA"))
    document.meta.addElement(meta.UserDefined(name="ai_generated", valuetype="boolean", text="true"))
    for key, value in meta_items(metadata):
        document.meta.addElement(meta.UserDefined(name=key, text=value))
    _heading(document, "Compte rendu de réunion", 1)
    _paragraph(document, label)
    _heading(document, "Synthèse", 2)
    for paragraph in minutes.summary.split("\n"):
        if paragraph.strip():
            _paragraph(document, paragraph.strip())
    _heading(document, "Participants", 2)
    _bullets(document, minutes.participants or ("Non précisés",))
    _heading(document, "Décisions", 2)
    _bullets(document, [decision_text(d) for d in minutes.decisions] or ["Aucune décision relevée."])
    _heading(document, "Actions", 2)
    if minutes.actions:
        rows = [action_cells(action) for action in minutes.actions]
        _bullets(document, [f"{t} — responsable : {o} — échéance : {d} — dit à {at}" for t, o, d, at in rows])
    else:
        _paragraph(document, "Aucune action relevée.")
    _heading(document, "Prochaine réunion", 2)
    _paragraph(document, note_text(minutes.next_meeting) if minutes.next_meeting else "Non annoncée.")
    _heading(document, "Questions ouvertes", 2)
    _bullets(document, [note_text(q) for q in minutes.open_questions] or ["Aucune question restée ouverte."])
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()
