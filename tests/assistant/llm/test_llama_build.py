"""The llama.cpp the suite runs is the portable build: no AMX (llama.cpp #20824 segfaults), no AVX-512."""

from __future__ import annotations

import re

import pytest

llama_cpp = pytest.importorskip("llama_cpp", reason="extra llm-embedded absent : make install")


def _features() -> dict[str, str]:
    info = llama_cpp.llama_print_system_info().decode()
    return dict(re.findall(r"(\w+) = (\w+)", info))


def test_the_build_has_the_portable_baseline() -> None:
    features = _features()
    for needed in ("AVX", "AVX2", "FMA", "F16C"):
        assert features.get(needed) == "1", features


def test_amx_and_avx512_are_compiled_out() -> None:
    features = _features()
    enabled = {name for name, value in features.items() if value == "1"}
    assert not {name for name in enabled if name.startswith("AMX")}, features
    assert not {name for name in enabled if name.startswith("AVX512")}, features
