"""Matching the user's text against the rules; the pattern half of the guard (the classifier lives in the service)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import regex

from assistant.guard._rules import PATTERN_TIMEOUT_SECONDS, GuardAction, GuardRule, fold

__all__ = ["INLINE_MAX_CHARS", "GuardEngine", "GuardMatch"]

logger = logging.getLogger(__name__)

_SEVERITY = {GuardAction.WARN: 0, GuardAction.CONFIRM: 1, GuardAction.BLOCK: 2}
# Texts up to this size are matched in the caller's thread (the event loop): the shipped rules take ~0.3 ms on a
# chat prompt there, while handing the work to a thread costs 5-15 ms of waiting when the loop is busy.
INLINE_MAX_CHARS = 2_000
# Each pattern gets this long in the caller's thread; one that needs more is left to a worker thread from then on.
INLINE_TIMEOUT_SECONDS = 0.005


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
        self._slow: set[str] = set()  # patterns that ran out of the inline budget once

    def candidates(self, texts: Iterable[str]) -> list[GuardMatch]:
        """Rules whose patterns match one of ``texts`` (or that have a classifier to ask), most severe first.

        Blocking (each pattern may run up to its timeout): call it from a worker thread, not the event loop.
        """
        return self._collect([fold(text) for text in texts if text], _search)

    def candidates_inline(self, texts: Iterable[str]) -> list[GuardMatch] | None:
        """:meth:`candidates` for short texts, cheap enough for the event loop; None when it is not (the texts
        are long, or a pattern is slow on them: that pattern sends every later call to :meth:`candidates`)."""
        folded = [fold(text) for text in texts if text]
        if self._slow or sum(len(text) for text in folded) > INLINE_MAX_CHARS:
            return None
        try:
            return self._collect(folded, self._search_inline)
        except _OutOfBudget:
            return None

    def _collect(
        self, folded: list[str], search: Callable[[GuardRule, regex.Pattern[str], str], bool]
    ) -> list[GuardMatch]:
        found: list[GuardMatch] = []
        for rule, patterns in self._compiled:
            if any(search(rule, pattern, text) for pattern in patterns for text in folded):
                found.append(GuardMatch(rule, by_pattern=True))
            elif rule.classifier_prompt is not None:
                found.append(GuardMatch(rule, by_pattern=False))
        return sorted(found, key=lambda match: -_SEVERITY[match.rule.action])

    def _search_inline(self, rule: GuardRule, pattern: regex.Pattern[str], text: str) -> bool:
        try:
            return pattern.search(text, timeout=INLINE_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            self._slow.add(pattern.pattern)
            raise _OutOfBudget from None

    def matching(self, text: str) -> list[str]:
        """Ids of the rules whose patterns match ``text`` (for tests and the rule editor's preview)."""
        return [match.rule.id for match in self.candidates([text]) if match.by_pattern]


class _OutOfBudget(Exception):
    """A pattern needs more than the inline budget: the whole match moves to a worker thread."""


def _search(rule: GuardRule, pattern: regex.Pattern[str], text: str) -> bool:
    try:
        return pattern.search(text, timeout=PATTERN_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        # Fail closed: a text the pattern cannot finish with is treated as matching it, and the référent is told.
        logger.warning(
            "Guard rule %s: a pattern ran out of time (%.1f s); counted as a match", rule.id, PATTERN_TIMEOUT_SECONDS
        )
        return True
