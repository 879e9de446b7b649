"""Markdown export: label banner, marked generated blocks, manifests in a fenced JSON block."""

from __future__ import annotations

import json
import re

from assistant.exports._document import ExportDocument, ExtractedItem, pair_blocks
from assistant.provenance import AI_LABEL, normalize_content

__all__ = ["read_markdown", "write_markdown"]

_BLOCK = re.compile(r"<!-- souverain:ai-content (\d+) -->\n(.*?)\n<!-- /souverain:ai-content -->", re.DOTALL)
_MANIFESTS = re.compile(r"```json souverain-manifests\n(.*?)\n```", re.DOTALL)


def write_markdown(document: ExportDocument) -> str:
    """The document as Markdown with YAML front matter carrying the label as metadata."""
    manifests = []
    lines = [
        "---",
        f"title: {json.dumps(document.title, ensure_ascii=False)}",
        "ai_generated: true",
        f"label: {json.dumps(AI_LABEL, ensure_ascii=False)}",
        f"human_reviewed: {'true' if document.reviewed else 'false'}",
        f"date: {document.created_at.isoformat()}",
        "---",
        "",
        f"# {document.title}",
        "",
        f"> **{AI_LABEL}.** Ce document contient des réponses produites par un modèle d'IA ; l'agent reste décideur.",
        "",
    ]
    for item in document.items:
        if item.role == "user":
            lines += [f"## Question{f' de {item.author}' if item.author else ''}", "", normalize_content(item.text), ""]
            continue
        assert item.manifest is not None
        provenance = item.manifest.provenance
        reviewed = " — relu et validé" if provenance.human_reviewed else ""
        lines += [
            f"## Réponse de l'assistant ({provenance.model_id})",
            "",
            f"*{AI_LABEL}{reviewed}.*",
            "",
            f"<!-- souverain:ai-content {len(manifests)} -->",
            normalize_content(item.text),
            "<!-- /souverain:ai-content -->",
            "",
        ]
        manifests.append(item.manifest.model_dump(mode="json", by_alias=True))
    lines += [
        "## Manifestes de provenance signés",
        "",
        "```json souverain-manifests",
        json.dumps(manifests, ensure_ascii=False, indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)


def read_markdown(text: str) -> list[ExtractedItem]:
    """Generated blocks of a Markdown export, each with its manifest."""
    found = _MANIFESTS.search(text)
    blocks = [match.group(2) for match in sorted(_BLOCK.finditer(text), key=lambda match: int(match.group(1)))]
    return pair_blocks(blocks, found.group(1) if found else None, "Markdown")
