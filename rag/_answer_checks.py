"""Checks of a question and of an answer against the passages retrieved for it, without any model.

- :func:`question_coverage`: the share of the question's specific words found in the best passages. A question
  whose key terms appear nowhere (« prime de fin d'année » over notes on meal allowances) is near-topic but not
  answerable there; cosine similarity does not see it (e5 scores every same-theme passage above 0.85).
- :func:`unsupported_figures`: numbers in an answer that no passage (nor the question) contains: the signature of
  a small model inventing « 120 € ».
- :func:`check_citations`: each sentence citing ``[n]`` checked against passage ``n``; markers that name no
  passage given are reported as defects.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rag._bm25 import french_tokens

__all__ = [
    "CitationCheck",
    "absent_question_words",
    "attribute_citations",
    "check_citations",
    "figures",
    "missing_question_figures",
    "question_coverage",
    "question_terms",
    "unsupported_figures",
]

# Words that say what kind of answer is wanted, not what it is about: they are in every question.
_QUESTION_WORDS = (
    "quel quelle quels quelles combien quand comment pourquoi où qui que quoi lequel laquelle faut peut peuvent "
    "doit doivent dois puis pouvait pouvoir être est sont était fait faire temps durée partir bout lieu jusqu'à "
    "jusque au-delà montant maximum maximale maximal minimum minimale date délai nombre taux chaque possible "
    "possibles prendre obtenir toucher rapporte payé payée paie existe existe-t-il exact exacte prévu prévue "
    "savoir connaître indiquer dire cas"
)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_NUMBER = re.compile(r"\d+(?:[ \u00a0\u202f]\d{3})*(?:[.,]\d+)?")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")

_UNITS = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100, "mille": 1000,
}  # fmt: skip


@functools.cache
def _question_words() -> frozenset[str]:
    return frozenset(french_tokens(_QUESTION_WORDS))


def question_terms(question: str) -> set[str]:
    """The question's specific stems (French stopwords and question words removed)."""
    return set(french_tokens(question)) - _question_words()


def question_coverage(question: str, passages: Sequence[str]) -> float:
    """Share of the question's specific stems that occur in ``passages`` (1.0 when it has none to check)."""
    terms = question_terms(question)
    if not terms:
        return 1.0
    found: set[str] = set()
    for passage in passages:
        found.update(french_tokens(passage))
    return len(terms & found) / len(terms)


def absent_question_words(question: str, passages: Sequence[str], *, limit: int = 4) -> list[str]:
    """The question's specific words, as the user wrote them, whose stem no passage contains, in order.

    « jumeaux » in « congé de maternité en cas de naissance de jumeaux » over a note that only speaks of a first
    or third child: the one word on which the answer depends is the one the passages lack. Whether a passage says
    it in other words (« abonnement de transport » for « Navigo ») is for the model to judge, word by word.
    """
    found: set[str] = set()
    for passage in passages:
        found.update(french_tokens(passage))
    specific = question_terms(question)
    absent: list[str] = []
    for word in re.findall(r"\w+", question):
        stems = french_tokens(word)
        if stems and stems[0] in specific and stems[0] not in found and word not in absent:
            absent.append(word)
    return absent[:limit]


def missing_question_figures(question: str, passages: Sequence[str]) -> list[str]:
    """Numbers of the question (a year, a quotity, a distance) that no passage contains, as digits or words.

    « l'indemnité de repas en 2023 » over the 2024 and 2025 notes: whatever the model answers, it is another year's.
    """
    known: set[str] = set()
    for passage in passages:
        known |= figures(passage) | _spelled_numbers(passage)
    return [value for value in sorted(figures(question)) if value not in known]


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _canonical(number: str) -> str:
    compact = re.sub(r"[ \u00a0\u202f]", "", number).replace(",", ".")
    if "." in compact:
        compact = compact.rstrip("0").rstrip(".")
    return compact.lstrip("0") or "0"


def _spelled_numbers(text: str) -> set[str]:
    """Numbers written in words (« vingt-cinq jours », « trois mois »), as digits."""
    found: set[str] = set()
    for group in re.findall(r"[a-z]+(?:[- ](?:et[- ])?[a-z]+)*", _fold(text)):
        total, current, seen = 0, 0, False
        for word in re.split(r"[- ]", group):
            if word == "et":
                continue
            value = _UNITS.get(word, _UNITS.get(word.removesuffix("s")))  # « quatre-vingts », « trois »
            if value is None:
                if seen:
                    found.add(str(total + current))
                total, current, seen = 0, 0, False
                continue
            seen = True
            if value == 20 and current % 100 == 4:  # « quatre-vingt(s) »
                current += 76
            elif value in (100, 1000):
                current = max(current, 1) * value
                if value == 1000:
                    total, current = total + current, 0
            else:
                current += value
        if seen:
            found.add(str(total + current))
    return found


