"""Transcript exports: JSON, TXT, SRT, WebVTT, Markdown (DOCX lives in ``_docx``).

Every export takes the caller's ``label`` (the AI-content notice; the library does not decide
its wording) and a ``metadata`` mapping, and writes both in the body and, where the format has
a place for it, in the document metadata. The label is required and may not be blank.
"""

from __future__ import annotations

import json
from typing import Literal

from transcription._export_common import Metadata, check_label, clock_time, format_timestamp, meta_items
from transcription._minutes import Minutes
from transcription._minutes_render import action_cells, decision_text, note_text
from transcription._types import Segment, Transcript
from transcription.errors import ExportError

__all__ = [
    "EXPORT_MEDIA_TYPES",
    "ExportFormat",
    "Metadata",
    "export_minutes",
    "export_transcript",
    "format_timestamp",
    "minutes_to_markdown",
    "to_json",
    "to_markdown",
    "to_srt",
    "to_txt",
    "to_vtt",
]

ExportFormat = Literal["json", "txt", "srt", "vtt", "md", "docx"]

EXPORT_MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip",
    "vtt": "text/vtt; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}

# The label cue shown at the start of subtitles lasts this long (it may overlap the first cue).
_LABEL_CUE_S = 4.0


def _speaker_prefix(segment: Segment) -> str:
    return f"{segment.speaker} : " if segment.speaker else ""


def to_json(transcript: Transcript, *, label: str, metadata: Metadata | None = None) -> str:
    """The transcript as JSON: label, metadata, language, duration and segments with words."""
    document = {"label": check_label(label), "metadata": dict(metadata or {}), **transcript.to_dict()}
    return json.dumps(document, ensure_ascii=False, indent=2)


def to_txt(transcript: Transcript, *, label: str, metadata: Metadata | None = None) -> str:
    lines = [check_label(label), ""]
    lines += [f"{key} : {value}" for key, value in meta_items(metadata)]
    if metadata:
        lines.append("")
    lines += [
        f"[{clock_time(s.start)} - {clock_time(s.end)}] {_speaker_prefix(s)}{s.text}" for s in transcript.segments
    ]
    return "\n".join(lines) + "\n"


def _cue_text(text: str) -> str:
    # A blank line ends a cue and "-->" marks a timing line: neither may appear inside.
    return " ".join(text.replace("-->", "→").split())


def to_srt(transcript: Transcript, *, label: str, metadata: Metadata | None = None) -> str:
    """SubRip subtitles; SRT has no metadata block, so the label and metadata open the first cue."""
    notice = check_label(label)
    header = "; ".join(f"{k} : {v}" for k, v in meta_items(metadata))
    end = min(_LABEL_CUE_S, transcript.duration) if transcript.duration > 0 else _LABEL_CUE_S
    blocks = [
        f"1\n{format_timestamp(0, separator=',')} --> {format_timestamp(end, separator=',')}\n"
        f"{_cue_text(notice)}" + (f"\n{_cue_text(header)}" if header else "")
    ]
    for number, segment in enumerate(transcript.segments, start=2):
        speaker = f"[{segment.speaker}] " if segment.speaker else ""
        blocks.append(
            f"{number}\n{format_timestamp(segment.start, separator=',')} --> "
            f"{format_timestamp(segment.end, separator=',')}\n{_cue_text(speaker + segment.text)}"
        )
    return "\n\n".join(blocks) + "\n"


def _vtt_escape(text: str) -> str:
    return _cue_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript, *, label: str, metadata: Metadata | None = None) -> str:
    """WebVTT: the label on the header line and in a first cue, metadata in a NOTE block."""
    notice = check_label(label)
    parts = [f"WEBVTT - {_cue_text(notice)}"]
    items = meta_items(metadata)
    if items:
        parts.append("NOTE\n" + "\n".join(_cue_text(f"{k} : {v}") for k, v in items))
    end = min(_LABEL_CUE_S, transcript.duration) if transcript.duration > 0 else _LABEL_CUE_S
    parts.append(f"label\n{format_timestamp(0)} --> {format_timestamp(end)}\n{_vtt_escape(notice)}")
    for segment in transcript.segments:
        text = _vtt_escape(segment.text)
        if segment.speaker:
            text = f"<v {_vtt_escape(segment.speaker)}>{text}"
        parts.append(f"{format_timestamp(segment.start)} --> {format_timestamp(segment.end)}\n{text}")
    return "\n\n".join(parts) + "\n"


