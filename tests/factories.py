"""Plain factory functions for tests."""

from __future__ import annotations

from typing import Any

from assistant.core.config import Settings, load_settings


def make_settings(**overrides: Any) -> Settings:
    """Settings from explicit values only: no .env file is read."""
    overrides.setdefault("log_format", "console")
    return load_settings(_env_file=None, **overrides)
