from __future__ import annotations

from rag import BM25Index, french_tokens


def test_french_tokens_fold_accents_drop_stopwords_and_stem() -> None:
    assert french_tokens("Les déclarations d'impôts de l'État") == ["declar", "impot", "etat"]
    assert french_tokens("la déclaration des IMPOTS") == ["declar", "impot"]
    assert french_tokens("le la les de du") == []
    assert "2024" in french_tokens("budget 2024")


def test_bm25_ranks_the_matching_passage_first() -> None:
    index = BM25Index(
        [11, 22, 33],
        [
            "La carte nationale d'identité se demande en mairie.",
            "Le passeport biométrique coûte 86 euros.",
            "Le budget communal est voté avant le 15 avril.",
        ],
    )
    assert index.search("carte d'identite", 3)[0][0] == 11
    assert [i for i, _ in index.search("passeports", 3)] == [22]
    assert index.search("les de la", 3) == []
    assert index.search("inconnu", 3) == []
    assert BM25Index([], []).search("carte", 3) == []
