"""Formatting and labels: French by default (the labels of the product's glossary), English by setting.

Amounts are given in integer minor units (the ``_cents`` columns) and shown in the firm's
currency (setting ``currency``, an ISO 4217 code), every caller passing it: :func:`money`
reads the symbol, the pattern, the separators and the number of decimals from Babel's
CLDR data, e.g. ``12 345 €``, ``12 345 $US``, ``12 345 CHF`` in French (narrow no-break
space U+202F as thousands separator and before the symbol) and ``€12,345``, ``$12,345``,
``CHF 12,345`` in English. Dates ``29/11/2026`` (fr) or ``2026-11-29`` (en); months
``janv. 2026`` (fr) or ``Jan 2026`` (en).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import pandas as pd

NNBSP = "\u202f"  # narrow no-break space
FR_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "menu": "Suivi Business › Prospects",
        "chart": "Nombre de prospects transformés par date",
        "table": "Indicateurs prospects sur l'exercice",
        "prospects_without_document": "Prospect sans document",
        "offers_in_progress": "Offres en cours",
        "potential_fees": "Honoraires potentiels",
        "signed_offers": "Offres signées",
        "signed_budget": "Budget signé",
        "refused_offers": "Offres refusées",
        "abandoned_prospects": "Prospect abandonné",
        "converted_prospects": "Prospects transformés",
        "won_prospects": "Prospects gagnés",
        "win_rate": "Taux de transformation",
        "win_rate.by_count": "Taux de transformation (en nombre)",
        "win_rate.by_value": "Taux de transformation (en valeur)",
        "median_days_to_sign": "Délai médian de signature",
        "ageing": "Ancienneté des offres en cours",
        "previous": "N-1 à date",
        "recurring": "récurrent",
        "one_off": "exceptionnel",
        "total": "total",
        "fiscal_year": "Exercice",
        "organisation": "Organisation",
        "collaborators": "Collaborateurs",
        "mine": "Mes affaires",
        "by_deal": "Par affaire",
        "by_document": "Par document",
        "as_of": "au",
        "period": "Période",
        "viewer": "Utilisateur",
        "scope": "Périmètre",
        "days": "jours",
        "offers": "offres",
        "month": "Mois",
        "access_denied": "Accès refusé",
        "error": "Une erreur est survenue ; merci de réessayer.",
        "download_csv": "Télécharger CSV",
        "download_xlsx": "Télécharger Excel",
        "busy": "Calcul en cours…",
        "current_year": "Exercice en cours",
        "previous_year": "Exercice N-1",
        "none": "—",
        "close": "Fermer",
        "rows": "lignes",
        "deal": "affaire",
        "deals": "affaires",
        "document": "document",
        "documents": "documents",
        "bucket": "Ancienneté (jours)",
        "decided_offers": "Offres décidées",
        "refused_fees": "Honoraires refusés",
        "refusal_rate.by_count": "Taux de refus (en nombre)",
        "refusal_rate.by_value": "Taux de refus (en valeur)",
        "aged_offers": "Offres en cours anciennes (plus de N jours)",
        # the Python API's sentences (prospects.api): str.format placeholders
        "api.no_login": "Accès refusé : aucun identifiant",
        "api.unknown_login": "Accès refusé : identifiant inconnu « {login} »",
        "api.inactive_login": "Accès refusé : le collaborateur « {login} » est inactif",
        "api.no_filters": "Accès refusé : les filtres Organisation et Collaborateurs sont réservés aux personnes habilitées à valider des offres",
        "api.no_perimeter": "Accès refusé : « {unit} » demande un périmètre, et le vôtre est vide ; seules vos affaires sont disponibles (unit=None)",
        "api.unit_outside": "Accès refusé : l'unité « {unit} » est hors de votre périmètre",
        "api.collaborator_outside": "Accès refusé : le collaborateur « {login} » est hors de votre périmètre",
        "api.documents_outside": "Accès refusé : {count} document(s) hors de votre périmètre",
        "api.did_you_mean": " ; vouliez-vous dire {options} ?",
        "api.within": "cette vue ne lit que les affaires sous « {unit} » : filtrez sur une unité de ce sous-arbre",
        "api.type": "{name} attend {expected} ; reçu {got}",
        "api.expect.int": "un entier, par exemple {name}=2025",
        "api.expect.ints": "une liste d'entiers, par exemple {name}=[2024, 2025, 2026]",
        "api.expect.date": "une date (datetime.date ou texte AAAA-MM-JJ), par exemple {name}=\"2026-06-30\"",
        "api.expect.text": "un texte, par exemple {name}={example}",
        "api.expect.texts": "un texte ou une liste de textes, par exemple {name}={example}",
        "api.expect.bool": "True ou False",
        "api.expect.period": "une période de view.period(…)",
        "api.expect.frame": "un DataFrame de view.drilldown(…, by=\"document\")",
        "api.expect.threshold": "un nombre de jours entier positif ou nul, par exemple « aged_offers>90 »",
        "api.unknown_metric": "indicateur inconnu « {metric} »",
        "api.metric_list": " ; indicateurs : {options}",
        "api.needs_threshold": "« {metric} » demande un seuil en jours, par exemple « {example} »",
        "api.unknown_component": "« {metric} » : composante inconnue ; composantes : {components}",
        "api.unknown_dimension": "dimension inconnue « {by} » ; dimensions : {options}",
        "api.repeated_dimension": "une dimension est répétée dans by : {by}",
        "api.deal_metric_by_document": "« {metric} » compte des affaires : il ne se découpe pas par {by}, une dimension des documents",
        "api.unknown_freq": "freq « {freq} » inconnue : None (l'exercice entier), \"M\" (mois) ou \"Q\" (trimestres de l'exercice)",
        "api.unknown_compare": "compare « {compare} » inconnu : None ou \"N-1\"",
        "api.no_previous": "ces chiffres ont été calculés sans N-1 : pas de comparaison possible",
        "api.years_and_compare": "donnez fiscal_years, ou bien fiscal_year et compare, pas les deux",
        "api.years_and_as_of": "as_of vaut pour un seul exercice : ne le donnez pas avec fiscal_years",
        "api.unknown_indicator": "indicateur de détail inconnu « {indicator} » ; indicateurs : {options}",
        "api.unknown_view": "vue « {by} » inconnue : \"deal\" (Par affaire) ou \"document\" (Par document)",
        "api.unknown_bucket": "tranche d'ancienneté « {bucket} » inconnue ; tranches : {options}",
        "api.unknown_month": "le mois {month} n'est pas dans l'exercice {fiscal_year} jusqu'au {as_of} ({first} … {last})",
        "api.month_cells": "« {indicator} » n'a pas de barres par mois ; indicateurs par mois : {options}",
        "api.empty_mine": "Mes affaires est vide pour {login} (aucune affaire dont vous êtes associé, manager ou responsable client) : pour votre périmètre, passez unit=\"perimeter\"{firm}",
        "api.empty_mine_firm": " (ou unit=\"firm\" pour tout le cabinet)",
        "api.demo_today": "cette base est une démonstration construite pour le {day} : les chiffres sont à cette date (passez today=… pour en choisir une autre)",
        "api.scope_mine": "Mes affaires (celles dont vous êtes associé, manager ou responsable client)",
        "api.scope_excluded": "les affaires confidentielles des groupes dont vous n'êtes pas membre sont exclues",
        "api.scope_collaborator": "affaires où {name} ({login}) est dans l'équipe",
        "change_up": "en hausse",
        "change_down": "en baisse",
        "change_flat": "stable",
        "change_ns": "non significatif : N-1 nul",
        "change_ns_short": "n.s.",
        "points": "pts",
        "open_detail": "ouvrir le détail",
    },
    "en": {
        "menu": "Business follow-up › Prospects",
        "chart": "Prospects won by date",
        "table": "Prospect indicators for the fiscal year",
        "prospects_without_document": "Prospects without document",
        "offers_in_progress": "Offers in progress",
        "potential_fees": "Potential fees",
        "signed_offers": "Signed offers",
        "signed_budget": "Signed budget",
        "refused_offers": "Refused offers",
        "abandoned_prospects": "Abandoned prospects",
        "converted_prospects": "Converted prospects",
        "won_prospects": "Prospects won",
        "win_rate": "Win rate",
        "win_rate.by_count": "Win rate (by count)",
        "win_rate.by_value": "Win rate (by value)",
        "median_days_to_sign": "Median days to sign",
        "ageing": "Ageing of offers in progress",
        "previous": "Last year to date",
        "recurring": "recurring",
        "one_off": "one-off",
        "total": "total",
        "fiscal_year": "Fiscal year",
        "organisation": "Organisation",
        "collaborators": "Collaborators",
        "mine": "My deals",
        "by_deal": "By deal",
        "by_document": "By document",
        "as_of": "as of",
        "period": "Period",
        "viewer": "Viewer",
        "scope": "Scope",
        "days": "days",
        "offers": "offers",
        "month": "Month",
        "access_denied": "Access denied",
        "error": "Something went wrong; please try again.",
        "download_csv": "Download CSV",
        "download_xlsx": "Download Excel",
        "busy": "Computing…",
        "current_year": "Current fiscal year",
        "previous_year": "Previous fiscal year",
        "none": "—",
        "close": "Close",
        "rows": "rows",
        "deal": "deal",
        "deals": "deals",
        "document": "document",
        "documents": "documents",
        "bucket": "Age (days)",
        "decided_offers": "Decided offers",
        "refused_fees": "Refused fees",
        "refusal_rate.by_count": "Refusal rate (by count)",
        "refusal_rate.by_value": "Refusal rate (by value)",
        "aged_offers": "Aged offers in progress (over N days)",
        # the Python API's sentences (prospects.api): str.format placeholders
        "api.no_login": "Access denied: no login",
        "api.unknown_login": "Access denied: unknown login '{login}'",
        "api.inactive_login": "Access denied: collaborator '{login}' is inactive",
        "api.no_filters": "Access denied: the Organisation and Collaborators filters are for people who may validate offers",
        "api.no_perimeter": "Access denied: '{unit}' needs a perimeter and yours is empty; only your own deals are available (unit=None)",
        "api.unit_outside": "Access denied: unit '{unit}' is outside your perimeter",
        "api.collaborator_outside": "Access denied: collaborator '{login}' is outside your perimeter",
        "api.documents_outside": "Access denied: {count} document(s) outside your perimeter",
        "api.did_you_mean": "; did you mean {options}?",
        "api.within": "this view reads only the deals under '{unit}': filter on a unit of that subtree",
        "api.type": "{name} expects {expected}; got {got}",
        "api.expect.int": "an integer, e.g. {name}=2025",
        "api.expect.ints": "a list of integers, e.g. {name}=[2024, 2025, 2026]",
        "api.expect.date": "a date (datetime.date or YYYY-MM-DD text), e.g. {name}=\"2026-06-30\"",
        "api.expect.text": "a text, e.g. {name}={example}",
        "api.expect.texts": "a text or a list of texts, e.g. {name}={example}",
        "api.expect.bool": "True or False",
        "api.expect.period": "a period from view.period(…)",
        "api.expect.frame": "a DataFrame from view.drilldown(…, by=\"document\")",
        "api.expect.threshold": "a whole number of days, zero or more, e.g. 'aged_offers>90'",
        "api.unknown_metric": "unknown metric '{metric}'",
        "api.metric_list": "; metrics: {options}",
        "api.needs_threshold": "'{metric}' needs a threshold in days, e.g. '{example}'",
        "api.unknown_component": "'{metric}': unknown component; components: {components}",
        "api.unknown_dimension": "unknown dimension '{by}'; dimensions: {options}",
        "api.repeated_dimension": "a dimension is repeated in by: {by}",
        "api.deal_metric_by_document": "'{metric}' counts deals: it cannot be cut by {by}, a dimension of documents",
        "api.unknown_freq": "unknown freq '{freq}': None (the whole fiscal year), \"M\" (months) or \"Q\" (fiscal quarters)",
        "api.unknown_compare": "unknown compare '{compare}': None or \"N-1\"",
        "api.no_previous": "these figures were computed without N-1: nothing to compare with",
        "api.years_and_compare": "give fiscal_years, or fiscal_year and compare, not both",
        "api.years_and_as_of": "as_of is for one fiscal year: do not give it with fiscal_years",
        "api.unknown_indicator": "unknown drill-down indicator '{indicator}'; indicators: {options}",
        "api.unknown_view": "unknown view '{by}': \"deal\" (By deal) or \"document\" (By document)",
        "api.unknown_bucket": "unknown ageing bucket '{bucket}'; buckets: {options}",
        "api.unknown_month": "month {month} is not in fiscal year {fiscal_year} up to {as_of} ({first} … {last})",
        "api.month_cells": "'{indicator}' has no monthly bars; monthly indicators: {options}",
        "api.empty_mine": "My deals is empty for {login} (no deal where you are partner, manager or client manager): for your perimeter, pass unit=\"perimeter\"{firm}",
        "api.empty_mine_firm": " (or unit=\"firm\" for the whole firm)",
        "api.demo_today": "this database is a demo built for {day}: figures are as of that date (pass today=… to choose another)",
        "api.scope_mine": "My deals (those where you are partner, manager or client manager)",
        "api.scope_excluded": "confidential groups you are not in are excluded",
        "api.scope_collaborator": "deals where {name} ({login}) is on the team",
        "change_up": "up",
        "change_down": "down",
        "change_flat": "unchanged",
        "change_ns": "not significant: last year was zero",
        "change_ns_short": "n.s.",
        "points": "pts",
        "open_detail": "open the detail",
    },
}

#: Drill-down column headers.
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "deal_id": "Id affaire", "deal": "Affaire", "prospect": "Prospect", "region": "Région",
        "agency": "Agence", "team": "Équipe", "partner": "Associé", "manager": "Manager",
        "client_manager": "Responsable client", "signatory": "Signataire", "signatory_entity": "Entité",
        "documents": "Documents", "recurring": "Récurrent ({symbol})", "one_off": "Exceptionnel ({symbol})",
        "total": "Total ({symbol})", "document_id": "Id document", "doc_type": "Type de document",
        "template": "Modèle", "title": "Titre", "status": "Statut", "created_on": "Créé le",
        "sent_on": "Envoyé le", "decided_on": "Décidé le", "lines": "Lignes",
        "deal_created_on": "Affaire créée le", "last_decision": "Dernière décision",
        "last_decision_on": "Date de la dernière décision",
    },
    "en": {
        "deal_id": "Deal id", "deal": "Deal", "prospect": "Prospect", "region": "Region",
        "agency": "Agency", "team": "Team", "partner": "Partner", "manager": "Manager",
        "client_manager": "Client manager", "signatory": "Signatory", "signatory_entity": "Entity",
        "documents": "Documents", "recurring": "Recurring ({symbol})", "one_off": "One-off ({symbol})",
        "total": "Total ({symbol})", "document_id": "Document id", "doc_type": "Document type",
        "template": "Template", "title": "Title", "status": "Status", "created_on": "Created on",
        "sent_on": "Sent on", "decided_on": "Decided on", "lines": "Lines",
        "deal_created_on": "Deal created on", "last_decision": "Latest decision",
        "last_decision_on": "Latest decision on",
    },
}

#: What a drill-down's amounts are (its footer) and what an empty view says: see
#: :func:`prospects.drilldown.footer_words` and :func:`prospects.drilldown.empty_words`.
DRILL_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "signed_by_deals": "honoraires signés de ces affaires (leurs offres signées jusqu'à la date d'arrêté)",
        "at_stake": "honoraires en jeu à l'abandon (offres non décidées à la date d'abandon)",
        "no_offer": "aucun honoraire (ces affaires n'ont aucune offre en cours)",
        "in_progress": "honoraires des offres en cours à la date d'arrêté",
        "in_progress_bucket": "honoraires des offres en cours, ancienneté {bucket} jours",
        "signed": "honoraires des offres signées sur la période",
        "signed_month": "honoraires des offres signées en {month}",
        "refused": "honoraires des offres refusées sur la période",
        "amounts": "Montants",
        "figure": "Chiffre",
        "view": "Vue",
        "empty": "Aucune ligne pour ce chiffre.",
        "empty_no_offer": "Aucun document : ces affaires n'ont aucune offre en cours à la date d'arrêté.",
    },
    "en": {
        "signed_by_deals": "fees signed on these deals (their offers signed up to the as-of date)",
        "at_stake": "fees at stake when abandoned (offers undecided on the abandonment date)",
        "no_offer": "no fees (these deals have no offer in progress)",
        "in_progress": "fees of the offers in progress at the as-of date",
        "in_progress_bucket": "fees of the offers in progress, aged {bucket} days",
        "signed": "fees of the offers signed in the period",
        "signed_month": "fees of the offers signed in {month}",
        "refused": "fees of the offers refused in the period",
        "amounts": "Amounts",
        "figure": "Figure",
        "view": "View",
        "empty": "No row for this figure.",
        "empty_no_offer": "No document: these deals have no offer in progress at the as-of date.",
    },
}

STATUS_LABELS = {
    "fr": {"in_progress": "En cours", "signed": "Signée", "refused": "Refusée", "cancelled": "Annulée",
           "recurring": "Récurrent", "one_off": "Exceptionnel"},
    "en": {"in_progress": "In progress", "signed": "Signed", "refused": "Refused", "cancelled": "Cancelled",
           "recurring": "Recurring", "one_off": "One-off"},
}

FUNCTION_LABELS = {
    "fr": {"partner": "Associé", "director": "Directeur", "manager": "Manager", "staff": "Collaborateur"},
    "en": {"partner": "Partner", "director": "Director", "manager": "Manager", "staff": "Staff"},
}


def label(key: str, locale: str = "fr") -> str:
    """The UI label of a key in a locale."""
    return LABELS[locale][key]


def sentence(key: str, locale: str = "fr", **values: object) -> str:
    """A sentence of :data:`LABELS` in a locale, its ``{placeholders}`` filled with ``values``.

    Values typed by someone must already be :func:`shown` (escaped, cut).
    """
    return LABELS[locale][key].format(**values)
def colon(locale: str = "fr") -> str:
    """`` : `` in French typography (a no-break space before), ``: `` in English."""
    return "\u00a0: " if locale == "fr" else ": "


def shown(value: object, limit: int = 60) -> str:
    """A value typed by someone, fit for a one-line message: control characters (line
    breaks included) escaped, at most ``limit`` characters (then ``…``)."""
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Characters never written raw to a terminal: C0 and C1 controls, DEL, bidirectional overrides.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escaped(text: str, keep: str = "") -> str:
    """``text`` with every control character written as its escape (a NUL as ``\\x00``, ESC
    as ``\\x1b``), except those in ``keep``; letters, accents and spaces (U+202F included) stay."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else m.group().encode("unicode_escape").decode("ascii"), text)


