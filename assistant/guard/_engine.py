"""Matching the user's text against the rules; the pattern half of the guard (the classifier lives in the service)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.guard._rules import GuardAction, GuardRule, fold

__all__ = ["GuardEngine", "GuardMatch"]

_SEVERITY = {GuardAction.WARN: 0, GuardAction.CONFIRM: 1, GuardAction.BLOCK: 2}


@dataclass(frozen=True, slots=True)
class GuardMatch:
    """A rule that applies to a text; ``by_pattern`` is false when only its classifier can tell."""

    rule: GuardRule
    by_pattern: bool


class GuardEngine:
    """Compiled rules of one version; match texts with :meth:`candidates`."""

    def __init__(self, rules: Iterable[GuardRule], *, version: int) -> None:
        self.version = version
        self.rules = tuple(rules)  # all of them, disabled ones included, as the référent wrote them
        self._compiled: list[tuple[GuardRule, tuple[re.Pattern[str], ...]]] = [
            (rule, rule.compiled()) for rule in self.rules if rule.enabled
        ]

    def candidates(self, texts: Iterable[str]) -> list[GuardMatch]:
        """Rules whose patterns match one of ``texts`` (or that rely on their classifier alone), most severe first."""
        folded = [fold(text) for text in texts if text]
        found: list[GuardMatch] = []
        for rule, patterns in self._compiled:
            if not patterns:
                found.append(GuardMatch(rule, by_pattern=False))
            elif any(pattern.search(text) for pattern in patterns for text in folded):
                found.append(GuardMatch(rule, by_pattern=True))
        return sorted(found, key=lambda match: -_SEVERITY[match.rule.action])

    def matching(self, text: str) -> list[str]:
        """Ids of the rules whose patterns match ``text`` (for tests and the rule editor's preview)."""
        return [match.rule.id for match in self.candidates([text]) if match.by_pattern]
