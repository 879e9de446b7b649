"""Entry point of the loaders: detect the format, enforce limits, dispatch to the right parser."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from rag._limits import Limits
from rag._ocr import OcrEngine, RapidOcrEngine
from rag._types import LoadedDocument, Section
from rag.errors import (
    CorruptDocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    UnsupportedFormatError,
)

__all__ = ["SUPPORTED_MIME_TYPES", "load_document"]

logger = logging.getLogger(__name__)

Kind = Literal[
    "pdf", "docx", "odt", "xlsx", "ods", "pptx", "odp", "eml", "msg", "html", "markdown", "text", "image"
]  # fmt: skip

SUPPORTED_MIME_TYPES: dict[str, Kind] = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "message/rfc822": "eml",
    "application/vnd.ms-outlook": "msg",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": "text",
    "image/png": "image",
    "image/jpeg": "image",
    "image/tiff": "image",
    "image/webp": "image",
}
_CANONICAL_MIME: dict[Kind, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "eml": "message/rfc822",
    "msg": "application/vnd.ms-outlook",
    "html": "text/html",
    "markdown": "text/markdown",
    "text": "text/plain",
}
_EXTENSIONS: dict[str, Kind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".odt": "odt",
    ".xlsx": "xlsx",
    ".ods": "ods",
    ".pptx": "pptx",
    ".odp": "odp",
    ".eml": "eml",
    ".msg": "msg",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".csv": "text",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
    ".webp": "image",
}
_FORMATS_HINT = (
    "formats acceptés : PDF, DOCX, ODT, XLSX, ODS, PPTX, ODP, HTML, Markdown, texte, courriels EML/MSG, "
    "images PNG/JPEG/TIFF/WebP"
)
# Formats told apart by their content: when it does not match, the name or declared type is a lie.
_BINARY_KINDS: frozenset[Kind] = frozenset({"pdf", "docx", "odt", "xlsx", "ods", "pptx", "odp", "msg", "image"})
_OFFICE_ZIP_KINDS: frozenset[Kind] = frozenset({"docx", "odt", "xlsx", "ods", "pptx", "odp"})
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
# Outlook stores every MAPI property in a stream named __substg1.0_<tag>; directory names are UTF-16LE.
_MSG_STREAM = "__substg1.0_".encode("utf-16-le")
_ODF_MIMETYPE = re.compile(rb"application/vnd\.oasis\.opendocument\.(text|spreadsheet|presentation)")
_ODF_KINDS: dict[bytes, Kind] = {b"text": "odt", b"spreadsheet": "ods", b"presentation": "odp"}
_OOXML_PARTS: tuple[tuple[str, Kind], ...] = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))
_LEGACY_OFFICE_TARGETS = {".xls": "XLSX ou ODS", ".ppt": "PPTX ou ODP", ".pps": "PPTX ou ODP"}
# A mail may attach a mail that attaches a mail: deeper than that, attachments are noted, not read.
_MAX_ATTACHMENT_DEPTH = 2
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


_default_ocr: RapidOcrEngine | None = None
_default_ocr_lock = threading.Lock()


def _shared_ocr() -> RapidOcrEngine:
    # One process-wide engine: its ONNX sessions take ~1 s and ~100 MB to load.
    global _default_ocr
    with _default_ocr_lock:
        if _default_ocr is None:
            _default_ocr = RapidOcrEngine()
        return _default_ocr


def _zip_kind(data: bytes, filename: str, claimed: Kind | None) -> Kind:
    """Tell ZIP-based office formats apart by their entries: ODF ``mimetype``, OOXML ``[Content_Types].xml``."""
    match = _ODF_MIMETYPE.match(data, 38) if data[30:38] == b"mimetype" else None
    if match is not None:  # the fast path: ODF requires ``mimetype`` to be the first entry, stored
        return _ODF_KINDS[match.group(1)]
    try:
        # Only the central directory is read here (and a tiny ``mimetype`` entry): check_zip runs in the loader.
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            entry = archive.getinfo("mimetype") if "mimetype" in names else None
            mimetype = archive.read(entry) if entry is not None and entry.file_size <= 100 else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, ValueError):
        names, mimetype = [], b""
    match = _ODF_MIMETYPE.fullmatch(mimetype.strip())
    if match is not None:
        return _ODF_KINDS[match.group(1)]
    if "[Content_Types].xml" in names:
        for prefix, kind in _OOXML_PARTS:
            if any(name.startswith(prefix) for name in names):
                return kind
    if claimed in _OFFICE_ZIP_KINDS:
        return claimed  # its loader says precisely what is wrong with it (damaged, not a valid …)
    raise UnsupportedFormatError(
        f"« {filename} » est une archive ZIP qui n'est pas un document bureautique pris en charge "
        "(DOCX, ODT, XLSX, ODS, PPTX ou ODP).",
        filename=filename,
    )


def _is_outlook_message(data: bytes) -> bool:
    """Whether an OLE2 file holds MAPI property streams (``__substg1.0_…``) at its root, as a ``.msg`` does.

    The root matters: a legacy Word file can embed an Outlook message deeper in its tree.
    """
    if _MSG_STREAM not in data:
        return False
    import olefile  # type: ignore[import-untyped]

    try:
        with olefile.OleFileIO(data) as ole:
            return any(len(path) == 1 and path[0].startswith("__substg1.0_") for path in ole.listdir())
    except (OSError, ValueError, IndexError, TypeError, RecursionError):
        return False


def _ole2_kind(data: bytes, filename: str, claims: tuple[Kind | None, ...]) -> Kind:
    """An OLE2 container is an Outlook message, a password-protected OOXML file or a legacy Office file."""
    if _is_outlook_message(data):
        return "msg"
    if "msg" in claims:
        raise CorruptDocumentError(f"« {filename} » n'est pas un message Outlook (MSG) valide.", filename=filename)
    if any(kind in claims for kind in ("docx", "xlsx", "pptx")):
        # OOXML encryption wraps the zip in an OLE2 container.
        raise EncryptedDocumentError(
            f"« {filename} » est protégé par un mot de passe : retirez la protection puis déposez-le à nouveau.",
            filename=filename,
        )
    target = _LEGACY_OFFICE_TARGETS.get(PurePath(filename).suffix.lower(), "DOCX ou ODT")
    raise UnsupportedFormatError(
        f"« {filename} » est dans un ancien format Office : enregistrez-le en {target}.", filename=filename
    )


def _detect(data: bytes, filename: str, mime: str | None) -> Kind:
    """Trust the content's magic bytes first, then the declared MIME type, then the extension."""
    head = data[:8]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_IMAGE_MAGIC) or (head.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        return "image"
    declared = SUPPORTED_MIME_TYPES.get((mime or "").split(";")[0].strip().lower())
    by_extension = _EXTENSIONS.get(PurePath(filename).suffix.lower())
    if head.startswith(_OLE2_MAGIC):
        return _ole2_kind(data, filename, (by_extension, declared))
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data, filename, by_extension if by_extension in _OFFICE_ZIP_KINDS else declared)
    if by_extension == "eml" and declared in (None, "text"):
        return "eml"  # some clients send a saved mail as text/plain
    kind = declared or by_extension
    if kind is None or kind in _BINARY_KINDS:
        # Binary formats whose magic bytes did not match are either mislabelled or unknown.
        raise UnsupportedFormatError(
            f"Format de « {filename} » non pris en charge ({_FORMATS_HINT}).", filename=filename
        )
    return kind


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What one format's parser found, before it becomes a :class:`LoadedDocument` (or a mail's attachment)."""

    kind: Kind
    title: str | None
    sections: list[Section]
    page_count: int | None


@dataclass(frozen=True, slots=True)
class _OcrOptions:
    """The OCR settings of a load, handed down to the attachments of a mail."""

    engine: OcrEngine | None
    min_chars: int


def _parse(
    data: bytes, *, filename: str, mime: str | None, limits: Limits, ocr: _OcrOptions, depth: int = 0
) -> _Parsed:
    """Check the limits, detect the format and run its parser; ``depth`` counts enclosing mails."""
    if len(data) > limits.max_bytes:
        raise DocumentTooLargeError(
            f"« {filename} » dépasse la taille maximale autorisée ({len(data)} octets > {limits.max_bytes}).",
            filename=filename,
        )
    if not data.strip():
        raise EmptyDocumentError(f"« {filename} » est vide.", filename=filename)
    kind = _detect(data, filename, mime)
    logger.debug("loading %s as %s (%d bytes, depth %d)", filename, kind, len(data), depth)

    # Parsers are imported lazily so that a service that only searches does not pay for them.
    title: str | None
    page_count: int | None = None
    if kind == "pdf":
        from rag._pdf import load_pdf

        title, sections, page_count = load_pdf(
            data, filename=filename, limits=limits, ocr=ocr.engine, ocr_min_chars=ocr.min_chars
        )
    elif kind == "image":
        from rag._pdf import load_image

        title, sections = load_image(data, filename=filename, limits=limits, ocr=ocr.engine)
        page_count = 1
    elif kind in ("docx", "odt"):
        from rag._office import load_docx, load_odt

        loader = load_docx if kind == "docx" else load_odt
        title, sections = loader(data, filename=filename, limits=limits)
    elif kind in ("xlsx", "ods", "pptx", "odp"):
        from rag._slides import load_odp, load_pptx
        from rag._spreadsheet import load_ods, load_xlsx

        paged_loader = {"xlsx": load_xlsx, "ods": load_ods, "pptx": load_pptx, "odp": load_odp}[kind]
        title, sections, page_count = paged_loader(data, filename=filename, limits=limits)
    elif kind in ("eml", "msg"):
        from rag._mail import load_eml, load_msg

        def load_attachment(part: bytes, name: str, part_mime: str | None, part_limits: Limits) -> list[Section]:
            if depth >= _MAX_ATTACHMENT_DEPTH:
                raise UnsupportedFormatError(
                    f"« {name} » est imbriqué trop profondément (plus de {_MAX_ATTACHMENT_DEPTH} niveaux de "
                    "pièces jointes).",
                    filename=name,
                )
            parsed = _parse(part, filename=name, mime=part_mime, limits=part_limits, ocr=ocr, depth=depth + 1)
            return parsed.sections

        mail_loader = load_eml if kind == "eml" else load_msg
        title, sections = mail_loader(data, filename=filename, limits=limits, load_attachment=load_attachment)
    else:
        from rag._markup import load_html, load_markdown, load_text

        markup_loader = {"html": load_html, "markdown": load_markdown, "text": load_text}[kind]
        title, sections = markup_loader(data, filename=filename, limits=limits)

    sections = [s for s in sections if s.text.strip()]
    if not sections:
        hint = " (aucune couche texte et OCR désactivé)" if kind in ("pdf", "image") and not ocr.engine else ""
        raise EmptyDocumentError(f"Aucun texte exploitable dans « {filename} »{hint}.", filename=filename)
    if sum(len(s.text) for s in sections) > limits.max_chars:
        raise DocumentTooLargeError(
            f"« {filename} » contient trop de texte (plus de {limits.max_chars} caractères).",
            filename=filename,
        )
    return _Parsed(kind, title, sections, page_count)


def load_document(
    data: bytes,
    *,
    filename: str,
    mime: str | None = None,
    max_bytes: int,
    max_pages: int,
    max_chars: int = 5_000_000,
    max_image_pixels: int = 50_000_000,
    max_uncompressed_bytes: int | None = None,
    max_compression_ratio: int = 200,
    ocr: OcrEngine | None = None,
    enable_ocr: bool = True,
    ocr_min_chars: int = 20,
) -> LoadedDocument:
    """Extract the text of one document with page numbers and headings for citations.

    Supported: PDF (text layer, OCR for pages without one), scanned images (OCR), DOCX, ODT, XLSX and
    ODS (page = sheet number), PPTX and ODP (page = slide number), EML and Outlook MSG mails (attachments
    loaded too, two levels deep at most), HTML, Markdown and plain text (charset detected). ``ocr``
    defaults to a shared bundled rapidocr engine; ``enable_ocr=False`` skips OCR (scanned pages then
    count as empty). ``max_uncompressed_bytes`` (default ``10 * max_bytes``) and ``max_compression_ratio``
    guard the ZIP-based office formats against zip bombs.

    Raises a :class:`rag.errors.DocumentError` subclass, with a French message, for any document that
    cannot be ingested; the caller marks that document failed and goes on with the batch.

    Example::

        doc = load_document(data, filename="guide.pdf", max_bytes=50_000_000, max_pages=500)
        for section in doc.sections:
            print(section.page, section.heading, section.text[:80])
    """
    limits = Limits(
        max_bytes=max_bytes,
        max_pages=max_pages,
        max_chars=max_chars,
        max_image_pixels=max_image_pixels,
        max_uncompressed_bytes=max_uncompressed_bytes or 10 * max_bytes,
        max_compression_ratio=max_compression_ratio,
    )
    engine = (ocr or _shared_ocr()) if enable_ocr else None
    parsed = _parse(data, filename=filename, mime=mime, limits=limits, ocr=_OcrOptions(engine, ocr_min_chars))
    return LoadedDocument(
        filename=filename,
        mime=_CANONICAL_MIME.get(parsed.kind) or (mime or "image/png"),
        title=parsed.title or PurePath(filename).stem,
        sections=tuple(parsed.sections),
        content_hash=hashlib.sha256(data).hexdigest(),
        page_count=parsed.page_count,
    )
