"""The référent's editor of the forbidden-use guard rules, with the guard's recent decisions and false alarms.

The rule set is replaced as a whole by the same service as ``PUT /api/admin/guard-rules``: a form edits one
rule, the page rebuilds the set around it. Each form carries the version it was read from, so that two référents
editing at once never silently overwrite each other.

Separation of duties: the référent does not read the audit log, so the decisions shown here say which rule
applied, when and where, never who sent the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import RedirectResponse, Response

from assistant.api.deps import ClientDep, RuntimeDep
from assistant.errors import UserFacingError
from assistant.guard import GuardAction, GuardRule, RuleSetError, parse_rules
from assistant.runtime import Runtime
from assistant.security import Permission
from assistant.services.gateway.guard import current_engine, replace_rules
from assistant.services.governance.audit_log import search_events
from assistant.services.governance.incidents import list_reports
from assistant.store.models import IncidentCategory
from assistant.web._auth import RequirePage, WebCaller
from assistant.web._templates import PageRenderer

__all__ = ["ADMIN_GUARD_PATH", "guard_pages_router"]

ADMIN_GUARD_PATH = "/admin/garde-fou"
_DECISIONS = {
    "guard.blocked": "Demande refusée",
    "guard.confirmation_required": "Justification demandée",
    "guard.confirmed": "Poursuivie avec justification",
    "guard.warned": "Rappel affiché",
}
ACTION_LABELS = {
    GuardAction.WARN: "Avertir (rappel de la charte)",
    GuardAction.CONFIRM: "Demander une justification",
    GuardAction.BLOCK: "Refuser",
}
_SURFACES = {
    "api": "API compatible OpenAI",
    "chat": "Conversation",
    "task": "Tâche sur un document",
    "rag": "Question sur une collection",
}

CharterManager = Annotated[WebCaller, Security(RequirePage(Permission.MANAGE_CHARTER))]


@dataclass(frozen=True)
class Decision:
    """One guard decision as the référent sees it (no author)."""

    occurred_at: datetime
    label: str
    rule: str
    surface: str
    reason: str | None


def _form_of(rule: GuardRule | None) -> dict[str, Any]:
    if rule is None:
        return {"origine": "", "identifiant": "", "titre": "", "action": "warn", "message": "", "clause": "",
                "motifs": "", "consigne": "", "active": True}  # fmt: skip
    return {
        "origine": rule.id,
        "identifiant": rule.id,
        "titre": rule.title,
        "action": rule.action.value,
        "message": rule.message,
        "clause": rule.clause,
        "motifs": "\n".join(rule.patterns),
        "consigne": rule.classifier_prompt or "",
        "active": rule.enabled,
    }


def _raw_of(form: dict[str, Any]) -> dict[str, Any]:
    """The rule object the API would receive, from the form's fields (one pattern per line)."""
    return {
        "id": form["identifiant"].strip(),
        "title": form["titre"].strip(),
        "action": form["action"],
        "message": form["message"].strip(),
        "clause": form["clause"].strip(),
        "patterns": [line.strip() for line in form["motifs"].splitlines() if line.strip()],
        "classifier_prompt": form["consigne"].strip() or None,
        "enabled": form["active"],
    }


async def _decisions(runtime: Runtime) -> list[Decision]:
    events = await search_events(runtime, action_prefix="guard.", limit=80)
    return [
        Decision(
            occurred_at=event.occurred_at,
            label=_DECISIONS[event.action],
            rule=str(event.details.get("rule", event.resource_id or "")),
            surface=_SURFACES.get(str(event.details.get("surface")), str(event.details.get("surface", "—"))),
            reason=event.details.get("reason"),
        )
        for event in events
        if event.action in _DECISIONS
    ][:50]


