"""Matching the user's text against the rules; the pattern half of the guard (the classifier lives in the service)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from assistant.guard._rules import PATTERN_TIMEOUT_SECONDS, GuardAction, GuardRule, fold

__all__ = ["GuardEngine", "GuardMatch"]

logger = logging.getLogger(__name__)

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
        self._compiled: list[tuple[GuardRule, tuple[regex.Pattern[str], ...]]] = [
            (rule, rule.compiled()) for rule in self.rules if rule.enabled
        ]

    def candidates(self, texts: Iterable[str]) -> list[GuardMatch]:
        """Rules whose patterns match one of ``texts`` (or that have a classifier to ask), most severe first.

        Blocking (each pattern may run up to its timeout): call it from a worker thread, not the event loop.
        """
        folded = [fold(text) for text in texts if text]
        found: list[GuardMatch] = []
        for rule, patterns in self._compiled:
            if any(_search(rule, pattern, text) for pattern in patterns for text in folded):
                found.append(GuardMatch(rule, by_pattern=True))
            elif rule.classifier_prompt is not None:
                found.append(GuardMatch(rule, by_pattern=False))
        return sorted(found, key=lambda match: -_SEVERITY[match.rule.action])

    def matching(self, text: str) -> list[str]:
        """Ids of the rules whose patterns match ``text`` (for tests and the rule editor's preview)."""
        return [match.rule.id for match in self.candidates([text]) if match.by_pattern]


def _search(rule: GuardRule, pattern: regex.Pattern[str], text: str) -> bool:
    try:
        return pattern.search(text, timeout=PATTERN_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        # Fail closed: a text the pattern cannot finish with is treated as matching it, and the référent is told.
        logger.warning(
            "Guard rule %s: a pattern ran out of time (%.1f s); counted as a match", rule.id, PATTERN_TIMEOUT_SECONDS
        )
        return True
