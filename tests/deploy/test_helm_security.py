"""Every pod of every render meets the restricted Pod Security Standard, with bounded resources and probes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.helpers import Manifest, RenderError, by_kind, containers, one, pod_spec, render

# Volume types the `restricted` Pod Security level allows.
RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def _effective(container_ctx: dict[str, Any], pod_ctx: dict[str, Any], key: str) -> object:
    """A container field falls back to the pod-level security context, as the kubelet does."""
    return container_ctx.get(key, pod_ctx.get(key))


def test_every_container_runs_hardened(any_manifests: list[Manifest]) -> None:
    refs = list(containers(any_manifests))
    assert len(refs) >= 4
    for ref in refs:
        ctx = ref.container.get("securityContext", {})
        pod_ctx = pod_spec(ref.workload).get("securityContext", {})
        assert _effective(ctx, pod_ctx, "runAsNonRoot") is True, ref.id
        assert _effective(ctx, pod_ctx, "runAsUser") not in (None, 0), ref.id
        assert ctx.get("readOnlyRootFilesystem") is True, ref.id
        assert ctx.get("allowPrivilegeEscalation") is False, ref.id
        assert ctx.get("privileged", False) is False, ref.id
        assert "ALL" in ctx.get("capabilities", {}).get("drop", []), ref.id
        assert set(ctx.get("capabilities", {}).get("add", [])) <= {"NET_BIND_SERVICE"}, ref.id
        seccomp = _effective(ctx, pod_ctx, "seccompProfile")
        assert isinstance(seccomp, dict) and seccomp.get("type") == "RuntimeDefault", ref.id


def test_every_pod_is_isolated_from_the_host_and_the_api_server(any_manifests: list[Manifest]) -> None:
    workloads = [m for m in any_manifests if m["kind"] in {"Deployment", "Job"}]
    for workload in workloads:
        spec = pod_spec(workload)
        name = workload["metadata"]["name"]
        assert spec.get("automountServiceAccountToken") is False, name
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(field, False), (name, field)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        for volume in spec.get("volumes", []):
            kinds = set(volume) - {"name"}
            assert kinds <= RESTRICTED_VOLUME_TYPES, (name, volume)
    for account in by_kind(any_manifests, "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


def test_read_only_root_has_a_writable_tmp(any_manifests: list[Manifest]) -> None:
    for ref in containers(any_manifests):
        mounts = {m["mountPath"]: m["name"] for m in ref.container.get("volumeMounts", [])}
        assert "/tmp" in mounts, ref.id
        volumes = {v["name"]: v for v in pod_spec(ref.workload)["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], ref.id
        assert volumes[mounts["/tmp"]]["emptyDir"].get("sizeLimit"), ref.id


def test_every_container_has_requests_and_limits(any_manifests: list[Manifest]) -> None:
    for ref in containers(any_manifests):
        resources = ref.container.get("resources", {})
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(bound, {})), (ref.id, bound)


def test_every_long_running_container_has_probes(any_manifests: list[Manifest]) -> None:
    """Jobs run to completion and get no probes; every Deployment container has startup and liveness,
    and those that serve traffic have readiness too."""
    for ref in containers(any_manifests):
        if ref.workload["kind"] == "Job":
            continue
        for probe in ("startupProbe", "livenessProbe"):
            assert probe in ref.container, (ref.id, probe)
        if ref.container.get("ports"):
            assert "readinessProbe" in ref.container, ref.id


def test_images_are_pinned(any_manifests: list[Manifest]) -> None:
    for ref in containers(any_manifests):
        image = ref.container["image"]
        name, _, tag = image.split("@")[0].rpartition(":")
        assert name and tag and tag != "latest", image


def test_worker_liveness_checks_the_heartbeat_it_is_told_about(default_manifests: list[Manifest]) -> None:
    worker = one(default_manifests, "Deployment", "worker")
    container = pod_spec(worker)["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    heartbeat = env["SOUVERAIN_WORKER_HEARTBEAT_FILE"]
    command = container["livenessProbe"]["exec"]["command"]
    assert heartbeat in command[-1] and "st_mtime" in command[-1]
    assert container["args"] == ["assistant", "worker"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("containerSecurityContext.readOnlyRootFilesystem", False),
        ("containerSecurityContext.allowPrivilegeEscalation", True),
        ("containerSecurityContext.runAsNonRoot", False),
        ("containerSecurityContext.privileged", True),
        ("podSecurityContext.runAsNonRoot", False),
        ("podSecurityContext.runAsUser", 0),
    ],
)
def test_weakening_pod_security_is_refused(path: str, value: object) -> None:
    section, key = path.split(".")
    with pytest.raises(RenderError) as excinfo:
        render({section: {key: value}})
    assert key in excinfo.value.message
