"""The forbidden-use guard at the point of use: which rule set applies, the classifier, audited decisions.

:func:`check_forbidden_uses` runs in the shared pre-generation checks (gateway, conversations, document tasks,
RAG answers). A ``block`` rule refuses the request; a ``confirm`` rule refuses it until the request carries
``guard_confirmation: {rule, reason}``; a ``warn`` rule lets it through with a notice returned in the response
(``guard``). Every decision is audited with the rule id and action, never the text of the request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import anyio

from assistant.audit import ClientInfo
from assistant.errors import ForbiddenUseError, InvalidRequestError
from assistant.guard import (
    GuardAction,
    GuardConfirmation,
    GuardEngine,
    GuardMatch,
    GuardNotice,
    GuardRule,
    RuleSetError,
    default_rules,
    parse_rules,
)
from assistant.llm import ChatRequest, LLMError, SamplingParams
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.store import charter as store
from assistant.store import utcnow
from assistant.store.models import GuardRuleSet

__all__ = ["RuleSetView", "check_forbidden_uses", "current_engine", "replace_rules"]

logger = logging.getLogger(__name__)

_ENGINE = ("guard", "engine")
_CLASSIFIER_SUFFIX = (
    "\n\nRéponds uniquement par OUI si la demande ci-dessous relève de cet usage interdit, sinon par NON."
)


class RuleSetView:
    """The rule set in force: its version (0: the shipped defaults, never edited), rules, and origin."""

    def __init__(self, engine: GuardEngine, *, source: str) -> None:
        self.version = engine.version
        self.rules = list(engine.rules)
        self.source = source


async def current_engine(runtime: Runtime) -> GuardEngine:
    """The compiled rules in force: the référent's latest rule set, else the shipped defaults."""
    engine: GuardEngine | None = runtime.policy_cache.get(_ENGINE)
    if engine is None:
        async with runtime.session_factory() as session:
            row = await store.latest_rule_set(session=session)
        version = row.version if row is not None else default_rules()[0]
        engine = runtime.guard_engine
        if engine is None or engine.version != version:
            if row is None:
                engine = GuardEngine(default_rules()[1], version=version)
            else:
                engine = GuardEngine(parse_rules(row.rules), version=row.version)
            runtime.guard_engine = engine
        runtime.policy_cache[_ENGINE] = engine
    return engine


async def replace_rules(
    runtime: Runtime, *, principal: Principal, client: ClientInfo, raw_rules: list[object]
) -> GuardEngine:
    """Validate and store a new version of the rules (a full replacement); it applies at once in this process."""
    try:
        rules = parse_rules(raw_rules)
    except RuleSetError as exc:
        raise InvalidRequestError(f"Règles refusées : {exc}", code="invalid_guard_rules") from exc
    shipped_version, _ = default_rules()
    async with runtime.session_factory.begin() as session:
        latest = await store.latest_rule_set(session=session)
        # Versions continue from the shipped defaults so that a rule set's version never goes backwards.
        version = max(latest.version if latest else 0, shipped_version) + 1
        await store.add_rule_set(
            session=session,
            rule_set=GuardRuleSet(
                version=version,
                rules=[rule.model_dump(mode="json") for rule in rules],
                updated_by=principal.username,
                updated_at=utcnow(),
            ),
        )
    runtime.policy_cache.pop(_ENGINE, None)
    runtime.guard_engine = None
    await runtime.audit.record(
        category="audit",
        action="guard.rules_updated",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="guard_rules",
        resource_id=str(version),
        client=client,
        details={"version": version, "rules": [rule.id for rule in rules]},
    )
    return GuardEngine(rules, version=version)


# The classifier reads the whole text, in parts of this many characters (one call each; any OUI is a match).
_CLASSIFIER_PART_CHARS = 8000


