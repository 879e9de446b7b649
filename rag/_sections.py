"""Building sections under their heading path, for the parsers of structured formats (a leaf module)."""

from __future__ import annotations

from rag._types import Section

__all__ = ["heading_path", "make_section", "push_heading"]


def heading_path(stack: list[str]) -> str | None:
    """Join nested headings into the path stored with each chunk (``None`` before any heading)."""
    return " › ".join(stack) if stack else None


def push_heading(stack: list[str], level: int, text: str) -> None:
    """Keep ``stack`` as the current heading path after a heading of ``level`` (1 = top)."""
    del stack[max(level - 1, 0) :]
    stack.append(text)


def make_section(lines: list[str], *, heading: str | None, page: int | None = None) -> Section | None:
    """Build a section from accumulated lines, or ``None`` when they hold only whitespace."""
    text = "\n".join(lines).strip()
    return Section(text=text, page=page, heading=heading) if text else None
