"""The administration's vocabulary for speech-to-text: Whisper's prompt and hotwords, then a post-correction pass.

Whisper has never heard « SGAMI » or « Kerdraon »: it writes what it hears (« esse gé ami », « Kerdran »). A
:class:`Glossary` helps twice:

- before decoding, :meth:`Glossary.initial_prompt` and :meth:`Glossary.hotwords` put the written forms in front
  of the decoder, within Whisper's prompt budget (224 tokens at most, shared with the text carried over from the
  previous window), the most relevant terms first (a glossary's order is its order of relevance);
- after decoding, :func:`correct_text`, :func:`correct_words` and :func:`correct_transcript` replace a word or a
  run of words that is a listed variant of a term (exactly, accents, case and punctuation aside), or that is very
  close to the term itself, by the term's written form. Sigles match case-insensitively and spelled out letter by
  letter (« C.S.A. », « c s a »); frequent French words are never changed unless listed as a variant.

Example::

    glossary = Glossary.of([GlossaryTerm("SGAMI", variants=("esse gé ami",)), "Kerdraon"])
    transcript = transcriber.with_glossary(glossary).transcribe("reunion.m4a", language="fr")
    corrected, corrections = correct_transcript(transcript, glossary)
    correct_text("l'esse gé ami et madame Kerdran", glossary).text  # "l'SGAMI et madame Kerdraon"
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rapidfuzz import fuzz, process

from transcription._french_words import FRENCH_WORDS
from transcription._types import Segment, Transcript, Word

__all__ = [
    "DEFAULT_HOTWORD_TOKENS",
    "DEFAULT_PROMPT_TOKENS",
    "FUZZY_THRESHOLD",
    "Correction",
    "CorrectionResult",
    "Glossary",
    "GlossaryTerm",
    "approx_whisper_tokens",
    "correct_text",
    "correct_transcript",
    "correct_words",
]

#: Whisper's prompt holds at most 224 tokens (half its 448-token context) and faster-whisper keeps the *last*
#: ones: the glossary goes first and takes at most this much, leaving room for the previous window's text.
DEFAULT_PROMPT_TOKENS = 120
#: faster-whisper puts hotwords in front of every 30 s chunk, on top of the prompt: kept short so that the
#: decoder keeps room to write.
DEFAULT_HOTWORD_TOKENS = 60
#: rapidfuzz ``ratio`` (0-100) from which a word is taken for a term. At 85, « Kerdran » → « Kerdraon » (93)
#: but « samedi » ↛ « SGAMI » (73) and « civil » ↛ « CNIL » (67).
FUZZY_THRESHOLD = 85.0
# Below this many letters a word is only ever matched exactly: short words are too close to one another.
_FUZZY_MIN_CHARS = 5
_MAX_WORDS = 6
_PROMPT_LEAD = "Sigles et noms cités : "
# Terms only, no sentence around them: measured (benchmarks/transcription_glossary.py), Whisper base repeats a
# sentence of its prompt (« La séance est ouverte. ») where speech is unclear; a repeated list is caught below.
# A segment made mostly of glossary terms, three or more, is the prompt echoed rather than speech.
_ECHO_MIN_TERMS = 3
_ECHO_SHARE = 0.6
# French elisions stay in front of the corrected term: « l'esse gé ami » → « l'SGAMI ».
_ELISION = re.compile(r"^((?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’])(.+)$", re.IGNORECASE)
_EDGES = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)
_DOTTED = re.compile(r"^(?:\w\.)+\w$")
_SIGLE = re.compile(r"^[A-Z0-9&]{2,10}$")
# How the letters of a sigle are said when it is spelled out (« CSA » : « cé esse a »).
_LETTER_NAMES = {
    "a": "a", "b": "bé", "c": "cé", "d": "dé", "e": "e", "f": "effe", "g": "gé", "h": "ache", "i": "i",
    "j": "ji", "k": "ka", "l": "elle", "m": "emme", "n": "enne", "o": "o", "p": "pé", "q": "ku", "r": "erre",
    "s": "esse", "t": "té", "u": "u", "v": "vé", "w": "double vé", "x": "ixe", "y": "i grec", "z": "zède",
}  # fmt: skip


def _key(text: str) -> str:
    """Letters and digits only, lower-case, without accents: how forms are compared."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in plain if char.isalnum() and not unicodedata.combining(char))


