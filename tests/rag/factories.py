"""Build real documents of every supported format at test time."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def make_docx(*, title: str, blocks: list[tuple[int | None, str]], table: list[list[str]] | None = None) -> bytes:
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


def rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same archive with some entries' content replaced (to forge what a writer library cannot)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry, replace.get(entry.filename, source.read(entry)))
    return buffer.getvalue()


def make_xlsx(sheets: dict[str, list[list[object]]], *, title: str | None = None) -> bytes:
    """XLSX with one sheet per (name, rows); ``None`` leaves a cell empty, a str starting with '=' is a formula."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
    if title:
        workbook.properties.title = title
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_ods(sheets: dict[str, list[list[object]]], *, title: str | None = None) -> bytes:
    """ODS with one table per (name, rows): numbers typed as floats, ``None`` an empty cell."""
    from odf import dc
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    if title:
        document.meta.addElement(dc.Title(text=title))
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for value in row:
                if value is None:
                    table_row.addElement(TableCell())
                elif isinstance(value, int | float):
                    cell = TableCell(valuetype="float", value=str(value))
                    cell.addElement(P(text=str(value)))
                    table_row.addElement(cell)
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(value)))
                    table_row.addElement(cell)
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def make_pptx(
    slides: list[dict[str, object]],
    *,
    title: str | None = None,
) -> bytes:
    """PPTX from dicts with optional keys ``title``, ``body`` (list of lines), ``table`` (rows), ``notes``."""
    import pptx
    from pptx.util import Cm

    presentation = pptx.Presentation()
    if title:
        presentation.core_properties.title = title
    for spec in slides:
        layout = presentation.slide_layouts[1 if spec.get("title") else 6]  # "Title and Content" or "Blank"
        slide = presentation.slides.add_slide(layout)
        if spec.get("title"):
            slide.shapes.title.text = str(spec["title"])
            body = slide.placeholders[1]
            body.text = "\n".join(spec.get("body", []))  # type: ignore[arg-type]
        elif spec.get("body"):
            box = slide.shapes.add_textbox(Cm(2), Cm(2), Cm(20), Cm(4))
            box.text_frame.text = "\n".join(spec["body"])  # type: ignore[arg-type]
        table = spec.get("table")
        if table:
            rows: list[list[str]] = table  # type: ignore[assignment]
            grid = slide.shapes.add_table(len(rows), len(rows[0]), Cm(2), Cm(12), Cm(20), Cm(4)).table
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    grid.cell(r, c).text = value
        if spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = str(spec["notes"])
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def make_odp(slides: list[dict[str, object]], *, title: str | None = None) -> bytes:
    """ODP from dicts with optional keys ``title``, ``body`` (list of lines), ``notes``, ``name``."""
    from odf import dc
    from odf.draw import Frame, Page, TextBox
    from odf.namespaces import PRESENTATIONNS
    from odf.opendocument import OpenDocumentPresentation
    from odf.presentation import Notes
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    document = OpenDocumentPresentation()
    if title:
        document.meta.addElement(dc.Title(text=title))
    layout = PageLayout(name="PM1")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    document.masterstyles.addElement(master)

    def frame(kind: str, lines: list[str], y: str) -> Frame:
        box = Frame(width="20cm", height="3cm", x="2cm", y=y)
        box.setAttrNS(PRESENTATIONNS, "class", kind)
        text_box = TextBox()
        for line in lines:
            text_box.addElement(P(text=line))
        box.addElement(text_box)
        return box

    for number, spec in enumerate(slides, start=1):
        page = Page(name=str(spec.get("name", f"page{number}")), masterpagename=master)
        # The body frame comes first in the file: reading order must follow the position on the slide.
        if spec.get("body"):
            page.addElement(frame("outline", spec["body"], "6cm"))  # type: ignore[arg-type]
        if spec.get("title"):
            page.addElement(frame("title", [str(spec["title"])], "1cm"))
        if spec.get("notes"):
            notes = Notes()
            notes.addElement(frame("notes", [str(spec["notes"])], "15cm"))
            page.addElement(notes)
        document.presentation.addElement(page)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def _msg_properties(header: bytes, properties: dict[int, tuple[int, bytes]]) -> bytes:
    """A MAPI property stream: ``header`` then one 16-byte entry per (tag → (flags, 8-byte value))."""
    import struct

    return header + b"".join(
        struct.pack("<II", tag, flags) + value.ljust(8, b"\x00") for tag, (flags, value) in properties.items()
    )


