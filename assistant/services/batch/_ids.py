"""Public ids as OpenAI spells them (``file-…``, ``batch_…``, ``batch_req_…``) over our UUID primary keys."""

from __future__ import annotations

import uuid

from assistant.errors import NotFoundError

__all__ = ["batch_id", "file_id", "line_id", "parse_batch_id", "parse_file_id"]

_FILE = "file-"
_BATCH = "batch_"


def file_id(value: uuid.UUID) -> str:
    """The public id of a stored file."""
    return f"{_FILE}{value.hex}"


def batch_id(value: uuid.UUID) -> str:
    """The public id of a batch."""
    return f"{_BATCH}{value.hex}"


def line_id() -> str:
    """A fresh id for one output line."""
    return f"batch_req_{uuid.uuid4().hex}"


def _parse(public: str, prefix: str, what: str) -> uuid.UUID:
    # A malformed id names nothing: the same 404 as someone else's, so ids cannot be probed.
    if not public.startswith(prefix):
        raise NotFoundError(f"{what} introuvable : « {public[:80]} ».")
    try:
        return uuid.UUID(hex=public.removeprefix(prefix))
    except ValueError:
        raise NotFoundError(f"{what} introuvable : « {public[:80]} ».") from None


def parse_file_id(public: str) -> uuid.UUID:
    """The UUID behind ``file-…``; 404 when it is not one of ours."""
    return _parse(public, _FILE, "Fichier")


def parse_batch_id(public: str) -> uuid.UUID:
    """The UUID behind ``batch_…``; 404 when it is not one of ours."""
    return _parse(public, _BATCH, "Lot")