def approx_whisper_tokens(text: str) -> int:
    """A pessimistic estimate of Whisper's token count (French and sigles: about 2 bytes a token)."""
    return math.ceil(len(text.encode("utf-8")) / 2)


def is_sigle(term: str) -> bool:
    """« CSA », « SGAMI », « DDETS » (written in capitals, without spaces)."""
    return bool(_SIGLE.match(term)) and any(char.isalpha() for char in term)


@dataclass(frozen=True, slots=True)
class GlossaryTerm:
    """A term as it must be written, and how it is said or mis-transcribed (« esse gé ami » for « SGAMI »)."""

    term: str
    variants: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term, "variants": list(self.variants)}


@dataclass(frozen=True, slots=True)
class Glossary:
    """Terms of one user's vocabulary, most relevant first. Hashable, so its matching index is built once."""

    terms: tuple[GlossaryTerm, ...] = ()

    @classmethod
    def of(cls, terms: Iterable[GlossaryTerm | str]) -> Glossary:
        """A glossary without blanks or duplicates: a term met again (accents and case aside) gives its variants
        to the first one, which keeps its place."""
        merged: dict[str, tuple[str, list[str]]] = {}
        for item in terms:
            entry = GlossaryTerm(item) if isinstance(item, str) else item
            term = " ".join(entry.term.split())
            key = _key(term)
            if not key:
                continue
            _, variants = merged.setdefault(key, (term, []))
            for variant in entry.variants:
                variant = " ".join(variant.split())
                if _key(variant) and _key(variant) != key and variant not in variants:
                    variants.append(variant)
        return cls(tuple(GlossaryTerm(term, tuple(variants)) for term, variants in merged.values()))

    @classmethod
    def from_dicts(cls, items: Iterable[Mapping[str, Any]]) -> Glossary:
        """The inverse of :meth:`to_dicts` (a stored snapshot)."""
        return cls.of(
            GlossaryTerm(str(item["term"]), tuple(str(v) for v in item.get("variants") or ())) for item in items
        )

    def to_dicts(self) -> list[dict[str, Any]]:
        return [term.to_dict() for term in self.terms]

    def __len__(self) -> int:
        return len(self.terms)

    def _fitting(self, budget: int, count_tokens: Callable[[str], int], lead: str, sep: str) -> str | None:
        # Greedy in order of relevance; a term too long for what is left is skipped, shorter ones may still fit.
        chosen: list[str] = []
        for entry in self.terms:
            candidate = lead + sep.join([*chosen, entry.term])
            if count_tokens(candidate) <= budget:
                chosen.append(entry.term)
        return lead + sep.join(chosen) if chosen else None

    def initial_prompt(
        self, *, max_tokens: int = DEFAULT_PROMPT_TOKENS, count_tokens: Callable[[str], int] = approx_whisper_tokens
    ) -> str | None:
        """« Sigles et noms cités : CSA, SGAMI, Kerdraon. »: the terms that fit in ``max_tokens``, for Whisper's
        prompt. Whisper continues its prompt: it then writes the terms the way they are written there.
        """
        text = self._fitting(max_tokens - 1, count_tokens, _PROMPT_LEAD, ", ")
        return f"{text}." if text else None

    def is_echo(self, text: str) -> bool:
        """True when ``text`` is mostly a list of this glossary's terms: Whisper repeating its prompt (or its
        hotwords) instead of transcribing, a known failure on short or unclear speech."""
        words = re.findall(r"[\w'’-]+", text)
        if not words:
            return False
        index = _index(self)
        terms = [w for w in words if (form := index.exact.get(_key(w))) is not None and not form.variant]
        return len(set(terms)) >= _ECHO_MIN_TERMS and len(terms) >= _ECHO_SHARE * len(words)

    def hotwords(
        self, *, max_tokens: int = DEFAULT_HOTWORD_TOKENS, count_tokens: Callable[[str], int] = approx_whisper_tokens
    ) -> str | None:
        """The terms that fit in ``max_tokens``, for faster-whisper's ``hotwords`` (repeated before each chunk)."""
        return self._fitting(max_tokens, count_tokens, "", ", ")


