"""Resource limits of one document load, shared by the dispatcher and every format's parser (a leaf module)."""

from __future__ import annotations

from dataclasses import dataclass

from rag.errors import DocumentTooLargeError

__all__ = ["Limits", "check_page_count"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits applied while loading one document (all enforced before or during parsing)."""

    max_bytes: int
    max_pages: int
    max_chars: int
    max_image_pixels: int
    max_uncompressed_bytes: int
    max_compression_ratio: int


def check_page_count(count: int, *, filename: str, limits: Limits) -> None:
    """Raise :class:`DocumentTooLargeError` when a paginated document has more pages than allowed."""
    if count > limits.max_pages:
        raise DocumentTooLargeError(
            f"« {filename} » a trop de pages ({count} > {limits.max_pages}).", filename=filename
        )
