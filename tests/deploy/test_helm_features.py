"""What the rendered resources do: vLLM on GPUs, migrations, autoscaling, Ingress, configuration."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from assistant.llm import BackendConfig
from tests.deploy.helpers import (
    Manifest,
    RenderError,
    by_kind,
    one,
    pod_labels,
    pod_spec,
    render,
    selector_matches,
)
from tests.deploy.values import full_values, generated_secret_values


def _container(workload: Manifest) -> dict[str, Any]:
    return pod_spec(workload)["containers"][0]  # type: ignore[no-any-return]


def _probe_budget_seconds(probe: dict[str, Any]) -> int:
    return int(probe.get("periodSeconds", 10)) * int(probe.get("failureThreshold", 3))


# -- vLLM --------------------------------------------------------------------------------------------------


def test_vllm_requests_its_gpus(production_manifests: list[Manifest]) -> None:
    vllm = one(production_manifests, "Deployment", "vllm")
    container = _container(vllm)
    # values-production.yaml asks for tensor parallelism over two GPUs.
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert container["resources"]["requests"]["nvidia.com/gpu"] == 2
    args = container["args"]
    assert args[args.index("--tensor-parallel-size") + 1] == "2"
    spec = pod_spec(vllm)
    # Helm merges maps: the default `gpu.present` label stays next to the production `gpu.product` one.
    assert spec["nodeSelector"]["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]


def test_vllm_serves_the_model_from_a_read_only_volume(default_manifests: list[Manifest]) -> None:
    vllm = one(default_manifests, "Deployment", "vllm")
    container = _container(vllm)
    assert container["command"] == ["vllm", "serve"]
    args = container["args"]
    assert args[0] == "/models/Mistral-Small-3.2-24B-Instruct-2506"
    assert args[args.index("--served-model-name") + 1] == "mistral-small"
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/models"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod_spec(vllm)["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"] == {"claimName": "souverain-models", "readOnly": True}
    assert volumes[mounts["/dev/shm"]["name"]]["emptyDir"]["medium"] == "Memory"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["HF_HUB_OFFLINE"] == "1" and env["VLLM_NO_USAGE_STATS"] == "1"
    # A rolling update would need twice the GPUs.
    assert vllm["spec"]["strategy"]["type"] == "Recreate"


def test_vllm_probes_allow_long_model_loads(default_manifests: list[Manifest]) -> None:
    container = _container(one(default_manifests, "Deployment", "vllm"))
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    assert _probe_budget_seconds(container["startupProbe"]) >= 15 * 60
    assert _probe_budget_seconds(container["livenessProbe"]) < 5 * 60


def test_vllm_model_from_host_path() -> None:
    manifests = render({"vllm": {"model": {"existingClaim": "", "hostPath": "/srv/models"}}})
    volumes = {v["name"]: v for v in pod_spec(one(manifests, "Deployment", "vllm"))["volumes"]}
    assert volumes["models"]["hostPath"] == {"path": "/srv/models", "type": "Directory"}


@pytest.mark.parametrize(
    "model",
    [{"existingClaim": "", "hostPath": ""}, {"existingClaim": "models", "hostPath": "/srv/models"}],
    ids=["none", "both"],
)
def test_vllm_model_source_must_be_exactly_one(model: dict[str, str]) -> None:
    with pytest.raises(RenderError) as excinfo:
        render({"vllm": {"model": model}})
    assert "vllm.model" in excinfo.value.message


def test_vllm_can_be_disabled_for_an_external_backend() -> None:
    external = {
        "id": "albert",
        "kind": "openai",
        "base_url": "https://llm.interne.example/v1",
        "model": "albert",
        "sovereign": True,
    }
    manifests = render({"vllm": {"enabled": False}, "config": {"llmBackends": [external]}})
    assert not [m for m in manifests if m["metadata"]["name"].endswith("-vllm")]
    config = one(manifests, "ConfigMap", "config")
    assert json.loads(config["data"]["SOUVERAIN_LLM_BACKENDS"]) == [external]
    bare = one(render({"vllm": {"enabled": False}}), "ConfigMap", "config")
    assert json.loads(bare["data"]["SOUVERAIN_LLM_BACKENDS"]) == []


def test_a_pool_of_vllm_replicas_on_several_nodes_can_be_declared_with_a_fallback() -> None:
    # The README's recipe: one vLLM StatefulSet per model behind a headless Service, its pods listed as replicas.
    pool = {
        "name": "flotte",
        "kind": "replicas",
        "sovereign": True,
        "options": {
            "replicas": [
                {"base_url": "http://vllm-0.vllm:8000/v1", "weight": 2},
                {"base_url": "http://vllm-1.vllm:8000/v1"},
            ]
        },
        "models": [{"id": "mistral-small"}],
        "fallback": ["albert"],
    }
    spare = {
        "id": "albert",
        "kind": "openai",
        "base_url": "http://albert:8000/v1",
        "model": "albert",
        "sovereign": True,
    }
    manifests = render({"vllm": {"enabled": False}, "config": {"llmBackends": [pool, spare]}})
    backends = json.loads(one(manifests, "ConfigMap", "config")["data"]["SOUVERAIN_LLM_BACKENDS"])
    parsed = TypeAdapter(list[BackendConfig]).validate_python(backends)
    assert [(c.name, c.kind, [m.id for m in c.models]) for c in parsed] == [
        ("flotte", "replicas", ["mistral-small"]),
        ("albert", "openai", ["albert"]),
    ]
    assert parsed[0].fallback == ["albert"]
    with pytest.raises(RenderError, match="values don't meet the specifications of the schema"):
        render({"vllm": {"enabled": False}, "config": {"llmBackends": [{"kind": "replicas", "sovereign": True}]}})


# -- Transcription GPU worker ------------------------------------------------------------------------------


def test_transcription_worker_runs_the_gpu_image_on_a_gpu(full_manifests: list[Manifest]) -> None:
    worker = one(full_manifests, "Deployment", "transcription")
    container = _container(worker)
    assert container["image"].endswith(":0.1.0-gpu")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["args"] == ["assistant", "worker"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SOUVERAIN_TRANSCRIPTION_DEVICE"] == "cuda"
    assert "nvidia.com/gpu.present" in pod_spec(worker)["nodeSelector"]


def test_transcription_worker_is_off_by_default(default_manifests: list[Manifest]) -> None:
    assert not [m for m in default_manifests if m["metadata"]["name"].endswith("-transcription")]


# -- Migrations --------------------------------------------------------------------------------------------


def test_migrations_run_as_a_pre_install_and_pre_upgrade_hook(default_manifests: list[Manifest]) -> None:
    job = one(default_manifests, "Job", "migrations")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    container = _container(job)
    assert container["args"] == ["assistant", "db", "upgrade"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert job["spec"]["activeDeadlineSeconds"] > 0


def test_migrations_see_the_same_settings_as_the_api(full_manifests: list[Manifest]) -> None:
    """Hooks run before the ConfigMap exists on first install, so the Job inlines the same data."""
    config = one(full_manifests, "ConfigMap", "config")["data"]
    job_env = {e["name"]: e for e in _container(one(full_manifests, "Job", "migrations"))["env"]}
    for name, value in config.items():
        assert job_env[name]["value"] == value, name
    api_env = {e["name"]: e for e in _container(one(full_manifests, "Deployment", "api"))["env"]}
    for name, entry in api_env.items():
        if "secretKeyRef" in entry.get("valueFrom", {}):
            assert job_env[name] == entry, name


def test_chart_managed_secret_exists_before_the_migration_hook(full_manifests: list[Manifest]) -> None:
    secret = one(full_manifests, "Secret", "secrets")
    job = one(full_manifests, "Job", "migrations")
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert "pre-install" in secret["metadata"]["annotations"]["helm.sh/hook"]


# -- API: autoscaling, disruption budget, Services, Ingress ------------------------------------------------


def test_api_autoscales_and_survives_drains(production_manifests: list[Manifest]) -> None:
    api = one(production_manifests, "Deployment", "api")
    # The HPA owns the replica count: a fixed one would be reset at each upgrade.
    assert "replicas" not in api["spec"]
    hpa = one(production_manifests, "HorizontalPodAutoscaler", "api")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": api["metadata"]["name"],
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    pdb = one(production_manifests, "PodDisruptionBudget", "api")
    assert selector_matches(pdb["spec"]["selector"], pod_labels(api))
    assert pdb["spec"]["maxUnavailable"] == 1


def test_fixed_replicas_without_autoscaling() -> None:
    manifests = render({"api": {"autoscaling": {"enabled": False}, "replicaCount": 3}})
    assert one(manifests, "Deployment", "api")["spec"]["replicas"] == 3
    assert not by_kind(manifests, "HorizontalPodAutoscaler")


def test_autoscaling_bounds_are_checked() -> None:
    with pytest.raises(RenderError) as excinfo:
        render({"api": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}})
    assert "minReplicas" in excinfo.value.message


def test_services_select_their_pods_and_named_ports(any_manifests: list[Manifest]) -> None:
    deployments = by_kind(any_manifests, "Deployment")
    for service in by_kind(any_manifests, "Service"):
        targets = [
            d for d in deployments if selector_matches({"matchLabels": service["spec"]["selector"]}, pod_labels(d))
        ]
        assert len(targets) == 1, service["metadata"]["name"]
        port_names = {p["name"] for c in pod_spec(targets[0])["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names


def test_ingress_terminates_tls_for_the_api(production_manifests: list[Manifest]) -> None:
    ingress = by_kind(production_manifests, "Ingress")[0]
    host = "assistant.interne.example.gouv.fr"
    assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": "souverain-tls"}]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == host
    backend = rule["http"]["paths"][0]["backend"]["service"]
    api_service = one(production_manifests, "Service", "api")
    assert backend["name"] == api_service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in api_service["spec"]["ports"]}
    # Token streaming must not be buffered by the proxy.
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"


def test_ingress_limits_bodies_per_route_class(production_manifests: list[Manifest]) -> None:
    """Security finding H2: 1 GB only where recordings are uploaded; the sign-in route gets the small default."""
    sizes: dict[tuple[str, str], str] = {}
    for ingress in by_kind(production_manifests, "Ingress"):
        size = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
        for path in ingress["spec"]["rules"][0]["http"]["paths"]:
            sizes[(path["path"], path["pathType"])] = size
    assert sizes == {
        ("/", "Prefix"): "8m",
        ("/api/collections/", "Prefix"): "202m",
        ("/api/tasks/", "Prefix"): "52m",
        ("/api/provenance/verify", "Exact"): "52m",
        ("/api/transcriptions", "Exact"): "1025m",
        ("/v1/audio/transcriptions", "Exact"): "1025m",
    }


def test_service_monitors_scrape_named_ports(full_manifests: list[Manifest]) -> None:
    monitors = by_kind(full_manifests, "ServiceMonitor")
    assert {m["metadata"]["name"].rsplit("-", 1)[1] for m in monitors} == {"api", "vllm"}
    services = by_kind(full_manifests, "Service")
    for monitor in monitors:
        matched = [s for s in services if selector_matches(monitor["spec"]["selector"], s["metadata"]["labels"])]
        assert len(matched) == 1
        assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in matched[0]["spec"]["ports"]}
        assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


# -- Configuration and secrets -----------------------------------------------------------------------------


def test_configmap_describes_the_production_service(full_manifests: list[Manifest]) -> None:
    data = one(full_manifests, "ConfigMap", "config")["data"]
    assert data["SOUVERAIN_ENVIRONMENT"] == "production"
    assert data["SOUVERAIN_RUN_WORKER_IN_PROCESS"] == "false"
    assert data["SOUVERAIN_JOBS_BACKEND"] == "redis"
    assert data["SOUVERAIN_OIDC_ISSUER"] == "https://sso.test.example.gouv.fr/realms/agents"
    assert data["SOUVERAIN_QUOTA_TOKENS_PER_DAY"] == "200000"
    backends = json.loads(data["SOUVERAIN_LLM_BACKENDS"])
    assert [b["id"] for b in backends] == ["mistral-small", "albert-large"]
    # What the chart writes is what the service reads (the one-model short form): it would not start otherwise.
    parsed = TypeAdapter(list[BackendConfig]).validate_python(backends)
    assert [(c.name, c.models[0].id) for c in parsed] == [
        ("mistral-small", "mistral-small"),
        ("albert-large", "albert-large"),
    ]
    vllm_service = one(full_manifests, "Service", "vllm")
    port = vllm_service["spec"]["ports"][0]["port"]
    assert backends[0] == {
        "id": "mistral-small",
        "kind": "openai",
        "base_url": f"http://{vllm_service['metadata']['name']}:{port}/v1",
        "model": "mistral-small",
        "sovereign": True,
    }


def test_pods_roll_when_the_configuration_changes() -> None:
    def checksum(level: str) -> str:
        api = one(render({"config": {"logLevel": level}}), "Deployment", "api")
        return api["spec"]["template"]["metadata"]["annotations"]["checksum/config"]  # type: ignore[no-any-return]

    assert checksum("INFO") != checksum("DEBUG")


def test_existing_secret_is_the_only_source_of_secrets(production_manifests: list[Manifest]) -> None:
    assert not by_kind(production_manifests, "Secret")
    for workload in (m for m in production_manifests if m["kind"] in {"Deployment", "Job"}):
        if workload["metadata"]["name"].endswith("-vllm"):
            continue
        refs = {
            e["valueFrom"]["secretKeyRef"]["key"]: e["valueFrom"]["secretKeyRef"]
            for e in _container(workload)["env"]
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        expected = {"database-url", "secret-key", "signing-key", "redis-url", "oidc-client-secret"}
        if workload["kind"] == "Job":
            # The schema owner's credentials reach the migration Job only, never the service's pods (#19 M3).
            expected.add("database-migration-url")
            assert refs["database-migration-url"]["optional"] is True
        assert expected == set(refs)
        assert {r["name"] for r in refs.values()} == {"souverain-secrets"}
        assert not refs["database-url"].get("optional", False)
        assert not refs["redis-url"].get("optional", False)


def test_no_secret_holds_a_literal_default(full_manifests: list[Manifest], default_manifests: list[Manifest]) -> None:
    """Secrets come only from the operator: none in the default render, given values in the managed one."""
    assert not by_kind(default_manifests, "Secret")
    secret = one(full_manifests, "Secret", "secrets")
    given = full_values()["secrets"]["values"]
    data = secret["stringData"]
    assert data["database-url"].startswith("postgresql+asyncpg://")
    assert data["secret-key"] != given["secretKey"]  # fresh values at each call: nothing is hard-coded
    for value in data.values():
        lowered = value.lower()
        assert not any(word in lowered for word in ("changeme", "change-me", "placeholder", "password", "secret"))
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("secretKey", "changeme-changeme-changeme-changeme", "secretKey"),
        ("secretKey", "too-short", "secretKey"),
        ("signingKey", "REPLACE-WITH-PLACEHOLDER-KEY-0000000000000000", "signingKey"),
        ("databaseUrl", "", "databaseUrl"),
        ("databaseUrl", "mysql://root@db/souverain", "databaseUrl"),
        ("redisUrl", "", "redisUrl"),
    ],
)
def test_chart_managed_secrets_refuse_missing_or_placeholder_values(key: str, value: str, expected: str) -> None:
    secret_values = generated_secret_values()
    secret_values[key] = value
    with pytest.raises(RenderError) as excinfo:
        render({"secrets": {"existingSecret": "", "values": secret_values}})
    assert expected in excinfo.value.message


def test_shared_data_volume_when_a_claim_is_given(full_manifests: list[Manifest]) -> None:
    for name in ("api", "worker"):
        volumes = {v["name"]: v for v in pod_spec(one(full_manifests, "Deployment", name))["volumes"]}
        assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "souverain-data"


def test_pod_templates_do_not_change_with_the_chart_version(any_manifests: list[Manifest]) -> None:
    """Version labels on pod templates would restart every pod (and reload vLLM) at each chart release."""
    for workload in (m for m in any_manifests if m["kind"] in {"Deployment", "Job"}):
        labels = pod_labels(workload)
        assert "helm.sh/chart" not in labels and "app.kubernetes.io/version" not in labels
        assert selector_matches(workload["spec"].get("selector", {"matchLabels": {}}), labels)
