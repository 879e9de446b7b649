"""Writes benchmarks/minutes_data/*.json from compact meeting scripts (times from word counts)."""

# One spoken sentence per line reads as a script; speakers are one-letter aliases of their names.
# ruff: noqa: E501, E741

import json
import pathlib

OUT = pathlib.Path(__file__).parent


def build(mid, title, day, participants, lines):
    t, segs, gold = 0.0, [], {"decisions": [], "actions": [], "next_meeting": None}
    for i, line in enumerate(lines):
        speaker, text = line[0], line[1]
        dur = round(max(2.0, len(text.split()) / 2.6), 1)
        segs.append({"start": round(t, 1), "end": round(t + dur, 1), "speaker": speaker, "text": text})
        t += dur + 0.4
        for tag in line[2:]:
            kind = tag[0]
            if kind == "d":
                gold["decisions"].append(
                    {"segment": i, "keywords": tag[1], "effective_date": tag[2] if len(tag) > 2 else None}
                )
            elif kind == "a":
                gold["actions"].append({"segment": i, "keywords": tag[1], "owner": tag[2], "due": tag[3]})
            elif kind == "n":
                gold["next_meeting"] = {"segment": i, "date": tag[1]}
    doc = {"id": mid, "title": title, "meeting_date": day, "participants": participants, "segments": segs, "gold": gold}
    (OUT / f"{mid}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return doc


A, B, C, D = "Nathalie Morvan", "Karim Benali", "Sophie Le Guen", "Thierry Vasseur"
build(
    "csa_teletravail",
    "CSA — télétravail et horaires",
    "2026-09-10",
    [A, B, C, D],
    [
        (
            A,
            "Bonjour à tous. Je suis Nathalie Morvan, directrice des ressources humaines, et je préside ce comité social d'administration.",
        ),
        (B, "Karim Benali, représentant du personnel. Bonjour."),
        (
            A,
            "Premier point, le bilan de l'expérimentation du télétravail. Les chiffres montrent une satisfaction de quatre-vingts pour cent.",
        ),
        (B, "Les agents demandent de passer à trois jours de télétravail par semaine."),
        (D, "Trois jours, ce n'est pas possible pour les services d'accueil du public. Je ne suis pas favorable."),
        (
            A,
            "Je propose de maintenir deux jours par semaine, avec un troisième jour possible pour les agents en situation de handicap.",
        ),
        (B, "Nous sommes d'accord sur ce compromis."),
        (
            A,
            "La proposition est adoptée à l'unanimité, avec une entrée en vigueur au 1er janvier 2027.",
            ("d", ["deux jours", "handicap"], "2027-01-01"),
        ),
        (
            C,
            "Sophie Le Guen, pour le bureau informatique. Il faudra équiper les agents concernés en ordinateurs portables.",
        ),
        (A, "Sophie, tu peux faire le recensement des besoins en matériel ?"),
        (C, "Oui, je vous l'envoie d'ici le 15 octobre.", ("a", ["recensement", "matériel"], C, "2026-10-15")),
        (D, "Deuxième point, les horaires variables. Certains demandent une plage fixe réduite le vendredi."),
        (B, "On pourrait aussi supprimer la plage fixe du mercredi après-midi."),
        (D, "Non, la suppression de la plage du mercredi est écartée, les écoles nous l'ont déconseillé."),
        (
            A,
            "En revanche, il est décidé de ramener la plage fixe du vendredi à 14 heures 30.",
            ("d", ["plage fixe", "vendredi"], None),
        ),
        (
            A,
            "Thierry Vasseur se charge de mettre à jour le règlement intérieur avant la fin novembre.",
            ("a", ["règlement intérieur"], D, "2026-11-30"),
        ),
        (B, "Et pour les primes de fin d'année, quelle est la position de la direction ?"),
        (A, "On ne décide rien aujourd'hui sur les primes, le point sera instruit avec le budget."),
        (A, "La question des primes reste donc ouverte."),
        (
            B,
            "Karim Benali diffusera une note d'information aux agents la semaine prochaine.",
            ("a", ["note d'information", "agents"], B, "2026-09-18"),
        ),
        (
            A,
            "Nous validons aussi le calendrier des élections professionnelles tel que présenté.",
            ("d", ["calendrier", "élections"], None),
        ),
        (A, "La prochaine réunion du comité aura lieu le 3 décembre. Merci à tous.", ("n", "2026-12-03")),
    ],
)

E, F, G, H = "Claire Dubreuil", "Julien Perrot", "Amina Diallo", "Marc Lefèvre"
build(
    "prefecture_titres",
    "Préfecture — délais de délivrance des titres",
    "2026-10-05",
    [E, F, G, H],
    [
        (
            E,
            "Bonjour, ici Claire Dubreuil, secrétaire générale. Nous faisons le point sur les délais des titres de séjour.",
        ),
        (F, "Julien Perrot, chef du bureau des étrangers. Le délai moyen est remonté à quatre-vingt-dix jours."),
        (
            G,
            "Amina Diallo, je suis cheffe du pôle accueil. Les files d'attente débordent sur le trottoir le lundi matin.",
        ),
        (E, "Il nous faut des mesures rapides."),
        (F, "Je propose d'ouvrir des créneaux de rendez-vous le samedi matin pendant trois mois."),
        (
            H,
            "Marc Lefèvre, pour les moyens. Cela suppose des heures supplémentaires, le budget le permet jusqu'en décembre.",
        ),
        (
            E,
            "Très bien, c'est acté, les créneaux du samedi ouvrent à partir du 7 novembre.",
            ("d", ["samedi"], "2026-11-07"),
        ),
        (
            G,
            "Je m'en charge pour l'organisation de l'accueil, le planning sera prêt pour le 30 octobre.",
            ("a", ["accueil", "planning"], G, "2026-10-30"),
        ),
        (F, "Autre piste, externaliser la numérisation des dossiers à un prestataire."),
        (H, "L'externalisation n'est pas retenue, le marché prendrait six mois."),
        (
            E,
            "Nous avons décidé en revanche de renforcer le bureau des étrangers par deux vacataires.",
            ("d", ["deux vacataires"], None),
        ),
        (
            H,
            "Marc Lefèvre va lancer le recrutement des vacataires dès cette semaine, pour une arrivée le 2 novembre.",
            ("a", ["recrutement", "vacataires"], H, "2026-11-02"),
        ),
        (F, "Il y a aussi la question des demandes incomplètes, qui représentent un tiers des dossiers."),
        (E, "Julien, vous pouvez préparer une liste de pièces simplifiée pour le site internet ?"),
        (F, "D'accord, je vous la transmets avant le 20 octobre.", ("a", ["liste", "pièces"], F, "2026-10-20")),
        (G, "Est-ce qu'on peut aussi ouvrir un accueil sans rendez-vous le mercredi ?"),
        (E, "Je ne sais pas, cela dépend des effectifs de janvier."),
        (
            E,
            "Enfin, la décision est prise de publier chaque mois le délai moyen sur le site de la préfecture.",
            ("d", ["publier", "délai moyen"], None),
        ),
        (E, "Prochain point d'étape le lundi 16 novembre. Merci.", ("n", "2026-11-16")),
    ],
)

I, J, K, L = "Philippe Garnier", "Isabelle Roux", "Yannick Le Bihan", "Fatima Ouali"
build(
    "budget_dialogue",
    "Dialogue budgétaire 2027 — direction départementale",
    "2026-11-17",
    [I, J, K, L],
    [
        (I, "Bonjour. Philippe Garnier, directeur. Nous ouvrons le dialogue budgétaire pour 2027."),
        (
            J,
            "Isabelle Roux, cheffe du service financier. L'enveloppe notifiée baisse de trois pour cent par rapport à 2026.",
        ),
        (K, "Yannick Le Bihan, pour la logistique. Les dépenses d'énergie restent notre premier poste."),
        (I, "Il faut arbitrer entre les travaux d'isolation et le renouvellement des véhicules."),
        (
            L,
            "Fatima Ouali, contrôle de gestion. Les travaux d'isolation feraient économiser douze pour cent d'énergie dès la deuxième année.",
        ),
        (K, "On pourrait reporter le renouvellement des véhicules à 2028."),
        (
            I,
            "Le comité de direction retient les travaux d'isolation du bâtiment B en priorité.",
            ("d", ["isolation", "bâtiment"], None),
        ),
        (
            I,
            "Le renouvellement des véhicules est reporté à 2028, sauf les deux véhicules hors d'usage.",
            ("d", ["véhicules", "2028"], None),
        ),
        (
            K,
            "Yannick Le Bihan doit rédiger le cahier des charges des travaux pour le 15 janvier.",
            ("a", ["cahier des charges"], K, "2027-01-15"),
        ),
        (J, "Pour les crédits de formation, je propose une baisse de dix pour cent."),
        (I, "Non, la baisse des crédits de formation est refusée, c'est une priorité des agents."),
        (J, "Alors il faudra trouver l'économie ailleurs, peut-être sur les frais de déplacement."),
        (
            I,
            "Nous décidons de plafonner les frais de déplacement à leur niveau de 2025, à compter du 1er janvier.",
            ("d", ["frais de déplacement", "plafonner"], "2027-01-01"),
        ),
        (
            L,
            "Je vais mettre à jour le tableau de bord budgétaire avec ces arbitrages d'ici vendredi.",
            ("a", ["tableau de bord"], L, "2026-11-20"),
        ),
        (J, "Il reste à trancher la part des crédits réservée aux imprévus."),
        (I, "Isabelle, tu peux présenter le projet de budget consolidé au prochain comité ?"),
        (J, "Oui, ce sera prêt pour le 8 décembre.", ("a", ["budget consolidé"], J, "2026-12-08")),
        (I, "Nous nous retrouverons le 8 décembre pour valider l'ensemble.", ("n", "2026-12-08")),
    ],
)

M, N, O, P = "Hélène Bouvier", "Sébastien Marchal", "Laura Nguyen", "Olivier Castel"
build(
    "rh_entretiens",
    "Comité RH — entretiens professionnels et recrutements",
    "2027-01-12",
    [M, N, O, P],
    [
        (
            M,
            "Bonjour à toutes et à tous. Je m'appelle Hélène Bouvier, je suis cheffe du service des ressources humaines.",
        ),
        (N, "Sébastien Marchal, adjoint au chef du bureau de la formation."),
        (O, "Laura Nguyen, chargée de recrutement."),
        (P, "Olivier Castel, représentant des chefs de service."),
        (M, "Premier sujet, la campagne d'entretiens professionnels de cette année."),
        (P, "Les chefs de service demandent plus de temps, la campagne tombe en même temps que la clôture budgétaire."),
        (
            M,
            "La campagne se déroulera du 1er février au 31 mars, c'est validé.",
            ("d", ["campagne", "février"], "2027-02-01"),
        ),
        (
            N,
            "Je prépare le support de formation des évaluateurs pour le 25 janvier.",
            ("a", ["support", "formation", "évaluateurs"], N, "2027-01-25"),
        ),
        (M, "Deuxième sujet, les recrutements. Trois postes sont vacants au service juridique."),
        (O, "Je propose de publier les trois postes sur la place de l'emploi public dès cette semaine."),
        (M, "D'accord pour la publication, on part là-dessus.", ("d", ["publier", "postes"], None)),
        (
            O,
            "Laura Nguyen publiera les fiches de poste d'ici le 15 janvier.",
            ("a", ["fiches de poste"], O, "2027-01-15"),
        ),
        (P, "Est-ce qu'on ouvre aussi les postes aux contractuels ?"),
        (M, "Bonne question, il faudra voir avec la direction."),
        (P, "Et le télétravail des nouveaux arrivants pendant leur période d'essai ?"),
        (M, "Sur ce point, on ne tranche pas aujourd'hui."),
        (M, "En revanche, il est décidé que chaque nouvel arrivant aura un tuteur désigné.", ("d", ["tuteur"], None)),
        (
            P,
            "Olivier Castel se charge de recueillir les volontaires pour le tutorat avant fin janvier.",
            ("a", ["volontaires", "tutorat"], P, "2027-01-31"),
        ),
        (M, "La prochaine réunion se tiendra le 9 février. Merci.", ("n", "2027-02-09")),
    ],
)

Q, R, S2, T = "Vincent Lagarde", "Émilie Caron", "Hugo Ferrand", "Nadia Bensaïd"
build(
    "copil_si",
    "Comité de pilotage — assistant IA souverain",
    "2027-02-03",
    [Q, R, S2, T],
    [
        (
            Q,
            "Bonjour, Vincent Lagarde, directeur du numérique. Ordre du jour : le déploiement de l'assistant IA dans les services.",
        ),
        (R, "Émilie Caron, cheffe de projet. La phase pilote avec trois services s'est terminée la semaine dernière."),
        (S2, "Hugo Ferrand, responsable de la sécurité des systèmes d'information. L'homologation est en cours."),
        (
            T,
            "Nadia Bensaïd, déléguée à la protection des données. L'analyse d'impact doit être terminée avant toute généralisation.",
        ),
        (R, "Les retours du pilote sont bons, surtout sur les comptes rendus de réunion."),
        (Q, "Je propose de généraliser à l'ensemble des services en avril."),
        (T, "Pas avant la fin de l'analyse d'impact."),
        (
            Q,
            "Entendu. Nous validons la généralisation à partir du 1er avril, sous réserve de l'analyse d'impact.",
            ("d", ["généralisation"], "2027-04-01"),
        ),
        (
            T,
            "Je m'engage à finaliser l'analyse d'impact avant le 15 mars.",
            ("a", ["analyse d'impact"], T, "2027-03-15"),
        ),
        (S2, "Pour l'homologation, il manque le test d'intrusion."),
        (Q, "Hugo, tu peux commander le test d'intrusion ?"),
        (
            S2,
            "Oui, je le commande cette semaine, résultats attendus pour le 1er mars.",
            ("a", ["test d'intrusion"], S2, "2027-03-01"),
        ),
        (R, "Faut-il ouvrir l'accès aux modèles non souverains pour les documents publics ?"),
        (
            Q,
            "Non, l'usage de modèles non souverains est exclu, y compris pour les documents publics.",
            ("d", ["non souverains", "exclu"], None),
        ),
        (
            R,
            "Émilie Caron organisera les formations des référents, la première session le 10 mars.",
            ("a", ["formations", "référents"], R, "2027-03-10"),
        ),
        (
            Q,
            "Le comité adopte également le budget de formation de vingt mille euros.",
            ("d", ["budget de formation"], None),
        ),
        (T, "Il faudra revenir sur la durée de conservation des conversations, elle reste à définir."),
        (Q, "Prochain comité de pilotage le 17 mars.", ("n", "2027-03-17")),
    ],
)

U, V, W, X, Y = "Catherine Aubert", "Rémi Jacquet", "Sandrine Polet", "Ahmed Kaci", "Bruno Delmas"
long_lines = [
    (
        U,
        "Bonjour à tous. Catherine Aubert, directrice générale des services. Ce comité de direction a un ordre du jour chargé, six points.",
    ),
    (V, "Rémi Jacquet, directeur des finances."),
    (W, "Sandrine Polet, directrice des ressources humaines."),
    (X, "Ahmed Kaci, directeur des services techniques."),
    (Y, "Bruno Delmas, directeur de la communication."),
    (U, "Premier point, la rénovation de la salle du conseil. Ahmed, où en sommes-nous ?"),
    (
        X,
        "Les devis sont arrivés. Le moins cher est à cent vingt mille euros, le plus complet à cent quatre-vingt mille euros.",
    ),
    (V, "L'enveloppe votée est de cent cinquante mille euros, le devis complet la dépasse nettement."),
    (X, "Le devis le moins cher ne comprend pas l'accessibilité, ce qui pose un problème réglementaire."),
    (U, "L'accessibilité n'est pas négociable. Il y a une option intermédiaire ?"),
    (
        X,
        "Oui, le deuxième prestataire propose cent quarante-cinq mille euros avec l'accessibilité, sans la sonorisation.",
    ),
    (
        U,
        "Il est décidé de retenir l'offre à cent quarante-cinq mille euros avec l'accessibilité.",
        ("d", ["cent quarante-cinq mille", "accessibilité"], None),
    ),
    (
        X,
        "Ahmed Kaci va notifier le marché au prestataire avant le 20 novembre.",
        ("a", ["notifier", "marché"], X, "2026-11-20"),
    ),
    (Y, "Pour la sonorisation, on pourrait la financer sur le budget communication de l'an prochain."),
    (V, "Je ne suis pas contre, mais ce n'est pas le moment de l'arbitrer."),
    (U, "La question de la sonorisation reste ouverte, nous la reverrons au budget."),
    (U, "Deuxième point, le plan de formation. Sandrine ?"),
    (W, "Nous avons reçu deux cent quarante demandes individuelles. Les formations au numérique arrivent en tête."),
    (
        W,
        "Le plan prévoit aussi la formation obligatoire des nouveaux encadrants à la prévention des risques psychosociaux.",
    ),
    (V, "Le coût total dépasse de quinze pour cent l'enveloppe prévue."),
    (
        W,
        "Je propose de prioriser les formations obligatoires et le numérique, et de reporter les formations de langues.",
    ),
    (U, "Cette proposition est adoptée.", ("d", ["prioriser", "formations obligatoires"], None)),
    (
        W,
        "Je vais envoyer le plan de formation révisé aux directeurs d'ici le 30 novembre.",
        ("a", ["plan de formation"], W, "2026-11-30"),
    ),
    (Y, "Les agents vont demander pourquoi les langues sont reportées."),
    (U, "Bruno, vous pouvez rédiger un message pour l'intranet ?"),
    (Y, "D'accord, je le prépare pour la semaine prochaine.", ("a", ["message", "intranet"], Y, "2026-11-20")),
    (U, "Troisième point, le déménagement du service de l'état civil au rez-de-chaussée."),
    (X, "Les travaux de cloisonnement sont terminés, il reste le câblage réseau."),
    (X, "Le prestataire réseau peut intervenir la dernière semaine de novembre."),
    (W, "Les agents de l'état civil ont demandé à être associés à l'aménagement des postes."),
    (U, "C'est légitime. Une réunion avec eux est prévue ?"),
    (W, "Pas encore. Je peux l'organiser."),
    (
        U,
        "Alors Sandrine Polet organisera une réunion avec les agents de l'état civil avant le 25 novembre.",
        ("a", ["réunion", "état civil"], W, "2026-11-25"),
    ),
    (
        U,
        "Le déménagement est fixé au lundi 7 décembre, c'est acté.",
        ("d", ["déménagement", "7 décembre"], "2026-12-07"),
    ),
    (Y, "Il faudra prévenir les usagers, l'accueil sera fermé une journée."),
    (
        Y,
        "Je m'en occupe : affichage et site internet dès le 30 novembre.",
        ("a", ["usagers", "affichage"], Y, "2026-11-30"),
    ),
    (U, "Quatrième point, la politique de stationnement du personnel."),
    (V, "La location du parking privé coûte quarante mille euros par an."),
    (X, "Certains proposent de rendre le parking payant pour les agents."),
    (W, "Ce serait très mal reçu, en pleine négociation sur le pouvoir d'achat."),
    (U, "La proposition de rendre le parking payant est rejetée."),
    (V, "On pourrait renégocier le bail avec le propriétaire."),
    (U, "Rémi, vous vous en chargez ?"),
    (
        V,
        "Oui, je prends contact avec le propriétaire, retour avant le 15 décembre.",
        ("a", ["bail", "propriétaire"], V, "2026-12-15"),
    ),
    (U, "Cinquième point, la communication sur le nouveau portail usagers."),
    (
        Y,
        "Le portail sera prêt en janvier, nous avons besoin d'une campagne d'affichage et d'articles dans le journal municipal.",
    ),
    (V, "Le budget communication peut absorber l'affichage, pas une campagne radio."),
    (Y, "Alors on renonce à la radio."),
    (
        U,
        "Nous validons la campagne d'affichage et le journal municipal, sans campagne radio, avec un lancement le 11 janvier.",
        ("d", ["campagne d'affichage", "journal municipal"], "2027-01-11"),
    ),
    (
        Y,
        "Bruno Delmas présentera les maquettes de la campagne au comité du 8 décembre.",
        ("a", ["maquettes"], Y, "2026-12-08"),
    ),
    (U, "Sixième point, les questions diverses."),
    (W, "Une question sur le télétravail des agents de l'état civil après le déménagement. Est-ce qu'on l'étend ?"),
    (U, "On ne décide rien aujourd'hui sur ce sujet, il faut d'abord l'avis du comité social."),
    (X, "Les astreintes de déneigement commencent le 1er décembre, le planning est diffusé."),
    (V, "Pour information, la clôture comptable est avancée au 18 décembre cette année."),
    (U, "Il reste à définir la date du repas de fin d'année, Sandrine nous fera des propositions."),
    (
        U,
        "La prochaine réunion du comité de direction aura lieu le mardi 8 décembre à neuf heures. Merci à tous.",
        ("n", "2026-12-08"),
    ),
]
build("codir_long", "Comité de direction — séance longue (six points)", "2026-11-13", [U, V, W, X, Y], long_lines)
