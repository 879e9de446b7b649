"""A harder retrieval eval set, generated deterministically (no network, no model): near-duplicates, paraphrases.

Each topic is a French administrative act written once as a template, then issued by several (fictitious)
collectivités for two years: the documents of one topic share their whole legal boilerplate (« Vu le code… »)
and differ only in the issuer, the year and the figures. Questions name the issuer and the year but never reuse
the act's wording: they paraphrase it in the words an agent would use (« cantine » for « restauration scolaire »,
« de gré à gré » for « sans publicité ni mise en concurrence », « chevaux fiscaux » for « CV »). Some questions
have no answer in the set. The expected passage is the figure that only the right document holds.

``hard_set(seed)`` returns the same documents and questions for the same seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["HardDocument", "HardQuestion", "hard_set"]

ISSUERS = ("Saint-Aubin-sur-Loire", "Villeneuve-les-Prés", "Montclar-de-Quercy")
YEARS = (2024, 2025)

VISAS = (
    "Vu le code général des collectivités territoriales, notamment ses articles L. 2121-29 et L. 2122-22 ;\n"
    "Vu le code général de la fonction publique ;\n"
    "Vu le code de la commande publique ;\n"
    "Vu l'avis du comité social territorial ;\n"
    "Considérant la nécessité d'assurer la continuité et la bonne organisation du service public ;"
)


@dataclass(frozen=True)
class HardDocument:
    id: str
    text: str


@dataclass(frozen=True)
class HardQuestion:
    text: str
    document: str | None  # None: no answer in the set
    passage: str | None


@dataclass(frozen=True)
class _Topic:
    slug: str
    title: str
    body: str  # str.format slots: issuer, year, next_year and the topic's figures
    questions: tuple[str, ...]  # paraphrases; one is drawn per document
    figures: dict[str, tuple[str, ...]]  # each document draws one value per slot
    passage: str  # the slot whose value identifies the right document


TOPICS = (
    _Topic(
        slug="restauration-scolaire",
        title="Délibération fixant les tarifs de la restauration scolaire",
        body=(
            "Le conseil municipal de {issuer} fixe, pour l'année scolaire {year}-{next_year}, le prix du repas servi "
            "aux élèves des écoles maternelles et élémentaires à {price} euros pour les familles dont le quotient "
            "familial est inférieur à {qf} euros, et à 4,10 euros au-delà. Le repas des enfants bénéficiant d'un "
            "projet d'accueil individualisé est facturé au tiers du tarif."
        ),
        questions=(
            "Combien coûte la cantine pour une famille aux revenus modestes à {issuer} en {year} ?",
            "À {issuer}, quel prix paie-t-on pour un déjeuner d'écolier en {year} quand on a un petit quotient ?",
        ),
        figures={"price": ("0,95", "1,20", "1,45", "1,80", "2,05", "2,30"), "qf": ("600", "700", "800")},
        passage="price",
    ),
    _Topic(
        slug="delegation-signature",
        title="Arrêté portant délégation de fonction et de signature en matière d'urbanisme",
        body=(
            "Le maire de {issuer} donne, à compter du 1er janvier {year}, délégation de fonction et de signature à "
            "{deputy}, adjoint chargé de l'urbanisme, pour les décisions relatives aux permis de construire, "
            "d'aménager et de démolir ainsi qu'aux déclarations préalables. En cas d'absence ou d'empêchement, la "
            "délégation est exercée par le premier adjoint."
        ),
        questions=(
            "Qui signe les autorisations de bâtir à la place du maire de {issuer} en {year} ?",
            "En {year}, à {issuer}, quel élu est habilité à accorder un permis de construire au nom de la commune ?",
        ),
        figures={"deputy": ("Mme Odile Ferrand", "M. Karim Belhadj", "Mme Lucie Perrot", "M. Jean Vasseur")},
        passage="deputy",
    ),
    _Topic(
        slug="temps-de-travail",
        title="Délibération relative à l'organisation du temps de travail",
        body=(
            "À {issuer}, la durée annuelle du travail effectif des agents est fixée à 1 607 heures à compter de "
            "{year}. Pour un cycle hebdomadaire de {hours} heures, les agents à temps complet bénéficient de "
            "{rtt} jours de réduction du temps de travail (ARTT) par an, proratisés pour les agents à temps "
            "partiel. La journée de solidarité est accomplie par la suppression d'un jour d'ARTT."
        ),
        questions=(
            "Combien de jours de repos compensateur ont les agents à {hours} h par semaine à {issuer} en {year} ?",
            "À {issuer} en {year}, un fonctionnaire travaillant {hours} heures hebdomadaires récupère combien de "
            "journées ?",
        ),
        figures={"hours": ("37", "38", "39"), "rtt": ("12", "15", "18", "20", "23")},
        passage="rtt",
    ),
    _Topic(
        slug="seuil-marches",
        title="Délibération relative aux seuils des procédures d'achat",
        body=(
            "Le conseil de {issuer} décide qu'en {year}, les marchés de fournitures et de services dont la valeur "
            "estimée est inférieure à {threshold} euros hors taxes peuvent être passés sans publicité ni mise en "
            "concurrence préalables, sous réserve de choisir une offre pertinente et de ne pas contracter "
            "systématiquement avec le même opérateur économique."
        ),
        questions=(
            "Jusqu'à quel montant {issuer} peut-elle acheter de gré à gré en {year} ?",
            "En {year}, sous quelle somme un achat de {issuer} est-il dispensé d'appel d'offres et de publicité ?",
        ),
        figures={"threshold": ("25 000", "30 000", "40 000", "60 000")},
        passage="threshold",
    ),
    _Topic(
        slug="indemnites-kilometriques",
        title="Arrêté fixant le remboursement des frais de déplacement",
        body=(
            "Les agents de {issuer} autorisés à utiliser leur véhicule personnel pour les besoins du service en "
            "{year} sont indemnisés, pour un véhicule de {cv} CV, à raison de {rate} euro par kilomètre jusqu'à "
            "2 000 kilomètres parcourus dans l'année. Les frais de péage et de stationnement sont remboursés sur "
            "présentation des justificatifs."
        ),
        questions=(
            "Quel remboursement par kilomètre pour une voiture de {cv} chevaux fiscaux à {issuer} en {year} ?",
            "À {issuer} en {year}, combien touche un agent par km parcouru avec sa propre auto de {cv} CV ?",
        ),
        figures={"cv": ("5", "6", "7"), "rate": ("0,32", "0,37", "0,41", "0,43", "0,45")},
        passage="rate",
    ),
    _Topic(
        slug="compte-epargne-temps",
        title="Délibération relative au compte épargne-temps",
        body=(
            "À {issuer}, le compte épargne-temps est ouvert aux agents titulaires et contractuels employés depuis "
            "au moins un an. À compter de {year}, les jours épargnés au-delà du quinzième peuvent être indemnisés "
            "à raison de {amount} euros bruts par jour pour un agent de catégorie {category}, ou pris en compte "
            "au titre de la retraite additionnelle."
        ),
        questions=(
            "Combien est payée une journée placée sur le CET d'un agent de catégorie {category} à {issuer} en {year} ?",
            "En {year}, à {issuer}, quelle somme reçoit un agent de catégorie {category} pour un jour épargné "
            "monétisé ?",
        ),
        figures={"amount": ("75", "90", "135"), "category": ("A", "B", "C")},
        passage="amount",
    ),
    _Topic(
        slug="astreinte-hivernale",
        title="Délibération instituant l'astreinte de viabilité hivernale",
        body=(
            "Une astreinte de viabilité hivernale est instituée à {issuer} du 15 novembre {year} au 15 mars "
            "{next_year} pour les agents des services techniques. Le délai d'intervention sur la voirie après "
            "l'appel est fixé à {delay} minutes. L'astreinte est indemnisée selon les montants réglementaires."
        ),
        questions=(
            "En combien de temps l'équipe de déneigement de {issuer} doit-elle être sur place durant l'hiver {year} ?",
            "À {issuer}, pendant l'hiver {year}, quel est le temps maximal pour intervenir sur les routes verglacées ?",
        ),
        figures={"delay": ("20", "30", "45", "60")},
        passage="delay",
    ),
    _Topic(
        slug="subventions-associations",
        title="Délibération fixant les règles d'attribution des subventions aux associations",
        body=(
            "Les associations ayant leur siège à {issuer} déposent leur demande de subvention pour {next_year} "
            "au plus tard le {deadline} {year}. Toute subvention supérieure à 23 000 euros donne lieu à une "
            "convention d'objectifs. Les dossiers incomplets ne sont pas instruits."
        ),
        questions=(
            "Avant quelle date un club doit-il demander une aide financière à {issuer} pour l'exercice {next_year} ?",
            "Quelle est la date limite pour qu'une association sollicite {issuer} (aides de {next_year}) ?",
        ),
        figures={"deadline": ("15 octobre", "31 octobre", "15 novembre", "30 novembre")},
        passage="deadline",
    ),
)

# Asked about the same collectivités and vocabulary, but nothing in the set answers them.
UNANSWERABLE = (
    "Quel est le montant de la prime de fin d'année des agents de {issuer} en {year} ?",
    "Combien de places de crèche {issuer} propose-t-elle en {year} ?",
    "Quel est le taux de la taxe foncière voté par {issuer} pour {year} ?",
    "À {issuer}, les agents ont-ils droit au télétravail le vendredi en {year} ?",
    "Quel est le budget consacré à l'éclairage public de {issuer} en {year} ?",
    "Combien d'agents de police municipale compte {issuer} en {year} ?",
)


def hard_set(seed: int = 2026) -> tuple[list[HardDocument], list[HardQuestion]]:
    """Documents (Markdown) and questions, the same for the same ``seed``."""
    rng = random.Random(seed)
    documents: list[HardDocument] = []
    questions: list[HardQuestion] = []
    for topic in TOPICS:
        used: set[str] = set()
        for issuer in ISSUERS:
            for year in YEARS:
                values = {slot: rng.choice(choices) for slot, choices in topic.figures.items()}
                # The passage must single out this document among its near-duplicates.
                while values[topic.passage] in used:
                    values[topic.passage] = rng.choice(topic.figures[topic.passage])
                used.add(values[topic.passage])
                if len(used) == len(topic.figures[topic.passage]):
                    used.clear()  # more documents than values: repeats are then told apart by issuer and year
                slots = {"issuer": issuer, "year": year, "next_year": year + 1, **values}
                document_id = f"{topic.slug}-{_slug(issuer)}-{year}"
                text = (
                    f"# {topic.title} — {issuer}, {year}\n\n## Visas\n{VISAS}\n\n"
                    f"## Dispositif\n{topic.body.format(**slots)}\n\n"
                    f"## Exécution\nLe directeur général des services de {issuer} est chargé de l'exécution du "
                    "présent acte, qui peut faire l'objet d'un recours devant le tribunal administratif dans un "
                    "délai de deux mois à compter de sa publication.\n"
                )
                documents.append(HardDocument(document_id, text))
                question = rng.choice(topic.questions).format(**slots)
                questions.append(HardQuestion(question, document_id, values[topic.passage]))
    for template in UNANSWERABLE:
        questions.append(HardQuestion(template.format(issuer=rng.choice(ISSUERS), year=rng.choice(YEARS)), None, None))
    return documents, questions


def _slug(name: str) -> str:
    return name.lower().replace("é", "e").replace(" ", "-")
