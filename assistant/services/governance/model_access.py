"""The référent's choice of which groups may use each model (a model without a choice is open to all).

The rule is persisted, audited, dropped from this process's cache at once and picked up by the other replicas
within the cache's lifetime (``assistant.services.gateway.model_access``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from assistant.audit import ClientInfo
from assistant.errors import InvalidRequestError
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.services.gateway.model_access import forget_model_access
from assistant.store import groups as group_store
from assistant.store import model_access as access_store
from assistant.store import utcnow

__all__ = ["ModelAccessEntry", "list_model_access", "set_model_access"]

_MAX_GROUPS = 200


@dataclass(frozen=True, slots=True)
class ModelAccessEntry:
    """Who may use one model: ``groups`` is ``None`` when it is open to every user."""

    model_id: str
    groups: tuple[str, ...] | None
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def open_to_all(self) -> bool:
        return self.groups is None


async def list_model_access(runtime: Runtime) -> dict[str, ModelAccessEntry]:
    """Every configured model (withdrawn included) with its access rule, plus rules on models no longer configured."""
    async with runtime.session_factory() as session:
        reserved = {rule.model_id: rule for rule in await access_store.list_reserved_models(session=session)}
    entries = {model.id: ModelAccessEntry(model.id, None) for model in runtime.models.models(include_withdrawn=True)}
    for model_id, rule in reserved.items():
        entries[model_id] = ModelAccessEntry(model_id, rule.groups, rule.decided_by, rule.decided_at)
    return entries


async def set_model_access(
    runtime: Runtime,
    *,
    model_id: str,
    groups: Sequence[str] | None,
    actor: Principal | None,
    client: ClientInfo | None = None,
) -> ModelAccessEntry:
    """Reserve ``model_id`` to the groups named ``groups``, or open it to all with ``None``."""
    runtime.models.get(model_id)  # UnknownModelError (404) before anything is written
    names = sorted({name.strip() for name in groups or () if name.strip()}) if groups is not None else None
    if names is not None and not names:
        raise InvalidRequestError(
            "Choisissez au moins un groupe, ou ouvrez le modèle à tous. "
            "Pour ne le servir à personne, retirez-le du service."
        )
    if names is not None and len(names) > _MAX_GROUPS:
        raise InvalidRequestError(f"Trop de groupes ({len(names)}) : {_MAX_GROUPS} au plus.")
    decided_by = actor.username if actor else "cli"
    now = utcnow()
    async with runtime.session_factory.begin() as session:
        before = {rule.model_id: rule.groups for rule in await access_store.list_reserved_models(session=session)}
        if names is None:
            await access_store.open_model(session=session, model_id=model_id)
        else:
            found = {name: await group_store.get_group_by_name(session=session, name=name) for name in names}
            missing = [name for name, group in found.items() if group is None]
            if missing:
                raise InvalidRequestError(f"Groupe inconnu : {', '.join(f'« {name} »' for name in missing)}.")
            await access_store.reserve_model(
                session=session,
                model_id=model_id,
                group_ids=[group.id for group in found.values() if group is not None],
                decided_by=decided_by,
                decided_at=now,
            )
    forget_model_access(runtime)
    previous = before.get(model_id)
    await runtime.audit.record(
        category="audit",
        action="model.access",
        actor_id=actor.user_id if actor else None,
        actor_label=decided_by,
        resource_type="model",
        resource_id=model_id,
        client=client,
        details={"from": list(previous) if previous is not None else None, "to": names},
    )
    if names is None:
        return ModelAccessEntry(model_id, None)
    return ModelAccessEntry(model_id, tuple(names), decided_by, now)
