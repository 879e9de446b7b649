"""The deterministic pass of the minutes: decisions, actions, next meeting and open questions read off the words.

A small model misses decisions and invents dates; French meeting speech marks its decisions with a few set phrases
(« il est décidé », « nous validons », « la proposition est adoptée »), its actions with a person and a verb of
commitment (« Paul Martin se charge de … avant le 15 octobre », « je m'en occupe »). This pass finds those, tied to
the segment that says them, and lets through none of the look-alikes: negations (« on ne décide rien
aujourd'hui »), proposals not (yet) adopted, rejected ones, questions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from transcription._minutes_dates import first_date
from transcription._minutes_items import ActionItem, Decision, MeetingNote
from transcription._minutes_people import fold, match_person
from transcription._types import Segment

__all__ = ["ExtractedItems", "extract_items", "not_a_decision", "sentences_of"]

SOURCE = "extrait"

_DECISION = re.compile(
    r"\bil (?:est|a ete) (?:decide|convenu|acte|arrete)\b|\bla decision est prise\b|\bdecision\s*:|"
    r"\b(?:nous avons|on a|vous avez|le \w+ a|la \w+ a|l'\w+ a)\s+(?:donc\s+)?(?:decide|valide|adopte|acte|retenu|"
    r"approuve|arrete|tranche)\b|"
    r"\b(?:\w+\s+)?decid(?:e|ent|ons)\s+(?:de|d'|que)\b|"
    r"\b(?:le|la|l')\s*(?:comite|conseil|commission|bureau|jury|assemblee|direction|codir|copil)\b(?:\s+[\w']+){0,3}?\s+"
    r"(?:retient|valide|adopte|decide|approuve|arrete|acte|entérine|enterine)\b|"
    r"\b(?:est|sont)\s+reporte(?:e|s|es)?\s+(?:a|au|en)\s|"
    r"\b(?:nous|on)\s+(?:valid|act|retien|adopt|arret|approuv|entérin|enterin)\w*\b|"
    r"\b(?:est|sont|a ete|ont ete)\s+(?:donc\s+)?(?:valide|adopte|retenu|approuve|acte|arrete|entérine|enterine)e?s?\b|"
    r"\bc'est (?:donc )?(?:acte|valide|adopte|decide|entendu|tranche)\b|\ba l'unanimite\b|\bavis favorable\b|"
    r"\bunanimite\b|\baccord (?:general|unanime) pour\b"
)
# Look-alikes: the words of a decision with a negation, a rejection, a condition or a mere proposal.
_NOT_DECISION = re.compile(
    r"\bne\s+(?:\S+\s+){0,3}?(?:pas|rien|plus|jamais|aucune?|point)\b|\bn'(?:\S+\s+){0,2}?(?:pas|rien|plus|aucune?)\b|"
    r"\b(?:pas|aucune) de decision\b|\brejet\w*|\brefus\w*|\becart\w*|\bdefavorable\b|\bajourn\w*|"
    r"\bsi (?:on|nous|vous|le|la)\b|\bon pourrait\b|\bil faudrait\b|\bpeut-etre\b|\bje (?:vous )?propose\b|"
    r"\bnous proposons\b|\bon propose\b|\bpropose de\b|\bsera (?:decide|tranche|arbitre)\b|\bdecidera\b|"
    r"\bdecider (?:de|si|lors|plus tard)\b|\bau vote\b|\bpas encore\b|\bquand (?:nous|on) aur"
)
_PROPOSAL = re.compile(r"\bpropos\w*|\bon pourrait\b|\bsuggere\b|\bsoumets?\b|\bmets? aux voix\b|\bprojet de\b")
_ANAPHORIC = re.compile(
    r"\b(?:cette|la) proposition\b|\bc'est (?:donc )?(?:acte|valide|adopte)\b|^\W*(?:adopte|valide)"
)

_PERSON = r"(?P<owner>(?:(?:M\.|Mme|Mlle|Monsieur|Madame)\s+)?[A-ZÀ-ÖØ-Þ][\w'’-]+(?:\s+[A-ZÀ-ÖØ-Þ][\w'’-]+){0,2})"
_COMMIT_VERBS = (
    r"envoyer|transmettre|preparer|rediger|diffuser|organiser|contacter|verifier|mettre|lancer|publier|saisir|"
    r"proposer|relancer|chiffrer|faire|planifier|reunir|convoquer|consulter|actualiser|finaliser|produire|recenser|"
    r"informer|prevenir|ecrire|etablir|elaborer|reserver|commander|recruter|former|installer|deployer|signer|"
    r"presenter une|presenter un|presenter le|presenter la|completer|corriger|modifier|revoir|porter|rencontrer|saisir"
)
_FUTURE_VERBS = (
    r"enverr|transmettr|prepar|redig|diffus|organis|contact|verifi|mettr|lanc|publi|propos|relanc|chiffr|fer|"
    r"planifi|reunir|convoqu|consult|actualis|finalis|produir|recens|inform|previendr|ecrir|etabl|elabor|reserv|"
    r"command|recrut|install|deploi|signer|complet|corrig|modifi|rencontr|saisir|presenter|notifier|envoi"
)
_THIRD_PERSON = re.compile(
    rf"{_PERSON}\s*,?\s+(?:se charge(?:ra)?\s+(?:de|d')|s'occupe(?:ra)?\s+(?:de|d'|du|des)|s'engage\s+a|"
    rf"est charge(?:e)?\s+(?:de|d')|aura (?:la charge|pour mission)\s+(?:de|d')|"
    rf"(?:va|doit|devra)\s+(?!(?:nous|vous)\s+(?:presenter|parler|expliquer|dire|faire le point)\b)"
    rf"(?:(?:nous|vous|lui|leur|les|le|la)\s+)?[a-z]+(?:er|ir|re)\b|(?:{_FUTURE_VERBS})\w*(?:a|ont)\b)",
)
_FIRST_PERSON = re.compile(
    rf"\bje\s+(?:me charge\s+(?:de|d')|m'en (?:occupe|charge)|m'engage a|m'occupe\s+(?:de|d'|du|des)|"
    rf"(?:vais|peux|dois|pourrai)\s+(?:(?:vous|lui|leur|les|le|la)\s+)?(?:{_COMMIT_VERBS})\b|(?:{_FUTURE_VERBS})\w*ai\b)"
)
# The present tense commits only with a date: « je prépare le support pour le 25 janvier ».
_FIRST_PERSON_NOW = re.compile(
    r"\bje\s+(?:vous\s+|lui\s+|leur\s+|les\s+|le\s+|la\s+|l')?(?:prepare|redige|envoie|transmets|organise|lance|contacte|"
    r"verifie|publie|diffuse|fais|prends contact|commande|finalise|rencontre|saisis|relance|mets a jour)\b"
)
_ASSIGNED = re.compile(
    rf"\b(?:action pour|c'est a|il revient a|charge a|on confie a|je confie a|a charge de)\s+{_PERSON}"
)
_NOT_ACTION = re.compile(
    r"\bne\s+(?:\S+\s+){0,2}?(?:pas|plus|jamais)\b|\bn'(?:\S+\s+){0,2}?(?:pas|plus)\b|\bsi (?:on|nous|vous|je)\b|"
    r"\bhier\b|\bdeja\b|\ba (?:deja|bien) (?:envoye|transmis|fait)\b|\bla semaine derniere\b|\bdernier\b"
)
_REPLY_YES = re.compile(r"^\W*(?:oui|d'accord|entendu|ok|c'est note|tres bien|pas de (?:probleme|souci)|volontiers)\b")
_NEXT_MEETING = re.compile(
    r"\bprochain(?:e)?s?\s+(?:reunion|seance|comite|rencontre|conseil|commission|copil|instance|point d'etape|"
    r"rendez-vous|bureau|session)\b|\bnous nous (?:retrouverons|reverrons|reunirons)\b|\bon se (?:retrouve|revoit)\b"
)
_OPEN = re.compile(
    r"\brest(?:e|ent) a (?:trancher|definir|determiner|arbitrer|preciser|clarifier|voir|decider|instruire|confirmer)\b|"
    r"\brest(?:e|ent) (?:ouverte?s?|en suspens|pendante?s?)\b|\ben suspens\b|"
    r"\bn'(?:est|a) pas (?:encore )?(?:ete )?tranche|"
    r"\bpas encore (?:de reponse|tranche|arbitre)\b|\bquestion ouverte\b|\bon y reviendra\b|\bnous y reviendrons\b|"
    r"\bsans reponse\b|\bpoint (?:est )?reporte\b|\breste (?:la|une) question\b|\bnon tranche"
)
_NO_ANSWER = re.compile(
    r"^\W*(?:je ne sais pas|on ne sait pas|nous ne savons pas|aucune idee|bonne question|on verra|il faudra voir|"
    r"je n'ai pas (?:la|de) reponse|pas encore de reponse|c'est a voir|difficile a dire)"
)
_FILLER = re.compile(
    r"^(?:(?:donc|alors|bon|bien|tres bien|ok|d'accord|parfait|oui|voila|euh|bref)\s*[,.!]?\s+)+", re.I
)


def not_a_decision(text: str) -> bool:
    """Whether ``text`` has the words of a decision but says none (negation, rejection, proposal, question)."""
    return bool(_NOT_DECISION.search(fold(text))) or text.rstrip().endswith("?")


@dataclass(frozen=True, slots=True)
class _Sentence:
    index: int  # the segment's index in the transcript
    text: str
    folded: str
    speaker: str | None


@dataclass(slots=True)
class ExtractedItems:
    """What one pass (deterministic or model) found, in transcript order."""

    decisions: list[Decision] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)
    next_meeting: MeetingNote | None = None
    open_questions: list[MeetingNote] = field(default_factory=list)


def sentences_of(segments: Sequence[Segment], offset: int = 0) -> list[_Sentence]:
    """The transcript cut into sentences, each with the index of its segment."""
    found = []
    for position, segment in enumerate(segments):
        for text in re.split(r"(?<=[.!?…])\s+", segment.text.strip()):
            if text.strip():
                found.append(_Sentence(offset + position, text.strip(), fold(text), segment.speaker))
    return found


def _clean(text: str) -> str:
    cleaned = _FILLER.sub("", text).strip()
    return cleaned[:1].upper() + cleaned[1:] if cleaned else text


def _link(segments: Sequence[Segment], indexes: Sequence[int]) -> tuple[tuple[int, ...], float, float]:
    ordered = tuple(sorted(set(indexes)))
    return ordered, segments[ordered[0]].start, segments[ordered[-1]].end


def _decision(sentences: list[_Sentence], at: int, segments: Sequence[Segment], reference: date | None) -> Decision:
    sentence = sentences[at]
    indexes, text = [sentence.index], _clean(sentence.text)
    if _ANAPHORIC.search(sentence.folded) or len(sentence.folded.split()) <= 6:
        # « La proposition est adoptée » names nothing: carry the proposal it adopts (said just before)
        for earlier in reversed(sentences[max(0, at - 6) : at]):
            if sentence.index - earlier.index > 3:
                break
            if _PROPOSAL.search(earlier.folded) and not earlier.text.endswith("?"):
                indexes.insert(0, earlier.index)
                text = f"{_clean(earlier.text)} — {text}"
                break
    mention = first_date(text, reference=reference)
    linked, start, end = _link(segments, indexes)
    return Decision(
        text=text,
        effective_date=mention.iso if mention else None,
        effective_said=mention.said if mention else None,
        segments=linked,
        start=start,
        end=end,
        source=SOURCE,
    )


def _action(
    sentences: list[_Sentence],
    at: int,
    owner: str | None,
    segments: Sequence[Segment],
    reference: date | None,
    people: Sequence[str],
) -> ActionItem:
    sentence = sentences[at]
    indexes, text = [sentence.index], _clean(sentence.text)
    if re.search(r"\bje m'en (?:occupe|charge)\b", sentence.folded) and len(sentence.folded.split()) <= 14 and at:
        # « Je m'en occupe » takes its task from the request just before it
        earlier = sentences[at - 1]
        indexes.insert(0, earlier.index)
        text = f"{_clean(earlier.text)} — {text}"
    mention = first_date(text, reference=reference)
    resolved = match_person(owner, people) if owner else None
    linked, start, end = _link(segments, indexes)
    return ActionItem(
        task=text,
        owner=resolved or owner,
        due=mention.said if mention else None,
        due_date=mention.iso if mention else None,
        segments=linked,
        start=start,
        end=end,
        source=SOURCE,
        check=None if owner is None or resolved else f"« {owner} » n'est pas dans la liste des participants.",
    )


_NOT_A_NAME = {
    "donc",
    "alors",
    "bon",
    "oui",
    "et",
    "mais",
    "puis",
    "ensuite",
    "tres",
    "bien",
    "elle",
    "il",
    "on",
    "nous",
    "vous",
    "ils",
    "elles",
    "qui",
    "enfin",
    "ok",
    "parfait",
    "voila",
    "sinon",
    "par",
    "pour",
}


def _action_owner(sentence: _Sentence) -> tuple[bool, str | None]:
    """(is an action, owner as said) for one sentence."""
    folded = sentence.folded
    if _NOT_ACTION.search(folded) or sentence.text.endswith("?"):
        return False, None
    if _FIRST_PERSON.search(folded) or (_FIRST_PERSON_NOW.search(folded) and first_date(sentence.text)):
        return True, sentence.speaker
    kept_caps = _casefold_keep_caps(sentence.text)
    for pattern in (_THIRD_PERSON, _ASSIGNED):
        for found in pattern.finditer(kept_caps):
            words = found.group("owner").split()
            while words and fold(words[0]) in _NOT_A_NAME:
                words.pop(0)
            if words:
                said = sentence.text[found.start("owner") : found.end("owner")].split()
                return True, " ".join(said[len(said) - len(words) :])
    return False, None


def _casefold_keep_caps(text: str) -> str:
    """Accents off the lower-case letters only: the verb patterns are unaccented, names keep their capitals."""
    out = []
    for char in text:
        out.append(fold(char) if char.islower() else char)
    return "".join(out).replace("’", "'")


def extract_items(
    segments: Sequence[Segment], *, reference: date | None = None, people: Sequence[str] = ()
) -> ExtractedItems:
    """Decisions, actions, next meeting and open questions said in ``segments``, each linked to its segments.

    ``reference`` is the meeting date (relative dates are read from it); ``people`` the known participants, to
    which owners are matched (see :func:`transcription._minutes_people.known_people`).
    """
    sentences = sentences_of(segments)
    found = ExtractedItems()
    for at, sentence in enumerate(sentences):
        folded = sentence.folded
        previous = sentences[at - 1] if at else None
        if _DECISION.search(folded) and not _NOT_DECISION.search(folded) and not sentence.text.endswith("?"):
            found.decisions.append(_decision(sentences, at, segments, reference))
            continue
        is_action, owner = _action_owner(sentence)
        if previous and previous.speaker != sentence.speaker and _REPLY_YES.search(folded):
            # « Marie, tu peux envoyer la note ? — Oui, d'ici vendredi. »: the one who says yes owns it
            asked = re.search(
                r"\b(?:tu peux|vous pouvez|pourriez-vous|peux-tu|pouvez-vous|vous vous en (?:chargez|occupez)|"
                r"tu t'en (?:charges|occupes))\b",
                previous.folded,
            )
            if asked and previous.text.endswith("?") and sentence.speaker:
                is_action, owner = True, sentence.speaker
                request = _action(sentences, at - 1, owner, segments, reference, people)
                merged = _action(sentences, at, owner, segments, reference, people)
                linked, start, end = _link(segments, [*request.segments, *merged.segments])
                found.actions.append(
                    ActionItem(
                        task=f"{request.task} — {merged.task}",
                        owner=merged.owner,
                        due=merged.due or request.due,
                        due_date=merged.due_date or request.due_date,
                        segments=linked,
                        start=start,
                        end=end,
                        source=SOURCE,
                        check=merged.check,
                    )
                )
                continue
        if is_action:
            found.actions.append(_action(sentences, at, owner, segments, reference, people))
            continue
        if _NEXT_MEETING.search(folded) and not sentence.text.endswith("?"):
            mention = first_date(sentence.text, reference=reference)
            if mention:
                linked, start, end = _link(segments, [sentence.index])
                found.next_meeting = MeetingNote(_clean(sentence.text), mention.iso, linked, start, end, SOURCE)
                continue
        following = sentences[at + 1] if at + 1 < len(sentences) else None
        unanswered = (
            sentence.text.endswith("?")
            and following is not None
            and following.speaker != sentence.speaker
            and _NO_ANSWER.search(following.folded)
        )
        if _OPEN.search(folded) or unanswered:
            linked, start, end = _link(segments, [sentence.index])
            found.open_questions.append(MeetingNote(_clean(sentence.text), None, linked, start, end, SOURCE))
    return found
