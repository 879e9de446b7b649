"""What every command shares: loading settings and reporting errors in one readable line."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer

from assistant.core.config import Settings, load_settings
from assistant.errors import SouverainError

__all__ = ["fail", "run_async", "settings_or_exit"]

T = TypeVar("T")


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print ``message`` on stderr and build the exit to raise."""
    typer.secho(f"Erreur : {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    """Settings from the environment, or a one-line error naming the bad variable."""
    try:
        return load_settings()
    except SouverainError as exc:
        raise fail(exc.message, code=2) from None


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine``; a domain error becomes a one-line message and exit status 1."""
    try:
        return asyncio.run(coroutine)
    except SouverainError as exc:
        raise fail(exc.message) from None
