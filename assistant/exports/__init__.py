"""Exports of answers and conversations (Markdown, DOCX, ODT), labelled and verifiable."""

from assistant.exports._document import ExportDocument, ExportItem, ExtractedItem
from assistant.exports._formats import (
    MEDIA_TYPES,
    ExportFormat,
    ExportVerification,
    detect_format,
    render_export,
    verify_export,
)

__all__ = [
    "MEDIA_TYPES",
    "ExportDocument",
    "ExportFormat",
    "ExportItem",
    "ExportVerification",
    "ExtractedItem",
    "detect_format",
    "render_export",
    "verify_export",
]
