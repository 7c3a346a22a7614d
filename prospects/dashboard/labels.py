"""The words of the dashboard's own controls, French and English (the figures' labels live in :mod:`prospects.i18n`)."""

from __future__ import annotations

from typing import Any

from .. import i18n

#: Labels of the dashboard's own controls.
UI: dict[str, dict[str, str]] = {
    "fr": {
        "filters": "Filtres",
        "region": "Région",
        "agency": "Agence",
        "team": "Équipe",
        "all_agencies": "Toutes les agences",
        "all_teams": "Toutes les équipes",
        "whole_firm": "{name} (tout le cabinet)",
        "search_collaborator": "Rechercher un collaborateur…",
        "clear": "Effacer",
        "no_match": "Aucun collaborateur ne correspond à « {text} ».",
        "one_match": "1 collaborateur correspond à « {text} » : choisissez-le dans la liste.",
        "matches": "{n} collaborateurs correspondent à « {text} » : choisissez dans la liste.",
        "no_perimeter": "Les filtres Organisation et Collaborateurs ne vous sont pas proposés : votre fonction et vos "
                        "groupes ne vous ouvrent aucun périmètre. Vous voyez les affaires dont vous êtes dans l'équipe.",
        "own_empty": "Vous n'êtes dans l'équipe d'aucune affaire de l'exercice : « Mes affaires » est vide.",
        "see_unit": "Voir {name}",
        "back_to_mine": "Revenir à Mes affaires",
        "restored": "Votre dernier choix est rétabli : {scope}.",
        "choice_gone": "Votre dernier choix n'est plus dans votre périmètre : retour à « Mes affaires ».",
        "sort_by": "Trier par",
        "ascending": "Croissant",
        "descending": "Décroissant",
        "default_order": "Ordre par défaut",
        "deal": "affaire",
        "deals": "affaires",
        "document": "document",
        "documents": "documents",
        "offer": "offre",
        "no_rows": "Aucune ligne pour ce chiffre.",
        "first_rows": "{shown} premières lignes sur {n} ; les téléchargements contiennent toutes les lignes.",
        "prepare": "Préparer CSV et Excel ({n} lignes)",
        "hint": "Cliquez sur un chiffre, une barre ou un point du graphique, ou une tranche d'ancienneté pour en voir le détail.",
        "chart_hint": "Une barre ouvre le budget signé du mois, un point ses prospects gagnés ; au clavier, les flèches passent d'un mois à l'autre.",
        "month_fees": "Budget signé du mois",
        "month_won": "Prospects gagnés du mois",
        "rates": "Transformation",
        "period": "Exercice {fy} : du {start} au {as_of}",
        "prev_short": "N-1 à date :",
        "figure_name": "{label} : {value}. N-1 à date : {previous} ({change}). Ouvrir le détail.",
        "bucket_name": "Offres en cours depuis {bucket} : {offers} {offer_word}, {total}. Ouvrir le détail.",
        "fy_current": "{label} ({fy})",
        "fy_previous": "{label} ({fy})",
        "denied_hint": "Votre identifiant n'ouvre aucun droit sur ce tableau de bord. Contactez l'administrateur du référentiel.",
    },
    "en": {
        "filters": "Filters",
        "region": "Region",
        "agency": "Agency",
        "team": "Team",
        "all_agencies": "All agencies",
        "all_teams": "All teams",
        "whole_firm": "{name} (whole firm)",
        "search_collaborator": "Search a collaborator…",
        "clear": "Clear",
        "no_match": "No collaborator matches “{text}”.",
        "one_match": "1 collaborator matches “{text}”: choose them in the list.",
        "matches": "{n} collaborators match “{text}”: choose one in the list.",
        "no_perimeter": "The Organisation and Collaborators filters are not offered to you: your function and your "
                        "groups give you no perimeter. You see the deals whose team you are on.",
        "own_empty": "You are on the team of no deal this fiscal year: “My deals” is empty.",
        "see_unit": "See {name}",
        "back_to_mine": "Back to My deals",
        "restored": "Your last choice is back: {scope}.",
        "choice_gone": "Your last choice is no longer in your perimeter: back to “My deals”.",
        "sort_by": "Sort by",
        "ascending": "Ascending",
        "descending": "Descending",
        "default_order": "Default order",
        "deal": "deal",
        "deals": "deals",
        "document": "document",
        "documents": "documents",
        "offer": "offer",
        "no_rows": "No rows behind this figure.",
        "first_rows": "First {shown} rows of {n}; the downloads hold every row.",
        "prepare": "Prepare CSV and Excel ({n} rows)",
        "hint": "Click a figure, a bar or a point of the chart, or an ageing bucket to see its detail.",
        "chart_hint": "A bar opens the month's signed budget, a point its prospects won; with a keyboard, the arrows move from month to month.",
        "month_fees": "Budget signed that month",
        "month_won": "Prospects won that month",
        "rates": "Conversion",
        "period": "Fiscal year {fy}: {start} to {as_of}",
        "prev_short": "Last year to date:",
        "figure_name": "{label}: {value}. Last year to date: {previous} ({change}). Open the detail.",
        "bucket_name": "Offers in progress for {bucket}: {offers} {offer_word}, {total}. Open the detail.",
        "fy_current": "{label} ({fy})",
        "fy_previous": "{label} ({fy})",
        "denied_hint": "Your login gives no access to this dashboard. Please contact the administrator of the directory.",
    },
}

class Words:
    """The labels of one locale: :meth:`label` for the figures' (:mod:`prospects.i18n`), :meth:`ui` for the controls';
    :meth:`money` for an amount in the firm's ``currency`` (from the settings, passed by the dashboard)."""

    def __init__(self, locale: str, currency: str) -> None:
        self.locale = locale if locale in i18n.LABELS else "fr"
        self.currency = currency

    def money(self, cents: int | None) -> str:
        """An amount (minor units) in the firm's currency (:func:`prospects.i18n.money`)."""
        return i18n.money(cents, self.locale, self.currency)

    def columns(self) -> dict[str, str]:
        """The drill-down's column headers, the amounts' naming the currency (:func:`prospects.i18n.column_labels`)."""
        return i18n.column_labels(self.locale, self.currency)

    def label(self, key: str) -> str:
        """A figure's or a common label (:func:`prospects.i18n.label`)."""
        return i18n.label(key, self.locale)

    def ui(self, key: str, **kw: Any) -> str:
        """A control's label, formatted with ``kw``."""
        text = UI[self.locale][key]
        return text.format(**kw) if kw else text
