"""HTML (BeautifulSoup), Markdown (markdown-it-py) and plain-text (charset detection) loaders."""

from __future__ import annotations

import logging
import re

from rag._limits import Limits
from rag._sections import heading_path, make_section, push_heading
from rag._types import Section
from rag.errors import UnsupportedFormatError

__all__ = ["decode_text", "load_html", "load_markdown", "load_text"]

logger = logging.getLogger(__name__)

_BLOCK_TAGS = (
    "p", "div", "li", "tr", "br", "pre", "blockquote", "section", "article", "main", "table", "ul", "ol",
    "dl", "dd", "dt", "figcaption", "caption", "address", "hr",
)  # fmt: skip
_DROPPED_TAGS = (
    "script", "style", "noscript", "template", "svg", "nav", "footer", "form", "iframe", "object",
)  # fmt: skip
_HEADING_MARK = "\x1e"  # ASCII record separator: marks the headings we flatten into the text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FRENCH_CHARSETS = ("utf_8", "cp1252", "iso8859_15", "latin_1", "mac_roman", "cp850")
_SPACES = re.compile(r"[ \t\xa0\u2000-\u200b\u202f]+")


def decode_text(data: bytes, *, filename: str) -> str:
    """Decode bytes as UTF-8 when valid, else with the charset charset-normalizer finds most plausible."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        matches = from_bytes(data)
        best = matches.best()
        if best is not None and best.language != "Unknown":
            # Single-byte Western charsets often tie (same chaos and coherence) on French text, and
            # charset-normalizer then picks one arbitrarily: prefer those French tools actually write.
            tied = [m for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01]
            preferred = next((m for name in _FRENCH_CHARSETS for m in tied if name in m.could_be_from_charset), best)
            text = str(preferred)
        else:
            # Too little text for a language-backed guess: Windows-1252 is what French legacy tools
            # (Word, Excel CSV exports) write, so it is the most plausible reading when it decodes.
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                if best is None:
                    raise UnsupportedFormatError(
                        f"« {filename} » ne ressemble pas à un fichier texte (contenu binaire).",
                        filename=filename,
                    ) from None
                text = str(best)
        logger.debug("%s decoded with a detected charset", filename)
    if "\x00" in text[:8192]:
        raise UnsupportedFormatError(
            f"« {filename} » ne ressemble pas à un fichier texte (contenu binaire).", filename=filename
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _clean(line: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub("", line)).strip()


def load_text(data: bytes, *, filename: str, limits: Limits) -> tuple[str | None, list[Section]]:
    """A plain-text file is one section; the chunker splits it."""
    text = decode_text(data, filename=filename)
    section = make_section([_CONTROL.sub("", text)], heading=None)
    return None, [section] if section else []


def load_markdown(data: bytes, *, filename: str, limits: Limits) -> tuple[str | None, list[Section]]:
    """Split Markdown at its headings (found by a real parser, so '#' inside code blocks is not one)."""
    from markdown_it import MarkdownIt

    text = _CONTROL.sub("", decode_text(data, filename=filename))
    lines = text.split("\n")
    tokens = MarkdownIt("commonmark").parse(text)
    headings: list[tuple[int, int, int, str]] = []  # (first line, end line, level, text)
    for position, token in enumerate(tokens):
        if token.type == "heading_open" and token.map is not None:
            inline = tokens[position + 1]
            headings.append((token.map[0], token.map[1], int(token.tag[1]), inline.content.strip()))

    title: str | None = None
    sections: list[Section] = []
    stack: list[str] = []
    cursor = 0
    for start, end, level, heading in [*headings, (len(lines), len(lines), 0, "")]:
        section = make_section(lines[cursor:start], heading=heading_path(stack))
        if section is not None:
            sections.append(section)
        if level:
            if level == 1 and title is None:
                title = heading
            push_heading(stack, level, heading)
        cursor = end
    return title, sections


def load_html(data: bytes | str, *, filename: str, limits: Limits) -> tuple[str | None, list[Section]]:
    """Visible text of an HTML page grouped by h1-h6; scripts, styles, navigation and footers are dropped.

    ``data`` may be text already decoded (a mail's HTML body): its ``<meta charset>`` is then ignored.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    title = _clean(soup.title.get_text()) if soup.title else None
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n{_HEADING_MARK}{level}{_HEADING_MARK}{_clean(heading.get_text(' '))}\n")
    for block in soup.find_all(_BLOCK_TAGS):
        block.insert_before("\n")
        block.insert_after("\n")
    for cell in soup.find_all(("td", "th")):
        cell.insert_after(" | ")
    root = soup.body or soup
    sections: list[Section] = []
    stack: list[str] = []
    lines: list[str] = []
    first_h1: str | None = None
    for raw_line in root.get_text().split("\n"):
        parts = raw_line.split(_HEADING_MARK, 2)
        if len(parts) == 3 and not parts[0] and parts[1] in "123456":
            mark_level, mark_text = int(parts[1]), parts[2]
            section = make_section(lines, heading=heading_path(stack))
            if section is not None:
                sections.append(section)
            lines = []
            if mark_text:
                first_h1 = first_h1 or (mark_text if mark_level == 1 else None)
                push_heading(stack, mark_level, mark_text)
            continue
        line = _clean(raw_line).strip(" |")
        if line:
            lines.append(line)
    section = make_section(lines, heading=heading_path(stack))
    if section is not None:
        sections.append(section)
    return title or first_h1, sections
