"""Forbidden-use rules: what they match, what happens then, and the shipped defaults.

A rule's patterns are regular expressions matched accent- and case-insensitively over the user's text: the
text loses its accents before matching and the patterns are compiled accent-free with ``re.IGNORECASE``, so a
référent may write « séjour » or « sejour ». Patterns are not case-folded themselves: that would turn ``\\S``
into ``\\s``.
"""

from __future__ import annotations

import enum
import functools
import json
import re
import unicodedata
from importlib import resources
from typing import Any

import regex
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "DEFAULT_RULES_FILE",
    "GuardAction",
    "GuardConfirmation",
    "GuardNotice",
    "GuardRule",
    "RuleSetError",
    "default_charter",
    "default_rules",
    "fold",
    "parse_rules",
]

DEFAULT_RULES_FILE = "default_rules.v1.json"


class RuleSetError(ValueError):
    """Raised when a rule set is malformed (bad field, invalid regex, duplicate id); the message says where.

    ``field`` names the rule field at fault when there is one (``id``, ``patterns``…), so a form can point at it.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


_FIELD_LABELS = {
    "id": "identifiant",
    "title": "titre",
    "action": "action",
    "message": "message",
    "clause": "clause",
    "patterns": "motifs",
    "classifier_prompt": "consigne de classification",
    "enabled": "activation",
}


def _french(error: Any) -> str:
    """Pydantic's (English) validation error in French, for the référent who edits the rules."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])  # our own validators already speak French
    messages = {
        "missing": "champ obligatoire",
        "string_pattern_mismatch": "lettres minuscules sans accent, chiffres et tirets seulement (2 à 64 caractères)",
        "string_too_short": f"au moins {ctx.get('min_length')} caractère(s)",
        "string_too_long": f"au plus {ctx.get('max_length')} caractères",
        "too_long": f"au plus {ctx.get('max_length')} éléments",
        "enum": "valeur attendue : warn (avertir), confirm (demander une justification) ou block (refuser)",
        "extra_forbidden": "champ inconnu",
        "string_type": "texte attendu",
        "bool_type": "vrai ou faux attendu",
        "bool_parsing": "vrai ou faux attendu",
        "tuple_type": "liste attendue",
        "model_type": "objet attendu",
    }
    return str(messages.get(kind, error["msg"]))


class GuardAction(enum.StrEnum):
    """What a match does: warn (answer with a reminder), confirm (a reason is required), block (refused)."""

    WARN = "warn"
    CONFIRM = "confirm"
    BLOCK = "block"


# Code points with a non-zero canonical combining class (what ``unicodedata.combining`` flags), removed in one
# pass: a character-by-character filter cost more than the patterns themselves on a chat prompt.
_COMBINING = regex.compile(r"\P{ccc=0}")


def fold(text: str) -> str:
    """``text`` without its accents (NFKD, combining marks dropped), typographic apostrophes made plain."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u02bc", "'"))
    return _COMBINING.sub("", decomposed)


_REGEX_PROBLEMS = {
    "missing ), unterminated subpattern": "parenthèse fermante manquante",
    "unbalanced parenthesis": "parenthèse fermante en trop",
    "nothing to repeat": "quantificateur (*, +, ?, {…}) sans rien à répéter",
    "multiple repeat": "quantificateurs à la suite",
    "unterminated character set": "crochet fermant « ] » manquant",
    "bad escape": "séquence d'échappement inconnue",
    "bad character range": "intervalle de caractères invalide",
}


def _regex_problem(exc: re.error) -> str:
    """What is wrong with a pattern, in French when the regex engine's message is a common one."""
    problem = next((french for english, french in _REGEX_PROBLEMS.items() if exc.msg.startswith(english)), exc.msg)
    return problem if exc.pos is None else f"{problem} (caractère n° {exc.pos + 1})"


