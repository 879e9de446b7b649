"""French dates as said in a meeting (« d'ici le 15 mars », « vendredi prochain », « fin juin »), made ISO.

A small parser of our own rather than ``dateparser``: that package is not in our dependencies, pulls in
timezone and regex data for 200 languages, and guesses (it happily turns « le premier » into today). Here a
date is only normalised when the words say it unambiguously, relative to the meeting date; otherwise the
mention is kept as said with no ISO date. Nothing is ever invented: a date that is not in the text is not found.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["DateMention", "find_dates", "first_date"]

_MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
}
_WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6}
_DAY_WORDS = {
    "premier": 1,
    "un": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "vingt": 20,
    "trente": 30,
}
_COUNT_WORDS = {**_DAY_WORDS, "une": 1, "quinze": 15, "huit": 8}

_MONTH = r"(?P<month>" + "|".join(_MONTHS) + r")"
_WEEKDAY = r"(?P<weekday>" + "|".join(_WEEKDAYS) + r")"
_DAY = r"(?P<day>\d{1,2}|1er|" + "|".join(sorted(_DAY_WORDS, key=len, reverse=True)) + r")"
_YEAR = r"(?:\s+(?P<year>20\d\d|19\d\d))?"

# Each pattern runs on the accent-folded, lower-cased text (same length as the original, so spans carry over).
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("numeric", re.compile(r"\b(?P<d>\d{1,2})[/.](?P<m>\d{1,2})(?:[/.](?P<y>(?:20)?\d\d))?\b")),
    ("day_month", re.compile(rf"\b(?:{_WEEKDAY}\s+)?{_DAY}\s+{_MONTH}{_YEAR}\b")),
    ("part_month", re.compile(rf"\b(?P<part>fin|debut|mi)[\s-]+(?:(?:du\s+)?mois\s+(?:de\s+|d')?)?{_MONTH}{_YEAR}\b")),
    ("end_of", re.compile(r"\bfin\s+(?:de\s+)?(?:l'|la\s+|du\s+|cette\s+|ce\s+)?(?P<unit>annee|mois|semaine)\b")),
    ("relative_day", re.compile(r"\b(?P<rel>apres-demain|demain)\b")),
    ("in_count", re.compile(r"\bdans\s+(?P<n>\d+|" + "|".join(_COUNT_WORDS) + r")\s+(?P<unit>jours|semaines?|mois)\b")),
    ("next_week", re.compile(r"\b(?:la\s+)?semaine\s+prochaine\b")),
    ("weekday", re.compile(rf"\b{_WEEKDAY}(?P<next>\s+prochain)?\b")),
    (
        "month_only",
        re.compile(rf"\b(?:en|courant|d'ici|avant|pour|a partir d'|au mois de|a compter d')\s*{_MONTH}{_YEAR}\b"),
    ),
]


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date said in a text: the words (``said``), their span, and the ISO date when it is unambiguous."""

    said: str
    start: int
    end: int
    iso: str | None


def _fold(text: str) -> str:
    """Lower case without accents, one character per character so that spans match the original text."""
    out = []
    for char in text.lower():
        base = unicodedata.normalize("NFD", char)[0]
        out.append(base if len(base) == 1 else char)
    return "".join(out).replace("’", "'")


