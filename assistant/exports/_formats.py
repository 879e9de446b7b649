"""Choosing a format, writing an export, and verifying one that comes back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.errors import InvalidRequestError
from assistant.exports._document import ExportDocument, ExtractedItem
from assistant.exports._docx import read_docx, write_docx
from assistant.exports._markdown import read_markdown, write_markdown
from assistant.exports._odt import read_odt, write_odt
from assistant.provenance import ProvenanceSigner, Verification

__all__ = ["MEDIA_TYPES", "ExportFormat", "ExportVerification", "detect_format", "render_export", "verify_export"]

ExportFormat = Literal["md", "docx", "odt"]
MEDIA_TYPES: dict[ExportFormat, str] = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}


@dataclass(frozen=True)
class ExportVerification:
    """Verdict on a whole export: one verification per generated passage it declares."""

    file_format: ExportFormat
    items: tuple[Verification, ...]

    @property
    def valid(self) -> bool:
        """True when every generated passage is present, unmodified and properly signed."""
        return bool(self.items) and all(item.valid for item in self.items)


def render_export(document: ExportDocument, file_format: ExportFormat) -> bytes:
    """The export's bytes in ``file_format``."""
    if file_format == "md":
        return write_markdown(document).encode("utf-8")
    if file_format == "docx":
        return write_docx(document)
    return write_odt(document)


def detect_format(data: bytes, filename: str | None = None) -> ExportFormat:
    """Tell Markdown, DOCX and ODT apart by content (zip members), falling back to the file name."""
    if data[:2] == b"PK":
        if b"mimetypeapplication/vnd.oasis.opendocument.text" in data[:200]:
            return "odt"
        if b"word/" in data:
            return "docx"
        raise InvalidRequestError("Archive non reconnue : seuls les exports DOCX et ODT sont vérifiables.")
    if filename and not filename.lower().endswith((".md", ".markdown", ".txt")):
        raise InvalidRequestError("Format non reconnu : fournissez un export Markdown, DOCX ou ODT.")
    return "md"


def _extract(data: bytes, file_format: ExportFormat) -> list[ExtractedItem]:
    if file_format == "md":
        try:
            return read_markdown(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidRequestError("Fichier Markdown illisible (encodage non UTF-8).") from exc
    return read_docx(data) if file_format == "docx" else read_odt(data)


def verify_export(data: bytes, signer: ProvenanceSigner, *, filename: str | None = None) -> ExportVerification:
    """Check every generated passage of an export against its signed manifest."""
    file_format = detect_format(data, filename)
    results = []
    for item in _extract(data, file_format):
        if item.text is None:
            results.append(Verification(True, False, item.manifest, "passage généré supprimé du document"))
        else:
            results.append(signer.verify(item.manifest, item.text))
    return ExportVerification(file_format, tuple(results))
