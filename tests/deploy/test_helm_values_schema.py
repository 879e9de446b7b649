"""values.schema.json: the shipped values are valid, and helm refuses invalid ones before rendering."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.helpers import CHART_DIR, RenderError, render
from tests.deploy.values import PRODUCTION_VALUES, full_values

SCHEMA = json.loads((CHART_DIR / "values.schema.json").read_text())


def _validator() -> jsonschema.Draft7Validator:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    return jsonschema.Draft7Validator(SCHEMA)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = (
            _deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def test_schema_is_a_valid_draft7_schema() -> None:
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    _validator()


@pytest.mark.parametrize("path", ["values.yaml", "values-production.yaml"])
def test_shipped_values_are_valid(path: str) -> None:
    defaults = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    values = _deep_merge(defaults, yaml.safe_load((CHART_DIR / path).read_text()))
    errors = sorted(_validator().iter_errors(values), key=str)
    assert not errors, [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_full_test_values_are_valid() -> None:
    defaults = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    assert not list(_validator().iter_errors(_deep_merge(defaults, full_values())))


def test_every_production_key_exists_in_the_defaults() -> None:
    """A key only in values-production.yaml would be a typo the operator copies."""

    def keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
        found = set()
        for key, value in tree.items():
            found.add(prefix + key)
            if (
                isinstance(value, dict)
                and value
                and not key.endswith(("Selector", "annotations", "labels", "matchLabels"))
            ):
                found |= keys(value, f"{prefix}{key}.")
        return found

    defaults = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    production = yaml.safe_load(PRODUCTION_VALUES.read_text())
    assert keys(production) - keys(defaults) == set()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"api": {"replicaCount": "two"}}, "api.replicaCount"),
        ({"api": {"replicas": 2}}, "replicas"),
        ({"unknownSection": {}}, "unknownSection"),
        # null removes a key in helm: limits can no more be dropped than made up.
        ({"worker": {"resources": {"limits": None}}}, "limits"),
        ({"api": {"resources": {"limits": {"cpu": "lots", "memory": "2Gi"}}}}, "cpu"),
        ({"vllm": {"tensorParallelSize": 3}}, "tensorParallelSize"),
        # vLLM without a GPU, or without a model to load.
        ({"vllm": {"tensorParallelSize": 0}}, "tensorParallelSize"),
        ({"vllm": {"model": {"path": ""}}}, "path"),
        ({"vllm": {"servedModelName": ""}}, "servedModelName"),
        ({"vllm": {"gpuMemoryUtilization": 1.5}}, "gpuMemoryUtilization"),
        ({"vllm": {"model": {"path": "../../etc"}}}, "vllm.model.path"),
        ({"image": {"digest": "sha256:abc"}}, "image.digest"),
        ({"image": {"pullPolicy": "Sometimes"}}, "image.pullPolicy"),
        ({"config": {"environment": "staging"}}, "config.environment"),
        ({"config": {"jobsBackend": "kafka"}}, "config.jobsBackend"),
        ({"config": {"oidc": {"issuer": "http://sso.example"}}}, "config.oidc.issuer"),
        ({"config": {"extraEnv": {"lower-case": "x"}}}, "extraEnv"),
        ({"ingress": {"host": "Not A Host"}}, "ingress.host"),
        ({"networkPolicy": {"egress": {"postgresql": {"port": 70000}}}}, "port"),
        ({"serviceMonitor": {"interval": "often"}}, "interval"),
    ],
)
def test_invalid_values_are_refused_by_helm(values: dict[str, Any], expected: str) -> None:
    with pytest.raises(RenderError) as excinfo:
        render(values)
    assert "values don't meet the specifications of the schema" in excinfo.value.message
    assert expected in excinfo.value.message


def test_vllm_without_a_weights_volume_fails_at_render_time_with_a_clear_message() -> None:
    with pytest.raises(RenderError, match="le volume qui contient les poids du modèle"):
        render({"vllm": {"model": {"existingClaim": "", "hostPath": ""}}})
