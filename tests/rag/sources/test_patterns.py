"""Include/exclude globs on relative paths (no server)."""

from __future__ import annotations

import unicodedata

import pytest

from rag.sources import DEFAULT_EXCLUDE, PathPatterns


def test_everything_is_included_by_default_but_hidden_entries_and_office_lock_files() -> None:
    patterns = PathPatterns()
    assert DEFAULT_EXCLUDE == (".*", "~$*")
    assert patterns.matches("rapport.pdf")
    assert patterns.matches("RH/2025/Congés annuels.docx")
    assert not patterns.matches(".DS_Store")
    assert not patterns.matches("RH/.~lock.tableau.ods#")
    assert not patterns.matches(".git/config")
    assert not patterns.matches("RH/.cache/rapport.pdf")
    assert not patterns.matches("RH/~$Congés annuels.docx")
    assert patterns.skips_folder(".git")
    assert patterns.skips_folder("RH/.snapshot")
    assert not patterns.skips_folder("RH")


def test_default_exclusions_can_be_turned_off() -> None:
    patterns = PathPatterns(default_exclude=False)
    assert patterns.matches(".profile")
    assert patterns.matches("~$tmp.docx")
    assert not patterns.skips_folder(".git")


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("rapport.pdf", True),  # '**/' matches zero folders too
        ("RH/2025/Congés.PDF", True),  # case-insensitive
        ("RH/note.docx", True),
        ("RH/note.txt", False),
        ("archives/2019/rapport.pdf", False),
        ("archives", False),
        ("RH/archives/rapport.pdf", True),  # 'archives/**' is anchored at the root
        ("brouillons/rapport.pdf", False),  # a pattern without '/' is a name at any depth
        ("RH/brouillons/sous-dossier/rapport.pdf", False),
    ],
)
def test_include_and_exclude(path: str, kept: bool) -> None:
    patterns = PathPatterns(include=["**/*.pdf", "**/*.docx"], exclude=["archives/**", "brouillons"])
    assert patterns.matches(path) is kept


def test_excluded_folders_are_pruned_but_include_patterns_never_prune() -> None:
    patterns = PathPatterns(include=["RH/**/*.pdf"], exclude=["archives/", "/tmp", "old/**"])
    assert patterns.skips_folder("archives")
    assert patterns.skips_folder("RH/archives")  # trailing '/' only says "folder", it does not anchor
    assert patterns.skips_folder("tmp")
    assert not patterns.skips_folder("RH/tmp")  # a leading '/' anchors
    assert patterns.skips_folder("old")
    assert patterns.skips_folder("old/2019")
    assert not patterns.skips_folder("Finances")  # nothing to include there, but listing it is harmless
    assert not patterns.matches("archives")  # a file named like an excluded folder is not the folder
    assert PathPatterns(exclude=["archives/"]).matches("archives")


@pytest.mark.parametrize(
    ("pattern", "path", "kept"),
    [
        ("*.pdf", "a/b/c.pdf", True),
        ("RH/*.pdf", "RH/c.pdf", True),
        ("RH/*.pdf", "RH/sous/c.pdf", False),  # '*' does not cross '/'
        ("RH/?.pdf", "RH/c.pdf", True),
        ("RH/?.pdf", "RH/cc.pdf", False),
        ("a/**/b.pdf", "a/b.pdf", True),
        ("a/**/b.pdf", "a/x/y/b.pdf", True),
        ("a/**/b.pdf", "x/a/b.pdf", False),
        ("**", "n/importe/quoi.bin", True),
        ("/**", "quoi.bin", True),
        ("f[a-c]?.odt", "dossier/fb1.odt", True),
        ("f[a-c]?.odt", "fd1.odt", False),
        ("[!a]*.txt", "b.txt", True),
        ("[!a]*.txt", "a.txt", False),
        ("[]x].md", "].md", True),
        ("[x", "[x", True),  # an unclosed '[' is a literal, as in fnmatch
        ("100%[$].txt", "100%$.txt", True),  # regex metacharacters are literals
        ("a+b (1).txt", "a+b (1).txt", True),
        ("Archives\\2020\\**", "archives/2020/a/b.pdf", True),  # Windows separators
        ("Réunion*", unicodedata.normalize("NFD", "CR/Réunion 3.pdf"), True),  # decomposed names (macOS)
        (unicodedata.normalize("NFD", "Réunion*"), "Réunion 3.pdf", True),
        ("ÉTÉ.pdf", "été.pdf", True),
    ],
)
def test_glob_syntax(pattern: str, path: str, kept: bool) -> None:
    assert PathPatterns(include=[pattern], default_exclude=False).matches(path) is kept


@pytest.mark.parametrize("pattern", ["", "/", "  ", "//"])
def test_empty_patterns_are_refused_in_french(pattern: str) -> None:
    with pytest.raises(ValueError, match="Motif de fichiers vide"):
        PathPatterns(include=[pattern])


def test_repr_shows_the_patterns() -> None:
    assert repr(PathPatterns(include=["*.pdf"])) == "PathPatterns(include=('*.pdf',), exclude=('.*', '~$*'))"
