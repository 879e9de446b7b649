"""DOCX exports of transcripts and minutes with python-docx.

The caller's label is written three times: as the first paragraph of the body, in the header of
every page, and in the document's core properties (subject, category, comments), so it survives
printing, copy-paste of the body and inspection of the file's properties.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Pt, RGBColor

from transcription._export_common import Metadata, check_label, clock_time, meta_items
from transcription._minutes import Minutes
from transcription._minutes_render import action_cells, decision_text, note_text
from transcription._types import Transcript

__all__ = ["minutes_to_docx", "transcript_to_docx"]

_LABEL_COLOR = RGBColor(0x9C, 0x1C, 0x1C)


def _start(label: str, metadata: Metadata | None, default_title: str) -> DocxDocument:
    notice = check_label(label)
    items = meta_items(metadata)
    title = str((metadata or {}).get("title") or default_title)
    document = Document()
    props = document.core_properties
    props.title = title
    props.subject = notice
    props.category = notice
    props.comments = "\n".join([notice, *(f"{k} : {v}" for k, v in items)])
    author = (metadata or {}).get("author")
    props.author = str(author) if author else ""
    props.created = datetime.now(UTC)

    header = document.sections[0].header.paragraphs[0]
    header.text = notice
    document.add_heading(title, level=1)
    banner = document.add_paragraph().add_run(notice)
    banner.bold = True
    banner.font.color.rgb = _LABEL_COLOR
    if items:
        table = document.add_table(rows=0, cols=2)
        for key, value in items:
            cells = table.add_row().cells
            cells[0].text = key
            cells[1].text = value
    return document


def _save(document: DocxDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def transcript_to_docx(transcript: Transcript, *, label: str, metadata: Metadata | None = None) -> bytes:
    """The transcript as a Word document: one paragraph per segment, timed, with its speaker."""
    document = _start(label, metadata, "Transcription")
    document.add_heading("Transcription", level=2)
    for segment in transcript.segments:
        paragraph = document.add_paragraph()
        stamp = paragraph.add_run(f"[{clock_time(segment.start)}] ")
        stamp.font.size = Pt(9)
        if segment.speaker:
            paragraph.add_run(f"{segment.speaker} : ").bold = True
        paragraph.add_run(segment.text)
    return _save(document)


def minutes_to_docx(minutes: Minutes, *, label: str, metadata: Metadata | None = None) -> bytes:
    """The minutes as a Word document: summary, participants, decisions, actions table, next meeting, questions."""
    document = _start(label, metadata, "Compte rendu de réunion")
    document.add_heading("Synthèse", level=2)
    for paragraph in minutes.summary.split("\n"):
        if paragraph.strip():
            document.add_paragraph(paragraph.strip())
    document.add_heading("Participants", level=2)
    for participant in minutes.participants or ("Non précisés",):
        document.add_paragraph(participant, style="List Bullet")
    document.add_heading("Décisions", level=2)
    for decision in minutes.decisions:
        document.add_paragraph(decision_text(decision), style="List Bullet")
    if not minutes.decisions:
        document.add_paragraph("Aucune décision relevée.", style="List Bullet")
    document.add_heading("Actions", level=2)
    if minutes.actions:
        table = document.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("Action", "Responsable", "Échéance", "Dit à"), strict=True):
            cell.text = text
        for action in minutes.actions:
            for cell, text in zip(table.add_row().cells, action_cells(action), strict=True):
                cell.text = text
    else:
        document.add_paragraph("Aucune action relevée.")
    document.add_heading("Prochaine réunion", level=2)
    document.add_paragraph(note_text(minutes.next_meeting) if minutes.next_meeting else "Non annoncée.")
    document.add_heading("Questions ouvertes", level=2)
    for question in minutes.open_questions:
        document.add_paragraph(note_text(question), style="List Bullet")
    if not minutes.open_questions:
        document.add_paragraph("Aucune question restée ouverte.", style="List Bullet")
    return _save(document)