async def _classify(runtime: Runtime, rule: GuardRule, texts: Sequence[str]) -> bool | None:
    """The configured model's verdict on the rule's question over all of ``texts`` (None when it cannot answer)."""
    assert rule.classifier_prompt is not None
    chosen = runtime.settings.guard_classifier_model or runtime.settings.default_model
    try:
        model = runtime.models.resolve(chosen) if chosen else runtime.models.models()[0]
    except (LLMError, IndexError):
        return None  # no usable model: the patterns decide alone
    if not model.sovereign:
        return None  # the user's text never goes to a non-sovereign model, not even to be classified
    whole = "\n\n".join(texts)
    verdicts: list[bool | None] = []
    for start in range(0, len(whole), _CLASSIFIER_PART_CHARS):
        request = ChatRequest(
            model=model.upstream_name,
            messages=[
                {"role": "system", "content": rule.classifier_prompt + _CLASSIFIER_SUFFIX},
                {"role": "user", "content": whole[start : start + _CLASSIFIER_PART_CHARS]},
            ],
            params=SamplingParams(max_tokens=3, temperature=0),
        )
        try:
            result = await model.backend.complete(request)
        except LLMError as exc:
            logger.warning("guard classifier for rule %s failed: %s", rule.id, exc.code)
            verdicts.append(None)
            continue
        answer = (result.choices[0].text if result.choices else "").strip().upper()
        if answer.startswith(("OUI", "YES")):
            return True
        verdicts.append(False if answer.startswith(("NON", "NO")) else None)
    return False if verdicts and all(verdict is False for verdict in verdicts) else None


async def _applies(runtime: Runtime, match: GuardMatch, texts: Sequence[str]) -> bool:
    # A pattern's match stands: a classifier (which the text itself may try to talk into « NON ») can add a
    # match where no pattern fired, never clear one.
    if match.by_pattern:
        return True
    return await _classify(runtime, match.rule, texts) is True


async def check_forbidden_uses(
    runtime: Runtime,
    texts: Iterable[str],
    *,
    principal: Principal,
    client: ClientInfo,
    surface: str,
    confirmation: GuardConfirmation | None = None,
) -> list[GuardNotice]:
    """Apply the rules to the user's own text; raise :class:`ForbiddenUseError` or return the notices to show."""
    texts = [text for text in texts if text and text.strip()]
    if not texts:
        return []
    engine = await current_engine(runtime)

    async def audit(action: str, rule: GuardRule, *, outcome: str, reason: str | None = None) -> None:
        details: dict[str, object] = {
            "rule": rule.id,
            "action": rule.action.value,
            "rules_version": engine.version,
            "surface": surface,
        }
        if reason is not None:
            details["reason"] = reason  # the user's justification is what the auditor needs; the request stays out
        await runtime.audit.record(
            category="audit",
            action=action,
            outcome=outcome,
            actor_id=principal.user_id,
            actor_label=principal.username,
            resource_type="guard_rule",
            resource_id=rule.id,
            client=client,
            details=details,
        )

    notices: list[GuardNotice] = []
    # Patterns are the référent's own: a short text is matched here under a tight budget per pattern, anything
    # longer or slower off the event loop, each pattern with its full timeout.
    matches = engine.candidates_inline(texts)
    if matches is None:
        matches = await anyio.to_thread.run_sync(engine.candidates, texts)
    for match in matches:
        rule = match.rule
        if not await _applies(runtime, match, texts):
            continue
        if rule.action is GuardAction.BLOCK:
            await audit("guard.blocked", rule, outcome="denied")
            raise _refusal(rule, code="forbidden_use")
        if rule.action is GuardAction.CONFIRM:
            if confirmation is None or confirmation.rule != rule.id:
                await audit("guard.confirmation_required", rule, outcome="denied")
                raise _refusal(rule, code="guard_confirmation_required")
            await audit("guard.confirmed", rule, outcome="success", reason=confirmation.reason)
            notices.append(GuardNotice.of(rule, confirmed=True))
            continue
        await audit("guard.warned", rule, outcome="success")
        notices.append(GuardNotice.of(rule))
    return notices


def _refusal(rule: GuardRule, *, code: str) -> ForbiddenUseError:
    if code == "guard_confirmation_required":
        message = (
            f"{rule.message} Renvoyez la demande avec guard_confirmation = "
            f'{{"rule": "{rule.id}", "reason": "…"}} pour confirmer.'
        )
    else:
        message = rule.message
    error = ForbiddenUseError(message, code=code)
    error.details = {"guard": GuardNotice.of(rule).model_dump(mode="json")}
    return error
