"""Build real documents of every supported format at test time."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def make_pdf(pages: list[tuple[str, str]], *, font: Path, title: str | None = None) -> bytes:
    """A text PDF, one (bookmark heading, body) per page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("dejavu", fname=str(font))
    pdf.set_font("dejavu", size=12)
    if title:
        pdf.set_title(title)
    for heading, body in pages:
        pdf.add_page()
        pdf.start_section(heading)
        pdf.multi_cell(0, 8, body)
    return bytes(pdf.output())


def render_text(lines: list[str], *, font: Path, size: int = 34) -> Image.Image:
    """A white page with black text, as a scanner would produce it."""
    face = ImageFont.truetype(str(font), size)
    image = Image.new("RGB", (1300, 120 + 90 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((60, 60 + 90 * number), line, font=face, fill="black")
    return image


def make_png(lines: list[str], *, font: Path) -> bytes:
    buffer = io.BytesIO()
    render_text(lines, font=font).save(buffer, format="PNG")
    return buffer.getvalue()


def make_scanned_pdf(lines: list[str], *, font: Path) -> bytes:
    """A PDF whose only page is an image of text (no text layer)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.image(render_text(lines, font=font), x=10, y=10, w=190)
    return bytes(pdf.output())


def make_docx(
    *, title: str, blocks: list[tuple[int | None, str]], table: list[list[str]] | None = None
) -> bytes:
    """DOCX from (heading level or None for a paragraph, text) blocks."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for level, text in blocks:
        if level is None:
            document.add_paragraph(text)
        else:
            document.add_heading(text, level)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_odt(*, title: str, blocks: list[tuple[int | None, str]]) -> bytes:
    from odf import dc
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text=title))
    for level, text in blocks:
        document.text.addElement(P(text=text) if level is None else H(outlinelevel=level, text=text))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()
