"""The words of the dashboard's own controls, French and English (the figures' labels live in :mod:`prospects.i18n`)."""

from __future__ import annotations

from typing import Any

from .. import i18n

#: Labels of the dashboard's own controls.
UI: dict[str, dict[str, str]] = {
    "fr": {
        "region": "Région",
        "agency": "Agence",
        "team": "Équipe",
        "all_agencies": "Toutes les agences",
        "all_teams": "Toutes les équipes",
        "whole_firm": "{name} (tout le cabinet)",
        "search_collaborator": "Rechercher un collaborateur…",
        "clear": "Effacer",
        "sort_by": "Trier par",
        "ascending": "Croissant",
        "descending": "Décroissant",
        "default_order": "Ordre par défaut",
        "deal": "affaire",
        "deals": "affaires",
        "document": "document",
        "documents": "documents",
        "no_rows": "Aucune ligne pour ce chiffre.",
        "first_rows": "{shown} premières lignes sur {n} ; les téléchargements contiennent toutes les lignes.",
        "prepare": "Préparer CSV et Excel ({n} lignes)",
        "hint": "Cliquez sur un chiffre, un mois ou une tranche d'ancienneté pour en voir le détail.",
        "months": "Détail par mois",
        "month_fees": "Budget signé du mois",
        "month_won": "Prospects gagnés du mois",
        "rates": "Transformation",
        "period": "Exercice {fy} : du {start} au {as_of}",
        "prev_short": "N-1 à date :",
        "month_tip": "{month} : {won} prospect(s) gagné(s), budget signé {total} (récurrent {recurring}, exceptionnel {one_off})",
        "bucket_tip": "Offres en cours depuis {bucket} : cliquez pour le détail",
        "fy_current": "{label} ({fy})",
        "fy_previous": "{label} ({fy})",
        "detail": "Détail",
        "denied_hint": "Votre identifiant n'ouvre aucun droit sur ce tableau de bord. Contactez l'administrateur du référentiel.",
    },
    "en": {
        "region": "Region",
        "agency": "Agency",
        "team": "Team",
        "all_agencies": "All agencies",
        "all_teams": "All teams",
        "whole_firm": "{name} (whole firm)",
        "search_collaborator": "Search a collaborator…",
        "clear": "Clear",
        "sort_by": "Sort by",
        "ascending": "Ascending",
        "descending": "Descending",
        "default_order": "Default order",
        "deal": "deal",
        "deals": "deals",
        "document": "document",
        "documents": "documents",
        "no_rows": "No rows behind this figure.",
        "first_rows": "First {shown} rows of {n}; the downloads hold every row.",
        "prepare": "Prepare CSV and Excel ({n} rows)",
        "hint": "Click a figure, a month or an ageing bucket to see its detail.",
        "months": "Detail by month",
        "month_fees": "Budget signed that month",
        "month_won": "Prospects won that month",
        "rates": "Conversion",
        "period": "Fiscal year {fy}: {start} to {as_of}",
        "prev_short": "Last year to date:",
        "month_tip": "{month}: {won} prospect(s) won, signed budget {total} (recurring {recurring}, one-off {one_off})",
        "bucket_tip": "Offers in progress for {bucket}: click for the detail",
        "fy_current": "{label} ({fy})",
        "fy_previous": "{label} ({fy})",
        "detail": "Detail",
        "denied_hint": "Your login gives no access to this dashboard. Please contact the administrator of the directory.",
    },
}


class Words:
    """The labels of one locale: :meth:`label` for the figures' (:mod:`prospects.i18n`), :meth:`ui` for the controls'."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in i18n.LABELS else "fr"

    def label(self, key: str) -> str:
        """A figure's or a common label (:func:`prospects.i18n.label`)."""
        return i18n.label(key, self.locale)

    def ui(self, key: str, **kw: Any) -> str:
        """A control's label, formatted with ``kw``."""
        text = UI[self.locale][key]
        return text.format(**kw) if kw else text
