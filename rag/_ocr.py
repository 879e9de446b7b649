"""OCR of scanned pages and images with rapidocr (PP-OCR models bundled in the wheel, ONNX Runtime, CPU)."""

from __future__ import annotations

import logging
import threading
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from rag.errors import OcrError

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["OcrEngine", "RapidOcrEngine"]

logger = logging.getLogger(__name__)

# Models the rapidocr 3.x wheel ships; checked up front so that a missing file fails fast instead of
# letting rapidocr try to download it (there is no network on the target machines).
_BUNDLED_MODELS = (
    "PP-OCRv6_det_small.onnx",
    "PP-OCRv6_rec_small.onnx",
    "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
)


class OcrEngine(Protocol):
    """Turns an image of a page into text lines in reading order.

    Example::

        text = engine.recognize(PIL.Image.open("scan.png"))
    """

    def recognize(self, image: Image) -> str:
        """Return the text of ``image``, one detected line per output line ('' when nothing is read)."""
        ...


class RapidOcrEngine:
    """rapidocr with the bundled PP-OCRv6 multilingual models (French accents included).

    The ONNX sessions load lazily on the first page (about 1 s) and are reused; ``recognize`` is
    serialised by a lock because one rapidocr instance is not meant to run pages concurrently.
    """

    def __init__(self, *, threads: int = 2, min_score: float = 0.5) -> None:
        self._threads = threads
        self._min_score = min_score
        self._engine: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise OcrError("Le moteur d'OCR (rapidocr) n'est pas installé.") from exc
        models = resources.files("rapidocr") / "models"
        missing = [name for name in _BUNDLED_MODELS if not (models / name).is_file()]
        if missing:
            raise OcrError(f"Modèles d'OCR absents du paquet rapidocr : {', '.join(missing)}.")
        params = {
            "Global.log_level": "warning",
            "Global.text_score": self._min_score,
            "Det.lang_type": "fr",
            "Rec.lang_type": "fr",
            "EngineConfig.onnxruntime.intra_op_num_threads": self._threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        try:
            return RapidOCR(params=params)
        except Exception as exc:  # rapidocr raises bare Exceptions from its config and ONNX layers
            raise OcrError("Impossible de charger le moteur d'OCR.") from exc

    def recognize(self, image: Image) -> str:
        """Return the recognised text of ``image``, one line per detected text box."""
        import numpy as np

        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            try:
                # rapidocr wants BGR like OpenCV; reversing the RGB channels avoids a colour-space round trip.
                array = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
                result = self._engine(array)
            except Exception as exc:
                raise OcrError("Échec de l'OCR sur une page du document.") from exc
        lines = [text.strip() for text in (result.txts or ()) if text.strip()]
        logger.debug("OCR read %d lines", len(lines))
        return "\n".join(lines)
