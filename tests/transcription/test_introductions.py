"""Names proposed for speaker labels from what people say when they introduce themselves."""

from __future__ import annotations

import pytest

from transcription import Segment, SpeakerProposal, propose_speaker_names


def _segments(*turns: tuple[str, str]) -> list[Segment]:
    return [Segment(float(i * 10), float(i * 10 + 9), text, speaker=speaker) for i, (speaker, text) in enumerate(turns)]


@pytest.mark.parametrize(
    ("text", "name", "role"),
    [
        ("Bonjour à tous, je m'appelle Marie Kerdraon.", "Marie Kerdraon", None),
        (
            "Je m’appelle Jean-Pierre Le Goff et je suis chef du service juridique.",
            "Jean-Pierre Le Goff",
            "chef du service juridique",
        ),
        (
            "Je suis Paul Martin, chef du bureau des affaires générales.",
            "Paul Martin",
            "chef du bureau des affaires générales",
        ),
        (
            "Marie Kerdraon, cheffe du bureau des marchés publics.",
            "Marie Kerdraon",
            "cheffe du bureau des marchés publics",
        ),
        ("Bonjour, ici Paul Martin.", "Paul Martin", None),
        ("Bonjour. Ici Aïcha N'Diaye, directrice adjointe.", "Aïcha N'Diaye", "directrice adjointe"),
        ("Alors, moi c'est Sophie de la Tour, juriste.", "Sophie de la Tour", "juriste"),
        ("Mon nom est Mme Lefèvre, secrétaire générale.", "Mme Lefèvre", "secrétaire générale"),
        ("Je me nomme Hugo Dupont.", "Hugo Dupont", None),
        (
            "Bonsoir, Claire Bernard, présidente de la commission, bienvenue.",
            "Claire Bernard",
            "présidente de la commission",
        ),
    ],
)
def test_self_introductions_propose_the_name_and_role(text: str, name: str, role: str | None) -> None:
    proposals = propose_speaker_names(_segments(("SPEAKER_0", "Ouvrons la séance."), ("SPEAKER_1", text)))
    assert list(proposals) == ["SPEAKER_1"]
    proposal = proposals["SPEAKER_1"]
    assert (proposal.name, proposal.role) == (name, role)
    assert proposal.start == 10.0
    assert proposal.confidence >= 0.7
    assert proposal.source == "présentation"


@pytest.mark.parametrize(
    "text",
    [
        "Je suis d'accord avec Paul Martin sur ce point.",
        "Comme l'a dit Marie Kerdraon, le budget est serré.",
        "Marie Kerdraon, cheffe du bureau des marchés, nous a transmis le rapport.",
        "Paul Martin, directeur des finances, est excusé aujourd'hui.",
        "Je suis ravie d'être là.",
        "Je suis chef du bureau des affaires générales.",
        "Merci Paul Martin pour cette présentation.",
        "Il s'appelle Paul Martin.",
        "Le rapport est ici, Paul Martin l'a signé.",
        "Bonjour à tous.",
    ],
)
def test_mentions_of_someone_else_propose_nothing(text: str) -> None:
    assert propose_speaker_names(_segments(("SPEAKER_0", text))) == {}


def test_name_then_role_counts_only_at_the_start_of_a_turn() -> None:
    turns = _segments(
        ("SPEAKER_0", "Nous reprenons le point deux."),
        ("SPEAKER_0", "Paul Martin, chef du bureau des affaires générales."),
    )
    assert propose_speaker_names(turns) == {}


def test_a_hand_over_names_the_next_speaker_never_the_one_who_speaks() -> None:
    turns = _segments(
        ("SPEAKER_0", "Je m'appelle Claire Bernard, présidente de séance."),
        ("SPEAKER_0", "Je donne la parole à Paul Martin."),
        ("SPEAKER_1", "Merci madame la présidente, le budget est prêt."),
    )
    proposals = propose_speaker_names(turns)
    assert proposals["SPEAKER_0"].name == "Claire Bernard"
    handed = proposals["SPEAKER_1"]
    assert handed.name == "Paul Martin"
    assert handed.source == "passage de parole"
    assert handed.start == 20.0
    assert handed.confidence < proposals["SPEAKER_0"].confidence
    assert handed.confidence < 0.5


def test_a_self_introduction_beats_the_hand_over() -> None:
    turns = _segments(
        ("SPEAKER_0", "La parole est à Paul Martin."),
        ("SPEAKER_1", "Merci. Je suis Pierre Martin, je remplace Paul Martin, chargé de mission."),
    )
    proposal = propose_speaker_names(turns)["SPEAKER_1"]
    assert proposal.name == "Pierre Martin"
    assert proposal.source == "présentation"


def test_a_hand_over_with_no_next_speaker_proposes_nothing() -> None:
    turns = _segments(("SPEAKER_0", "Je passe la parole à Paul Martin."), ("SPEAKER_0", "Paul, vous êtes là ?"))
    assert propose_speaker_names(turns) == {}


def test_a_single_first_name_is_less_sure_and_the_surest_name_wins() -> None:
    turns = _segments(
        ("SPEAKER_0", "Moi c'est Marie."),
        ("SPEAKER_1", "Bonjour, je m'appelle Marie Kerdraon."),
        ("SPEAKER_2", "Je suis Marie Kerdraon."),
    )
    proposals = propose_speaker_names(turns)
    assert proposals["SPEAKER_0"].name == "Marie"
    assert proposals["SPEAKER_0"].confidence < proposals["SPEAKER_1"].confidence
    assert "SPEAKER_2" not in proposals, "one name, one speaker: the surer proposal keeps it"
    assert proposals["SPEAKER_1"].quote.startswith("je m'appelle Marie Kerdraon")


def test_segments_without_a_speaker_are_ignored_and_order_follows_first_appearance() -> None:
    segments = [
        Segment(0.0, 2.0, "Je m'appelle Anne Roux.", speaker=None),
        Segment(2.0, 4.0, "Je suis Luc Henry.", speaker="SPEAKER_2"),
        Segment(4.0, 6.0, "Je m'appelle Anne Roux.", speaker="SPEAKER_1"),
    ]
    proposals = propose_speaker_names(segments)
    assert list(proposals) == ["SPEAKER_2", "SPEAKER_1"]
    assert proposals["SPEAKER_1"].to_dict()["start"] == 4.0
    assert isinstance(proposals["SPEAKER_2"], SpeakerProposal)


def test_a_long_run_of_greetings_is_read_in_one_pass() -> None:
    # Each greeting once matched several ways: this line used to take exponential time, never finishing.
    text = "Bonjour bonjour merci alors donc oui " * 40 + "voilà."
    assert propose_speaker_names(_segments(("SPEAKER_0", text))) == {}
    named = propose_speaker_names(_segments(("SPEAKER_0", "Bonjour, bonjour à tous et à toutes. Ici Anne Roux.")))
    assert named["SPEAKER_0"].name == "Anne Roux"
