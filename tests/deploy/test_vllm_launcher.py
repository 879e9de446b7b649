"""deploy/vllm/serve.sh passes the documented flags to vLLM and refuses to start without weights."""

from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "vllm" / "serve.sh"


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "vllm"
    fake.write_text(
        '#!/usr/bin/env bash\nprintf "%s\\n" "$@"\nenv | grep -E "^(HF_HUB_OFFLINE|VLLM_NO_USAGE_STATS)="\n'
    )
    fake.chmod(0o755)
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={"PATH": os.environ["PATH"], "VLLM": str(fake), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_flags_reach_vllm(tmp_path: Path) -> None:
    model = tmp_path / "mistral"
    model.mkdir()
    key = tmp_path / "key"
    key.write_text("s3cret")
    result = _run(
        tmp_path,
        MODEL_DIR=str(model),
        SERVED_MODEL_NAME="mistral-small",
        TENSOR_PARALLEL_SIZE="2",
        MAX_MODEL_LEN="16384",
        API_KEY_FILE=str(key),
    )
    assert result.returncode == 0, result.stderr
    args = result.stdout.splitlines()
    assert args[:2] == ["serve", str(model)]
    pairs = dict(itertools.pairwise(args))  # each flag maps to the word after it
    assert pairs["--served-model-name"] == "mistral-small" and pairs["--tensor-parallel-size"] == "2"
    assert pairs["--max-model-len"] == "16384" and pairs["--api-key"] == "s3cret"
    assert "--enable-prefix-caching" in args
    assert "HF_HUB_OFFLINE=1" in args and "VLLM_NO_USAGE_STATS=1" in args


def test_missing_weights_are_a_clear_error(tmp_path: Path) -> None:
    assert "MODEL_DIR" in _run(tmp_path).stderr
    missing = _run(tmp_path, MODEL_DIR=str(tmp_path / "absent"))
    assert missing.returncode == 2 and "n'existe pas" in missing.stderr