@dataclass(frozen=True, slots=True)
class Correction:
    """One replacement made by the post-correction pass; ``score`` is 100 for a listed variant or exact form."""

    original: str
    replacement: str
    score: float


@dataclass(frozen=True, slots=True)
class CorrectionResult:
    """A corrected text and what was changed in it."""

    text: str
    corrections: tuple[Correction, ...]


@dataclass(frozen=True, slots=True)
class _Form:
    term: str
    variant: bool  # listed by the user: matched even when it is an everyday word


@dataclass(frozen=True, slots=True)
class _Index:
    exact: dict[str, _Form]
    fuzzy_by_length: dict[int, list[str]]
    max_words: int


@dataclass(frozen=True, slots=True)
class _Token:
    lead: str
    core: str
    trail: str
    key: str


@dataclass(frozen=True, slots=True)
class _Match:
    start: int
    stop: int  # exclusive
    term: str
    score: float


def _spelled(sigle: str) -> str:
    return " ".join(_LETTER_NAMES.get(char, char) for char in sigle.casefold())


@functools.lru_cache(maxsize=64)
def _index(glossary: Glossary) -> _Index:
    exact: dict[str, _Form] = {}
    fuzzy: dict[int, list[str]] = {}
    max_words = 1
    for entry in glossary.terms:
        forms = [(entry.term, False), *((variant, True) for variant in entry.variants)]
        if is_sigle(entry.term):
            forms.append((_spelled(entry.term), True))
        for form, variant in forms:
            key = _key(form)
            if not key or key in exact:
                continue  # the first (most relevant) term keeps a form two terms share
            exact[key] = _Form(entry.term, variant)
            # Split names (« Ker draon ») and spoken sigles span several transcript words.
            max_words = min(_MAX_WORDS, max(max_words, len(form.split()) + 1))
            if len(key) >= _FUZZY_MIN_CHARS and not is_sigle(form):
                fuzzy.setdefault(len(key), []).append(key)
    return _Index(exact, fuzzy, max_words)


def _tokens(words: Sequence[str]) -> list[_Token]:
    tokens = []
    for word in words:
        match = _EDGES.match(word)
        lead, core, trail = match.groups() if match else ("", word, "")
        elided = _ELISION.match(core)
        if elided:
            lead, core = lead + elided.group(1), elided.group(2)
        if trail.startswith(".") and _DOTTED.match(core):
            core, trail = core + ".", trail[1:]  # « c.s.a. »: the last dot is the abbreviation's
        tokens.append(_Token(lead, core, trail, _key(core)))
    return tokens