def _front_matter(label: str, metadata: Metadata | None) -> list[str]:
    # JSON strings are valid YAML scalars, so json.dumps quotes values safely.
    lines = ["---", f"label: {json.dumps(label, ensure_ascii=False)}"]
    lines += [
        f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}" for k, v in meta_items(metadata)
    ]
    return [*lines, "---", ""]


def to_markdown(transcript: Transcript, *, label: str, metadata: Metadata | None = None) -> str:
    """Markdown with YAML front matter (label, metadata) and the label as an opening quote."""
    notice = check_label(label)
    title = str((metadata or {}).get("title") or "Transcription")
    lines = [*_front_matter(notice, metadata), f"# {title}", "", f"> **{notice}**", ""]
    for key, value in meta_items(metadata):
        lines.append(f"- **{key}** : {value}")
    if metadata:
        lines.append("")
    for segment in transcript.segments:
        speaker = f"**{segment.speaker}** " if segment.speaker else ""
        lines.append(f"`{clock_time(segment.start)}` {speaker}{segment.text}")
        lines.append("")
    return "\n".join(lines)


def export_transcript(
    transcript: Transcript, fmt: ExportFormat, *, label: str, metadata: Metadata | None = None
) -> bytes:
    """Render ``transcript`` in ``fmt``; see :data:`EXPORT_MEDIA_TYPES` for the media types."""
    if fmt == "docx":
        from transcription._docx import transcript_to_docx

        return transcript_to_docx(transcript, label=label, metadata=metadata)
    renderers = {"json": to_json, "txt": to_txt, "srt": to_srt, "vtt": to_vtt, "md": to_markdown}
    renderer = renderers.get(fmt)
    if renderer is None:
        raise ExportError(f"Format d'export inconnu : « {fmt} ».")
    return renderer(transcript, label=label, metadata=metadata).encode("utf-8")


def minutes_to_markdown(minutes: Minutes, *, label: str, metadata: Metadata | None = None) -> str:
    """The minutes in Markdown, with the label in the front matter and in the body."""
    notice = check_label(label)
    title = str((metadata or {}).get("title") or "Compte rendu de réunion")
    lines = [*_front_matter(notice, metadata), f"# {title}", "", f"> **{notice}**", ""]
    lines += [f"- **{key}** : {value}" for key, value in meta_items(metadata)]
    lines += ["", "## Synthèse", "", minutes.summary or "Pas de synthèse rédigée.", "", "## Participants", ""]
    lines += [f"- {p}" for p in minutes.participants] or ["Non précisés."]
    lines += ["", "## Décisions", ""]
    lines += [f"- {decision_text(d)}" for d in minutes.decisions] or ["Aucune décision relevée."]
    lines += ["", "## Actions", ""]
    if minutes.actions:
        lines += ["| Action | Responsable | Échéance | Dit à |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(_cell(c) for c in action_cells(a)) + " |" for a in minutes.actions]
    else:
        lines.append("Aucune action relevée.")
    lines += ["", "## Prochaine réunion", ""]
    lines.append(note_text(minutes.next_meeting) if minutes.next_meeting else "Non annoncée.")
    lines += ["", "## Questions ouvertes", ""]
    lines += [f"- {note_text(q)}" for q in minutes.open_questions] or ["Aucune question restée ouverte."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def export_minutes(
    minutes: Minutes, fmt: Literal["json", "md", "docx", "odt"], *, label: str, metadata: Metadata | None = None
) -> bytes:
    """Render ``minutes`` as JSON, Markdown, DOCX or ODT (label and metadata included)."""
    if fmt == "odt":
        from transcription._odt import minutes_to_odt

        return minutes_to_odt(minutes, label=label, metadata=metadata)
    if fmt == "docx":
        from transcription._docx import minutes_to_docx

        return minutes_to_docx(minutes, label=label, metadata=metadata)
    if fmt == "md":
        return minutes_to_markdown(minutes, label=label, metadata=metadata).encode("utf-8")
    if fmt == "json":
        document = {"label": check_label(label), "metadata": dict(metadata or {}), **minutes.to_dict()}
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    raise ExportError(f"Format d'export inconnu : « {fmt} ».")
