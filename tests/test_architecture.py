"""The dependency rules of the code base, checked on the source (design: one-way flow, libraries stay pure)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path.relative_to(ROOT)] = names
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path}: {name}"
        for path, names in _imports(package).items()
        for name in sorted(names)
        if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)
    ]


@pytest.mark.parametrize("library", ["rag", "transcription"])
def test_libraries_never_import_the_service_or_the_web(library: str) -> None:
    assert _offenders(library, ("assistant", "fastapi", "starlette", "pydantic_settings")) == []


@pytest.mark.parametrize(
    "layer", ["assistant/services", "assistant/store", "assistant/jobs", "assistant/llm", "assistant/core"]
)
def test_lower_layers_never_import_the_api(layer: str) -> None:
    # The OpenAI protocol models are plain pydantic schemas that the gateway service builds its answers with
    # (as vLLM's serving classes do); they are the one part of assistant.api a service may use.
    offenders = _offenders(layer, ("assistant.api", "fastapi", "starlette", "assistant.cli"))
    assert [name for name in offenders if not name.split(": ")[1].startswith("assistant.api.openai")] == []


def test_protocol_models_stay_free_of_the_web_framework() -> None:
    assert _offenders("assistant/api/openai", ("fastapi", "starlette", "assistant.services", "assistant.runtime")) == []


def test_store_never_reaches_up_into_services() -> None:
    assert _offenders("assistant/store", ("assistant.services", "assistant.runtime")) == []


def test_service_never_imports_vllm() -> None:
    assert _offenders("assistant", ("vllm",)) == []


def test_llama_cpp_runs_only_in_the_model_server_process() -> None:
    # Native code that can crash stays out of the API process: only assistant.model_server (its own process,
    # supervised by assistant.llm.embedded) may load it.
    offenders = [
        name for name in _offenders("assistant", ("llama_cpp",)) if not name.startswith("assistant/model_server/")
    ]
    assert offenders == []
    assert _offenders("assistant/llm", ("assistant.model_server",)) == []
