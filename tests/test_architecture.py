"""The dependency rules of the code base, checked on the source (design: one-way flow, libraries stay pure)."""

from __future__ import annotations

import ast
import re
import textwrap
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
    "layer",
    [
        "assistant/services",
        "assistant/store",
        "assistant/jobs",
        "assistant/llm",
        "assistant/core",
        "assistant/protocol",
    ],
)
def test_lower_layers_never_import_the_api(layer: str) -> None:
    assert _offenders(layer, ("assistant.api", "assistant.web", "fastapi", "starlette", "assistant.cli")) == []


def test_protocol_models_sit_below_the_services() -> None:
    # The OpenAI wire models are plain pydantic schemas: the gateway builds its answers with them and the API
    # serialises them, so they need only the model layer, the guard's and provenance's records.
    forbidden = ("fastapi", "starlette", "assistant.services", "assistant.runtime", "assistant.store", "assistant.api")
    assert _offenders("assistant/protocol", forbidden) == []


def test_the_api_never_imports_the_web_pages() -> None:
    # Both are assembled by assistant.app; the pages reuse the API's dependencies, never the other way round.
    assert _offenders("assistant/api", ("assistant.web", "assistant.app")) == []
    assert _offenders("assistant/web", ("assistant.app",)) == []


def test_the_job_machinery_never_knows_the_runtime() -> None:
    # Handlers are bound to the runtime when their module registers them (TYPE_CHECKING imports count here).
    assert _offenders("assistant/jobs", ("assistant.runtime", "assistant.services")) == []


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


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import that runs (function-local ones included); ``if TYPE_CHECKING:`` blocks are for the type
    checker only and are skipped."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _import_graph() -> dict[str, set[str]]:
    paths = {
        _module_name(path): path
        for package in ("assistant", "rag", "transcription")
        for path in (ROOT / package).rglob("*.py")
    }

    def known(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {module: set() for module in paths}
    for module, path in paths.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = ".".join([*package[: len(package) - node.level + 1], *([node.module] if node.module else [])])
                base = base if node.level else node.module or ""
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for target in targets:
                found = known(target)
                # A module importing its own package (``from rag.errors`` inside ``rag``) is not a cycle.
                if found and found != module and not module.startswith(found + "."):
                    graph[module].add(found)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            successor = next(successors, None)
            if successor is not None:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                elif successor in on_stack:
                    low[node] = min(low[node], index[successor])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_no_import_cycles_between_modules() -> None:
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _service_surfaces() -> dict[str, set[str]]:
    """Each service group's public modules, as its ``__init__`` lists them in ``__all__``."""
    surfaces: dict[str, set[str]] = {}
    for init in (ROOT / "assistant/services").glob("*/__init__.py"):
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.List):
                surfaces[init.parent.name] = {element.value for element in node.value.elts}  # type: ignore[attr-defined]
    return surfaces


def test_every_service_lives_in_a_group_with_a_declared_surface() -> None:
    services = ROOT / "assistant/services"
    assert sorted(p.name for p in services.glob("*.py")) == ["__init__.py"]
    groups = {p.parent.name for p in services.glob("*/__init__.py")}
    assert groups == set(_service_surfaces())
    for group, surface in _service_surfaces().items():
        assert all((services / group / f"{module}.py").is_file() for module in surface), group


def test_service_groups_use_each_other_only_through_their_surface() -> None:
    surfaces = _service_surfaces()
    offenders = []
    for path in (ROOT / "assistant/services").rglob("*.py"):
        group = path.parent.name
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            targets = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                targets = [f"{node.module}.{alias.name}" for alias in node.names] if len(parts) == 3 else [node.module]
            for target in targets:
                parts = target.split(".")
                if parts[:2] != ["assistant", "services"] or len(parts) < 4 or parts[2] == group:
                    continue
                if parts[3] not in surfaces.get(parts[2], set()):
                    offenders.append(f"{path.relative_to(ROOT)}: {target}")
    assert offenders == []


TESTS = ROOT / "tests"
_SILENCED_UNUSED_IMPORT = re.compile(r"noqa:[\w\s,]*\bF401\b")


def _test_imports(source: str) -> list[str]:
    """Modules named ``test_*`` or ``conftest`` that ``source`` imports, function-local imports included.

    ``from a import b`` may load the module ``a.b``: both are looked at (a function named ``test_*`` imported into a
    test module would be collected again, so it is refused too). Relative imports keep their leading dots.
    """
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            separator = "." if node.module else ""
            names = [base, *(f"{base}{separator}{alias.name}" for alias in node.names)]
        else:
            continue
        found += [name for name in names if re.fullmatch(r"conftest|test_\w*", name.rpartition(".")[2])]
    return found


def test_test_support_is_never_imported_from_a_test_module_or_a_conftest() -> None:
    # Plain helpers live in tests/factories.py or a package's helper module, shared fixtures in a conftest or a
    # plugin of tests/fakes: a test module or a conftest is never imported, so test support has one obvious home.
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in _test_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_test_import_finder_sees_every_form() -> None:
    source = textwrap.dedent(
        """
        import tests.conftest
        from tests.assistant.chat.conftest import sse_events
        from tests.assistant.provenance import test_signing
        from .conftest import FONT

        def helper():
            from tests.assistant.transcription.test_minutes_api import NoteTaker
        """
    )
    assert _test_imports(source) == [
        "tests.conftest",
        "tests.assistant.chat.conftest",
        "tests.assistant.provenance.test_signing",
        ".conftest",
        "tests.assistant.transcription.test_minutes_api",
    ]
    assert _test_imports("from tests.factories import make_account\nimport pytest\n") == []


def test_no_test_file_silences_an_unused_import() -> None:
    # Fixtures imported only to be requested by name were the reason for these; plugins share them now.
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted(TESTS.rglob("*.py"))
        if _SILENCED_UNUSED_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
