"""DOCX (python-docx) and ODT (odfpy) loaders, and the zip-bomb and ODF encryption guards of every office format."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from typing import Any

from rag._limits import Limits
from rag._sections import heading_path, make_section, push_heading
from rag._types import Section
from rag.errors import CorruptDocumentError, DocumentTooLargeError, EncryptedDocumentError

__all__ = ["check_odf_encryption", "check_zip", "load_docx", "load_odt", "odf_blocks"]

logger = logging.getLogger(__name__)

_MAX_ZIP_ENTRIES = 5_000


def check_zip(data: bytes, *, filename: str, limits: Limits) -> None:
    """Refuse archives whose declared uncompressed size or ratio is abnormal (zip bombs).

    Checking the declared sizes is enough: :mod:`zipfile` stops decompressing an entry at its declared
    size and then fails its CRC check, so an entry that lies about its size cannot expand further.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise CorruptDocumentError(f"« {filename} » est une archive endommagée.", filename=filename) from exc
    total = sum(entry.file_size for entry in entries)
    if (
        len(entries) > _MAX_ZIP_ENTRIES
        or total > limits.max_uncompressed_bytes
        or total > limits.max_compression_ratio * max(len(data), 1)
    ):
        raise DocumentTooLargeError(
            f"« {filename} » se décompresse en un volume anormal ({total} octets) : fichier refusé.",
            filename=filename,
        )
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise EncryptedDocumentError(f"« {filename} » est chiffré.", filename=filename)


def check_odf_encryption(data: bytes, *, filename: str) -> None:
    """Refuse a password-protected ODF file (its manifest describes the encryption); call after :func:`check_zip`."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            manifest = archive.read("META-INF/manifest.xml")
        except KeyError:
            manifest = b""
    if b"encryption-data" in manifest:
        raise EncryptedDocumentError(
            f"« {filename} » est protégé par un mot de passe : retirez la protection puis déposez-le à nouveau.",
            filename=filename,
        )


def _docx_blocks(document: Any) -> Iterator[tuple[int | None, str]]:
    """(heading level or None, text) for each paragraph and table row, in document order."""
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [cell.text.strip() for cell in row.cells]
                # Merged cells repeat their text in each grid cell: keep one copy.
                unique = [text for i, text in enumerate(cells) if text and text not in cells[:i]]
                if unique:
                    yield None, " | ".join(unique)
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        level: int | None = None
        if style == "Title":
            level = 0
        elif style.startswith("Heading "):
            suffix = style.removeprefix("Heading ")
            level = int(suffix) if suffix.isdigit() else 1
        if text:
            yield level, text


def _sections_from_blocks(blocks: Iterator[tuple[int | None, str]]) -> tuple[str | None, list[Section]]:
    title: str | None = None
    sections: list[Section] = []
    stack: list[str] = []
    lines: list[str] = []

    def flush() -> None:
        section = make_section(lines, heading=heading_path(stack))
        if section is not None:
            sections.append(section)
        lines.clear()

    for level, text in blocks:
        if level is None:
            lines.append(text)
            continue
        flush()
        if level == 0:
            title = title or text
            continue
        push_heading(stack, level, text)
    flush()
    return title, sections


def load_docx(data: bytes, *, filename: str, limits: Limits) -> tuple[str | None, list[Section]]:
    """Paragraphs and tables of a DOCX grouped by "Heading n" styles; title from the core properties."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree  # type: ignore[import-untyped]

    check_zip(data, filename=filename, limits=limits)
    try:
        document = docx.Document(io.BytesIO(data))
        title, sections = _sections_from_blocks(_docx_blocks(document))
        core_title = (document.core_properties.title or "").strip()
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, etree.LxmlError) as exc:
        raise CorruptDocumentError(f"« {filename} » n'est pas un DOCX valide.", filename=filename) from exc
    return core_title or title, sections


def odf_blocks(node: Any) -> Iterator[tuple[int | None, str]]:
    """Walk an ODF element in order: headings, paragraphs, and the paragraphs nested in lists/tables/frames."""
    from odf import teletype  # type: ignore[import-untyped]
    from odf.namespaces import TABLENS, TEXTNS  # type: ignore[import-untyped]

    for child in node.childNodes:
        qname = getattr(child, "qname", None)
        if qname == (TEXTNS, "h"):
            level = child.getAttrNS(TEXTNS, "outline-level")
            text = teletype.extractText(child).strip()
            if text:
                yield (int(level) if level and str(level).isdigit() else 1), text
        elif qname == (TEXTNS, "p"):
            text = teletype.extractText(child).strip()
            if text:
                yield None, text
        elif qname == (TABLENS, "table-row"):
            cells = [teletype.extractText(cell).strip() for cell in child.childNodes]
            if any(cells):
                yield None, " | ".join(cell for cell in cells if cell)
        elif qname is not None:
            yield from odf_blocks(child)


def load_odt(data: bytes, *, filename: str, limits: Limits) -> tuple[str | None, list[Section]]:
    """Headings and paragraphs of an ODT (``text:h`` outline levels); title from the document metadata."""
    from xml.parsers.expat import ExpatError
    from xml.sax import SAXException

    from odf import dc
    from odf.opendocument import load  # type: ignore[import-untyped]

    check_zip(data, filename=filename, limits=limits)
    check_odf_encryption(data, filename=filename)
    try:
        document = load(io.BytesIO(data))
        title, sections = _sections_from_blocks(odf_blocks(document.text))
        meta_titles = [str(node).strip() for node in document.meta.getElementsByType(dc.Title)]
    except (KeyError, ValueError, zipfile.BadZipFile, SAXException, ExpatError, AttributeError) as exc:
        raise CorruptDocumentError(f"« {filename} » n'est pas un ODT valide.", filename=filename) from exc
    meta_title = next((t for t in meta_titles if t), None)
    return meta_title or title, sections
