"""PPTX (python-pptx) and ODP (odfpy) loaders: one section per slide, behind a zip-bomb guard.

A slide's section holds its title, its text boxes and tables in reading order (top to bottom, then left
to right) and its speaker notes after « Notes : »; the page is the slide number and the heading the
slide title (« Diapositive n » when it has none).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from rag._limits import Limits, check_page_count
from rag._office import check_odf_encryption, check_zip, odf_blocks
from rag._types import Section
from rag.errors import CorruptDocumentError

__all__ = ["load_odp", "load_pptx"]

logger = logging.getLogger(__name__)

# Names LibreOffice and PowerPoint give slides by themselves: no better than « Diapositive n » as a heading.
_GENERATED_NAME = re.compile(r"(page|slide|diapositive)\s*\d+", re.IGNORECASE)
_UNITS_CM = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72, "pc": 2.54 / 6, "px": 2.54 / 96}
_LENGTH = re.compile(r"(-?[\d.]+)\s*([a-z]*)")


def _slide_section(number: int, title: str, lines: list[str], notes: str) -> Section:
    body = [title] if title else []
    body += [line for line in lines if line and line != title]
    if notes:
        body.append(f"Notes : {notes}")
    return Section(text="\n".join(body), page=number, heading=title or f"Diapositive {number}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- PPTX ------------------------------------------------------------------------------------------------


def _pptx_shape_lines(shape: Any) -> Iterator[str]:
    """Text of one shape: paragraphs of text frames, table rows as ``a | b``, shapes of groups in order."""
    if getattr(shape, "shapes", None) is not None:  # a group
        for child in sorted(shape.shapes, key=_position):
            yield from _pptx_shape_lines(child)
        return
    if getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            cells = [_one_line(cell.text) for cell in row.cells if not cell.is_spanned]
            if any(cells):
                yield " | ".join(cell for cell in cells if cell)
        return
    if getattr(shape, "has_chart", False) and shape.has_chart:
        chart = shape.chart
        if chart.has_title and chart.chart_title.has_text_frame:
            text = _one_line(chart.chart_title.text_frame.text)
            if text:
                yield f"Graphique : {text}"
        return
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for paragraph in shape.text_frame.paragraphs:
            # python-pptx renders a soft line break (<a:br>) as a vertical tab.
            for line in paragraph.text.split("\v"):
                if line.strip():
                    yield _one_line(line)


def _position(shape: Any) -> tuple[int, int]:
    return (shape.top or 0, shape.left or 0)


def load_pptx(data: bytes, *, filename: str, limits: Limits) -> tuple[str | None, list[Section], int]:
    """One section per slide of a PPTX: title, text boxes, tables and speaker notes."""
    import pptx
    from lxml import etree  # type: ignore[import-untyped]
    from pptx.exc import PackageNotFoundError

    check_zip(data, filename=filename, limits=limits)
    sections: list[Section] = []
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
        slides = list(presentation.slides)
        check_page_count(len(slides), filename=filename, limits=limits)
        for number, slide in enumerate(slides, start=1):
            title_shape = slide.shapes.title
            title = _one_line(title_shape.text_frame.text) if title_shape is not None else ""
            lines = [
                line
                for shape in sorted(slide.shapes, key=_position)
                if title_shape is None or shape.shape_id != title_shape.shape_id
                for line in _pptx_shape_lines(shape)
            ]
            notes = ""
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                notes = _one_line(slide.notes_slide.notes_text_frame.text)
            sections.append(_slide_section(number, title, lines, notes))
        core_title = (presentation.core_properties.title or "").strip()
    except (PackageNotFoundError, KeyError, ValueError, TypeError, zipfile.BadZipFile, etree.LxmlError) as exc:
        raise CorruptDocumentError(
            f"« {filename} » n'est pas une présentation PPTX valide.", filename=filename
        ) from exc
    first_title = next((s.heading for s in sections if s.heading and s.heading != f"Diapositive {s.page}"), None)
    return core_title or first_title, sections, len(slides)


# --- ODP -------------------------------------------------------------------------------------------------


def _length_cm(value: object) -> float:
    match = _LENGTH.fullmatch(str(value or "0").strip())
    if match is None:
        return 0.0
    try:
        return float(match.group(1)) * _UNITS_CM.get(match.group(2), 1.0)
    except ValueError:
        return 0.0


def _odp_position(node: Any) -> tuple[float, float]:
    from odf.namespaces import SVGNS  # type: ignore[import-untyped]

    return (_length_cm(node.getAttrNS(SVGNS, "y")), _length_cm(node.getAttrNS(SVGNS, "x")))


def _odp_text(node: Any) -> list[str]:
    return [_one_line(text) for _, text in odf_blocks(node) if text.strip()]


def _odp_slide(page: Any, number: int) -> Section:
    from odf.namespaces import DRAWNS, PRESENTATIONNS

    title = ""
    lines: list[str] = []
    notes: list[str] = []
    shapes = [child for child in page.childNodes if getattr(child, "qname", None) is not None]
    for shape in sorted(shapes, key=_odp_position):
        if shape.qname == (PRESENTATIONNS, "notes"):
            notes += _odp_text(shape)
        elif not title and shape.getAttrNS(PRESENTATIONNS, "class") == "title":
            title = " ".join(_odp_text(shape))
        else:
            lines += _odp_text(shape)
    # Tools built on odfpy escape a slide name like a style name (« Annexe_20_financière »); LibreOffice does not.
    name = _one_line(str(page.getAttrNS(DRAWNS, "name") or "").replace("_20_", " ").replace("_3a_", ":"))
    if not title and name and not _GENERATED_NAME.fullmatch(name):
        title = name
    return _slide_section(number, title, lines, " ".join(notes))


def load_odp(data: bytes, *, filename: str, limits: Limits) -> tuple[str | None, list[Section], int]:
    """One section per slide (``draw:page``) of an ODP: title, text boxes, tables and speaker notes."""
    from xml.parsers.expat import ExpatError
    from xml.sax import SAXException

    from odf import dc  # type: ignore[import-untyped]
    from odf.draw import Page  # type: ignore[import-untyped]
    from odf.opendocument import load  # type: ignore[import-untyped]

    check_zip(data, filename=filename, limits=limits)
    check_odf_encryption(data, filename=filename)
    try:
        document = load(io.BytesIO(data))
        pages = document.presentation.getElementsByType(Page)
        check_page_count(len(pages), filename=filename, limits=limits)
        sections = [_odp_slide(page, number) for number, page in enumerate(pages, start=1)]
        meta_titles = [str(node).strip() for node in document.meta.getElementsByType(dc.Title)]
    except (KeyError, ValueError, zipfile.BadZipFile, SAXException, ExpatError, AttributeError) as exc:
        raise CorruptDocumentError(f"« {filename} » n'est pas une présentation ODP valide.", filename=filename) from exc
    first_title = next((s.heading for s in sections if s.heading and s.heading != f"Diapositive {s.page}"), None)
    return next((t for t in meta_titles if t), None) or first_title, sections, len(pages)