def message_line(message: object) -> str:
    """A message on one line: its line breaks folded into spaces, other control characters escaped."""
    return escaped(" ".join(part.strip() for part in str(message).splitlines() if part.strip()))


#: The currency of a firm that says none (setting ``currency``).
DEFAULT_CURRENCY = "EUR"
_CLDR_LOCALES = {"fr": "fr_FR", "en": "en_US"}


class CurrencyError(ValueError):
    """A currency code that is not an ISO 4217 code CLDR knows."""


def check_currency(code: object) -> str:
    """An ISO 4217 code (``EUR``, ``USD``, ``CHF``, ``JPY``…), upper case; else :class:`CurrencyError`."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if not _known_currency(text):
        raise CurrencyError(f"{shown(code)!r} is not an ISO 4217 currency code (e.g. EUR, USD, GBP, CHF, JPY)")
    return text


@cache
def _known_currency(text: str) -> bool:
    from babel.numbers import get_currency_name

    return len(text) == 3 and text.isascii() and text.isalpha() and get_currency_name(text, locale="en_US") != text


@cache
def minor_digits(currency: str) -> int:
    """How many decimals the currency's minor unit has (CLDR): 2 for EUR, USD, CHF; 0 for JPY.

    The ``_cents`` columns hold minor units: hundredths of a euro, dollar or franc, whole yen.
    """
    from babel.numbers import get_currency_precision

    return int(get_currency_precision(check_currency(currency)))


def major(cents: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal amount of the currency (``1234550`` → ``12345.50`` euros, ``12345`` yen)."""
    return Decimal(int(cents)).scaleb(-minor_digits(currency))


