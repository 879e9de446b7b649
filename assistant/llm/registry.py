"""Model registry: public model ids → backend instance, upstream name, sovereignty flag, card and status.

Backend *kinds* come from plugins. A plugin is any module (or entry point in the ``souverain.llm_backends``
group) exposing ``register_backends(register)``; it calls ``register(SomeBackend)``. The built-in backends
are plugins listed in :data:`DEFAULT_PLUGINS` and go through the same door as third-party ones.

The registry is an object built once at start-up (``ModelRegistry.from_configs``) and passed around; there
is no module-level global.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from assistant.llm._base import BackendHealth, ChatBackend, WeightsFile
from assistant.llm._config import BackendConfig, ModelCard, ModelConfig, ModelStatus
from assistant.llm.errors import (
    BackendConfigError,
    LLMError,
    ModelWithdrawnError,
    UnknownModelError,
    WeightsIntegrityError,
)

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "BackendKinds",
    "IntegrityCheck",
    "IntegrityReport",
    "ModelRegistry",
    "RegisterBackend",
    "RegisteredModel",
]

logger = logging.getLogger(__name__)

RegisterBackend = Callable[[type[ChatBackend]], None]
DEFAULT_PLUGINS = ("assistant.llm.openai_compatible", "assistant.llm.replicas", "assistant.llm.embedded")
ENTRY_POINT_GROUP = "souverain.llm_backends"


class BackendKinds:
    """Backend classes by ``kind``. Filled through :meth:`register`, the callback handed to plugins."""

    def __init__(self) -> None:
        self._classes: dict[str, type[ChatBackend]] = {}

    def register(self, backend_class: type[ChatBackend]) -> None:
        """Add a backend class under its ``kind``; two classes may not claim the same kind."""
        kind = getattr(backend_class, "kind", None)
        if not kind:
            raise BackendConfigError(f"Le backend {backend_class.__qualname__} ne déclare pas d'attribut kind.")
        existing = self._classes.get(kind)
        if existing is not None and existing is not backend_class:
            raise BackendConfigError(
                f"Deux backends revendiquent le type « {kind} » : {existing.__qualname__} et "
                f"{backend_class.__qualname__}."
            )
        self._classes[kind] = backend_class

    def get(self, kind: str) -> type[ChatBackend]:
        try:
            return self._classes[kind]
        except KeyError:
            known = ", ".join(sorted(self._classes)) or "aucun"
            raise BackendConfigError(
                f"Type de backend inconnu : « {kind} ». Types disponibles : {known}. "
                "Corrigez le champ kind de SOUVERAIN_LLM_BACKENDS ou installez le greffon correspondant."
            ) from None

    def kinds(self) -> list[str]:
        return sorted(self._classes)

    @classmethod
    def with_plugins(cls, modules: Iterable[str] = DEFAULT_PLUGINS, *, load_entry_points: bool = True) -> BackendKinds:
        """Kinds from the built-in plugin modules, then from installed entry points."""
        kinds = cls()
        for name in modules:
            importlib.import_module(name).register_backends(kinds.register)
        if load_entry_points:
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                logger.info("Loading LLM backend plugin %s", entry_point.value)
                entry_point.load()(kinds.register)
        return kinds


@dataclass(slots=True)
class RegisteredModel:
    """A public model as the service sees it."""

    id: str
    backend_name: str
    backend: ChatBackend
    upstream_name: str
    sovereign: bool
    card: ModelCard
    context_length: int | None = None
    status: ModelStatus = ModelStatus.ACTIVE
    withdrawn_reason: str | None = None
    # Models that answer instead, in order, when this one is saturated or down (BackendConfig.fallback).
    fallback: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IntegrityCheck:
    """Outcome of hashing one weights file."""

    backend_name: str
    path: Path
    expected_sha256: str
    actual_sha256: str | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.actual_sha256 == self.expected_sha256


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """All weights checks of a start-up; ``ok`` is what /readyz reports."""

    checks: list[IntegrityCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def failed_backends(self) -> set[str]:
        return {check.backend_name for check in self.checks if not check.ok}


class ModelRegistry:
    """Lookup of public model ids; also owns the backends' lifecycle (health, integrity, closing)."""

    def __init__(self) -> None:
        self._models: dict[str, RegisteredModel] = {}
        self._backends: dict[str, ChatBackend] = {}
        self._integrity: IntegrityReport | None = None

    @classmethod
    def from_configs(cls, configs: Iterable[BackendConfig], *, kinds: BackendKinds | None = None) -> ModelRegistry:
        """Instantiate every configured backend and register its models. Raises ``BackendConfigError``."""
        kinds = kinds if kinds is not None else BackendKinds.with_plugins()
        registry = cls()
        for config in configs:
            backend = kinds.get(config.kind).from_options(config.options)
            registry.add_backend(
                config.name, backend, models=config.models, sovereign=config.sovereign, fallback=config.fallback
            )
        registry.check_fallbacks()
        return registry

    def add_backend(
        self,
        name: str,
        backend: ChatBackend,
        *,
        models: Iterable[ModelConfig],
        sovereign: bool,
        fallback: Iterable[str] = (),
    ) -> None:
        """Register a backend instance and its models; ids must be unique across backends.

        ``fallback`` may name models registered later: :meth:`check_fallbacks` checks the chains once all are in.
        """
        if name in self._backends:
            raise BackendConfigError(f"Deux backends portent le nom « {name} » dans SOUVERAIN_LLM_BACKENDS.")
        self._backends[name] = backend
        for model in models:
            if model.id in self._models:
                raise BackendConfigError(f"L'identifiant de modèle « {model.id} » est déclaré deux fois.")
            upstream = model.upstream_name or model.id
            card = model.card or backend.model_card(upstream) or ModelCard(name=model.id)
            self._models[model.id] = RegisteredModel(
                id=model.id,
                backend_name=name,
                backend=backend,
                upstream_name=upstream,
                sovereign=model.sovereign if model.sovereign is not None else sovereign,
                card=card,
                context_length=model.context_length or card.context_length,
                status=model.status,
                withdrawn_reason=model.withdrawn_reason,
                fallback=tuple(fallback),
            )
            logger.info("Registered model %s on backend %s (%s)", model.id, name, backend.kind)

    def check_fallbacks(self) -> None:
        """Refuse a fallback chain naming an unknown model, the model itself, or a less sovereign model.

        A fallback receives the same data as the model it replaces, so it must be at least as sovereign: a
        sovereign model's requests may carry internal data that a non-sovereign one must never see.
        """
        for model in self._models.values():
            for target_id in model.fallback:
                target = self._models.get(target_id)
                if target is None:
                    known = ", ".join(sorted(self._models)) or "aucun"
                    raise BackendConfigError(
                        f"Le modèle de repli « {target_id} » du modèle « {model.id} » est inconnu (champ fallback "
                        f"de SOUVERAIN_LLM_BACKENDS). Modèles déclarés : {known}."
                    )
                if target is model:
                    raise BackendConfigError(f"Le modèle « {model.id} » ne peut pas être son propre modèle de repli.")
                if model.sovereign and not target.sovereign:
                    raise BackendConfigError(
                        f"Le modèle de repli « {target.id} » n'est pas souverain, alors que le modèle « {model.id} » "
                        "l'est : un repli doit être au moins aussi souverain que le modèle qu'il remplace. "
                        f"Retirez « {target.id} » du champ fallback de « {model.backend_name} »."
                    )

    def resolve(self, model_id: str) -> RegisteredModel:
        """The model to serve a request with; refuses unknown, withdrawn and integrity-failed models."""
        model = self.get(model_id)
        if model.status is ModelStatus.WITHDRAWN:
            raise ModelWithdrawnError(model_id, reason=model.withdrawn_reason)
        if self._integrity is not None and model.backend_name in self._integrity.failed_backends():
            raise WeightsIntegrityError(
                f"Le modèle « {model_id} » est désactivé : ses poids locaux sont absents ou modifiés "
                "(voir /readyz). Réinstallez le paquet de poids ou prévenez l'exploitation."
            )
        return model

    def get(self, model_id: str) -> RegisteredModel:
        """The model whatever its status (admin views); raises ``UnknownModelError``."""
        try:
            return self._models[model_id]
        except KeyError:
            available = [m.id for m in self._models.values() if m.status is ModelStatus.ACTIVE]
            raise UnknownModelError(model_id, available=available) from None

    def models(self, *, include_withdrawn: bool = False) -> list[RegisteredModel]:
        return [model for model in self._models.values() if include_withdrawn or model.status is ModelStatus.ACTIVE]

    def withdraw(self, model_id: str, *, reason: str) -> None:
        """Withdraw a model (in memory; persisting the decision is the admin service's job)."""
        model = self.get(model_id)
        model.status = ModelStatus.WITHDRAWN
        model.withdrawn_reason = reason
        logger.warning("Model %s withdrawn", model_id)

    def reinstate(self, model_id: str) -> None:
        model = self.get(model_id)
        model.status = ModelStatus.ACTIVE
        model.withdrawn_reason = None

    @property
    def integrity(self) -> IntegrityReport | None:
        """Last result of :meth:`verify_integrity`, ``None`` before the first check."""
        return self._integrity

    async def verify_integrity(self) -> IntegrityReport:
        """Hash every local weights file (in a thread: ~1 s per GB) and remember the result."""
        checks: list[IntegrityCheck] = []
        for name, backend in self._backends.items():
            for weights in backend.weights():
                checks.append(await asyncio.to_thread(_check_weights, name, weights))
        report = IntegrityReport(checks=checks)
        for check in report.checks:
            if not check.ok:
                logger.error("Weights integrity failed for %s: %s", check.backend_name, check.detail)
        self._integrity = report
        return report

    async def start(self) -> None:
        """Start the backends that run their own model (after :meth:`verify_integrity`: altered weights never run).

        A backend that cannot start is logged and left to report itself in /readyz and to its requests; the
        other models and the rest of the service start all the same.
        """
        failed = self._integrity.failed_backends() if self._integrity is not None else set()
        for name, backend in self._backends.items():
            if name in failed:
                continue
            try:
                await backend.start()
            except LLMError as exc:
                logger.error("Backend %s did not start: %s", name, exc)

    async def health(self) -> dict[str, BackendHealth]:
        """Probe every backend concurrently."""
        names = list(self._backends)
        results = await asyncio.gather(*(self._backends[name].health() for name in names))
        return dict(zip(names, results, strict=True))

    async def aclose(self) -> None:
        for backend in self._backends.values():
            await backend.aclose()


def _check_weights(backend_name: str, weights: WeightsFile) -> IntegrityCheck:
    try:
        with weights.path.open("rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        return IntegrityCheck(backend_name, weights.path, weights.sha256, None, f"illisible : {exc.strerror}")
    detail = "" if actual == weights.sha256 else f"sha256 {actual} au lieu de {weights.sha256}"
    return IntegrityCheck(backend_name, weights.path, weights.sha256, actual, detail)
