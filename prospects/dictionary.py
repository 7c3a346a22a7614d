"""The metric dictionary: one definition per figure, in French and English.

This is the single source of the definitions shown next to each figure (dashboard
tooltips, report page, CLI) and of ``docs/metrics.md`` (regenerate it with
``python -m prospects.dictionary > docs/metrics.md``; a test checks it is in sync),
which also says what each drill-down shows (:data:`DRILLDOWNS`, :data:`DEAL_CELL_RULES`,
with the columns' labels and the footers' words taken from the code that shows them).
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


#: What a drill-down shows, in both languages (docs/metrics.md, "Drill-downs").
DRILLDOWNS = {
    "fr": (
        "Chaque cellule du tableau, chaque mois du graphique et chaque tranche d'ancienneté ouvre son "
        "détail, en deux vues : *Par affaire* et *Par document*. Pour une cellule d'offres (offres en "
        "cours, honoraires potentiels, offres signées, budget signé, offres refusées, une tranche "
        "d'ancienneté, les offres signées d'un mois), la vue par document est exactement les offres de la "
        "cellule et s'additionne à son nombre et à ses montants ; la vue par affaire les regroupe par "
        "affaire. Pour une cellule d'affaires (prospects sans document, abandonnés, transformés, gagnés "
        "d'un mois), la vue par affaire est exactement les affaires de la cellule, et leurs documents "
        "(leur nombre, leurs montants, la vue par document) sont ceux qui font compter l'affaire dans la "
        "cellule, ci-dessous : les autres offres d'une affaire (refusées, antérieures, postérieures) n'y "
        "ajoutent jamais rien. Le signataire et l'entité d'une affaire sont ceux de son document le plus "
        "récent dans la cellule (à défaut, de son document le plus récent à la date d'arrêté). Le pied du "
        "détail dit ce que sont ses montants ; les exports CSV et Excel ont les mêmes lignes, dans l'ordre "
        "affiché."
    ),
    "en": (
        "Every cell of the table, every month of the chart and every age bucket opens its detail, in two "
        "views: *Par affaire* (by deal) and *Par document* (by document). For a document cell (offers in "
        "progress, potential fees, signed offers, signed budget, refused offers, an age bucket, a month's "
        "signed offers), the by-document view is exactly the cell's offers and adds up to its count and "
        "amounts; the by-deal view groups them by deal. For a deal cell (prospects without document, "
        "abandoned, converted, a month's prospects won), the by-deal view is exactly the cell's deals, "
        "and their documents (their count, their amounts, the by-document view) are those that make the "
        "deal count in the cell, below: a deal's other offers (refused, earlier, later) never add. A "
        "deal's signatory and entity are those of its most recent document in the cell (else of its most "
        "recent document at the as-of date). The footer says what its amounts are; the CSV and Excel "
        "exports hold the same rows, in the order shown."
    ),
}

#: For each deal cell, which of its deals' documents the drill-down shows (fr, en).
DEAL_CELL_RULES = (
    ("converted_prospects",
     "les offres signées de l'affaire décidées au plus tard à la date d'arrêté (les honoraires avec lesquels le prospect a été gagné)",
     "the deal's signed offers decided on or before the as-of date (the fees the prospect was won with)"),
    ("won_prospects",
     "pour un mois : les mêmes que les prospects transformés, pour les affaires transformées ce mois-ci",
     "for one month: the same as converted prospects, for the deals converted that month"),
    ("abandoned_prospects",
     "les offres de l'affaire encore non décidées à son abandon (créées au plus tard à la date d'abandon, décidées ce jour-là, après ou jamais) : les honoraires en jeu quand elle a été abandonnée",
     "the deal's offers still undecided when it was abandoned (created on or before the abandonment date, decided that day, later or never): the fees at stake when it was dropped"),
    ("prospects_without_document",
     "aucune (0 document, 0 €) ; la vue par affaire ajoute la date de création de l'affaire, et le statut et la date de sa dernière offre décidée à la date d'arrêté",
     "none (0 documents, 0 €); the by-deal view adds the deal's creation date, and the status and date of its latest offer decided by the as-of date"),
)


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
    out += _drilldowns_markdown()
    return "\n".join(out) + "\n"


def _drilldowns_markdown() -> list[str]:
    """The drill-downs' section of docs/metrics.md: what they show, their columns, the deal cells' rule."""
    from .drilldown import DEAL_COLUMNS, DOCUMENT_COLUMNS, HISTORY_COLUMNS, footer_words
    from .i18n import DEFAULT_CURRENCY, column_labels

    out = [
        "",
        "## Drill-downs / Détail d'un chiffre",
        "",
        f"**FR** — {DRILLDOWNS['fr']}",
        "",
        f"**EN** — {DRILLDOWNS['en']}",
        "",
        "### Deal cells / Cellules d'affaires",
        "",
        "| code | documents montrés (fr) | pied (fr) | documents shown (en) | footer (en) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for code, fr, en in DEAL_CELL_RULES:
        month = "2026-03" if code == "won_prospects" else None
        out.append(f"| `{code}` | {fr} | {footer_words(code, month=month, locale='fr')} | {en} | "
                   f"{footer_words(code, month=month, locale='en')} |")
    out += [
        "",
        "### Columns / Colonnes",
        "",
        "| column | Par affaire | Par document | libellé (fr) | label (en) |",
        "| --- | --- | --- | --- | --- |",
    ]
    every = list(dict.fromkeys((*DEAL_COLUMNS, *HISTORY_COLUMNS, *DOCUMENT_COLUMNS, "lines")))
    fr, en = column_labels("fr", DEFAULT_CURRENCY), column_labels("en", DEFAULT_CURRENCY)  # (€): the default currency
    for c in every:
        in_deal = "✓" if c in DEAL_COLUMNS else ("prospects_without_document" if c in HISTORY_COLUMNS else "")
        in_doc = "✓" if c in DOCUMENT_COLUMNS or c == "lines" else ""
        out.append(f"| `{c}` | {in_deal} | {in_doc} | {fr[c]} | {en[c]} |")
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(markdown())