def _fuzzy_candidates(index: _Index, key: str) -> list[str]:
    slack = max(2, len(key) // 4)
    sizes = range(len(key) - slack, len(key) + slack + 1)
    return [form for size in sizes for form in index.fuzzy_by_length.get(size, ())]


def _match_at(tokens: Sequence[_Token], start: int, index: _Index, threshold: float) -> _Match | None:
    best: _Match | None = None
    for stop in range(min(len(tokens), start + index.max_words), start, -1):
        window = tokens[start:stop]
        # A match never spans punctuation: « CSA, SA » are two words, not one sigle.
        if not all(t.key for t in window) or any(t.trail for t in window[:-1]) or any(t.lead for t in window[1:]):
            continue
        key = "".join(t.key for t in window)
        everyday = len(window) == 1 and key in FRENCH_WORDS
        form = index.exact.get(key)
        if form is not None and (form.variant or not everyday):
            return _Match(start, stop, form.term, 100.0)
        if everyday or len(key) < _FUZZY_MIN_CHARS:
            continue
        found = process.extractOne(key, _fuzzy_candidates(index, key), scorer=fuzz.ratio, score_cutoff=threshold)
        # Ties go to the shorter window (checked later), which eats fewer neighbouring words.
        if found is not None and (best is None or found[1] >= best.score):
            best = _Match(start, stop, index.exact[found[0]].term, round(float(found[1]), 1))
    return best


def _matches(words: Sequence[str], glossary: Glossary, threshold: float) -> tuple[list[_Token], list[_Match]]:
    tokens = _tokens(words)
    if not glossary.terms:
        return tokens, []
    index = _index(glossary)
    found: list[_Match] = []
    position = 0
    while position < len(tokens):
        match = _match_at(tokens, position, index, threshold)
        if match is None:
            position += 1
            continue
        if match.score < 100:
            # « la prefecture de polise »: a fuzzy window that also took the word before the term loses to the
            # better one starting a word later.
            later = _match_at(tokens, position + 1, index, threshold)
            if later is not None and later.start < match.stop and later.score > match.score:
                position += 1
                continue
        found.append(match)
        position = match.stop
    return tokens, found


def _replacement(tokens: Sequence[_Token], match: _Match) -> str:
    return tokens[match.start].lead + match.term + tokens[match.stop - 1].trail


def correct_text(text: str, glossary: Glossary, *, threshold: float = FUZZY_THRESHOLD) -> CorrectionResult:
    """Replace the variants of glossary terms (and words very close to a term) in ``text`` by the terms.

    Spacing elsewhere is kept; a replaced run of words keeps its leading and trailing punctuation.
    """
    spans = list(re.finditer(r"\S+", text))
    tokens, found = _matches([span.group() for span in spans], glossary, threshold)
    pieces: list[str] = []
    corrections: list[Correction] = []
    cursor = 0
    for match in found:
        begin, end = spans[match.start].start(), spans[match.stop - 1].end()
        original, new = text[begin:end], _replacement(tokens, match)
        pieces += [text[cursor:begin], new]
        cursor = end
        if new != original:
            corrections.append(Correction(original, new, match.score))
    pieces.append(text[cursor:])
    return CorrectionResult("".join(pieces), tuple(corrections))


def correct_words(words: Sequence[Word], glossary: Glossary, *, threshold: float = FUZZY_THRESHOLD) -> tuple[Word, ...]:
    """The same pass over timed words: a run of words replaced by a term becomes one word spanning their times."""
    tokens, found = _matches([word.text for word in words], glossary, threshold)
    result: list[Word] = []
    cursor = 0
    for match in found:
        result.extend(words[cursor : match.start])
        first, last = words[match.start], words[match.stop - 1]
        probabilities = [w.probability for w in words[match.start : match.stop] if w.probability is not None]
        result.append(
            Word(
                start=first.start,
                end=last.end,
                text=_replacement(tokens, match),
                probability=min(probabilities) if probabilities else None,
            )
        )
        cursor = match.stop
    result.extend(words[cursor:])
    return tuple(result)


def correct_transcript(
    transcript: Transcript, glossary: Glossary, *, threshold: float = FUZZY_THRESHOLD
) -> tuple[Transcript, tuple[Correction, ...]]:
    """Correct every segment's text and words; returns the new transcript and the corrections made."""
    if not glossary.terms:
        return transcript, ()
    segments: list[Segment] = []
    corrections: list[Correction] = []
    for segment in transcript.segments:
        result = correct_text(segment.text, glossary, threshold=threshold)
        corrections.extend(result.corrections)
        words = correct_words(segment.words, glossary, threshold=threshold)
        segments.append(replace(segment, text=result.text, words=words))
    return replace(transcript, segments=tuple(segments)), tuple(corrections)