class GuardRule(BaseModel):
    """One forbidden use: how to recognise it, what to do, and the message (citing the charter clause)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    title: str = Field(min_length=1, max_length=200)
    action: GuardAction
    message: str = Field(min_length=1, max_length=2000, description="French, citing the charter clause.")
    clause: str = Field(default="", max_length=200, description="The charter clause, e.g. « Charte, art. 4 ».")
    patterns: tuple[str, ...] = Field(default=(), max_length=50)
    classifier_prompt: str | None = Field(
        default=None,
        max_length=4000,
        description=(
            "Asked to the configured model, which answers OUI or NON over the whole text; it can find what no "
            "pattern matched, never clear what a pattern matched."
        ),
    )
    enabled: bool = True

    @field_validator("patterns")
    @classmethod
    def _compilable(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                # Python's syntax decides what is valid (and gives the messages translated above); the ``regex``
                # engine, which accepts it, runs the patterns with a timeout.
                re.compile(fold(pattern), re.IGNORECASE | re.DOTALL)
                compiled = _compile(pattern)
            except (re.error, regex.error) as exc:
                problem = _regex_problem(exc) if isinstance(exc, re.error) else str(exc)
                raise ValueError(f"expression régulière invalide « {pattern} » : {problem}") from exc
            try:
                for probe in _BACKTRACKING_PROBES:
                    compiled.search(probe, timeout=PATTERN_TIMEOUT_SECONDS)
            except TimeoutError:
                raise ValueError(
                    f"expression régulière trop coûteuse « {pattern} » : elle met plus de "
                    f"{PATTERN_TIMEOUT_SECONDS} s sur un texte ordinaire (répétitions imbriquées comme « (a+)+ »)"
                ) from None
        return patterns

    def compiled(self) -> tuple[regex.Pattern[str], ...]:
        """The patterns, accent-free, ready to match folded text."""
        return tuple(_compile(pattern) for pattern in self.patterns)


#: Longest a pattern may take on one text; past it the search stops (and counts as a match: fail closed).
PATTERN_TIMEOUT_SECONDS = 0.5
# Texts on which a pattern with nested repetitions backtracks exponentially: refused when the rule is saved.
_BACKTRACKING_PROBES = (*(char * 4000 + "!" for char in "a1 ."), "ab" * 2000 + "!")


def _compile(pattern: str) -> regex.Pattern[str]:
    return regex.compile(fold(pattern), regex.IGNORECASE | regex.DOTALL | regex.VERSION0)


def parse_rules(raw: Any) -> tuple[GuardRule, ...]:
    """Validate a list of rule objects (as JSON would give them); ids must be unique, each rule must match somehow."""
    if not isinstance(raw, list):
        raise RuleSetError("Les règles doivent être une liste d'objets.")
    rules: list[GuardRule] = []
    for position, item in enumerate(raw):
        try:
            rule = GuardRule.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else None
            where = ".".join(str(part) for part in first["loc"])
            label = f" ({_FIELD_LABELS[field]})" if field in _FIELD_LABELS else ""
            raise RuleSetError(
                f"Règle n° {position + 1}, champ « {where} »{label} : {_french(first)}", field=field
            ) from exc
        if not rule.patterns and not rule.classifier_prompt:
            raise RuleSetError(
                f"Règle « {rule.id} » : donnez des motifs, une consigne de classification, ou les deux.",
                field="patterns",
            )
        rules.append(rule)
    ids = [rule.id for rule in rules]
    duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if duplicates:
        raise RuleSetError(f"Identifiants de règle en double : {', '.join(duplicates)}.", field="id")
    return tuple(rules)


@functools.cache  # a file shipped with the package: parsed (and its patterns probed) once per process
def default_rules() -> tuple[int, tuple[GuardRule, ...]]:
    """The shipped rule set: its version and its rules."""
    document = json.loads(resources.files(__package__).joinpath(DEFAULT_RULES_FILE).read_text(encoding="utf-8"))
    return int(document["version"]), parse_rules(document["rules"])


class GuardConfirmation(BaseModel):
    """The user's answer to a ``confirm`` rule, sent back with the request (``guard_confirmation``)."""

    model_config = ConfigDict(extra="forbid")

    rule: str = Field(min_length=1, max_length=64, description="Id of the rule that asked for a confirmation.")
    reason: str = Field(
        min_length=10, max_length=1000, description="Why this request respects the charter (kept in the audit log)."
    )


class GuardNotice(BaseModel):
    """What the guard tells the user about one rule that applied (returned as ``guard`` in responses)."""

    rule: str
    title: str
    action: GuardAction
    message: str
    clause: str = ""
    confirmed: bool = Field(default=False, description="True when the user confirmed with a reason.")

    @classmethod
    def of(cls, rule: GuardRule, *, confirmed: bool = False) -> GuardNotice:
        return cls(
            rule=rule.id,
            title=rule.title,
            action=rule.action,
            message=rule.message,
            clause=rule.clause,
            confirmed=confirmed,
        )


DEFAULT_CHARTER_FILE = "charte.v1.md"


def default_charter() -> tuple[str, str, str]:
    """The shipped French usage charter: (title, summary, Markdown text); the summary is its « En bref » list."""
    text = resources.files(__package__).joinpath(DEFAULT_CHARTER_FILE).read_text(encoding="utf-8")
    title = text.splitlines()[0].lstrip("# ").strip()
    summary = text.split("## En bref", 1)[1].split("\n## ", 1)[0].strip()
    return title, summary, text