def guard_pages_router(renderer: PageRenderer) -> APIRouter:
    """``/admin/garde-fou``: list, add, edit, enable or disable rules."""
    router = APIRouter(include_in_schema=False)

    async def guard_page(
        request: Request,
        runtime: RuntimeDep,
        caller: WebCaller,
        *,
        form: dict[str, Any] | None = None,
        editing: bool = False,
        error: str | None = None,
        error_field: str | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Response:
        engine = await current_engine(runtime)
        reports = await list_reports(runtime, category=IncidentCategory.GUARD_FALSE_POSITIVE, limit=20)
        return renderer.render(
            request,
            "admin_guard.html",
            title="Garde-fou des usages interdits",
            caller=caller,
            active="admin",
            version=engine.version,
            rules=list(engine.rules),
            action_labels=ACTION_LABELS,
            form=form,
            editing=editing,
            error=error,
            error_field=error_field,
            notice=notice,
            decisions=await _decisions(runtime),
            reports=reports,
            status_code=status_code,
        )

    @router.get(ADMIN_GUARD_PATH)
    async def show_rules(
        request: Request,
        runtime: RuntimeDep,
        caller: CharterManager,
        modifier: str | None = None,
        nouvelle: int | None = None,
        enregistree: str | None = None,
    ) -> Response:
        engine = await current_engine(runtime)
        form = None
        if modifier is not None:
            rule = next((rule for rule in engine.rules if rule.id == modifier), None)
            if rule is None:
                return await guard_page(
                    request, runtime, caller, error=f"La règle « {modifier} » n'existe pas.", status_code=404
                )
            form = _form_of(rule)
        elif nouvelle:
            form = _form_of(None)
        notice = (
            f"Règles enregistrées (version {enregistree}) : elles s'appliquent immédiatement." if enregistree else None
        )
        return await guard_page(request, runtime, caller, form=form, editing=modifier is not None, notice=notice)

    @router.post(ADMIN_GUARD_PATH)
    async def save_rule(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: CharterManager,
        version: Annotated[int, Form(ge=0, le=2**31 - 1)],
        origine: Annotated[str, Form(max_length=64)] = "",
        identifiant: Annotated[str, Form(max_length=200)] = "",
        titre: Annotated[str, Form(max_length=1000)] = "",
        action: Annotated[str, Form(max_length=20)] = "",
        message: Annotated[str, Form(max_length=10_000)] = "",
        clause: Annotated[str, Form(max_length=1000)] = "",
        motifs: Annotated[str, Form(max_length=100_000)] = "",
        consigne: Annotated[str, Form(max_length=20_000)] = "",
        active: Annotated[str, Form(max_length=10)] = "",
    ) -> Response:
        form = {
            "origine": origine,
            "identifiant": identifiant,
            "titre": titre,
            "action": action,
            "message": message,
            "clause": clause,
            "motifs": motifs,
            "consigne": consigne,
            "active": active == "oui",
        }
        engine = await current_engine(runtime)
        raw = [rule.model_dump(mode="json") for rule in engine.rules]
        position = next((i for i, rule in enumerate(raw) if rule["id"] == origine), None) if origine else len(raw)

        async def refuse(text: str, field: str | None = None, status_code: int = 400) -> Response:
            return await guard_page(
                request,
                runtime,
                caller,
                form=form,
                editing=bool(origine),
                error=text,
                error_field=field,
                status_code=status_code,
            )

        if version != engine.version:
            return await refuse(
                f"Les règles ont été modifiées entre-temps (version {engine.version}) : rechargez la page, puis "
                "refaites votre modification.",
                status_code=409,
            )
        if position is None:
            return await refuse(f"La règle « {origine} » n'existe plus.", status_code=404)
        raw[position:position + 1] = [_raw_of(form)]  # fmt: skip
        try:
            parse_rules(raw)  # the service validates again; here to point the form at the field at fault
        except RuleSetError as exc:
            text = str(exc)
            # « Règle n° 3, champ « id » (identifiant) : … »: the form already says which rule and which field.
            return await refuse(text.split(" : ", 1)[-1] if text.startswith("Règle") else text, exc.field)
        try:
            saved = await replace_rules(runtime, principal=caller.principal, client=client, raw_rules=list(raw))
        except UserFacingError as exc:
            return await refuse(exc.message)
        return RedirectResponse(f"{ADMIN_GUARD_PATH}?enregistree={saved.version}", status_code=303)

    @router.post(ADMIN_GUARD_PATH + "/activation")
    async def toggle_rule(
        request: Request,
        runtime: RuntimeDep,
        client: ClientDep,
        caller: CharterManager,
        version: Annotated[int, Form(ge=0, le=2**31 - 1)],
        regle: Annotated[str, Form(max_length=64)],
        active: Annotated[str, Form(max_length=10)] = "",
    ) -> Response:
        engine = await current_engine(runtime)
        if version != engine.version:
            return await guard_page(
                request,
                runtime,
                caller,
                error=f"Les règles ont été modifiées entre-temps (version {engine.version}) : vérifiez-les, réessayez.",
                status_code=409,
            )
        raw = [rule.model_dump(mode="json") for rule in engine.rules]
        target = next((rule for rule in raw if rule["id"] == regle), None)
        if target is None:
            missing = f"La règle « {regle} » n'existe plus."
            return await guard_page(request, runtime, caller, error=missing, status_code=404)
        target["enabled"] = active == "oui"
        saved = await replace_rules(runtime, principal=caller.principal, client=client, raw_rules=list(raw))
        return RedirectResponse(f"{ADMIN_GUARD_PATH}?enregistree={saved.version}", status_code=303)

    return router
