"""ODT export (odfpy): generated paragraphs in a «Contenu_IA» style, label in body and document metadata."""

from __future__ import annotations

import io
import json
import zipfile
from xml.parsers.expat import ExpatError

from odf import meta, teletype
from odf.dc import Description, Title
from odf.opendocument import OpenDocumentText, load
from odf.style import ParagraphProperties, Style, TextProperties
from odf.text import H, P

from assistant.errors import InvalidRequestError
from assistant.exports._document import ExportDocument, ExtractedItem, pair_blocks
from assistant.provenance import AI_LABEL, normalize_content

__all__ = ["read_odt", "write_odt"]

AI_STYLE = "Contenu_IA"
MANIFEST_STYLE = "Manifeste_provenance"
_SEPARATOR_STYLE = "Separateur_IA"


def _add_styles(document: OpenDocumentText) -> None:
    ai = Style(name=AI_STYLE, family="paragraph", displayname="Contenu IA")
    ai.addElement(TextProperties(color="#000091"))
    manifest = Style(name=MANIFEST_STYLE, family="paragraph", displayname="Manifeste de provenance")
    manifest.addElement(TextProperties(fontsize="7pt", fontfamily="monospace"))
    separator = Style(name=_SEPARATOR_STYLE, family="paragraph", displayname="Séparateur IA")
    separator.addElement(TextProperties(fontstyle="italic"))
    separator.addElement(ParagraphProperties(margintop="0.2cm"))
    for style in (ai, manifest, separator):
        document.styles.addElement(style)


def _paragraph(document: OpenDocumentText, text: str, style: str | None = None) -> None:
    element = P(stylename=style) if style else P()
    teletype.addTextToElement(element, text)
    document.text.addElement(element)


def write_odt(document: ExportDocument) -> bytes:
    """The document as ODT bytes."""
    odt = OpenDocumentText()
    _add_styles(odt)
    odt.meta.addElement(meta.Generator(text="Souverain"))
    odt.meta.addElement(meta.Keyword(text="contenu généré par IA"))
    odt.meta.addElement(meta.UserDefined(name="ai_generated", valuetype="boolean", text="true"))
    odt.meta.addElement(meta.UserDefined(name="label", text=AI_LABEL))
    odt.meta.addElement(
        meta.UserDefined(name="human_reviewed", valuetype="boolean", text=str(document.reviewed).lower())
    )
    odt.meta.addElement(Title(text=document.title))
    odt.meta.addElement(Description(text=AI_LABEL))
    heading = H(outlinelevel=1)
    teletype.addTextToElement(heading, document.title)
    odt.text.addElement(heading)
    _paragraph(
        odt, f"{AI_LABEL}. Ce document contient des réponses produites par un modèle d'IA ; l'agent reste décideur."
    )
    manifests = []
    for item in document.items:
        if item.role == "user":
            _paragraph(odt, f"Question{f' de {item.author}' if item.author else ''} :")
            for line in normalize_content(item.text).split("\n"):
                _paragraph(odt, line)
            continue
        assert item.manifest is not None
        reviewed = " — relu et validé" if item.manifest.provenance.human_reviewed else ""
        _paragraph(
            odt,
            f"Réponse de l'assistant ({item.manifest.provenance.model_id}) — {AI_LABEL}{reviewed}. [{len(manifests)}]",
            _SEPARATOR_STYLE,
        )
        for line in normalize_content(item.text).split("\n"):
            _paragraph(odt, line, AI_STYLE)
        manifests.append(item.manifest.model_dump(mode="json", by_alias=True))
    _paragraph(odt, "Manifestes de provenance signés :")
    _paragraph(odt, json.dumps(manifests, ensure_ascii=False), MANIFEST_STYLE)
    buffer = io.BytesIO()
    odt.write(buffer)
    return buffer.getvalue()


def read_odt(data: bytes) -> list[ExtractedItem]:
    """Generated passages of an ODT export, each with its manifest."""
    try:
        odt = load(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ExpatError, ValueError) as exc:
        raise InvalidRequestError("Fichier ODT illisible.") from exc
    blocks: list[list[str]] = []
    manifests_json: str | None = None
    previous_was_ai = False
    for paragraph in odt.text.getElementsByType(P):
        style = paragraph.getAttribute("stylename") or ""
        if style == AI_STYLE:
            if not previous_was_ai:
                blocks.append([])
            blocks[-1].append(teletype.extractText(paragraph))
        elif style == MANIFEST_STYLE:
            manifests_json = teletype.extractText(paragraph)
        previous_was_ai = style == AI_STYLE
    return pair_blocks(["\n".join(block) for block in blocks], manifests_json, "ODT")
