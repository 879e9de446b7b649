"""The chart passes the real `helm lint --strict` and stays in step with the project's version."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.deploy.helpers import CHART_DIR, REPO_ROOT, run_helm
from tests.deploy.values import PRODUCTION_VALUES, full_values


@pytest.mark.parametrize("values_args", [[], ["--values", str(PRODUCTION_VALUES)]], ids=["default", "production"])
def test_helm_lint_strict_passes(values_args: list[str]) -> None:
    result = run_helm("lint", "--strict", str(CHART_DIR), *values_args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ERROR]" not in result.stdout
    assert "[WARNING]" not in result.stdout


def test_helm_lint_strict_passes_with_every_option(tmp_path: Path) -> None:
    """Also renders the NOTES.txt branches (chart-managed Secret, OIDC, host path) the other values skip."""
    values = full_values()
    values["vllm"] = {"model": {"existingClaim": "", "hostPath": "/srv/models"}}
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values))
    result = run_helm("lint", "--strict", str(CHART_DIR), "--values", str(values_file))
    assert result.returncode == 0, result.stdout + result.stderr


def test_helm_lint_reports_invalid_values() -> None:
    """Lint goes through the schema too: a wrong type is an error, not a warning."""
    result = run_helm("lint", "--strict", str(CHART_DIR), "--set", "api.workers=many")
    assert result.returncode != 0
    assert "api.workers" in result.stdout + result.stderr


def test_chart_app_version_matches_project_version() -> None:
    """The default image tag is the appVersion: it must be the version pyproject.toml builds."""
    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert chart["appVersion"] == project["version"]
    assert chart["apiVersion"] == "v2"