def major_json(cents: int, currency: str) -> float:
    """Minor units as a JSON number of the currency, at most its decimals (exact decimal, then float)."""
    return float(major(cents, currency))


@dataclass(frozen=True)
class MoneyShape:
    """How a locale writes amounts of a currency (from CLDR): what goes before and after the
    digits (positive, negative), the separators and the number of decimals."""

    prefix: tuple[str, str]
    suffix: tuple[str, str]
    group: str
    decimal: str
    digits: int
    symbol: str


def _spaced(side: str, symbol: str, space: str, before: bool) -> str:
    """CLDR's currency spacing: a symbol ending (or starting) with a letter next to the digits gets a space."""
    if "¤" not in side:
        return side
    at, rest = side.split("¤", 1)
    edge = symbol[-1] if before else symbol[0]
    touching = (rest == "") if before else (at == "" or at in "-")
    if touching and unicodedata.category(edge)[0] not in "SZ":
        symbol = symbol + space if before else space + symbol
    return at + symbol + rest


@cache
def money_shape(locale: str, currency: str) -> MoneyShape:
    """The CLDR pattern of ``currency`` amounts in ``locale`` (see :class:`MoneyShape`).

    French keeps the spec's narrow no-break space (U+202F) wherever CLDR puts a space in
    an amount: between thousands and before the symbol.
    """
    from babel import Locale
    from babel.numbers import get_currency_symbol

    code = check_currency(currency)
    cldr = Locale.parse(_CLDR_LOCALES[locale])
    pattern = cldr.currency_formats["standard"]
    symbol = get_currency_symbol(code, locale=cldr)
    space = NNBSP if locale == "fr" else "\u00a0"
    fix = (lambda t: t.replace("\u00a0", NNBSP).replace(" ", NNBSP)) if locale == "fr" else (lambda t: t)
    prefix = tuple(fix(_spaced(p, symbol, space, True)) for p in pattern.prefix)
    suffix = tuple(fix(_spaced(p, symbol, space, False)) for p in pattern.suffix)
    group = fix(cldr.number_symbols["latn"]["group"])
    return MoneyShape(prefix, suffix, group, cldr.number_symbols["latn"]["decimal"], minor_digits(code), symbol)  # type: ignore[arg-type]


