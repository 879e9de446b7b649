"""The preset catalog: versioned files, latest version by default, malformed files refused at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

import assistant.presets
from assistant.errors import InvalidRequestError
from assistant.presets import BUILTIN_DIR, PresetCatalog, PresetFormatError, UnknownPresetError

HEADER = "---\nname: {name}\nversion: {version}\ntitle: Essai\ncombine: {combine}\n{extra}---\n"


def _write(directory: Path, name: str, version: int, body: str, *, combine: str = "concat", extra: str = "") -> Path:
    path = directory / f"{name}.v{version}.md"
    path.write_text(HEADER.format(name=name, version=version, combine=combine, extra=extra) + body, encoding="utf-8")
    return path


def test_public_names() -> None:
    assert set(assistant.presets.__all__) == {
        "BUILTIN_DIR",
        "Preset",
        "PresetCatalog",
        "PresetFormatError",
        "UnknownPresetError",
    }


def test_builtin_presets_load_and_carry_their_version() -> None:
    catalog = PresetCatalog.load()
    synthese = catalog.get("synthese")
    assert synthese.id == "synthese.v1" and synthese.combine == "reduce" and synthese.reduce_template
    assert "<!-- reduce -->" not in synthese.system_prompt() and "synthèses partielles" in synthese.reduce_prompt()
    assert {p.name for p in catalog.presets()} == {path.name.split(".v")[0] for path in BUILTIN_DIR.glob("*.v*.md")}


def test_a_newer_version_wins_and_older_ones_stay_reachable(tmp_path: Path) -> None:
    _write(tmp_path, "synthese", 2, "Résume en trois lignes.", combine="reduce")
    catalog = PresetCatalog.load(tmp_path)
    assert catalog.get("synthese").version == 2 and catalog.get("synthese").system_prompt() == "Résume en trois lignes."
    assert catalog.get("synthese", 1).version == 1
    with pytest.raises(UnknownPresetError, match=r"synthese\.v7"):
        catalog.get("synthese", 7)


def test_parameters_are_substituted_and_required(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "resume-cible",
        1,
        "Écris pour $public, 100 % en français {sans accolades}.",
        extra="parameters: public\n",
    )
    preset = PresetCatalog.load(tmp_path).get("resume-cible")
    assert preset.system_prompt({"public": "des élus"}) == "Écris pour des élus, 100 % en français {sans accolades}."
    with pytest.raises(InvalidRequestError, match="Paramètre manquant"):
        preset.system_prompt({})


@pytest.mark.parametrize(
    ("filename", "content", "problem"),
    [
        ("sans-entete.v1.md", "Juste un prompt.", "en-tête"),
        (
            "mauvais.v1.md",
            HEADER.format(name="autre", version=1, combine="concat", extra="") + "x",
            "ne correspond pas",
        ),
        ("combine.v1.md", HEADER.format(name="combine", version=1, combine="melange", extra="") + "x", "combine"),
        ("inconnu.v1.md", HEADER.format(name="inconnu", version=1, combine="concat", extra="") + "$mystere", "mystere"),
        ("synthese.v1.md", HEADER.format(name="synthese", version=1, combine="reduce", extra="") + "x", "deux fois"),
    ],
)
def test_malformed_presets_are_refused_with_the_file_named(
    tmp_path: Path, filename: str, content: str, problem: str
) -> None:
    (tmp_path / filename).write_text(content, encoding="utf-8")
    with pytest.raises(PresetFormatError, match=problem):
        PresetCatalog.load(tmp_path)


def test_a_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(PresetFormatError, match="introuvable"):
        PresetCatalog.load(tmp_path / "absent")
