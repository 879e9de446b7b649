"""The folder walk every reader shares, on an in-memory source (no server)."""

from __future__ import annotations

import logging

import pytest

from rag.sources import PathPatterns, Source
from rag.sources._base import MAX_DEPTH, FolderEntry


class LoopingSource(Source):
    """Every folder holds a file and a folder named ``boucle``: a symbolic link to its parent, as on a NAS."""

    description = "mémoire://boucle"

    def __init__(self) -> None:
        self.listed: list[str] = []

    async def _list_folder(self, folder: str) -> list[FolderEntry]:
        self.listed.append(folder)
        prefix = f"{folder}/" if folder else ""
        return [
            FolderEntry(f"{prefix}boucle", is_folder=True),
            FolderEntry(f"{prefix}boucle", is_folder=True),  # listed twice by a confused server: walked once
            FolderEntry(f"{prefix}.snapshot", is_folder=True),
            FolderEntry(f"{prefix}f.txt", is_folder=False, size=1),
        ]

    async def read(self, path: str, *, max_bytes: int) -> bytes:
        raise NotImplementedError


async def test_a_folder_loop_stops_at_the_depth_limit(caplog: pytest.LogCaptureFixture) -> None:
    source = LoopingSource()
    with caplog.at_level(logging.WARNING, logger="rag.sources._base"):
        files = await source.list_files()
    assert len(files) == MAX_DEPTH == len(source.listed)
    assert len(set(source.listed)) == len(source.listed)
    assert not any(".snapshot" in folder for folder in source.listed)  # hidden folders are never listed
    assert [r.getMessage() for r in caplog.records] == [
        f"not listing {'boucle/' * (MAX_DEPTH - 1)}boucle in mémoire://boucle: deeper than {MAX_DEPTH} folders"
    ]
    assert files[0].modified.timestamp() == 0  # no date from the server: the epoch, timezone-aware
    assert files[0].modified.utcoffset() is not None


async def test_excluded_folders_are_not_listed() -> None:
    source = LoopingSource()
    files = await source.list_files(PathPatterns(exclude=["boucle/boucle/"]))
    assert source.listed == ["", "boucle"]
    assert [f.path for f in files] == ["boucle/f.txt", "f.txt"]