def currency_symbol(locale: str, currency: str) -> str:
    """The symbol of ``currency`` in ``locale`` (CLDR): ``€``, ``$US`` (fr) / ``$`` (en), ``CHF``, ``¥``…"""
    return money_shape(locale, currency).symbol


def _group(digits: str, sep: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return sep.join(out)


def money(cents: int | None, locale: str, currency: str, *, decimals: bool = False) -> str:
    """Minor units of ``currency`` as shown in ``locale``: ``12 345 €`` (fr) / ``€12,345`` (en),
    ``12 345 $US`` / ``$12,345``, ``¥12,345``; whole units (half up) unless ``decimals``
    (then the currency's CLDR decimals: ``12 345,50 €``; yen have none)."""
    if cents is None or pd.isna(cents):
        return LABELS[locale]["none"]
    shape = money_shape(locale, currency)
    cents = int(cents)
    negative = cents < 0
    cents = abs(cents)
    unit = 10 ** shape.digits
    if decimals and shape.digits:
        whole, frac = divmod(cents, unit)
        tail = f"{shape.decimal}{frac:0{shape.digits}d}"
    else:
        whole = (cents + unit // 2) // unit  # round half up, in integers
        tail = ""
        negative = negative and whole > 0
    return f"{shape.prefix[negative]}{_group(str(whole), shape.group)}{tail}{shape.suffix[negative]}"


def excel_money_format(locale: str, currency: str) -> str:
    """The Excel number format of an amount of ``currency``: its CLDR symbol where ``locale``
    puts it and its decimals (Excel shows its own separators): ``#,##0.00" €"``, ``"$"#,##0.00``, ``"¥"#,##0``."""
    shape = money_shape(locale, currency)
    body = "#,##0" + ("." + "0" * shape.digits if shape.digits else "")
    before, after = shape.prefix[0], shape.suffix[0]
    return (f'"{before}"' if before else "") + body + (f'"{after}"' if after else "")


def currency_marks(currency: str) -> tuple[str, ...]:
    """What marks an amount of ``currency`` in a CRM's export: its CLDR symbols (French, English) and its code
    (``("€", "EUR")``, ``("$US", "$", "USD")``, ``("JPY", "¥")``)."""
    code = check_currency(currency)
    return tuple(dict.fromkeys((currency_symbol("fr", code), currency_symbol("en", code), code)))


def column_labels(locale: str, currency: str) -> dict[str, str]:
    """The drill-down's column headers in ``locale``, the amounts' with the currency's symbol (``Total (€)``)."""
    symbol = currency_symbol(locale, currency)
    return {k: v.replace("{symbol}", symbol) for k, v in COLUMN_LABELS[locale].items()}


def number(value: int | None, locale: str = "fr") -> str:
    """A count with thousands separators."""
    if value is None:
        return LABELS[locale]["none"]
    return _group(str(int(value)), NNBSP if locale == "fr" else ",")


def counted(value: int, noun: str, locale: str = "fr") -> str:
    """``3 affaires``, ``1 document``, ``0 document`` (French: singular below 2) / ``0 documents`` (English)."""
    singular = value < 2 if locale == "fr" else value == 1
    return f"{number(value, locale)} {LABELS[locale][noun if singular else noun + 's']}"


def percent(ratio: float | None, locale: str = "fr") -> str:
    """``81 %`` (fr) / ``81%`` (en)."""
    if ratio is None:
        return LABELS[locale]["none"]
    pct = round(ratio * 100)
    return f"{pct}{NNBSP}%" if locale == "fr" else f"{pct}%"


def date(day: dt.date | pd.Timestamp | None, locale: str = "fr") -> str:
    """``29/11/2026`` (fr) / ``2026-11-29`` (en); empty for a null date."""
    if day is None or pd.isna(day):
        return ""
    if locale == "fr":
        return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def month(ym: str, locale: str = "fr") -> str:
    """``2026-01`` → ``janv. 2026`` (fr) / ``Jan 2026`` (en)."""
    year, mon = int(ym[:4]), int(ym[5:7])
    names = FR_MONTHS if locale == "fr" else EN_MONTHS
    return f"{names[mon - 1]} {year}"


def days(value: float | None, locale: str = "fr") -> str:
    """A number of days, e.g. ``41 jours``."""
    if value is None:
        return LABELS[locale]["none"]
    shown = f"{value:.1f}".rstrip("0").rstrip(".")
    if locale == "fr":
        shown = shown.replace(".", ",")
    return f"{shown} {LABELS[locale]['days']}"


#: How fresh the data is (:mod:`prospects.freshness`): the extract's date and, past the
#: ``stale_after_days`` setting, a plain warning.
FRESHNESS_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "data_of": "données du {when}",
        "at": "{date} à {time}",
        "unknown": "date des données inconnue",
        "stale": "Données anciennes : extraites il y a {days} jours (au-delà de {limit} jours, elles sont signalées)",
        "extract": "Données",
    },
    "en": {
        "data_of": "data of {when}",
        "at": "{date} at {time}",
        "unknown": "date of the data unknown",
        "stale": "Old data: extracted {days} days ago (data older than {limit} days is flagged)",
        "extract": "Data",
    },
}


def moment(when: dt.datetime | dt.date | None, locale: str = "fr") -> str:
    """A date, with its time when it has one: ``03/12/2026 à 02:10`` / ``2026-12-03 at 02:10``; ``—`` when unknown."""
    if when is None:
        return LABELS[locale]["none"]
    if isinstance(when, dt.datetime):
        return FRESHNESS_WORDS[locale]["at"].format(date=date(when.date(), locale), time=f"{when:%H:%M}")
    return date(when, locale)


def data_date(when: dt.datetime | dt.date | None, locale: str = "fr") -> str:
    """When the data was extracted: ``données du 03/12/2026 à 02:10`` (a time when known) /
    ``data of 2026-12-03 at 02:10``."""
    if when is None:
        return FRESHNESS_WORDS[locale]["unknown"]
    return FRESHNESS_WORDS[locale]["data_of"].format(when=moment(when, locale))


def stale_warning(age_days: int, limit: int, locale: str = "fr") -> str:
    """The plain sentence saying the data is old."""
    return FRESHNESS_WORDS[locale]["stale"].format(days=number(age_days, locale), limit=number(limit, locale))
