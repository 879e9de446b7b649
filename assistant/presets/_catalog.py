"""Versioned prompt presets: one Markdown file per preset version, ``<name>.v<version>.md``.

A file starts with a front matter block (``key: value`` lines between ``---``) naming the preset, its version,
how long inputs are recombined (``combine: reduce`` summarises partial results again, ``concat`` joins them)
and its parameters; then the system prompt, and, for ``reduce``, the prompt of the reduce step after a
``<!-- reduce -->`` line. Parameters are ``$name`` placeholders (``string.Template``), so that braces and
percent signs in prompts need no escaping. The version and the prompt's sha256 are recorded with every use.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Literal

from assistant.errors import ConfigurationError, InvalidRequestError, NotFoundError

__all__ = ["BUILTIN_DIR", "Preset", "PresetCatalog", "PresetFormatError", "UnknownPresetError"]

logger = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).parent
_FILE_NAME = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*)\.v(?P<version>[1-9][0-9]*)\.md$")
_REDUCE_MARKER = "<!-- reduce -->"


class PresetFormatError(ConfigurationError):
    """Raised at start-up when a preset file is malformed; the message names the file and the problem."""

    code = "preset_format_error"


class UnknownPresetError(NotFoundError):
    """Raised when a request names a preset (or a version) that does not exist; the message lists them."""

    code = "unknown_preset"


@dataclass(frozen=True)
class Preset:
    """One version of a document task: its prompts and how it handles inputs too long for one call."""

    name: str
    version: int
    title: str
    description: str
    combine: Literal["reduce", "concat"]
    parameters: tuple[str, ...]
    system_template: str
    reduce_template: str | None
    sha256: str

    @property
    def id(self) -> str:
        """``name.vN``, as recorded in usage records and task results."""
        return f"{self.name}.v{self.version}"

    def _fill(self, template: str, values: Mapping[str, str]) -> str:
        missing = [name for name in self.parameters if not values.get(name)]
        if missing:
            raise InvalidRequestError(f"Paramètre manquant pour « {self.title} » : {', '.join(missing)}.")
        return Template(template).substitute({name: values[name] for name in self.parameters})

    def system_prompt(self, values: Mapping[str, str] | None = None) -> str:
        """The system prompt with its parameters filled in."""
        return self._fill(self.system_template, values or {})

    def reduce_prompt(self, values: Mapping[str, str] | None = None) -> str:
        """The prompt of the reduce step (the main prompt when the preset has none)."""
        return self._fill(self.reduce_template or self.system_template, values or {})


def _parse(path: Path) -> Preset:
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise PresetFormatError(f"Nom de fichier de préréglage invalide : {path.name} (attendu : nom.vN.md).")
    raw = path.read_text(encoding="utf-8")
    head, separator, body = raw.removeprefix("---\n").partition("\n---\n")
    if not raw.startswith("---\n") or not separator:
        raise PresetFormatError(f"{path.name} : en-tête « --- … --- » absent.")
    fields: dict[str, str] = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if not colon:
            raise PresetFormatError(f"{path.name} : ligne d'en-tête invalide « {line} ».")
        fields[key.strip()] = value.strip()
    if fields.get("name") != match["name"] or fields.get("version") != match["version"]:
        raise PresetFormatError(f"{path.name} : le nom ou la version de l'en-tête ne correspond pas au fichier.")
    combine = fields.get("combine", "concat")
    if combine not in ("reduce", "concat"):
        raise PresetFormatError(f"{path.name} : combine doit valoir « reduce » ou « concat ».")
    system, _, reduce = body.partition(_REDUCE_MARKER)
    parameters = tuple(p.strip() for p in fields.get("parameters", "").split(",") if p.strip())
    for template in (system, reduce):
        unknown = {m.group("named") or m.group("braced") for m in Template.pattern.finditer(template)} - {
            *parameters,
            None,
        }
        if unknown:
            raise PresetFormatError(f"{path.name} : paramètres non déclarés {sorted(unknown)}.")
    return Preset(
        name=match["name"],
        version=int(match["version"]),
        title=fields.get("title") or match["name"],
        description=fields.get("description", ""),
        combine=combine,  # type: ignore[arg-type]
        parameters=parameters,
        system_template=system.strip(),
        reduce_template=reduce.strip() or None,
        sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
    )


class PresetCatalog:
    """Every preset version found in the built-in directory and in the configured extra ones."""

    def __init__(self, presets: Iterable[Preset]) -> None:
        self._versions: dict[str, dict[int, Preset]] = {}
        for preset in presets:
            versions = self._versions.setdefault(preset.name, {})
            if preset.version in versions:
                raise PresetFormatError(f"Préréglage {preset.id} défini deux fois.")
            versions[preset.version] = preset

    @classmethod
    def load(cls, *directories: Path) -> PresetCatalog:
        """Read ``*.vN.md`` files from the built-in directory, then from ``directories``."""
        presets: list[Preset] = []
        for directory in (BUILTIN_DIR, *directories):
            if not directory.is_dir():
                raise PresetFormatError(f"Répertoire de préréglages introuvable : {directory}.")
            presets.extend(_parse(path) for path in sorted(directory.glob("*.v*.md")))
        catalog = cls(presets)
        logger.info("Loaded task presets: %s", ", ".join(p.id for p in catalog.presets()))
        return catalog

    def presets(self) -> list[Preset]:
        """The latest version of each preset, by name."""
        return [versions[max(versions)] for _, versions in sorted(self._versions.items())]

    def get(self, name: str, version: int | None = None) -> Preset:
        """A preset by name, in its latest version unless ``version`` is given."""
        versions = self._versions.get(name)
        if not versions or (version is not None and version not in versions):
            known = ", ".join(p.id for p in self.presets()) or "aucun"
            wanted = name if version is None else f"{name}.v{version}"
            raise UnknownPresetError(f"Tâche inconnue : « {wanted} ». Tâches disponibles : {known}.")
        return versions[version if version is not None else max(versions)]
