"""M2: a scanned PDF page is rendered for OCR within the pixel limit, whatever page size the PDF declares.

Before the fix every page without a text layer was rendered at 200 dpi: a PDF of a few hundred bytes with a
14400 pt × 14400 pt page (5 m × 5 m) asked pdfium for a 40000×40000 bitmap, 4.5 Gio and more. Now the render
scale is lowered so that the bitmap fits ``max_image_pixels`` (big plans and posters are still OCR-ed, at a
lower resolution) and a page over the limit even at 50 dpi is refused with a French message.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

from rag import LoadedDocument, load_document
from rag.errors import DocumentTooLargeError

A4 = (595.0, 842.0)


def scanned_pdf(*pages: tuple[float, float]) -> bytes:
    """A PDF (raw bytes, a few hundred) whose pages of the given sizes, in points, each hold one 1×1 image."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for width, height in pages:
        page_id = len(objects) + 1
        kids.append(f"{page_id} 0 R".encode())
        content = f"q {width:g} 0 0 {height:g} 0 0 cm /Im0 Do Q".encode()
        objects += [
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents %d 0 R "
            b"/Resources << /XObject << /Im0 %d 0 R >> >> >>" % (width, height, page_id + 1, page_id + 2),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
            b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream",
        ]
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class RecordingOcr:
    """Records the size of every image handed to OCR (what pdfium rendered) and reads a fixed text."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def recognize(self, image: Image.Image) -> str:
        self.sizes.append(image.size)
        return "Plan cadastral de la commune"


def load(data: bytes, filename: str, ocr: RecordingOcr, *, max_image_pixels: int = 50_000_000) -> LoadedDocument:
    return load_document(
        data, filename=filename, max_bytes=5_000_000, max_pages=20, max_image_pixels=max_image_pixels, ocr=ocr
    )


def test_a4_scan_is_still_rendered_at_200_dpi() -> None:
    ocr = RecordingOcr()
    doc = load(scanned_pdf(A4), "scan.pdf", ocr)
    assert doc.ocr_pages == (1,)
    assert ocr.sizes == [(math.ceil(595 * 200 / 72), math.ceil(842 * 200 / 72))]  # 1653×2339


def test_big_page_is_rendered_at_a_lower_dpi_within_the_pixel_limit() -> None:
    # A0 (841 × 1189 mm) at 200 dpi is 62 Mpx, over the default 50 Mpx limit: OCR-ed at ~180 dpi instead.
    ocr = RecordingOcr()
    doc = load(scanned_pdf(A4, (2384, 3370)), "plan.pdf", ocr)
    assert doc.ocr_pages == (1, 2)
    (a4_width, _), (width, height) = ocr.sizes
    assert a4_width == 1653
    assert width * height <= 50_000_000
    assert width * height > 49_000_000  # the whole budget is used: no needless loss of resolution
    assert 170 < width / 2384 * 72 < 200


def test_page_over_the_limit_even_at_50_dpi_is_refused_before_rendering() -> None:
    ocr = RecordingOcr()
    with pytest.raises(DocumentTooLargeError, match=r"La page 2 de « bombe\.pdf » est trop grande") as info:
        load(scanned_pdf((200, 200), (2000, 2000)), "bombe.pdf", ocr, max_image_pixels=1_000_000)
    assert info.value.filename == "bombe.pdf"
    assert "71 × 71 cm" in str(info.value)
    assert ocr.sizes == [(556, 556)]  # page 1 at 200 dpi; page 2 never reached the renderer


def test_the_limit_holds_after_pdfium_rounds_each_side_up() -> None:
    ocr = RecordingOcr()
    pages = [(1000.3, 700.7), (1400, 1400), (7, 14400), (1440, 720.5)]
    load(scanned_pdf(*pages), "bords.pdf", ocr, max_image_pixels=1_000_000)
    assert len(ocr.sizes) == len(pages)
    for width, height in ocr.sizes:
        assert width * height <= 1_000_000


_BOMB_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path.insert(0, sys.argv[1])
    from tests.hardening.test_security_m2_pdf_page_bomb import RecordingOcr, scanned_pdf
    from rag import load_document
    from rag.errors import DocumentError

    data = scanned_pdf((14400, 14400))
    ocr = RecordingOcr()
    # Safety net for the old code: a 4.5 Gio bitmap request fails instead of swapping the test machine.
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    start = time.monotonic()
    try:
        load_document(data, filename="bombe.pdf", max_bytes=5_000_000, max_pages=20, ocr=ocr)
        error = None
    except DocumentError as exc:
        error = [type(exc).__name__, str(exc)]
    except MemoryError:
        error = ["MemoryError", ""]
    print(json.dumps({
        "bytes": len(data),
        "error": error,
        "sizes": ocr.sizes,
        "seconds": time.monotonic() - start,
        # VmHWM, not ru_maxrss: Linux carries a parent's peak over fork and exec (pytest's, in a full run).
        "max_rss_kib": int(next(
            line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")
        )),
    }))
    """
)


def test_600_byte_pdf_declaring_a_5_m_page_is_refused_quickly_without_a_huge_bitmap() -> None:
    # In a child process, so that its peak memory is measured alone and the old code cannot hurt this one.
    root = Path(__file__).resolve().parents[2]
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, "-c", _BOMB_SCRIPT, str(root)], capture_output=True, text=True, timeout=120, check=False
    )
    assert child.returncode == 0, child.stderr[-2000:]
    result = json.loads(child.stdout.splitlines()[-1])
    assert result["bytes"] < 1000
    assert result["error"] is not None, f"la page a été rendue : {result['sizes']}"
    assert result["error"][0] == "DocumentTooLargeError"
    assert "La page 1 de « bombe.pdf » est trop grande pour être lue par OCR (508 × 508 cm)" in result["error"][1]
    assert result["sizes"] == []
    assert result["seconds"] < 5
    assert result["max_rss_kib"] < 1 << 20  # under 1 Gio, interpreter and pdfium included
    assert time.monotonic() - started < 60
