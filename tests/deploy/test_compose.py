"""deploy/compose.yaml through the real `docker compose config` (no engine needed)."""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from assistant.llm import BackendConfig
from tests.deploy.helpers import DEPLOY_DIR, compose_config, one, render
from tests.deploy.values import full_values

SECRET_VARIABLES = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "SOUVERAIN_SECRET_KEY", "SOUVERAIN_SIGNING_KEY")
APP_SERVICES = ("api", "worker", "migrate")


def _env() -> dict[str, str]:
    return {
        "POSTGRES_PASSWORD": secrets.token_hex(24),
        "REDIS_PASSWORD": secrets.token_hex(24),
        "SOUVERAIN_SECRET_KEY": secrets.token_urlsafe(48),
        "SOUVERAIN_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "VLLM_MODEL_DIR": "/srv/models/mistral-small",
    }


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return _env()


@pytest.fixture(scope="module")
def project(env: dict[str, str]) -> dict[str, Any]:
    result = compose_config(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("missing", [*SECRET_VARIABLES, "VLLM_MODEL_DIR"])
def test_compose_refuses_to_start_without_each_secret(missing: str) -> None:
    env = _env()
    del env[missing]
    result = compose_config(env)
    assert result.returncode != 0
    assert f"required variable {missing} is missing a value" in result.stderr
    assert "deploy/.env" in result.stderr


def test_compose_runs_the_expected_services(project: dict[str, Any]) -> None:
    assert set(project["services"]) == {"api", "worker", "migrate", "postgres", "valkey", "vllm"}
    assert project["name"] == "souverain"


def test_every_long_running_service_has_a_health_check(project: dict[str, Any]) -> None:
    for name, service in project["services"].items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        test = service["healthcheck"]["test"]
        assert test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1, name
        assert service["restart"] == "unless-stopped", name


def test_start_order_waits_for_healthy_dependencies(project: dict[str, Any]) -> None:
    services = project["services"]
    for name in ("api", "worker"):
        depends = {k: v["condition"] for k, v in services[name]["depends_on"].items()}
        assert depends["migrate"] == "service_completed_successfully"
        assert depends["postgres"] == "service_healthy"
        assert depends["valkey"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["assistant", "db", "upgrade"]


def test_application_containers_are_hardened(project: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        service = project["services"][name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        uid = service["user"].split(":")[0]
        assert int(uid) != 0, name
        assert any(t.startswith("/tmp") for t in service["tmpfs"]), name
        assert [v["target"] for v in service["volumes"]] == ["/data"], name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert project["services"]["api"]["build"]["target"] == "api"
    assert project["services"]["worker"]["build"]["target"] == "worker"


def test_only_the_api_is_published_and_only_on_loopback(project: dict[str, Any]) -> None:
    published = {name: s.get("ports", []) for name, s in project["services"].items() if s.get("ports")}
    assert set(published) == {"api"}
    assert published["api"][0]["host_ip"] == "127.0.0.1"
    networks = project["networks"]
    assert networks["backend"]["internal"] is True
    for name in ("postgres", "valkey", "vllm", "worker", "migrate"):
        assert set(project["services"][name]["networks"]) == {"backend"}, name


def test_third_party_images_are_pinned(project: dict[str, Any]) -> None:
    for name in ("postgres", "valkey", "vllm"):
        image = project["services"][name]["image"]
        tag = image.rsplit(":", 1)[1]
        assert re.search(r"\d+\.\d+", tag) and tag != "latest", image


def test_vllm_serves_a_local_model_on_gpus(project: dict[str, Any]) -> None:
    vllm = project["services"]["vllm"]
    assert vllm["image"].startswith("vllm/vllm-openai:v")
    assert vllm["entrypoint"] == ["vllm", "serve"]
    command = vllm["command"]
    assert command[0] == "/models"
    assert command[command.index("--served-model-name") + 1] == "mistral-small"
    models = next(v for v in vllm["volumes"] if v["target"] == "/models")
    assert models["source"] == "/srv/models/mistral-small" and models["read_only"] is True
    device = vllm["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"] and device["count"] == 1
    assert vllm["environment"]["HF_HUB_OFFLINE"] == "1"
    assert "/health" in " ".join(vllm["healthcheck"]["test"])


def test_application_settings_point_at_the_bundled_services(project: dict[str, Any], env: dict[str, str]) -> None:
    settings = project["services"]["api"]["environment"]
    assert settings["SOUVERAIN_DATABASE_URL"] == (
        f"postgresql+asyncpg://souverain:{env['POSTGRES_PASSWORD']}@postgres:5432/souverain"
    )
    assert settings["SOUVERAIN_REDIS_URL"] == f"redis://:{env['REDIS_PASSWORD']}@valkey:6379/0"
    assert settings["SOUVERAIN_SECRET_KEY"] == env["SOUVERAIN_SECRET_KEY"]
    backends = json.loads(settings["SOUVERAIN_LLM_BACKENDS"])
    parsed = TypeAdapter(list[BackendConfig]).validate_python(backends)
    assert [(c.name, c.kind, c.models[0].id) for c in parsed] == [("mistral-small", "openai", "mistral-small")]
    assert backends == [
        {
            "id": "mistral-small",
            "kind": "openai",
            "base_url": "http://vllm:8000/v1",
            "model": "mistral-small",
            "sovereign": True,
        }
    ]
    assert project["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == env["POSTGRES_PASSWORD"]


def test_no_secret_is_written_in_the_compose_file() -> None:
    """Secret-bearing values are `${VAR:?...}` references only, so compose has no default to fall back on."""
    raw = yaml.safe_load((DEPLOY_DIR / "compose.yaml").read_text())
    app_env = raw["x-souverain-env"]
    for key in ("SOUVERAIN_SECRET_KEY", "SOUVERAIN_SIGNING_KEY"):
        assert re.fullmatch(r"\$\{" + key + r":\?[^}]+\}", app_env[key]), key
    for key in ("SOUVERAIN_DATABASE_URL", "SOUVERAIN_REDIS_URL"):
        assert re.search(r"\$\{(POSTGRES|REDIS)_PASSWORD:\?", app_env[key]), key
    example = (DEPLOY_DIR / ".env.example").read_text()
    for variable in SECRET_VARIABLES:
        assert re.search(rf"^{variable}=$", example, re.MULTILINE), variable


def test_compose_and_helm_set_the_same_application_settings(project: dict[str, Any]) -> None:
    """One product, two packagings: the same SOUVERAIN_* names reach the API in both."""
    compose_names = {k for k in project["services"]["api"]["environment"] if k.startswith("SOUVERAIN_")}
    api = one(render(full_values()), "Deployment", "api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    config = one(render(full_values()), "ConfigMap", "config")["data"]
    helm_names = {e["name"] for e in container["env"] if e["name"].startswith("SOUVERAIN_")} | set(config)
    helm_names -= {"SOUVERAIN_QUOTA_TOKENS_PER_DAY"}  # extraEnv of the test values
    assert compose_names == helm_names