def figures(text: str) -> set[str]:
    """The numbers of ``text`` in a canonical form: « 20,50 » and « 20.5 » are the same, « 5 404 000 » one number."""
    return {_canonical(match) for match in _NUMBER.findall(_MARKER.sub(" ", text))}


def unsupported_figures(answer: str, passages: Sequence[str], question: str = "") -> list[str]:
    """Numbers of ``answer`` found neither in a passage (as digits or words) nor in the question, in order."""
    known = figures(question) | _spelled_numbers(question)
    for passage in passages:
        known |= figures(passage) | _spelled_numbers(passage)
    seen: list[str] = []
    text = _MARKER.sub(" ", answer)
    # Numbers in words count too (« trente jours »), except « un/une », which is mostly an article.
    for value in [_canonical(match) for match in _NUMBER.findall(text)] + sorted(_spelled_numbers(text) - {"1"}):
        if value not in known and value not in seen:
            seen.append(value)
    return seen


@dataclass(frozen=True, slots=True)
class CitationCheck:
    """What an answer's ``[n]`` markers point at: ``cited`` in order of first use, ``unknown`` markers that name
    no passage given (a defect), ``unsupported`` passages cited by a sentence that shares too little with them."""

    cited: tuple[int, ...]
    unknown: tuple[int, ...]
    unsupported: tuple[int, ...]

    @property
    def first(self) -> int | None:
        """The first valid marker cited, or ``None``."""
        return next((marker for marker in self.cited if marker not in self.unknown), None)


def _supports(sentence: str, passage: str) -> bool:
    claim = _MARKER.sub(" ", sentence)
    terms = set(french_tokens(claim))
    numbers = figures(claim)
    if numbers and not numbers <= figures(passage) | _spelled_numbers(passage):
        return False
    if not terms:
        return True
    return len(terms & set(french_tokens(passage))) / len(terms) >= 0.4


def attribute_citations(answer: str, passages: Sequence[str]) -> tuple[str, tuple[int, ...]]:
    """Add ``[n]`` to the sentences that cite nothing, naming the passage that supports them best, if one does.

    Small models seldom write the markers they are asked for; the reader still needs to know where each statement
    comes from. Returns the answer with the markers added and the markers added, in order.
    """
    added: list[int] = []
    out: list[str] = []
    for piece in re.split(r"((?<=[.!?…])\s+|\n+)", answer):
        if not piece.strip() or _MARKER.search(piece) or not french_tokens(piece):
            out.append(piece)
            continue
        best, best_score = 0, 0.0
        terms = set(french_tokens(piece))
        for marker, passage in enumerate(passages, start=1):
            if not _supports(piece, passage):
                continue
            score = len(terms & set(french_tokens(passage))) / len(terms)
            if score > best_score:
                best, best_score = marker, score
        if best:
            stripped = piece.rstrip()
            end = len(stripped) - 1 if stripped and stripped[-1] in ".!?…" else len(stripped)
            out.append(f"{stripped[:end]} [{best}]{stripped[end:]}{piece[len(stripped) :]}")
            if best not in added:
                added.append(best)
        else:
            out.append(piece)
    return "".join(out), tuple(added)


def check_citations(answer: str, passages: Sequence[str]) -> CitationCheck:
    """Check every ``[n]`` of ``answer`` against ``passages`` (``passages[0]`` is marker 1)."""
    cited: list[int] = []
    unknown: list[int] = []
    unsupported: list[int] = []
    for sentence in _SENTENCE.split(answer):
        for raw in _MARKER.findall(sentence):
            marker = int(raw)
            if marker not in cited:
                cited.append(marker)
            if not 1 <= marker <= len(passages):
                if marker not in unknown:
                    unknown.append(marker)
                continue
            if not _supports(sentence, passages[marker - 1]) and marker not in unsupported:
                unsupported.append(marker)
    return CitationCheck(tuple(cited), tuple(unknown), tuple(unsupported))
