"""The forbidden-use guard: rules (patterns and/or a classifier prompt, an action, a French message) and matching.

Pure logic: loading and editing rule sets, classifier calls and auditing live in ``assistant.services.gateway.guard``.
"""

from assistant.guard._engine import GuardEngine, GuardMatch
from assistant.guard._rules import (
    DEFAULT_RULES_FILE,
    GuardAction,
    GuardConfirmation,
    GuardNotice,
    GuardRule,
    RuleSetError,
    default_charter,
    default_rules,
    fold,
    parse_rules,
)

__all__ = [
    "DEFAULT_RULES_FILE",
    "GuardAction",
    "GuardConfirmation",
    "GuardEngine",
    "GuardMatch",
    "GuardNotice",
    "GuardRule",
    "RuleSetError",
    "default_charter",
    "default_rules",
    "fold",
    "parse_rules",
]
