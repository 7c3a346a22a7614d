"""Formatting and labels: French by default (shared/spec/README.md), English by setting.

Amounts are given in cents and shown in euros: ``12 345 €`` in French (narrow no-break
space U+202F as thousands separator), ``€12,345`` in English. Dates ``29/11/2026``
(fr) or ``2026-11-29`` (en); months ``janv. 2026`` (fr) or ``Jan 2026`` (en).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

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
        "documents": "documents",
        "bucket": "Ancienneté (jours)",
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
        "documents": "documents",
        "bucket": "Age (days)",
    },
}

#: Drill-down column headers.
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "deal_id": "Id affaire", "deal": "Affaire", "prospect": "Prospect", "region": "Région",
        "agency": "Agence", "team": "Équipe", "partner": "Associé", "manager": "Manager",
        "client_manager": "Responsable client", "signatory": "Signataire", "signatory_entity": "Entité",
        "documents": "Documents", "recurring": "Récurrent (€)", "one_off": "Exceptionnel (€)",
        "total": "Total (€)", "document_id": "Id document", "doc_type": "Type de document",
        "template": "Modèle", "title": "Titre", "status": "Statut", "created_on": "Créé le",
        "sent_on": "Envoyé le", "decided_on": "Décidé le", "lines": "Lignes",
    },
    "en": {
        "deal_id": "Deal id", "deal": "Deal", "prospect": "Prospect", "region": "Region",
        "agency": "Agency", "team": "Team", "partner": "Partner", "manager": "Manager",
        "client_manager": "Client manager", "signatory": "Signatory", "signatory_entity": "Entity",
        "documents": "Documents", "recurring": "Recurring (€)", "one_off": "One-off (€)",
        "total": "Total (€)", "document_id": "Document id", "doc_type": "Document type",
        "template": "Template", "title": "Title", "status": "Status", "created_on": "Created on",
        "sent_on": "Sent on", "decided_on": "Decided on", "lines": "Lines",
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


def euros(cents: int) -> Decimal:
    """Cents as an exact Decimal amount of euros."""
    return Decimal(int(cents)) / 100


def euros_json(cents: int) -> float:
    """Cents as a JSON number of euros with at most two decimals (exact decimal, then float)."""
    return float(euros(cents))


def _group(digits: str, sep: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return sep.join(out)


def money(cents: int | None, locale: str = "fr", *, decimals: bool = False) -> str:
    """``12 345 €`` (fr) / ``€12,345`` (en); whole euros unless ``decimals``."""
    if cents is None or pd.isna(cents):
        return LABELS[locale]["none"]
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    if decimals:
        whole, frac = divmod(cents, 100)
        dec_sep = "," if locale == "fr" else "."
        tail = f"{dec_sep}{frac:02d}"
    else:
        whole = (cents + 50) // 100  # round half up, in integers
        tail = ""
    if locale == "fr":
        return f"{sign}{_group(str(whole), NNBSP)}{tail}{NNBSP}€"
    return f"{sign}€{_group(str(whole), ',')}{tail}"


def number(value: int | None, locale: str = "fr") -> str:
    """A count with thousands separators."""
    if value is None:
        return LABELS[locale]["none"]
    return _group(str(int(value)), NNBSP if locale == "fr" else ",")


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
