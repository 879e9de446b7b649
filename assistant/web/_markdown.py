"""Markdown written by people (the usage charter) turned into safe HTML on the server.

Raw HTML in the source is escaped, never passed through, and markdown-it refuses ``javascript:``/``data:`` links,
so a référent's text cannot inject a script into every user's page. Headings are shifted down so that the text
sits under the page's own ``<h1>`` (RGAA: one title, a coherent heading hierarchy).
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["render_markdown"]


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render_markdown(text: str, *, heading_offset: int = 1, drop_title: bool = False) -> Markup:
    """``text`` as HTML, safe to insert in a template; ``# Title`` becomes ``<h2>`` with the default offset.

    ``drop_title`` leaves out a leading level-1 heading, when the page already shows it as its own title.
    """
    parser = _parser()
    tokens = parser.parse(text)
    if drop_title and len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        tokens = tokens[3:]  # heading_open, inline, heading_close
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + heading_offset, 6)}"
    return Markup(parser.renderer.render(tokens, parser.options, {}))  # noqa: S704 - escaped by markdown-it
