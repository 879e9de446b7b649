"""PDF (pdfium text layer, OCR fallback for scanned pages) and image (OCR) loaders."""

from __future__ import annotations

import io
import logging
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rag._limits import Limits, check_page_count
from rag._ocr import OcrEngine
from rag._sections import heading_path, push_heading
from rag._types import Section
from rag.errors import CorruptDocumentError, DocumentTooLargeError, EncryptedDocumentError

if TYPE_CHECKING:
    import pypdfium2  # type: ignore[import-untyped]

__all__ = ["load_image", "load_pdf"]

logger = logging.getLogger(__name__)

# PDFium is not thread-safe: every call into it goes through this lock.
_PDFIUM_LOCK = threading.Lock()
# 200 dpi reads 9-pt body text reliably while an A4 page stays under 4 Mpx.
_OCR_DPI = 200
# Below 50 dpi OCR reads nothing useful: a page that does not fit the pixel limit even there is refused.
_MIN_OCR_DPI = 50


@contextmanager
def _pdfium_errors(filename: str) -> Iterator[None]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

    try:
        yield
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise EncryptedDocumentError(
                f"« {filename} » est protégé par un mot de passe : retirez la protection puis déposez-le à nouveau.",
                filename=filename,
            ) from exc
        raise CorruptDocumentError(f"« {filename} » est un PDF illisible ou endommagé.", filename=filename) from exc


def _headings_by_page(pdf: pypdfium2.PdfDocument, page_count: int) -> list[str | None]:
    """Heading path in force on each page, from the PDF outline (bookmarks) when it has one."""
    events: list[tuple[int, int, str]] = []
    for item in pdf.get_toc(max_depth=6):
        title = (item.get_title() or "").strip()
        dest = item.get_dest()
        index = dest.get_index() if dest is not None else None
        if title and index is not None and 0 <= index < page_count:
            events.append((index, item.level, title))
    # Stable sort: bookmarks of one page keep their document order (parents before children).
    events.sort(key=lambda event: event[0])
    headings: list[str | None] = []
    stack: list[str] = []
    position = 0
    for page in range(page_count):
        # Apply every bookmark pointing at or before this page.
        while position < len(events) and events[position][0] <= page:
            _, level, title = events[position]
            push_heading(stack, level + 1, title)
            position += 1
        headings.append(heading_path(stack))
    return headings


def _has_images(page: pypdfium2.PdfPage) -> bool:
    import pypdfium2.raw as pdfium_c

    return any(True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3))


def _ocr_scale(page: pypdfium2.PdfPage, *, number: int, filename: str, limits: Limits) -> float:
    """Render scale for OCR: ``_OCR_DPI``, lowered so that the bitmap fits ``limits.max_image_pixels``.

    The page size is whatever the PDF declares, whatever the file size: 600 bytes can describe a
    5 m × 5 m page, a 40000×40000 bitmap (4.5 Gio) at 200 dpi. Big but genuine pages (plans, posters)
    are rendered at a lower resolution; a page over the limit even at ``_MIN_OCR_DPI`` is refused.
    """
    width, height = page.get_size()  # in points (1/72 inch), as ``render`` sizes the bitmap
    scale = _OCR_DPI / 72
    area, half_perimeter = width * height, width + height
    if area > 0:
        # Largest scale whose bitmap, each side rounded up by pypdfium2, holds at most the limit:
        # (width·s + 1)·(height·s + 1) ≤ max_image_pixels.
        budget = limits.max_image_pixels
        fit = (math.sqrt(half_perimeter**2 + 4 * area * (budget - 1)) - half_perimeter) / (2 * area)
        scale = min(scale, fit)
    if scale < _MIN_OCR_DPI / 72:
        raise DocumentTooLargeError(
            f"La page {number} de « {filename} » est trop grande pour être lue par OCR "
            f"({width / 72 * 2.54:.0f} × {height / 72 * 2.54:.0f} cm) : réduisez le format de la page "
            "puis déposez le document à nouveau.",
            filename=filename,
        )
    if scale < _OCR_DPI / 72:
        logger.debug("pdf %s: page %d OCR-ed at %.0f dpi to fit the pixel limit", filename, number, scale * 72)
    return scale


def load_pdf(
    data: bytes, *, filename: str, limits: Limits, ocr: OcrEngine | None, ocr_min_chars: int
) -> tuple[str | None, list[Section], int]:
    """Text of each page (one section per page); pages without a text layer but with images are OCR-ed."""
    import pypdfium2 as pdfium

    sections: list[Section] = []
    with _PDFIUM_LOCK, _pdfium_errors(filename):
        pdf = pdfium.PdfDocument(data)
        try:
            page_count = len(pdf)
            check_page_count(page_count, filename=filename, limits=limits)
            title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
            headings = _headings_by_page(pdf, page_count)
            total_chars = 0
            for index in range(page_count):
                page = pdf[index]
                try:
                    textpage = page.get_textpage()
                    text = textpage.get_text_bounded().replace("\r\n", "\n").replace("\r", "\n").strip()
                    textpage.close()
                    from_ocr = False
                    if len(text) < ocr_min_chars and ocr is not None and _has_images(page):
                        scale = _ocr_scale(page, number=index + 1, filename=filename, limits=limits)
                        image = page.render(scale=scale).to_pil()
                        text = ocr.recognize(image).strip() or text
                        from_ocr = True
                finally:
                    page.close()
                total_chars += len(text)
                if total_chars > limits.max_chars:
                    raise DocumentTooLargeError(
                        f"« {filename} » contient trop de texte (plus de {limits.max_chars} caractères).",
                        filename=filename,
                    )
                sections.append(Section(text=text, page=index + 1, heading=headings[index], ocr=from_ocr))
        finally:
            pdf.close()
    logger.debug("pdf %s: %d pages, %d OCR-ed", filename, page_count, sum(s.ocr for s in sections))
    return title, sections, page_count


def load_image(
    data: bytes, *, filename: str, limits: Limits, ocr: OcrEngine | None
) -> tuple[str | None, list[Section]]:
    """OCR of an image (each frame of a multi-page TIFF is a page)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    if ocr is None:
        return None, []
    sections: list[Section] = []
    try:
        # Pillow warns then raises on huge images; our own pixel limit is checked first and is stricter.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                frames = getattr(image, "n_frames", 1)
                check_page_count(frames, filename=filename, limits=limits)
                for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                    if frame.width * frame.height > limits.max_image_pixels:
                        raise DocumentTooLargeError(
                            f"L'image « {filename} » est trop grande ({frame.width}×{frame.height} pixels).",
                            filename=filename,
                        )
                    frame.load()
                    sections.append(Section(text=ocr.recognize(frame.copy()), page=number, ocr=True))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DocumentTooLargeError(f"L'image « {filename} » est trop grande.", filename=filename) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptDocumentError(f"L'image « {filename} » est illisible ou endommagée.", filename=filename) from exc
    return None, sections
