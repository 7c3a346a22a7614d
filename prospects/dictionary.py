"""The metric dictionary: one definition per figure, in French and English.

This is the single source of the definitions shown next to each figure (dashboard
tooltips, report page, CLI) and of ``docs/metrics.md`` (regenerate it with
``python -m prospects.dictionary > docs/metrics.md``; a test checks it is in sync).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .i18n import LABELS


@dataclass(frozen=True)
class Metric:
    """One figure: its code, and its definition in each locale."""

    code: str
    fr: str
    en: str

    def label(self, locale: str = "fr") -> str:
        return LABELS[locale].get(self.code, self.code)

    def definition(self, locale: str = "fr") -> str:
        return self.fr if locale == "fr" else self.en


METRICS: tuple[Metric, ...] = (
    Metric(
        "prospects_without_document",
        "Affaires prospects ouvertes à la date d'arrêté (créées, ni transformées ni abandonnées) sans aucune offre en cours à cette date.",
        "Prospect deals open at the as-of date (created, neither converted nor abandoned) with no offer in progress at that date.",
    ),
    Metric(
        "offers_in_progress",
        "Offres en cours à la date d'arrêté : créées au plus tard ce jour, non décidées à cette date (date de décision vide ou postérieure), sur une affaire non abandonnée à cette date.",
        "Offers in progress at the as-of date: created by that day, not decided by then (no decision date, or a later one), on a deal not abandoned by then.",
    ),
    Metric(
        "potential_fees",
        "Honoraires des offres en cours : somme des lignes par nature (récurrent, exceptionnel) et total.",
        "Fees of the offers in progress: sum of their lines by billing (recurring, one-off) and total.",
    ),
    Metric(
        "signed_offers",
        "Offres au statut signé dont la date de décision tombe dans la période (du début de l'exercice à la date d'arrêté, bornes comprises).",
        "Offers with status signed decided within the period (fiscal-year start to as-of date, both included).",
    ),
    Metric(
        "signed_budget",
        "Honoraires des offres signées de la période : récurrent, exceptionnel et total.",
        "Fees of the offers signed in the period: recurring, one-off and total.",
    ),
    Metric(
        "refused_offers",
        "Offres au statut refusé dont la date de décision tombe dans la période.",
        "Offers with status refused decided within the period.",
    ),
    Metric(
        "abandoned_prospects",
        "Affaires prospects abandonnées dont la date d'abandon tombe dans la période.",
        "Prospect deals whose abandonment date falls within the period.",
    ),
    Metric(
        "converted_prospects",
        "Affaires prospects transformées dans la période : la date de transformation est la première date de décision de leurs offres signées.",
        "Prospect deals converted within the period: the conversion date is the earliest decision date of their signed offers.",
    ),
    Metric(
        "won_prospects",
        "Par mois de l'exercice : affaires transformées ce mois-ci, et honoraires des offres signées ce mois-ci (récurrent, exceptionnel). Les mois s'additionnent exactement aux prospects transformés et au budget signé.",
        "Per month of the fiscal year: deals converted that month, and fees of the offers signed that month (recurring, one-off). Months add up exactly to converted prospects and signed budget.",
    ),
    Metric(
        "win_rate.by_count",
        "Offres signées / (offres signées + offres refusées) ; vide quand les deux sont nulles.",
        "Signed offers / (signed offers + refused offers); empty when both are zero.",
    ),
    Metric(
        "win_rate.by_value",
        "Total signé / (total signé + total des offres refusées) ; vide quand le dénominateur est nul.",
        "Signed total / (signed total + refused offers' total); empty when the denominator is zero.",
    ),
    Metric(
        "refused_fees",
        "Honoraires des offres refusées de la période : récurrent, exceptionnel et total.",
        "Fees of the offers refused in the period: recurring, one-off and total.",
    ),
    Metric(
        "decided_offers",
        "Offres décidées dans la période : les offres signées et les offres refusées de la période (les annulées n'en sont pas) ; nombre et honoraires (récurrent, exceptionnel, total).",
        "Offers decided within the period: the period's signed offers and refused offers (cancelled ones are not); count and fees (recurring, one-off, total).",
    ),
    Metric(
        "refusal_rate.by_count",
        "Offres refusées / (offres signées + offres refusées) ; vide quand les deux sont nulles. Le complément du taux de transformation en nombre.",
        "Refused offers / (signed offers + refused offers); empty when both are zero. The complement of the win rate by count.",
    ),
    Metric(
        "refusal_rate.by_value",
        "Total refusé / (total signé + total des offres refusées) ; vide quand le dénominateur est nul. Le complément du taux de transformation en valeur.",
        "Refused total / (signed total + refused offers' total); empty when the denominator is zero. The complement of the win rate by value.",
    ),
    Metric(
        "median_days_to_sign",
        "Médiane, sur les offres signées de la période, du nombre de jours entre l'envoi (à défaut la création) et la décision.",
        "Median, over the offers signed in the period, of the days from sending (else creation) to decision.",
    ),
    Metric(
        "ageing",
        "Offres en cours à la date d'arrêté, par ancienneté depuis l'envoi (à défaut la création) : 0–30, 31–90, 91–180, plus de 180 jours ; nombre et honoraires par tranche.",
        "Offers in progress at the as-of date by age since sending (else creation): 0–30, 31–90, 91–180, over 180 days; count and fees per bucket.",
    ),
    Metric(
        "aged_offers",
        "Offres en cours à la date d'arrêté dont l'ancienneté depuis l'envoi (à défaut la création) dépasse un seuil de N jours au choix (aged_offers>90 : plus de 90 jours, soit les tranches 91–180 et plus de 180 jours) ; nombre et honoraires (récurrent, exceptionnel, total).",
        "Offers in progress at the as-of date whose age since sending (else creation) is over a threshold of N days of one's choice (aged_offers>90: over 90 days, i.e. the 91–180 and over-180 buckets); count and fees (recurring, one-off, total).",
    ),
    Metric(
        "previous",
        "Chaque indicateur pour l'exercice N-1 au même point : date d'arrêté reculée d'un an (29 février → 28 février), mêmes filtres.",
        "Every figure for fiscal year N-1 at the same point: as-of date moved back one year (29 February → 28 February), same filters.",
    ),
)

BY_CODE = {m.code: m for m in METRICS}

PREAMBLE = {
    "fr": (
        "Exercice : un exercice porte le nom de l'année civile où il se termine (mois de début réglable). "
        "Période : du premier jour de l'exercice à la date d'arrêté (aujourd'hui pour l'exercice en cours, "
        "le dernier jour pour un exercice passé). Seules comptent les affaires de type prospect que "
        "l'utilisateur a le droit de voir et qui répondent aux filtres."
    ),
    "en": (
        "Fiscal year: labelled by the calendar year in which it ends (start month is a setting). "
        "Period: from the fiscal year's first day to the as-of date (today for the current year, its last "
        "day for a past year). Only prospect deals the viewer may see and that match the filters count."
    ),
}


def definition(code: str, locale: str = "fr") -> str:
    """The definition of a figure in a locale."""
    return BY_CODE[code].definition(locale)


def markdown() -> str:
    """docs/metrics.md, generated."""
    out = [
        "# Metric dictionary / Dictionnaire des indicateurs",
        "",
        "Generated from `prospects/dictionary.py` (the single source): "
        "`python -m prospects.dictionary > docs/metrics.md`.",
        "",
        f"**FR** — {PREAMBLE['fr']}",
        "",
        f"**EN** — {PREAMBLE['en']}",
        "",
        "| code | libellé (fr) | définition (fr) | label (en) | definition (en) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m in METRICS:
        out.append(f"| `{m.code}` | {m.label('fr')} | {m.fr} | {m.label('en')} | {m.en} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(markdown())
