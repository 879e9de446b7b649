"""What an export contains, independent of its file format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import ValidationError

from assistant.errors import InvalidRequestError
from assistant.provenance import Manifest

__all__ = ["ExportDocument", "ExportItem", "ExtractedItem", "pair_blocks"]


@dataclass(frozen=True)
class ExportItem:
    """One message. Assistant messages must carry their signed manifest: nothing generated leaves unlabelled."""

    role: Literal["user", "assistant"]
    text: str
    manifest: Manifest | None = None
    author: str | None = None

    def __post_init__(self) -> None:
        if self.role == "assistant" and self.manifest is None:
            raise ValueError("an assistant message cannot be exported without its provenance manifest")


@dataclass(frozen=True)
class ExportDocument:
    """A conversation or a single answer, ready to be written as Markdown, DOCX or ODT."""

    title: str
    items: tuple[ExportItem, ...]
    created_at: datetime
    author: str | None = None
    models: tuple[str, ...] = field(default=())

    @property
    def reviewed(self) -> bool:
        """True when every generated message was marked as reviewed by an agent."""
        manifests = [item.manifest for item in self.items if item.manifest]
        return bool(manifests) and all(manifest.provenance.human_reviewed for manifest in manifests)


@dataclass(frozen=True)
class ExtractedItem:
    """A manifest read back from an export, with the generated passage it describes (None when removed)."""

    text: str | None
    manifest: Manifest


def pair_blocks(blocks: list[str], manifests_json: str | None, file_format: str) -> list[ExtractedItem]:
    """Match the i-th generated block of an export with the i-th manifest embedded in it."""
    if manifests_json is None:
        raise InvalidRequestError(f"Aucun manifeste de provenance dans ce fichier {file_format}.")
    try:
        manifests = [Manifest.model_validate(entry) for entry in json.loads(manifests_json)]
    except (json.JSONDecodeError, ValidationError, TypeError) as exc:
        raise InvalidRequestError("Le manifeste de provenance de ce fichier est illisible.") from exc
    return [
        ExtractedItem(blocks[index] if index < len(blocks) else None, manifest)
        for index, manifest in enumerate(manifests)
    ]
