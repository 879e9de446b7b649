"""Reading a model's JSON answer tolerantly, and loading the versioned prompts (a leaf module of the minutes)."""

from __future__ import annotations

import json
import re
from importlib import resources
from string import Template
from typing import Any

import json_repair

__all__ = ["parse_json_object", "prompt"]


def parse_json_object(text: str) -> dict[str, Any]:
    """Extract one JSON object from a model answer, repairing common defects.

    Raises ``ValueError`` when no object can be recovered.
    """
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    candidate = fenced.group(1) if fenced else text
    start, end = candidate.find("{"), candidate.rfind("}")
    if start != -1 and end > start:
        try:
            value = json.loads(candidate[start : end + 1])
        except json.JSONDecodeError:
            value = json_repair.loads(candidate[start : end + 1])
    else:
        value = json_repair.loads(candidate)
    if not isinstance(value, dict):
        raise ValueError("aucun objet JSON n'a été trouvé dans la réponse")
    return value


def prompt(name: str, version: str) -> Template:
    """The prompt ``transcription/prompts/{name}.{version}.txt`` as a ``string.Template``."""
    text = resources.files("transcription.prompts").joinpath(f"{name}.{version}.txt").read_text("utf-8")
    return Template(text)
