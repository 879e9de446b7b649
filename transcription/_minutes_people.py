"""Who may own an action: the meeting's participants, spelt as they are in the participants' list.

A name heard in the transcript (« Mme Kerdraon », « Kerdrahon », « Marie ») or written by the model is matched to
the known people: the list the caller gives, the speaker names of the transcript, and the names proposed from the
introductions. An owner that matches nobody is not kept as a name: minutes must not carry invented people.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence

from transcription._introductions import propose_speaker_names
from transcription._types import Segment

__all__ = ["fold", "known_people", "match_person"]

_CIVILITY = re.compile(r"^(?:m\.|mme|mlle|monsieur|madame|mademoiselle|maitre|docteur|dr)\s+")
# Diarization labels are not names, but they are who spoke: « je m'en occupe » said by SPEAKER_2 is SPEAKER_2's.
_GENERIC = re.compile(r"^(?:speaker|intervenant|locuteur)[ _-]?\d+$", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: how names and texts are compared."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("’", "'"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def known_people(segments: Sequence[Segment], participants: Iterable[str] = ()) -> list[str]:
    """The participants' list, then speaker names, then names heard in introductions; no duplicates."""
    people: dict[str, str] = {}
    for name in participants:
        if name and name.strip():
            people.setdefault(fold(name), name.strip())
    for segment in segments:
        if segment.speaker:
            people.setdefault(fold(segment.speaker), segment.speaker)
    for proposal in propose_speaker_names(segments).values():
        people.setdefault(fold(proposal.name), proposal.name)
    return list(people.values())


def _bare(name: str) -> str:
    return _CIVILITY.sub("", fold(name)).strip(" ,.")


def match_person(said: str | None, people: Sequence[str]) -> str | None:
    """The known person ``said`` names (exact, surname, unique first name, or close spelling), else None."""
    if not said or not said.strip():
        return None
    wanted = _bare(said)
    if not wanted:
        return None
    named = [(person, _bare(person)) for person in people if not _GENERIC.match(person.strip())]
    labels = [person for person in people if _GENERIC.match(person.strip())]
    for person in labels:
        if fold(person) == fold(said):
            return person
    for person, bare in named:
        if bare == wanted:
            return person
    tokens = wanted.split()
    # « Mme Kerdraon » → Marie Kerdraon; « Marie » → Marie Kerdraon when only one Marie
    for position in (-1, 0):
        hits = [p for p, bare in named if bare.split() and len(tokens) == 1 and bare.split()[position] == tokens[0]]
        if len(hits) == 1:
            return hits[0]
    best, best_score = None, 0.0
    for person, bare in named:
        score = difflib.SequenceMatcher(None, wanted, bare).ratio()
        if len(tokens) == 1 and bare.split():
            score = max(score, difflib.SequenceMatcher(None, wanted, bare.split()[-1]).ratio())
        if score > best_score:
            best, best_score = person, score
    return best if best_score >= 0.8 else None
