"""Frequent French words that the glossary's post-correction never turns into a term.

A glossary term can be close to (or spelled like) an everyday word: « DIRE » (a sigle) and the verb « dire »,
« CSA » and « ça ». Whisper writes everyday words well, so a transcript word found here is left alone unless the
user listed it as a known mis-transcription of a term. Keys are accent-free and lower-case (see ``_key``).
"""

from __future__ import annotations

__all__ = ["FRENCH_WORDS"]

# One string split, rather than a list of 300 one-word lines.
FRENCH_WORDS: frozenset[str] = frozenset(
    """
    a accord agent agents ai aie aient ainsi alors annee ans aout apres as assez au aucun aucune aujourdhui aupres
    aussi autre autres aux avais avait avant avec avez aviez avions avoir avons avril ayant bah bien bon bonjour
    bonne bref budget bureau ca car cas ce ceci cela celle celles celui cent ces cest cet cette ceux chaque chez ci
    cinq comme comment commission commune conseil contre dans de decembre decision deja demain demande demandes
    depuis des deux devant dimanche dire direction dit dix doit donc dont dossier du elle elles en encore entre
    equipe est et etaient etais etait etant etat ete etes etre eu eux faire fait faut fevrier fin fois font gens
    grand grande gros heure heures hier huit ici il ils janvier je jeudi jour jours juillet juin jusque la le les
    leur leurs lui lundi ma madame mai mairie mais mal mardi mars me meme merci mercredi mes mettre mien ministere
    minute minutes moi moins mois mon monsieur mot na ne neuf ni non nos note notre nous nouveau nouvelle novembre
    octobre on ont ordre ou oui par parce parole pas pendant peu peut peuvent plus plusieurs point points pour
    pourquoi pouvez prefecture prefet premier premiere pres present presente presenter prochain prochaine projet
    puis quand quatre que quel quelle quelles quels question qui quil quoi rapport region reunion sa sais sait
    samedi sans se seance selon semaine sept septembre sera serait service services ses seul si sien six soi soir
    soit son sont sous suis suite sur ta tant te temps tes toi ton tous tout toute toutes travail travaux tres trois
    tu un une unes uns va vais vendredi vers veut vie voici voila vos vote votre vous vu zero
    """.split()  # noqa: SIM905
)
