"""Which models a caller may use: the référents reserve a model to some groups; the others are open to all.

Every path that picks a model for a user (``/v1``, conversations, document tasks, answers over collections,
minutes) goes through :func:`resolve_model`, and the picker and ``/v1/models`` list :func:`usable_models`, so a
reserved model is neither shown nor served to someone outside its groups. The rules are re-read at most every
few seconds (``Runtime.policy_cache``), which is how the other replicas learn a référent's change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from assistant.errors import PermissionDeniedError
from assistant.llm import RegisteredModel
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.store import model_access as access_store

__all__ = ["ModelAccess", "forget_model_access", "model_access", "resolve_model", "usable_models"]

_CACHE_KEY = ("model_access",)


@dataclass(frozen=True, slots=True)
class ModelAccess:
    """The reserved models and, for each, the names of the groups allowed to use it."""

    reserved: Mapping[str, frozenset[str]]

    def allows(self, model_id: str, groups: Iterable[str]) -> bool:
        """True when a member of ``groups`` may use ``model_id`` (open models: everyone)."""
        allowed = self.reserved.get(model_id)
        return allowed is None or not allowed.isdisjoint(groups)


async def model_access(runtime: Runtime) -> ModelAccess:
    """The current rules, from the cache or the database."""
    cached: ModelAccess | None = runtime.policy_cache.get(_CACHE_KEY)
    if cached is None:
        async with runtime.session_factory() as session:
            reserved = await access_store.list_reserved_models(session=session)
        cached = ModelAccess({rule.model_id: frozenset(rule.groups) for rule in reserved})
        runtime.policy_cache[_CACHE_KEY] = cached
    return cached


def forget_model_access(runtime: Runtime) -> None:
    """Drop the cached rules after a change, so this process applies it at once."""
    runtime.policy_cache.pop(_CACHE_KEY, None)


async def usable_models(runtime: Runtime, principal: Principal) -> list[RegisteredModel]:
    """The active models this caller may use, in the configured order."""
    access = await model_access(runtime)
    return [model for model in runtime.models.models() if access.allows(model.id, principal.groups)]


async def resolve_model(runtime: Runtime, model_id: str | None, *, principal: Principal) -> RegisteredModel:
    """The requested model, else the configured default, else the first active one — among those ``principal``
    may use.

    Unknown, withdrawn and integrity-failed models are refused by the registry as before; a reserved model
    outside the caller's groups is refused with ``model_not_allowed`` (403). Without a model named, a default the
    caller may not use gives way to the first model they may use.
    """
    access = await model_access(runtime)
    if model_id:
        model = runtime.models.resolve(model_id)
        if not access.allows(model.id, principal.groups):
            raise PermissionDeniedError(
                f"Le modèle « {model.id} » est réservé à certains groupes dont vous ne faites pas partie. "
                "Choisissez un autre modèle ou demandez l'accès à votre référent IA.",
                code="model_not_allowed",
            )
        return model
    default = runtime.settings.default_model
    if default and access.allows(default, principal.groups):
        return runtime.models.resolve(default)
    usable = [model for model in runtime.models.models() if access.allows(model.id, principal.groups)]
    if not usable:
        if not runtime.models.models():
            return runtime.models.resolve(default or "")  # no model at all: the registry's own message
        raise PermissionDeniedError(
            "Aucun modèle n'est ouvert à vos groupes : demandez l'accès à votre référent IA.",
            code="model_not_allowed",
        )
    return runtime.models.resolve(usable[0].id)
