"""XLSX (openpyxl) and ODS (odfpy) loaders: each sheet becomes self-describing rows, behind a zip-bomb guard.

Every data row is written as one line that repeats the header of each of its cells::

    Ligne 3 — Poste : Formation ; Montant : 1200 ; Service : RH

so a chunk cut anywhere between two rows still says what each value is (for the retriever and the LLM),
and the header row never has to be in the same chunk. Rows of one sheet are grouped into sections of at
most ~``SECTION_CHARS`` characters, headed « Feuille <name> » with the 1-based sheet number as page.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rag._limits import Limits, check_page_count
from rag._office import check_odf_encryption, check_zip
from rag._types import Section
from rag.errors import CorruptDocumentError, DocumentTooLargeError

__all__ = ["SECTION_CHARS", "load_ods", "load_xlsx"]

logger = logging.getLogger(__name__)

SECTION_CHARS = 2_000
# A header is looked for among the first rows only: a sheet often starts with a title or a note above it.
_HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True, slots=True)
class _Row:
    """One non-empty row: its 1-based number and its non-empty cells by 0-based column."""

    number: int
    cells: dict[int, str]
    all_text: bool  # no number, date or boolean among the cells: the row can be a header


class _Budget:
    """Cells visited and characters kept in one workbook, both capped by ``limits.max_chars``.

    Counting visited cells (empty ones included) bounds the work on sheets that declare huge empty
    ranges; counting characters bounds memory before the dispatcher's final check.
    """

    def __init__(self, *, filename: str, limits: Limits) -> None:
        self._filename = filename
        self._cap = limits.max_chars
        self._cells = 0
        self._chars = 0

    def visit(self, cells: int, chars: int = 0) -> None:
        self._cells += cells
        self._chars += chars
        if self._cells > self._cap:
            raise DocumentTooLargeError(
                f"« {self._filename} » contient trop de cellules (plus de {self._cap}).", filename=self._filename
            )
        if self._chars > self._cap:
            raise DocumentTooLargeError(
                f"« {self._filename} » contient trop de texte (plus de {self._cap} caractères).",
                filename=self._filename,
            )


def _column_letter(index: int) -> str:
    """Spreadsheet name of a 0-based column (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _clean(text: str) -> str:
    return " ".join(text.split())


def _value_text(value: object) -> str:
    """Display text of a cached cell value: numbers with a decimal comma, French dates and booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        # The decimal comma a French spreadsheet shows (and a French question types).
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value).replace(".", ",")
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y") if value.time() == dt.time() else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return _clean(str(value))


def _find_header(rows: list[_Row]) -> int | None:
    """Index of the header row: the first of the top rows made of text only and as wide as the data."""
    width = len({column for row in rows for column in row.cells})
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if row.all_text and len(row.cells) >= min(2, width) and index + 1 < len(rows):
            return index
    return None


def _row_line(row: _Row, header: dict[int, str] | None) -> str:
    if header is None:
        fields = [f"{_column_letter(column)} : {text}" for column, text in sorted(row.cells.items())]
    else:
        fields = [
            f"{header.get(column) or 'Colonne ' + _column_letter(column)} : {text}"
            for column, text in sorted(row.cells.items())
        ]
    return f"Ligne {row.number} — " + " ; ".join(fields)


def _sheet_sections(name: str, number: int, rows: list[_Row]) -> list[Section]:
    """Sections of one sheet: lines above the header as they are, then one self-describing line per row."""
    header_index = _find_header(rows)
    header = rows[header_index].cells if header_index is not None else None
    lines: list[str] = []
    for index, row in enumerate(rows):
        if header_index is not None and index < header_index:
            lines.append(" ".join(text for _, text in sorted(row.cells.items())))
        elif index != header_index:
            lines.append(_row_line(row, header))
    heading = f"Feuille {name}" if name else f"Feuille {number}"
    sections: list[Section] = []
    group: list[str] = []
    size = 0
    for line in lines:
        if group and size + len(line) > SECTION_CHARS:
            sections.append(Section(text="\n".join(group), page=number, heading=heading))
            group, size = [], 0
        group.append(line)
        size += len(line) + 1
    if group:
        sections.append(Section(text="\n".join(group), page=number, heading=heading))
    return sections


# --- XLSX ------------------------------------------------------------------------------------------------


def _xlsx_rows(sheet: Any, budget: _Budget) -> Iterator[_Row]:
    # reset_dimensions: ignore the sheet's declared <dimension>, which openpyxl would otherwise use to pad
    # every row (a forged "A1:XFD1048576" would mean 16384 cells a row); rows then hold only stored cells.
    sheet.reset_dimensions()
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells: dict[int, str] = {}
        all_text = True
        for column, value in enumerate(values):
            text = _value_text(value)
            if text:
                cells[column] = text
                all_text = all_text and isinstance(value, str)
        budget.visit(max(len(values), 1), sum(len(text) for text in cells.values()))
        if cells:
            yield _Row(number, cells, all_text)


def load_xlsx(data: bytes, *, filename: str, limits: Limits) -> tuple[str | None, list[Section], int]:
    """Sheets of an XLSX workbook as rows of « en-tête : valeur »; formulas give their cached values."""
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    check_zip(data, filename=filename, limits=limits)
    budget = _Budget(filename=filename, limits=limits)
    sections: list[Section] = []
    try:
        # data_only: the values Excel/LibreOffice cached at the last save, never the formulas' source.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            names = workbook.sheetnames
            check_page_count(len(names), filename=filename, limits=limits)
            for sheet in workbook.worksheets:  # chart sheets hold no cells and are not listed here
                rows = list(_xlsx_rows(sheet, budget))
                sections.extend(_sheet_sections(sheet.title, names.index(sheet.title) + 1, rows))
            title = (workbook.properties.title or "").strip() or None
        finally:
            workbook.close()
    except (
        InvalidFileException,
        KeyError,
        ValueError,
        TypeError,
        IndexError,
        AttributeError,
        zipfile.BadZipFile,
        SyntaxError,  # xml.etree.ElementTree.ParseError
        OSError,
    ) as exc:
        raise CorruptDocumentError(f"« {filename} » n'est pas un classeur XLSX valide.", filename=filename) from exc
    return title, sections, len(names)


# --- ODS -------------------------------------------------------------------------------------------------


def _repeat(node: Any, attribute: str) -> int:
    from odf.namespaces import TABLENS  # type: ignore[import-untyped]

    value = node.getAttrNS(TABLENS, attribute)
    return int(value) if value and str(value).isdigit() and int(value) > 0 else 1


def _ods_cell_text(cell: Any) -> str:
    """Displayed text of a cell (its paragraphs), which for formulas is the value cached at the last save."""
    from odf import teletype  # type: ignore[import-untyped]
    from odf.namespaces import TEXTNS

    paragraphs = [teletype.extractText(child) for child in cell.childNodes if child.qname == (TEXTNS, "p")]
    return _clean(" ".join(paragraphs))


def _ods_row_cells(row: Any, budget: _Budget) -> tuple[dict[int, str], bool]:
    from odf.namespaces import OFFICENS, TABLENS

    cells: dict[int, str] = {}
    all_text = True
    column = 0
    for cell in row.childNodes:
        if cell.qname not in ((TABLENS, "table-cell"), (TABLENS, "covered-table-cell")):
            continue
        count = _repeat(cell, "number-columns-repeated")
        text = _ods_cell_text(cell)
        if text:
            # Only non-empty repeats are expanded, and each copy counts against the budget; an empty run
            # (LibreOffice pads rows to the last column this way) just moves the column on.
            budget.visit(count, count * len(text))
            value_type = cell.getAttrNS(OFFICENS, "value-type")
            all_text = all_text and value_type in (None, "", "string")
            for offset in range(count):
                cells[column + offset] = text
        else:
            budget.visit(1)
        column += count
    return cells, all_text


def _ods_row_runs(node: Any, budget: _Budget) -> Iterator[tuple[int, dict[int, str], bool]]:
    """``(repeat count, cells, all_text)`` per row element, inside row groups and header-row blocks too."""
    from odf.namespaces import TABLENS

    for child in node.childNodes:
        qname = getattr(child, "qname", None)
        if qname == (TABLENS, "table-row"):
            count = _repeat(child, "number-rows-repeated")
            cells, all_text = _ods_row_cells(child, budget)
            if cells:  # copies of a non-empty row count against the budget before they are made
                budget.visit((count - 1) * len(cells), (count - 1) * sum(len(text) for text in cells.values()))
            yield count, cells, all_text
        elif qname in ((TABLENS, "table-header-rows"), (TABLENS, "table-rows"), (TABLENS, "table-row-group")):
            yield from _ods_row_runs(child, budget)


def _ods_rows(table: Any, budget: _Budget) -> list[_Row]:
    rows: list[_Row] = []
    number = 1
    for count, cells, all_text in _ods_row_runs(table, budget):
        if cells:
            rows.extend(_Row(number + offset, cells, all_text) for offset in range(count))
        number += count  # a run of empty rows only moves the row number on
    return rows


def load_ods(data: bytes, *, filename: str, limits: Limits) -> tuple[str | None, list[Section], int]:
    """Sheets of an ODS spreadsheet as rows of « en-tête : valeur »; formulas give their displayed values."""
    from xml.parsers.expat import ExpatError
    from xml.sax import SAXException

    from odf import dc
    from odf.opendocument import load  # type: ignore[import-untyped]
    from odf.table import Table  # type: ignore[import-untyped]

    check_zip(data, filename=filename, limits=limits)
    check_odf_encryption(data, filename=filename)
    budget = _Budget(filename=filename, limits=limits)
    sections: list[Section] = []
    try:
        document = load(io.BytesIO(data))
        tables = document.spreadsheet.getElementsByType(Table)
        check_page_count(len(tables), filename=filename, limits=limits)
        for number, table in enumerate(tables, start=1):
            name = str(table.getAttribute("name") or "").strip()
            sections.extend(_sheet_sections(name, number, _ods_rows(table, budget)))
        meta_titles = [str(node).strip() for node in document.meta.getElementsByType(dc.Title)]
    except (KeyError, ValueError, zipfile.BadZipFile, SAXException, ExpatError, AttributeError) as exc:
        raise CorruptDocumentError(f"« {filename} » n'est pas un classeur ODS valide.", filename=filename) from exc
    return next((t for t in meta_titles if t), None), sections, len(tables)