def _next_on_or_after(reference: date, month: int, day: int) -> date | None:
    """The first ``day/month`` on or after the reference (a meeting speaks of what comes, rarely of the past)."""
    for year in (reference.year, reference.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        # a few weeks back is still « this year » (a date just passed, quoted as a reminder)
        if candidate >= reference - timedelta(days=31):
            return candidate
    return None


def _day_number(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    if value == "1er":
        return 1
    return _DAY_WORDS.get(value)


def _resolve(kind: str, match: re.Match[str], reference: date | None) -> str | None:
    groups = match.groupdict()
    try:
        if kind == "numeric":
            day, month = int(groups["d"]), int(groups["m"])
            if not (1 <= month <= 12):
                return None
            if groups["y"]:
                year = int(groups["y"]) if len(groups["y"]) == 4 else 2000 + int(groups["y"])
                return date(year, month, day).isoformat()
            found = _next_on_or_after(reference, month, day) if reference else None
            return found.isoformat() if found else None
        if kind == "day_month":
            day = _day_number(groups["day"])
            month = _MONTHS[groups["month"]]
            if day is None:
                return None
            if groups.get("year"):
                return date(int(groups["year"]), month, day).isoformat()
            found = _next_on_or_after(reference, month, day) if reference else None
            return found.isoformat() if found else None
        if kind == "part_month":
            month = _MONTHS[groups["month"]]
            year = int(groups["year"]) if groups.get("year") else None
            if year is None:
                if reference is None:
                    return None
                year = reference.year if month >= reference.month else reference.year + 1
            day = {"debut": 1, "mi": 15}.get(groups["part"]) or calendar.monthrange(year, month)[1]
            return date(year, month, day).isoformat()
        if reference is None:
            return None
        if kind == "month_only":
            month = _MONTHS[groups["month"]]
            year = int(groups["year"]) if groups.get("year") else None
            if year is None:
                year = reference.year if month >= reference.month else reference.year + 1
            # « d'ici mars », « avant mars »: the end of the month is the latest reading; « à compter de mars »: the 1st
            words = match.group(0)
            day = 1 if words.startswith(("a partir", "a compter")) else calendar.monthrange(year, month)[1]
            return date(year, month, day).isoformat()
        if kind == "end_of":
            unit = groups["unit"]
            if unit == "annee":
                return date(reference.year, 12, 31).isoformat()
            if unit == "mois":
                return date(
                    reference.year, reference.month, calendar.monthrange(*reference.timetuple()[:2])[1]
                ).isoformat()
            return (reference + timedelta(days=4 - reference.weekday() if reference.weekday() <= 4 else 6)).isoformat()
        if kind == "relative_day":
            return (reference + timedelta(days=2 if groups["rel"] == "apres-demain" else 1)).isoformat()
        if kind == "in_count":
            raw = groups["n"]
            count = int(raw) if raw.isdigit() else _COUNT_WORDS[raw]
            unit = groups["unit"]
            if unit == "jours":
                return (reference + timedelta(days=count)).isoformat()
            if unit.startswith("semaine"):
                return (reference + timedelta(weeks=count)).isoformat()
            month_index = reference.month - 1 + count
            year, month = reference.year + month_index // 12, month_index % 12 + 1
            return date(year, month, min(reference.day, calendar.monthrange(year, month)[1])).isoformat()
        if kind == "next_week":
            # the week is named, not a day: the Friday of next week is the latest reading of « la semaine prochaine »
            return (reference + timedelta(days=7 - reference.weekday() + 4)).isoformat()
        if kind == "weekday":
            ahead = (_WEEKDAYS[groups["weekday"]] - reference.weekday()) % 7 or 7
            return (reference + timedelta(days=ahead)).isoformat()
    except ValueError:  # 31 février and the like: said, but not a date
        return None
    return None


def find_dates(text: str, *, reference: date | None = None) -> list[DateMention]:
    """Every date said in ``text``, in order, each with its ISO form when it can be read without guessing.

    ``reference`` is the meeting date: « vendredi », « le 3 mars » are read relative to it. Without it only
    dates with a year are normalised. Overlapping readings keep the first, most specific pattern.
    """
    folded = _fold(text)
    taken: list[tuple[int, int]] = []
    mentions: list[DateMention] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            start, end = match.span()
            if kind == "month_only":
                start = match.start("month")
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            # « un mars » is not French; « trois mars » is, but only after « le », « du », « au »
            if (
                kind == "day_month"
                and match.group("day") in ("un", "deux", "trois")
                and not match.group("weekday")
                and not re.search(r"\b(?:le|du|au)\s+$", folded[max(0, start - 4) : start])
            ):
                continue
            taken.append((start, end))
            mentions.append(DateMention(text[start:end], start, end, _resolve(kind, match, reference)))
    return sorted(mentions, key=lambda m: m.start)


def first_date(text: str, *, reference: date | None = None) -> DateMention | None:
    """The first date said in ``text`` (the one a due date or an effective date usually is), or None."""
    mentions = find_dates(text, reference=reference)
    return mentions[0] if mentions else None
