"""Include/exclude glob patterns that choose which files of a share are synchronised.

The rules are those of ``.gitignore``, which the people who configure a share are the most likely to know:

- matching is case-insensitive and on Unicode NFC, so ``*.PDF`` matches ``rapport.pdf`` and a name that a Mac
  client wrote decomposed (``Re\u0301union``) matches a pattern typed composed (``Réunion``);
- ``*`` and ``?`` never cross a ``/``; ``[abc]``, ``[a-z]`` and ``[!abc]`` are character classes; ``**`` as a
  whole segment matches any number of folders (``**/*.pdf``: every PDF, at the root included);
- a pattern without ``/`` matches a name at any depth (``*.pdf``, ``.*``, ``~$*``), one with a ``/`` is anchored
  at the source's root (``RH/*.pdf``); ``\\`` counts as ``/`` since SMB users type Windows paths;
- a pattern that matches a folder matches everything inside it (``archives``, ``archives/``, ``archives/**``),
  which lets the readers skip excluded folders without listing them.

We translate the globs ourselves: ``fnmatch`` lets ``*`` cross ``/`` and knows no ``**``, and
``PurePosixPath.full_match`` only exists from Python 3.13.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DEFAULT_EXCLUDE", "PathPatterns"]

DEFAULT_EXCLUDE: tuple[str, ...] = (".*", "~$*")
"""Hidden files and folders (``.git``, ``.DS_Store``, LibreOffice's ``.~lock.*#``) and Office lock files."""


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _translate_segment(segment: str) -> str:
    """Regex for one path segment; an unclosed ``[`` is a literal, as in ``fnmatch``."""
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        char = segment[i]
        i += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            j = i + 1 if i < n and segment[i] in "!^" else i
            j = j + 1 if j < n and segment[j] == "]" else j  # a leading ']' belongs to the class
            while j < n and segment[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(char))
                continue
            body = segment[i:j]
            i = j + 1
            negated = body[:1] in ("!", "^")
            body = body[1:] if negated else body
            # Everything literal except '-' (ranges): also spares us re's FutureWarning on '&&', '~~', '||'.
            body = "".join(c if c == "-" else re.escape(c) for c in body)
            out.append(f"[^/{body}]" if negated else f"[{body}]")
        else:
            out.append(re.escape(char))
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str] | None  # None: '**', which matches everything
    anchored: bool  # matched on the path from the root, else on each name
    folder_only: bool  # trailing '/' or '/**': matches the content of the folders it names

    @classmethod
    def compile(cls, pattern: str) -> _Pattern:
        text = _nfc(pattern.strip()).replace("\\", "/")
        folder_only = text.endswith("/")
        text = text.rstrip("/")
        anchored = "/" in text  # a leading or inner '/' anchors, a trailing one only says "folder"
        if text.endswith("/**") and text[:-3].strip("/"):
            text, folder_only = text[:-3], True
        segments = [s for s in text.split("/") if s]
        if not segments:
            raise ValueError(f"Motif de fichiers vide ou invalide : {pattern!r}.")
        if segments == ["**"]:
            return cls(None, anchored=True, folder_only=False)
        parts: list[str] = []
        for index, segment in enumerate(segments):
            if segment == "**":
                parts.append("(?:[^/]+/)*")  # absorbs its own '/', so zero folders is a match too
            else:
                parts.append(_translate_segment(segment) + ("/" if index < len(segments) - 1 else ""))
        return cls(re.compile("".join(parts), re.IGNORECASE), anchored=anchored, folder_only=folder_only)

    def hits(self, parts: list[str], *, is_folder: bool) -> bool:
        if self.regex is None:
            return True
        for index in range(len(parts)):
            if self.folder_only and not is_folder and index == len(parts) - 1:
                continue  # the file's own name: only its folders can match a folder pattern
            target = "/".join(parts[: index + 1]) if self.anchored else parts[index]
            if self.regex.fullmatch(target):
                return True
        return False


class PathPatterns:
    """Which files of a share to synchronise, from include and exclude globs on their relative paths.

    A file is kept when an ``include`` pattern matches it and no ``exclude`` pattern does. ``DEFAULT_EXCLUDE``
    (hidden entries, Office lock files) is added to ``exclude`` unless ``default_exclude=False``.

    Example::

        patterns = PathPatterns(include=["**/*.pdf", "**/*.docx"], exclude=["archives/**"])
        patterns.matches("RH/Congés.PDF")  # True
        patterns.skips_folder("archives/2019")  # True: the reader does not even list it
    """

    def __init__(
        self,
        *,
        include: Iterable[str] = ("**",),
        exclude: Iterable[str] = (),
        default_exclude: bool = True,
    ) -> None:
        self.include = tuple(include)
        self.exclude = (*DEFAULT_EXCLUDE, *exclude) if default_exclude else tuple(exclude)
        self._include = [_Pattern.compile(p) for p in self.include]
        self._exclude = [_Pattern.compile(p) for p in self.exclude]

    def __repr__(self) -> str:
        return f"PathPatterns(include={self.include!r}, exclude={self.exclude!r})"

    def matches(self, path: str) -> bool:
        """Whether the file at ``path`` (relative, POSIX) is to be synchronised."""
        parts = _split(path)
        return any(p.hits(parts, is_folder=False) for p in self._include) and not any(
            p.hits(parts, is_folder=False) for p in self._exclude
        )

    def skips_folder(self, path: str) -> bool:
        """Whether nothing inside the folder at ``path`` can be synchronised (the reader need not list it).

        Only exclusions prune: an include pattern may still match deeper down.
        """
        parts = _split(path)
        return any(p.hits(parts, is_folder=True) for p in self._exclude)


def _split(path: str) -> list[str]:
    return [part for part in _nfc(path).split("/") if part]
