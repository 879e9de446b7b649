"""Model registry: configuration, lookup errors, withdrawal, plugins, integrity of local weights."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import TypeAdapter

from assistant.llm import (
    BackendConfig,
    BackendConfigError,
    BackendKinds,
    ChatBackend,
    ChatChunk,
    ChatRequest,
    ChoiceDelta,
    ModelCard,
    ModelConfig,
    ModelRegistry,
    ModelStatus,
    ModelWithdrawnError,
    UnknownModelError,
    Usage,
    WeightsFile,
    WeightsIntegrityError,
)
from assistant.llm.openai_compatible import OpenAICompatibleBackend
from tests.fakes import FakeUpstream, closed_port_url


class LocalFileBackend(ChatBackend):
    """A backend with local weights: answers the length of the last message, to test the registry alone."""

    kind: ClassVar[str] = "local-test"

    class Options(ChatBackend.Options):
        path: Path
        sha256: str

    options: Options

    def weights(self) -> list[WeightsFile]:
        return [WeightsFile(path=self.options.path, sha256=self.options.sha256)]

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        text = str(len(str(request.messages[-1]["content"])))
        yield ChatChunk(deltas=(ChoiceDelta(text=text, finish_reason="stop"),))
        yield ChatChunk(usage=Usage(prompt_tokens=1, completion_tokens=1))


def kinds_with_local() -> BackendKinds:
    kinds = BackendKinds.with_plugins(load_entry_points=False)
    kinds.register(LocalFileBackend)
    return kinds


def parse(raw: str) -> list[BackendConfig]:
    """As the settings will parse SOUVERAIN_LLM_BACKENDS."""
    return TypeAdapter(list[BackendConfig]).validate_json(raw)


def vllm_configs(url: str) -> list[BackendConfig]:
    return parse(
        f"""[{{"name": "vllm-dgx", "kind": "openai", "sovereign": true,
              "options": {{"base_url": "{url}", "first_token_timeout": 5}},
              "models": [
                {{"id": "albert-large", "upstream_name": "fake-model", "context_length": 4096,
                  "card": {{"name": "Albert Large", "licence": "Apache-2.0", "languages": ["fr"]}}}},
                {{"id": "cloud-gpt", "upstream_name": "fake-model", "sovereign": false}},
                {{"id": "ancien", "upstream_name": "fake-model", "status": "withdrawn",
                  "withdrawn_reason": "remplacé par albert-large"}}]}}]"""
    )


def test_builtin_kinds_register_like_plugins() -> None:
    kinds = BackendKinds.with_plugins(load_entry_points=False)

    assert kinds.kinds() == ["embedded", "openai", "replicas"]
    assert kinds.get("openai") is OpenAICompatibleBackend


def test_a_kind_cannot_be_claimed_twice() -> None:
    kinds = BackendKinds()
    kinds.register(OpenAICompatibleBackend)
    kinds.register(OpenAICompatibleBackend)  # same class again: harmless

    class Impostor(OpenAICompatibleBackend):
        pass

    with pytest.raises(BackendConfigError, match="Deux backends revendiquent le type « openai »"):
        kinds.register(Impostor)


async def test_models_resolve_to_backend_upstream_name_and_flags(openai_upstream: FakeUpstream) -> None:
    registry = ModelRegistry.from_configs(vllm_configs(openai_upstream.url))

    albert = registry.resolve("albert-large")
    cloud = registry.resolve("cloud-gpt")

    assert albert.backend is cloud.backend  # one server, one pool, one breaker
    assert isinstance(albert.backend, OpenAICompatibleBackend)
    assert (albert.upstream_name, albert.sovereign, albert.context_length) == ("fake-model", True, 4096)
    assert albert.card.languages == ["fr"] and albert.card.licence == "Apache-2.0"
    assert cloud.sovereign is False and cloud.card.name == "cloud-gpt"
    assert [m.id for m in registry.models()] == ["albert-large", "cloud-gpt"]
    assert len(registry.models(include_withdrawn=True)) == 3

    request = ChatRequest(model=albert.upstream_name, messages=[{"role": "user", "content": "un deux"}])
    result = await albert.backend.complete(request)
    assert result.choices[0].text == "deux un"
    await registry.aclose()


async def test_unknown_model_lists_the_available_ones(openai_upstream: FakeUpstream) -> None:
    registry = ModelRegistry.from_configs(vllm_configs(openai_upstream.url))

    with pytest.raises(UnknownModelError) as caught:
        registry.resolve("gpt-4o")

    message = caught.value.message
    assert "« gpt-4o »" in message and "albert-large, cloud-gpt" in message and "/v1/models" in message
    assert "ancien" not in message
    assert caught.value.code == "model_not_found"
    await registry.aclose()


async def test_withdrawn_models_refuse_with_the_referent_reason(openai_upstream: FakeUpstream) -> None:
    registry = ModelRegistry.from_configs(vllm_configs(openai_upstream.url))

    with pytest.raises(ModelWithdrawnError, match="remplacé par albert-large"):
        registry.resolve("ancien")
    assert registry.get("ancien").status is ModelStatus.WITHDRAWN  # admin views still see it

    registry.withdraw("albert-large", reason="hallucinations signalées")
    with pytest.raises(ModelWithdrawnError, match="hallucinations signalées"):
        registry.resolve("albert-large")

    registry.reinstate("albert-large")
    assert registry.resolve("albert-large").status is ModelStatus.ACTIVE
    await registry.aclose()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            '[{"name": "x", "kind": "ollama", "sovereign": true, "models": [{"id": "m"}]}]',
            "Types disponibles",
        ),
        ('[{"name": "x", "kind": "openai", "sovereign": true, "models": [{"id": "m"}]}]', "base_url"),
        (
            '[{"name": "x", "kind": "openai", "sovereign": true, "options": {"base_url": "http://h/v1", '
            '"timeout": 3}, "models": [{"id": "m"}]}]',
            "timeout",
        ),
    ],
)
def test_invalid_backend_config_is_refused_at_start(raw: str, message: str) -> None:
    with pytest.raises(BackendConfigError, match=message):
        ModelRegistry.from_configs(parse(raw), kinds=BackendKinds.with_plugins(load_entry_points=False))


def test_duplicate_model_ids_are_refused() -> None:
    config = BackendConfig(
        name="a",
        kind="openai",
        sovereign=True,
        options={"base_url": "http://h/v1"},
        models=[ModelConfig(id="m")],
    )
    second = config.model_copy(update={"name": "b"})

    with pytest.raises(BackendConfigError, match="« m » est déclaré deux fois"):
        ModelRegistry.from_configs([config, second])


async def test_integrity_check_passes_then_detects_a_tampered_file(tmp_path: Path) -> None:
    weights = tmp_path / "model.gguf"
    weights.write_bytes(b"GGUF" + bytes(range(256)) * 100)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    config = BackendConfig(
        name="local",
        kind="local-test",
        sovereign=True,
        options={"path": str(weights), "sha256": digest},
        models=[ModelConfig(id="petit", card=ModelCard(name="Petit", weights_sha256=digest))],
    )
    registry = ModelRegistry.from_configs([config], kinds=kinds_with_local())
    assert registry.integrity is None

    report = await registry.verify_integrity()
    assert report.ok and report.checks[0].actual_sha256 == digest
    assert (
        await registry.resolve("petit").backend.complete(
            ChatRequest(model="petit", messages=[{"role": "user", "content": "abc"}])
        )
    ).choices[0].text == "3"

    weights.write_bytes(weights.read_bytes()[:-1] + b"\x00")
    report = await registry.verify_integrity()
    assert not report.ok and report.failed_backends() == {"local"}
    assert digest in report.checks[0].detail
    with pytest.raises(WeightsIntegrityError, match="/readyz"):
        registry.resolve("petit")


async def test_missing_weights_file_fails_integrity(tmp_path: Path) -> None:
    config = BackendConfig(
        name="local",
        kind="local-test",
        sovereign=True,
        options={"path": str(tmp_path / "absent.gguf"), "sha256": "0" * 64},
        models=[ModelConfig(id="petit")],
    )
    registry = ModelRegistry.from_configs([config], kinds=kinds_with_local())

    report = await registry.verify_integrity()

    assert not report.ok
    assert report.checks[0].actual_sha256 is None and "illisible" in report.checks[0].detail


async def test_health_probes_every_backend(openai_upstream: FakeUpstream) -> None:
    configs = [
        *vllm_configs(openai_upstream.url),
        BackendConfig(
            name="panne",
            kind="openai",
            sovereign=True,
            options={"base_url": closed_port_url(), "connect_timeout": 0.5},
            models=[ModelConfig(id="hs")],
        ),
    ]
    registry = ModelRegistry.from_configs(configs)

    health = await registry.health()

    assert health["vllm-dgx"].status == "ok"
    assert health["panne"].status == "down"
    await registry.aclose()
