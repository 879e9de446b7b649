"""DOCX export (python-docx): generated paragraphs in a «Contenu IA» style, label in body and core properties."""

from __future__ import annotations

import io
import json
import zipfile

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.exceptions import PackageNotFoundError
from docx.shared import Pt, RGBColor

from assistant.errors import InvalidRequestError
from assistant.exports._document import ExportDocument, ExtractedItem, pair_blocks
from assistant.provenance import AI_LABEL, normalize_content

__all__ = ["read_docx", "write_docx"]

AI_STYLE = "Contenu IA"
MANIFEST_STYLE = "Manifeste de provenance"
_SEPARATOR_STYLE = "Séparateur IA"


def _styles(document: Document) -> None:  # type: ignore[valid-type]
    styles = document.styles
    ai = styles.add_style(AI_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    ai.base_style = styles["Normal"]
    ai.font.color.rgb = RGBColor(0x00, 0x00, 0x91)
    manifest = styles.add_style(MANIFEST_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    manifest.font.name = "Courier New"
    manifest.font.size = Pt(7)
    separator = styles.add_style(_SEPARATOR_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    separator.font.italic = True


def write_docx(document: ExportDocument) -> bytes:
    """The document as DOCX bytes."""
    doc = Document()
    _styles(doc)
    properties = doc.core_properties
    properties.title = document.title
    properties.subject = AI_LABEL
    properties.keywords = "IA générative; contenu généré par IA; à vérifier"
    properties.comments = AI_LABEL
    properties.content_status = "Relu et validé par un agent" if document.reviewed else "Généré par IA — non relu"
    properties.author = document.author or "Souverain"
    properties.language = "fr-FR"
    doc.add_heading(document.title, level=1)
    banner = doc.add_paragraph()
    banner.add_run(f"{AI_LABEL}. ").bold = True
    banner.add_run("Ce document contient des réponses produites par un modèle d'IA ; l'agent reste décideur.")
    manifests = []
    for item in document.items:
        if item.role == "user":
            doc.add_heading(f"Question{f' de {item.author}' if item.author else ''}", level=2)
            for line in normalize_content(item.text).split("\n"):
                doc.add_paragraph(line)
            continue
        assert item.manifest is not None
        reviewed = " — relu et validé" if item.manifest.provenance.human_reviewed else ""
        doc.add_heading(f"Réponse de l'assistant ({item.manifest.provenance.model_id})", level=2)
        doc.add_paragraph(f"{AI_LABEL}{reviewed}. [{len(manifests)}]", style=_SEPARATOR_STYLE)
        for line in normalize_content(item.text).split("\n"):
            doc.add_paragraph(line, style=AI_STYLE)
        manifests.append(item.manifest.model_dump(mode="json", by_alias=True))
    doc.add_heading("Manifestes de provenance signés", level=2)
    doc.add_paragraph(json.dumps(manifests, ensure_ascii=False), style=MANIFEST_STYLE)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def read_docx(data: bytes) -> list[ExtractedItem]:
    """Generated passages of a DOCX export, each with its manifest."""
    try:
        doc = Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InvalidRequestError("Fichier DOCX illisible.") from exc
    blocks: list[list[str]] = []
    manifests_json: str | None = None
    previous_was_ai = False
    for paragraph in doc.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style == AI_STYLE:
            if not previous_was_ai:
                blocks.append([])
            blocks[-1].append(paragraph.text)
        elif style == MANIFEST_STYLE:
            manifests_json = paragraph.text
        previous_was_ai = style == AI_STYLE
    return pair_blocks(["\n".join(block) for block in blocks], manifests_json, "DOCX")
