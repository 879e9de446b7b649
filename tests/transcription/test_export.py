"""Exports: every format carries the caller's label in its body and, where possible, its metadata."""

from __future__ import annotations

import io
import json
import re
import zipfile

import docx
import pytest

from tests.transcription.factories import transcript
from transcription import (
    EXPORT_MEDIA_TYPES,
    ActionItem,
    Decision,
    Metadata,
    Minutes,
    export_minutes,
    export_transcript,
    format_timestamp,
    to_json,
    to_markdown,
    to_srt,
    to_txt,
    to_vtt,
)
from transcription.errors import ExportError

LABEL = "Contenu généré par intelligence artificielle — à vérifier"
META: Metadata = {"title": "Conseil municipal du 3 mars", "author": "Secrétariat", "job": 42}

TRANSCRIPT = transcript(
    (0.0, 2.5, "Bonjour à tous.", "Intervenant 1"),
    (2.5, 3661.234, "La séance --> est ouverte <ici> & maintenant.", "Intervenant 2"),
    (3662.0, 3663.5, "Merci.", None),
)

MINUTES = Minutes(
    summary="Le conseil a examiné le budget.\nLa bibliothèque sera rénovée.",
    decisions=(Decision("Rénover la bibliothèque avant juin."),),
    actions=(
        ActionItem("Envoyer le planning", owner="Madame Dupont", due="vendredi"),
        ActionItem("Relire | corriger"),
    ),
    participants=("Intervenant 1", "Intervenant 2"),
)


def test_timestamps() -> None:
    assert format_timestamp(3661.234) == "01:01:01.234"
    assert format_timestamp(0.0004, separator=",") == "00:00:00,000"
    assert format_timestamp(0.0006) == "00:00:00.001"
    assert format_timestamp(59.9996) == "00:01:00.000"
    assert format_timestamp(-1) == "00:00:00.000"
    assert format_timestamp(36_000.5, separator=",") == "10:00:00,500"


def test_srt_is_well_formed_with_the_label_first() -> None:
    srt = to_srt(TRANSCRIPT, label=LABEL, metadata=META)
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == 4
    for number, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        assert re.fullmatch(r"\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}", lines[1])
        assert all(line.strip() for line in lines[2:])
    assert blocks[0].split("\n")[2] == LABEL
    assert "Conseil municipal du 3 mars" in blocks[0]
    assert blocks[2].split("\n")[1] == "00:00:02,500 --> 01:01:01,234"
    assert blocks[2].split("\n")[2].startswith("[Intervenant 2] La séance → est ouverte")
    assert blocks[3].split("\n")[2] == "Merci."


def test_vtt_has_label_in_header_and_cue_and_metadata_in_a_note() -> None:
    vtt = to_vtt(TRANSCRIPT, label=LABEL, metadata=META)
    blocks = vtt.strip().split("\n\n")
    assert blocks[0] == f"WEBVTT - {LABEL}"
    assert blocks[1].startswith("NOTE\n") and "title : Conseil municipal du 3 mars" in blocks[1]
    assert blocks[2] == f"label\n00:00:00.000 --> 00:00:04.000\n{LABEL}"
    assert blocks[3] == "00:00:00.000 --> 00:00:02.500\n<v Intervenant 1>Bonjour à tous."
    assert blocks[4].split("\n")[1] == "<v Intervenant 2>La séance → est ouverte &lt;ici&gt; &amp; maintenant."
    assert "-->" not in blocks[1]
    assert sum("-->" in b for b in blocks) == 4


def test_txt_json_and_markdown_carry_label_and_metadata() -> None:
    txt = to_txt(TRANSCRIPT, label=LABEL, metadata=META)
    assert txt.splitlines()[0] == LABEL
    assert "author : Secrétariat" in txt
    assert "[00:00:02 - 01:01:01] Intervenant 2 : La séance" in txt

    data = json.loads(to_json(TRANSCRIPT, label=LABEL, metadata=META))
    assert data["label"] == LABEL and data["metadata"] == META
    assert data["speakers"] == ["Intervenant 1", "Intervenant 2"]
    assert data["segments"][0] == {
        "start": 0.0,
        "end": 2.5,
        "text": "Bonjour à tous.",
        "speaker": "Intervenant 1",
        "words": [
            {"start": 0.0, "end": 0.833, "word": "Bonjour", "probability": None},
            {"start": 0.833, "end": 1.667, "word": "à", "probability": None},
            {"start": 1.667, "end": 2.5, "word": "tous.", "probability": None},
        ],
    }

    md = to_markdown(TRANSCRIPT, label=LABEL, metadata=META)
    front = md.split("---\n")[1]
    assert f'label: "{LABEL}"' in front and '"job": "42"' in front
    assert f"> **{LABEL}**" in md
    assert "# Conseil municipal du 3 mars" in md
    assert "`01:01:02` Merci." in md


def _docx_texts(data: bytes) -> tuple[docx.document.Document, list[str]]:
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    texts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return document, texts


def test_docx_transcript_has_label_in_body_header_and_properties() -> None:
    data = export_transcript(TRANSCRIPT, "docx", label=LABEL, metadata=META)
    assert zipfile.is_zipfile(io.BytesIO(data))
    document, texts = _docx_texts(data)
    assert LABEL in texts[:3]
    assert document.sections[0].header.paragraphs[0].text == LABEL
    props = document.core_properties
    assert props.subject == LABEL and props.category == LABEL
    assert LABEL in props.comments and "job : 42" in props.comments
    assert props.title == "Conseil municipal du 3 mars" and props.author == "Secrétariat"
    assert any(t.startswith("[01:01:02] Merci.") for t in texts)
    assert any(t == "[00:00:00] Intervenant 1 : Bonjour à tous." for t in texts)


def test_minutes_exports() -> None:
    md = export_minutes(MINUTES, "md", label=LABEL, metadata=META).decode()
    assert f"> **{LABEL}**" in md and f'label: "{LABEL}"' in md
    assert "| Envoyer le planning | Madame Dupont | « vendredi » | — |" in md
    assert "| Relire \\| corriger | — | — | — |" in md
    assert "- Rénover la bibliothèque avant juin." in md

    document, texts = _docx_texts(export_minutes(MINUTES, "docx", label=LABEL, metadata=META))
    assert LABEL in texts and document.core_properties.subject == LABEL
    assert document.sections[0].header.paragraphs[0].text == LABEL
    assert texts[texts.index("Action") + 4 :][:3] == ["Envoyer le planning", "Madame Dupont", "« vendredi »"]

    data = json.loads(export_minutes(MINUTES, "json", label=LABEL, metadata=None))
    assert data["label"] == LABEL and data["actions"][0]["owner"] == "Madame Dupont"


@pytest.mark.parametrize("fmt", ["json", "txt", "srt", "vtt", "md", "docx"])
def test_label_is_required_in_every_format(fmt: str) -> None:
    assert fmt in EXPORT_MEDIA_TYPES
    for bad in ("", "   ", "\n"):
        with pytest.raises(ExportError, match="obligatoire"):
            export_transcript(TRANSCRIPT, fmt, label=bad)  # type: ignore[arg-type]
    assert export_transcript(TRANSCRIPT, fmt, label="Étiquette IA")  # type: ignore[arg-type]


def test_unknown_formats_are_refused() -> None:
    with pytest.raises(ExportError, match="inconnu"):
        export_transcript(TRANSCRIPT, "pdf", label=LABEL)  # type: ignore[arg-type]
    with pytest.raises(ExportError, match="inconnu"):
        export_minutes(MINUTES, "srt", label=LABEL)  # type: ignore[arg-type]
