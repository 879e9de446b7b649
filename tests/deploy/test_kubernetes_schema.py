"""Every rendered manifest validates against the Kubernetes OpenAPI schemas (strict: no unknown field)."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tests.deploy.helpers import Manifest, RenderError, render
from tests.deploy.values import PRODUCTION_VALUES

# The chart's kubeVersion floor, and the newest release the schema package knows.
KUBE_VERSIONS = ["1.27.0", f"{kubernetes_validate.latest_version()}"]
# Custom resources: no schema ships with Kubernetes; test_helm_features checks their wiring instead.
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}


def _validate_all(manifests: list[Manifest], kube_version: str) -> list[str]:
    errors = []
    for manifest in manifests:
        if (manifest["apiVersion"], manifest["kind"]) in CUSTOM_KINDS:
            continue
        name = f"{manifest['kind']}/{manifest['metadata']['name']}"
        try:
            kubernetes_validate.validate(manifest, kube_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{name}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{name}: {exc.message}")
    return errors


def test_schema_package_is_recent() -> None:
    major, minor = (int(part) for part in kubernetes_validate.latest_version().split(".")[:2])
    assert (major, minor) >= (1, 33)


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_rendered_manifests_validate(any_manifests: list[Manifest], kube_version: str) -> None:
    kinds = {m["kind"] for m in any_manifests}
    assert {"Deployment", "Service", "ConfigMap", "NetworkPolicy", "Job"} <= kinds
    assert _validate_all(any_manifests, kube_version) == []


def test_render_for_the_oldest_supported_kubernetes() -> None:
    """helm checks Chart.yaml kubeVersion: the oldest supported minor renders, an older one is refused."""
    manifests = render(files=(PRODUCTION_VALUES,), kube_version="1.27.0")
    assert _validate_all(manifests, "1.27.0") == []
    with pytest.raises(RenderError) as excinfo:
        render(kube_version="1.26.0")
    assert "kubeVersion" in excinfo.value.message or "incompatible" in excinfo.value.message


def test_validator_catches_a_wrong_field() -> None:
    """Guards the test above against a validator that accepts anything."""
    bad: Manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "two", "selector": {}, "template": {"spec": {"containers": []}}},
    }
    assert _validate_all([bad], KUBE_VERSIONS[-1])
