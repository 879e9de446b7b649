"""Names heard in a meeting's introductions, proposed for its speaker labels (``SPEAKER_1`` → « Marie Kerdraon »).

Only proposals: a person confirms or corrects them before they replace a label. What counts as an introduction:

- a speaker naming themself anywhere in their turns: « je m'appelle Marie Kerdraon », « mon nom est … »,
  « moi c'est … », « je suis Paul Martin, chef du bureau des affaires générales »;
- at the start of a turn only (elsewhere these forms mostly quote someone): « bonjour, ici Paul Martin »,
  « Marie Kerdraon, cheffe du bureau … »;
- a hand-over, « je donne la parole à Paul Martin »: the name goes to the *next* speaker who talks, never to the one
  who said it, and with a low confidence (the floor may pass to someone else).

A name the speaker only mentions (« je suis d'accord avec Paul Martin », « Marie Kerdraon, cheffe du bureau, nous a
transmis le rapport ») proposes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from transcription._types import Segment

__all__ = ["SpeakerProposal", "propose_speaker_names"]

# A capitalised word, hyphenated or with an apostrophe (Jean-Pierre, N'Diaye); particles inside a name are lowercase.
_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿA-ZÀ-ÖØ-Þ'’-]+"
_CIVILITY = r"(?:(?:M\.|Mme|Mlle|Monsieur|Madame|Maître|Docteur|Dr)\s+)?"
_NAME = rf"(?P<name>{_CIVILITY}{_WORD}(?:\s+(?:(?:de|du|des|le|la)\s+){{0,2}}(?:d['’])?{_WORD}){{0,3}})"
_ROLE_WORDS = (
    r"chef|cheffe|directeur|directrice|sous-directeur|sous-directrice|adjoint|adjointe|responsable|maire|"
    r"président|présidente|vice-président|vice-présidente|secrétaire|chargé|chargée|conseiller|conseillère|"
    r"délégué|déléguée|rapporteur|rapporteure|inspecteur|inspectrice|ingénieur|ingénieure|agent|agente|"
    r"juriste|gestionnaire|coordinateur|coordinatrice|référent|référente|préfet|préfète|élu|élue|"
    r"représentant|représentante|membre|attaché|attachée|commissaire|doyen|doyenne"
)
_ROLE = rf"(?P<role>(?:(?i:{_ROLE_WORDS}))\b[^,.;!?]{{0,100}})"
# How a role may follow the name: « Paul Martin, chef … » or « Paul Martin et je suis chef … ».
_ROLE_TAIL = rf"(?:\s*,\s*(?:(?i:je\s+suis|en\s+tant\s+que)\s+)?|\s+(?i:et\s+je\s+suis)\s+){_ROLE}"
# Possessive (``*+``): a long run of greetings is read once, never backtracked into (that was exponential).
_GREETING = (
    r"(?i:(?:(?:bonjour|bonsoir|merci|alors|donc|oui|bien|voilà|euh)\b"
    r"(?:\s+à\s+(?:tous\s+et\s+à\s+toutes|tous|toutes))?[\s,.!]*)*+)"
)

_EXPLICIT = re.compile(
    rf"(?i:\b(?:je\s+m['’]appelle|je\s+me\s+nomme|mon\s+nom\s+est|moi\s*,?\s+c['’]est))\s+{_NAME}(?:{_ROLE_TAIL})?"
)
_I_AM = re.compile(rf"(?i:\bje\s+suis)\s+{_NAME}(?:{_ROLE_TAIL})?")
_HERE = re.compile(rf"^{_GREETING}(?i:ici)\s+{_NAME}(?:{_ROLE_TAIL})?")
_NAME_THEN_ROLE = re.compile(rf"^{_GREETING}{_NAME}{_ROLE_TAIL}")
_HAND_OVER = re.compile(
    rf"(?i:\b(?:je\s+(?:vous\s+)?(?:donne|passe|laisse|cède|redonne)\s+la\s+parole\s+à|la\s+parole\s+est\s+à))"
    rf"\s+{_NAME}"
)
# After « Marie Kerdraon, cheffe du bureau », these words mean the sentence speaks *about* her.
_ABOUT_SOMEONE = re.compile(
    r"^\s*,?\s*(?:a|nous|vous|m['’]|t['’]|va|est|était|sera|doit|devait|souhaite|propose|qui|absente?|excusée?|"
    r"présentera|interviendra|viendra)\b",
    re.IGNORECASE,
)
# Capitalised words that open a sentence rather than a name.
_NOT_A_NAME = {
    "bonjour",
    "bonsoir",
    "merci",
    "alors",
    "donc",
    "oui",
    "non",
    "bien",
    "voilà",
    "le",
    "la",
    "les",
    "un",
    "une",
    "ici",
    "je",
    "nous",
    "vous",
    "désolé",
    "désolée",
    "content",
    "contente",
    "ravi",
    "ravie",
    "madame",
    "monsieur",
}
_ROLE_START = re.compile(rf"^(?:{_ROLE_WORDS})\b", re.IGNORECASE)

_CONFIDENCE_EXPLICIT = 0.9
_CONFIDENCE_I_AM = 0.8
_CONFIDENCE_NAME_ROLE = 0.75
_CONFIDENCE_HERE = 0.7
_CONFIDENCE_HAND_OVER = 0.4
_SINGLE_WORD_PENALTY = 0.2


@dataclass(frozen=True, slots=True)
class SpeakerProposal:
    """A name (and role, when said) proposed for a speaker label, where it was heard and how sure we are (0–1)."""

    speaker: str
    name: str
    role: str | None
    start: float
    confidence: float
    quote: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "name": self.name,
            "role": self.role,
            "start": self.start,
            "confidence": self.confidence,
            "quote": self.quote,
            "source": self.source,
        }


def _clean_name(raw: str) -> str | None:
    name = " ".join(raw.split()).strip(" '’-")
    words = name.split()
    if not words or words[0].lower() in _NOT_A_NAME or _ROLE_START.match(name):
        return None
    return name


def _clean_role(raw: str | None) -> str | None:
    if not raw:
        return None
    role = " ".join(raw.split()).rstrip(" ,")
    return role or None


def _confidence(base: float, name: str) -> float:
    words = [word for word in name.split() if not word.endswith(".") and word not in {"Mme", "Mlle"}]
    return round(base - (_SINGLE_WORD_PENALTY if len(words) < 2 else 0.0), 2)


def _found(pattern: re.Pattern[str], text: str, base: float, source: str, segment: Segment) -> SpeakerProposal | None:
    match = pattern.search(text)
    if match is None or segment.speaker is None:
        return None
    name = _clean_name(match.group("name"))
    if name is None:
        return None
    role = _clean_role(match.groupdict().get("role"))
    if role is not None and _ABOUT_SOMEONE.match(text[match.end() :]):
        return None  # « X, cheffe du bureau, nous a dit … » talks about X
    return SpeakerProposal(
        speaker=segment.speaker,
        name=name,
        role=role,
        start=segment.start,
        confidence=_confidence(base, name),
        quote=match.group(0).strip(),
        source=source,
    )


def _self_introduction(segment: Segment, *, turn_start: bool) -> SpeakerProposal | None:
    text = " ".join(segment.text.split())
    candidates = [
        _found(_EXPLICIT, text, _CONFIDENCE_EXPLICIT, "présentation", segment),
        _found(_I_AM, text, _CONFIDENCE_I_AM, "présentation", segment),
    ]
    if turn_start:
        candidates.append(_found(_NAME_THEN_ROLE, text, _CONFIDENCE_NAME_ROLE, "présentation", segment))
        candidates.append(_found(_HERE, text, _CONFIDENCE_HERE, "présentation", segment))
    found = [candidate for candidate in candidates if candidate is not None]
    return max(found, key=lambda proposal: proposal.confidence) if found else None


def _keep(proposals: dict[str, SpeakerProposal], proposal: SpeakerProposal) -> None:
    current = proposals.get(proposal.speaker)
    if current is None or proposal.confidence > current.confidence:
        proposals[proposal.speaker] = proposal


def propose_speaker_names(segments: Sequence[Segment]) -> dict[str, SpeakerProposal]:
    """Per speaker label, the most confident name heard in the introductions, in order of first appearance.

    A speaker with no introduction is absent; a name proposed for two speakers stays with the surer one.
    """
    proposals: dict[str, SpeakerProposal] = {}
    handed_over: SpeakerProposal | None = None  # a name given by one speaker, waiting for the next one to talk
    previous: str | None = None
    for segment in segments:
        speaker = segment.speaker
        if speaker is None:
            continue
        turn_start = speaker != previous
        if turn_start and handed_over is not None and handed_over.speaker != speaker:
            _keep(
                proposals,
                SpeakerProposal(
                    speaker=speaker,
                    name=handed_over.name,
                    role=None,
                    start=segment.start,
                    confidence=handed_over.confidence,
                    quote=handed_over.quote,
                    source="passage de parole",
                ),
            )
            handed_over = None
        introduction = _self_introduction(segment, turn_start=turn_start)
        if introduction is not None:
            _keep(proposals, introduction)
        hand_over = _found(_HAND_OVER, " ".join(segment.text.split()), _CONFIDENCE_HAND_OVER, "", segment)
        if hand_over is not None:
            handed_over = hand_over
        previous = speaker
    return _unique_names(proposals, order=[s.speaker for s in segments if s.speaker is not None])


def _unique_names(proposals: dict[str, SpeakerProposal], *, order: list[str]) -> dict[str, SpeakerProposal]:
    best: dict[str, SpeakerProposal] = {}
    for proposal in proposals.values():
        key = proposal.name.casefold()
        if key not in best or proposal.confidence > best[key].confidence:
            best[key] = proposal
    kept = {proposal.speaker: proposal for proposal in best.values()}
    return {speaker: kept[speaker] for speaker in dict.fromkeys(order) if speaker in kept}
