"""Minutes a secretariat can sign (pipeline v2): extractive cues, dates, citations checked, merge by rule, exports.

The stand-in model (:class:`Clerk`) really reads the numbered passages of its prompts and answers with citations;
it also makes the mistakes a small model makes (a passage that does not exist, an invented date, a misspelt
owner, an invented decision), which the pipeline must drop or flag.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date

import docx
import pytest

from tests.transcription.factories import transcript
from transcription import (
    ActionItem,
    Decision,
    Message,
    Minutes,
    Segment,
    chunk_segments,
    export_minutes,
    extract_minutes,
    find_dates,
    generate_minutes,
)

LABEL = "Contenu généré par IA — à vérifier"
REFERENCE = date(2026, 9, 10)  # a Thursday
_NUMBERED = re.compile(r"^\[(\d\d:\d\d:\d\d)\] #(?P<n>\d+) (?:(?P<speaker>[^:]+?) : )?(?P<text>.*)$", re.MULTILINE)


class Clerk:
    """Cites what it relays; optionally adds the inventions of a weak model."""

    def __init__(self, *, sloppy: bool = False, forget_decisions: bool = False) -> None:
        self.sloppy = sloppy
        self.forget_decisions = forget_decisions
        self.prompts: list[str] = []

    async def __call__(self, messages: list[Message]) -> str:
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        if "<notes>" in prompt:
            notes = [json.loads(line) for line in prompt.split("<notes>")[1].split("</notes>")[0].strip().splitlines()]
            return json.dumps({"summary": " ".join(n["summary"] for n in notes)}, ensure_ascii=False)
        lines = list(_NUMBERED.finditer(prompt))
        answer: dict[str, object] = {
            "summary": lines[0]["text"] if lines else "",
            "decisions": [],
            "actions": [],
            "open_questions": [],
        }
        if not self.forget_decisions:
            answer["decisions"] = [
                {"text": m["text"], "segments": [int(m["n"])]} for m in lines if "décid" in m["text"].lower()
            ]
        if self.sloppy and lines:
            answer["decisions"] += [  # type: ignore[operator]
                {"text": "Le conseil décide de construire une piscine olympique.", "segments": [int(lines[0]["n"])]},
                {"text": lines[0]["text"], "segments": [999]},
            ]
            answer["actions"] = [
                {
                    "task": "Envoyer le planning détaillé",
                    "owner": "Madame Dupond",
                    "due": "le premier octobre 1905",
                    "segments": [m["n"] for m in lines if "planning" in m["text"]],
                },
                {"task": "Préparer une note sur les effectifs", "owner": "Gérard Inconnu", "due": None, "segments": []},
            ]
        return "```json\n" + json.dumps(answer, ensure_ascii=False) + "\n```"


MEETING = transcript(
    (0.0, 4.0, "Bonjour, je suis Claire Dupont, présidente du comité.", "Claire Dupont"),
    (4.0, 9.0, "Je propose de rénover la bibliothèque municipale.", "Claire Dupont"),
    (9.0, 12.0, "La proposition est adoptée à l'unanimité.", "Paul Martin"),
    (12.0, 16.0, "Madame Dupont enverra le planning détaillé avant le 15 octobre.", "Paul Martin"),
    (16.0, 20.0, "On ne décide rien aujourd'hui sur le budget des écoles.", "Claire Dupont"),
    (20.0, 24.0, "La proposition de fermer la piscine est rejetée.", "Claire Dupont"),
    (24.0, 28.0, "Le conseil a décidé de reporter le vote du budget à septembre.", "Claire Dupont"),
    (28.0, 32.0, "Je prépare une note sur les effectifs pour vendredi.", "Paul Martin"),
    (32.0, 36.0, "La question du stationnement reste à trancher.", "Claire Dupont"),
    (36.0, 40.0, "Il est décidé que les horaires d'été s'appliquent à compter du 1er juin 2027.", "Claire Dupont"),
    (40.0, 44.0, "La prochaine réunion aura lieu le mardi 6 octobre. Merci à tous.", "Claire Dupont"),
)


def _segments(*texts: str) -> list[Segment]:
    return [Segment(float(i), float(i + 1), text, speaker="Paul Martin") for i, text in enumerate(texts)]


@pytest.mark.parametrize(
    "sentence",
    [
        "Il est décidé de fermer le guichet le samedi.",
        "Nous validons le calendrier des élections professionnelles.",
        "La décision est prise de recruter deux vacataires.",
        "Le comité de direction retient les travaux d'isolation du bâtiment B.",
        "C'est acté, les créneaux du samedi ouvrent en novembre.",
        "Le plan de formation est adopté à l'unanimité.",
    ],
)
def test_decision_cues_are_found(sentence: str) -> None:
    minutes = extract_minutes(_segments(sentence))
    assert [d.text for d in minutes.decisions] == [sentence]
    assert minutes.decisions[0].segments == (0,) and minutes.decisions[0].source == "extrait"


@pytest.mark.parametrize(
    "sentence",
    [
        "On ne décide rien aujourd'hui sur les primes.",
        "La proposition de fermer le site de Brest est rejetée.",
        "L'externalisation n'est pas retenue.",
        "Je propose de valider le calendrier.",
        "Si on décidait de fermer le samedi, que se passerait-il ?",
        "Est-ce que c'est validé ?",
        "Il n'y a pas de décision sur ce point.",
    ],
)
def test_look_alikes_are_not_decisions(sentence: str) -> None:
    assert extract_minutes(_segments(sentence)).decisions == ()


def test_an_adoption_carries_the_proposal_it_adopts() -> None:
    minutes = extract_minutes(MEETING, meeting_date=REFERENCE)
    first = minutes.decisions[0]
    assert "rénover la bibliothèque" in first.text and "adoptée" in first.text
    assert first.segments == (1, 2) and (first.start, first.end) == (4.0, 12.0)


def test_actions_owners_dates_next_meeting_and_open_questions() -> None:
    minutes = extract_minutes(MEETING, meeting_date=REFERENCE)
    assert [(a.owner, a.due_date, a.segments) for a in minutes.actions] == [
        ("Claire Dupont", "2026-10-15", (3,)),  # « Madame Dupont » is the participant Claire Dupont
        ("Paul Martin", "2026-09-11", (7,)),  # « je prépare … pour vendredi », said by Paul Martin on a Thursday
    ]
    assert minutes.actions[0].due == "15 octobre"
    assert minutes.next_meeting is not None and minutes.next_meeting.date == "2026-10-06"
    assert [q.text for q in minutes.open_questions] == ["La question du stationnement reste à trancher."]
    assert [d.effective_date for d in minutes.decisions] == [None, None, "2027-06-01"]
    assert not any("piscine" in d.text or "écoles" in d.text for d in minutes.decisions)


def test_an_answered_request_belongs_to_who_said_yes() -> None:
    segments = [
        Segment(0.0, 3.0, "Sophie, tu peux faire le recensement du matériel ?", speaker="Nathalie Morvan"),
        Segment(3.0, 5.0, "Oui, je vous l'envoie d'ici le 15 octobre.", speaker="Sophie Le Guen"),
    ]
    (action,) = extract_minutes(segments, meeting_date=REFERENCE).actions
    assert action.owner == "Sophie Le Guen" and action.due_date == "2026-10-15" and action.segments == (0, 1)


@pytest.mark.parametrize(
    ("said", "iso"),
    [
        ("avant le 15 octobre", "2026-10-15"),
        ("d'ici le 3 février", "2027-02-03"),  # already past this year: next year
        ("pour vendredi", "2026-09-11"),
        ("à compter du 1er janvier 2027", "2027-01-01"),
        ("d'ici fin novembre", "2026-11-30"),
        ("dans quinze jours", "2026-09-25"),
        ("le 03/11", "2026-11-03"),
        ("d'ici la fin de l'année", "2026-12-31"),
        ("le mardi 6 octobre", "2026-10-06"),
    ],
)
def test_dates_are_read_relative_to_the_meeting_date(said: str, iso: str) -> None:
    (mention,) = find_dates(said, reference=REFERENCE)
    assert mention.iso == iso and mention.said in said


def test_no_date_is_invented() -> None:
    assert find_dates("avant l'été, dès que possible", reference=REFERENCE) == []
    assert find_dates("le 31 février", reference=REFERENCE)[0].iso is None
    # without the meeting date, a relative date is kept as said, not guessed
    assert find_dates("pour vendredi")[0].iso is None


async def test_every_decision_of_every_chunk_is_kept() -> None:
    chunks = chunk_segments(MEETING.segments, max_tokens=40)
    assert len(chunks) >= 4
    clerk = Clerk()
    minutes = await generate_minutes(MEETING, complete=clerk, max_chunk_tokens=40, meeting_date=REFERENCE)
    texts = [d.text for d in minutes.decisions]
    assert len(texts) == 3, texts  # model and extractive copies of the same decisions merged, none lost
    assert any("bibliothèque" in t for t in texts) and any("septembre" in t for t in texts)
    assert any("horaires d'été" in t for t in texts)
    assert [d.start for d in minutes.decisions] == sorted(d.start for d in minutes.decisions)
    assert sum("<transcription>" in p for p in clerk.prompts) == len(chunks)
    # only the summaries are condensed by the model; the items never go through it
    reduce_prompts = [p for p in clerk.prompts if "<notes>" in p]
    notes = [
        json.loads(line)
        for p in reduce_prompts
        for line in p.split("<notes>")[1].split("</notes>")[0].strip().splitlines()
    ]
    assert reduce_prompts and all(set(note) == {"summary"} for note in notes)


async def test_a_model_that_forgets_decisions_loses_none() -> None:
    minutes = await generate_minutes(
        MEETING, complete=Clerk(forget_decisions=True), max_chunk_tokens=60, meeting_date=REFERENCE
    )
    assert len(minutes.decisions) == 3


async def test_what_the_transcript_does_not_support_is_dropped_or_flagged() -> None:
    minutes = await generate_minutes(
        MEETING,
        complete=Clerk(sloppy=True),
        max_chunk_tokens=5000,
        meeting_date=REFERENCE,
        participants=["Claire Dupont", "Paul Martin"],
    )
    assert not any("olympique" in d.text for d in minutes.decisions), "a decision its passage does not say"
    assert minutes.dropped >= 1
    planning = next(a for a in minutes.actions if "planning" in a.task)
    assert planning.owner == "Claire Dupont"
    assert planning.due_date == "2026-10-15" and "1905" not in json.dumps(minutes.to_dict())
    effectifs = next(a for a in minutes.actions if "effectifs" in a.task)
    assert effectifs.owner == "Paul Martin" and effectifs.segments == (7,)
    assert all(a.owner in ("Claire Dupont", "Paul Martin") for a in minutes.actions)
    for item in (*minutes.decisions, *minutes.actions):
        cited = [MEETING.segments[i] for i in item.segments]
        assert cited and item.start == cited[0].start and item.end == cited[-1].end


async def test_uncited_items_found_in_one_passage_are_linked_to_it() -> None:
    class Uncited(Clerk):
        async def __call__(self, messages: list[Message]) -> str:
            return json.dumps(
                {
                    "summary": "Réunion du comité.",
                    "decisions": ["Le conseil a décidé de reporter le vote du budget à septembre"],
                    "open_questions": [{"text": "Le stationnement reste à trancher"}],
                }
            )

    minutes = await generate_minutes(MEETING, complete=Uncited(), meeting_date=REFERENCE)
    budget = next(d for d in minutes.decisions if "septembre" in d.text)
    assert budget.segments == (6,) and budget.start == 24.0


def test_old_stored_minutes_still_load_and_export() -> None:
    old = {
        "summary": "Le conseil a examiné le budget.",
        "decisions": ["Rénover la bibliothèque avant juin."],
        "actions": [{"task": "Envoyer le planning", "owner": "Madame Dupont", "due": "vendredi"}],
        "participants": ["Intervenant 1"],
        "open_questions": ["Qui finance la cantine ?"],
    }
    minutes = Minutes.from_dict(old)
    assert minutes.decisions == (Decision("Rénover la bibliothèque avant juin."),)
    assert minutes.actions == (ActionItem("Envoyer le planning", owner="Madame Dupont", due="vendredi"),)
    assert minutes.next_meeting is None and minutes.open_questions[0].segments == ()
    markdown = export_minutes(minutes, "md", label=LABEL).decode()
    assert LABEL in markdown and "- Rénover la bibliothèque avant juin." in markdown
    assert "| Envoyer le planning | Madame Dupont | « vendredi » | — |" in markdown
    for fmt in ("docx", "odt", "json"):
        assert export_minutes(minutes, fmt, label=LABEL)  # type: ignore[arg-type]
    assert Minutes.from_dict(minutes.to_dict()) == minutes


def test_exports_carry_dates_owners_times_and_the_label() -> None:
    minutes = extract_minutes(MEETING, meeting_date=REFERENCE)
    markdown = export_minutes(minutes, "md", label=LABEL).decode()
    assert LABEL in markdown and "| Action | Responsable | Échéance | Dit à |" in markdown
    assert "| Claire Dupont | 15/10/2026 (« 15 octobre ») | 00:00:12 (passage 4) |" in markdown
    assert "effet : 01/06/2027 (« 1er juin 2027 »)" in markdown
    assert "## Prochaine réunion" in markdown and "date : 06/10/2026" in markdown

    document = docx.Document(io.BytesIO(export_minutes(minutes, "docx", label=LABEL)))
    texts = [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert LABEL in texts and document.core_properties.subject == LABEL
    assert "Dit à" in texts and "15/10/2026 (« 15 octobre »)" in texts and "Prochaine réunion" in texts

    with zipfile.ZipFile(io.BytesIO(export_minutes(minutes, "odt", label=LABEL))) as odt:
        content = odt.read("content.xml").decode()
        assert LABEL in content and "responsable : Claire Dupont" in content and "dit à 00:00:12" in content
        assert "ai_generated" in odt.read("meta.xml").decode()

    data = json.loads(export_minutes(minutes, "json", label=LABEL))
    assert data["label"] == LABEL and data["actions"][0]["due_date"] == "2026-10-15"
    assert data["actions"][0]["start"] == 12.0 and data["next_meeting"]["date"] == "2026-10-06"