def _write_msg(
    writer: Any,
    prefix: str,
    *,
    subject: str,
    sender: tuple[str, str],
    to: list[tuple[str, str]],
    body: str,
    sent: datetime | None,
    attachments: list[tuple[str, bytes | dict[str, Any]]],
    html: str | None,
    codepage: int | None,
) -> None:
    import struct

    def string(prop: str, value: str) -> tuple[str, bytes]:
        if codepage is None:
            return f"__substg1.0_{prop}001F", value.encode("utf-16-le")
        return f"__substg1.0_{prop}001E", value.encode(f"cp{codepage}")

    strings = {"001A": "IPM.Note", "0037": subject, "0C1A": sender[0], "5D01": sender[1], "1000": body}
    strings["0E04"] = "; ".join(name for name, _ in to)
    for prop, value in strings.items():
        writer.addEntry(prefix + string(prop, value)[0], string(prop, value)[1])
    if html is not None:
        writer.addEntry(f"{prefix}__substg1.0_10130102", html.encode("utf-8"))
    properties: dict[int, tuple[int, bytes]] = {0x0E070003: (6, struct.pack("<I", 1))}  # MSGFLAG_READ: sent
    if codepage is not None:
        properties[0x3FFD0003] = (6, struct.pack("<I", codepage))  # PR_MESSAGE_CODEPAGE
    if html is not None:
        properties[0x3FDE0003] = (6, struct.pack("<I", 65001))  # PR_INTERNET_CPID: the HTML body is UTF-8
    if sent is not None:
        filetime = int((sent - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)
        properties[0x00390040] = (6, struct.pack("<Q", filetime))  # PR_CLIENT_SUBMIT_TIME
    counts = struct.pack("<IIII", len(to), len(attachments), len(to), len(attachments))
    header = bytes(8) + counts + (bytes(8) if not prefix else b"")  # an embedded message's header is 24 bytes
    writer.addEntry(f"{prefix}__properties_version1.0", _msg_properties(header, properties))
    for number, (name, address) in enumerate(to):
        storage = f"{prefix}__recip_version1.0_#{number:08X}"
        writer.addEntry(storage, storage=True)
        writer.addEntry(f"{storage}/__substg1.0_3001001F", name.encode("utf-16-le"))
        writer.addEntry(f"{storage}/__substg1.0_39FE001F", address.encode("utf-16-le"))
        recipient = {0x0C150003: (6, struct.pack("<I", 1)), 0x30000003: (6, struct.pack("<I", number))}
        writer.addEntry(f"{storage}/__properties_version1.0", _msg_properties(bytes(8), recipient))
    for number, (filename, content) in enumerate(attachments):
        storage = f"{prefix}__attach_version1.0_#{number:08X}"
        writer.addEntry(storage, storage=True)
        attachment = {0x0E210003: (6, struct.pack("<I", number))}  # PR_ATTACH_NUM
        if isinstance(content, dict):  # an attached message, stored whole in its own storage
            writer.addEntry(f"{storage}/__substg1.0_3001001F", filename.encode("utf-16-le"))
            inner = f"{storage}/__substg1.0_3701000D"
            writer.addEntry(inner, storage=True)
            defaults: dict[str, Any] = {"sent": None, "attachments": [], "html": None, "codepage": None}
            _write_msg(writer, inner + "/", **{**defaults, **content})
            attachment[0x37050003] = (6, struct.pack("<I", 5))  # PR_ATTACH_METHOD: ATTACH_EMBEDDED_MSG
        else:
            writer.addEntry(f"{storage}/__substg1.0_3707001F", filename.encode("utf-16-le"))
            writer.addEntry(f"{storage}/__substg1.0_37010102", content)
            attachment[0x37050003] = (6, struct.pack("<I", 1))  # PR_ATTACH_METHOD: ATTACH_BY_VALUE
            attachment[0x37010102] = (6, struct.pack("<I", len(content)))
        writer.addEntry(f"{storage}/__properties_version1.0", _msg_properties(bytes(8), attachment))


def make_msg(
    *,
    subject: str,
    sender: tuple[str, str],
    to: list[tuple[str, str]],
    body: str,
    sent: datetime | None = None,
    attachments: list[tuple[str, bytes | dict[str, Any]]] | None = None,
    html: str | None = None,
    codepage: int | None = None,
) -> bytes:
    """An Outlook message (IPM.Note) as Outlook stores it: an OLE2 file of MAPI property streams.

    Written with extract-msg's OLE writer (a test-only dependency). Strings are PT_UNICODE (UTF-16LE) unless a
    ``codepage`` is given (PT_STRING8, as older Outlook versions write them); an attachment given as a dict
    of these arguments is an attached message.
    """
    from extract_msg.ole_writer import OleWriter

    writer = OleWriter()
    _write_msg(
        writer,
        "",
        subject=subject,
        sender=sender,
        to=to,
        body=body,
        sent=sent,
        attachments=attachments or [],
        html=html,
        codepage=codepage,
    )
    writer.addEntry("__nameid_version1.0", storage=True)
    for stream in ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102"):
        writer.addEntry(f"__nameid_version1.0/{stream}", b"")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
