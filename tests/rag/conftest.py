"""Shared fixtures for the rag tests: real models (loaded once per session) and document factories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rag import E5Embedder
from tests.rag.fonts import FONT

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def font_path() -> Path:
    # DejaVu covers French accents; Pillow's built-in font does not (apt: fonts-dejavu-core).
    assert FONT.is_file(), "police DejaVu absente : installez le paquet Debian fonts-dejavu-core"
    return FONT


@pytest.fixture(scope="session")
def e5() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="session")
def eval_set() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "fr_admin_eval.json").read_text(encoding="utf-8"))
    return data
