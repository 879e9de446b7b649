"""Entry point of the loaders: detect the format, enforce limits, dispatch to the right parser."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import PurePath
from typing import Literal

from rag._limits import Limits
from rag._ocr import OcrEngine, RapidOcrEngine
from rag._types import LoadedDocument
from rag.errors import (
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    UnsupportedFormatError,
)

__all__ = ["SUPPORTED_MIME_TYPES", "load_document"]

logger = logging.getLogger(__name__)

Kind = Literal["pdf", "docx", "odt", "html", "markdown", "text", "image"]

SUPPORTED_MIME_TYPES: dict[str, Kind] = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
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
    "html": "text/html",
    "markdown": "text/markdown",
    "text": "text/plain",
}
_EXTENSIONS: dict[str, Kind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".odt": "odt",
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


def _detect(data: bytes, filename: str, mime: str | None) -> Kind:
    """Trust the content's magic bytes first, then the declared MIME type, then the extension."""
    head = data[:8]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_IMAGE_MAGIC) or (head.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        return "image"
    declared = SUPPORTED_MIME_TYPES.get((mime or "").split(";")[0].strip().lower())
    by_extension = _EXTENSIONS.get(PurePath(filename).suffix.lower())
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        # OLE2 container: either a password-protected DOCX (OOXML encryption wraps the zip in OLE2)
        # or a legacy .doc/.xls file.
        if "docx" in (by_extension, declared):
            raise EncryptedDocumentError(
                f"« {filename} » est protégé par un mot de passe : retirez la protection puis déposez-le à nouveau.",
                filename=filename,
            )
        raise UnsupportedFormatError(
            f"« {filename} » est dans un ancien format Office : enregistrez-le en DOCX ou ODT.",
            filename=filename,
        )
    if head.startswith(b"PK\x03\x04"):
        if b"mimetypeapplication/vnd.oasis.opendocument.text" in data[:120]:
            return "odt"
        if by_extension in ("docx", "odt") or declared in ("docx", "odt"):
            return by_extension or declared  # type: ignore[return-value]
        raise UnsupportedFormatError(
            f"« {filename} » est une archive ZIP qui n'est ni un DOCX ni un ODT.", filename=filename
        )
    kind = declared or by_extension
    if kind is None or kind in ("pdf", "docx", "odt", "image"):
        # Binary formats whose magic bytes did not match are either mislabelled or unknown.
        raise UnsupportedFormatError(
            f"Format de « {filename} » non pris en charge (formats acceptés : PDF, DOCX, ODT, HTML, "
            "Markdown, texte, images PNG/JPEG/TIFF/WebP).",
            filename=filename,
        )
    return kind


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

    Supported: PDF (text layer, OCR for pages without one), scanned images (OCR), DOCX, ODT, HTML,
    Markdown and plain text (charset detected). ``ocr`` defaults to a shared bundled rapidocr engine;
    ``enable_ocr=False`` skips OCR (scanned pages then count as empty). ``max_uncompressed_bytes``
    (default ``10 * max_bytes``) and ``max_compression_ratio`` guard DOCX/ODT against zip bombs.

    Raises a :class:`rag.errors.DocumentError` subclass, with a French message, for any document that
    cannot be ingested; the caller marks that document failed and goes on with the batch.

    Example::

        doc = load_document(data, filename="guide.pdf", max_bytes=50_000_000, max_pages=500)
        for section in doc.sections:
            print(section.page, section.heading, section.text[:80])
    """
    if len(data) > max_bytes:
        raise DocumentTooLargeError(
            f"« {filename} » dépasse la taille maximale autorisée ({len(data)} octets > {max_bytes}).",
            filename=filename,
        )
    if not data.strip():
        raise EmptyDocumentError(f"« {filename} » est vide.", filename=filename)
    limits = Limits(
        max_bytes=max_bytes,
        max_pages=max_pages,
        max_chars=max_chars,
        max_image_pixels=max_image_pixels,
        max_uncompressed_bytes=max_uncompressed_bytes or 10 * max_bytes,
        max_compression_ratio=max_compression_ratio,
    )
    kind = _detect(data, filename, mime)
    engine = (ocr or _shared_ocr()) if enable_ocr else None
    logger.debug("loading %s as %s (%d bytes)", filename, kind, len(data))

    # Parsers are imported lazily so that a service that only searches does not pay for them.
    title: str | None
    page_count: int | None = None
    if kind == "pdf":
        from rag._pdf import load_pdf

        title, sections, page_count = load_pdf(
            data, filename=filename, limits=limits, ocr=engine, ocr_min_chars=ocr_min_chars
        )
    elif kind == "image":
        from rag._pdf import load_image

        title, sections = load_image(data, filename=filename, limits=limits, ocr=engine)
        page_count = 1
    elif kind in ("docx", "odt"):
        from rag._office import load_docx, load_odt

        loader = load_docx if kind == "docx" else load_odt
        title, sections = loader(data, filename=filename, limits=limits)
    else:
        from rag._markup import load_html, load_markdown, load_text

        markup_loader = {"html": load_html, "markdown": load_markdown, "text": load_text}[kind]
        title, sections = markup_loader(data, filename=filename, limits=limits)

    sections = [s for s in sections if s.text.strip()]
    if not sections:
        hint = " (aucune couche texte et OCR désactivé)" if kind in ("pdf", "image") and not engine else ""
        raise EmptyDocumentError(f"Aucun texte exploitable dans « {filename} »{hint}.", filename=filename)
    if sum(len(s.text) for s in sections) > limits.max_chars:
        raise DocumentTooLargeError(
            f"« {filename} » contient trop de texte (plus de {limits.max_chars} caractères).",
            filename=filename,
        )
    return LoadedDocument(
        filename=filename,
        mime=_CANONICAL_MIME.get(kind) or (mime or "image/png"),
        title=title or PurePath(filename).stem,
        sections=tuple(sections),
        content_hash=hashlib.sha256(data).hexdigest(),
        page_count=page_count,
    )
