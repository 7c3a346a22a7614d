"""Formatting and labels: French by default (the labels of the product's glossary), English by setting.

Amounts are given in integer minor units (the ``_cents`` columns) and shown in the firm's
currency (setting ``currency``, an ISO 4217 code), every caller passing it: :func:`money`
reads the symbol, the pattern, the separators and the number of decimals from Babel's
CLDR data, e.g. ``12 345 €``, ``12 345 $US``, ``12 345 CHF`` in French (narrow no-break
space U+202F as thousands separator and before the symbol) and ``€12,345``, ``$12,345``,
``CHF 12,345`` in English. Dates ``29/11/2026`` (fr) or ``2026-11-29`` (en); months
``janv. 2026`` (fr) or ``Jan 2026`` (en).

Sentences: :data:`LABELS` is the one catalog of what people read, keyed, with named
``{placeholders}``, in both languages (:func:`sentence` says one in a locale). Errors a
viewer meets carry a key and values rather than a text (:class:`Said`): the pure
functions that raise them (periods, scoping, figures, drill-downs) know no locale, and
the command line, the API's views and the dashboard say them in the settings' or the
session's locale. A value may itself be a :class:`Phrase` or a :class:`Term` (a code
shown as its label: « région », « Associé »), said in the same locale.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
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
        # errors of the pure functions, carried as Phrase and said where the locale is known (Said)
        "period.both": "donnez --fiscal-year ou --previous, pas les deux",
        "period.range": "exercice {fiscal_year} : les chiffres demandent l'exercice et son N-1 dans le calendrier (années 1 à 9999), donc un exercice de {first} à {last}",
        "period.range_today": "aujourd'hui ({today}) est dans l'exercice {fiscal_year} : les chiffres demandent l'exercice et son N-1 dans le calendrier (années 1 à 9999), donc un exercice de {first} à {last}",
        "period.future": "l'exercice {fiscal_year} commence le {start}, après aujourd'hui ({today})",
        "period.as_of_outside": "la date d'arrêté {as_of} est hors de l'exercice {fiscal_year} ({start} … {end})",
        "period.as_of_future": "la date d'arrêté {as_of} est après aujourd'hui ({today})",
        "access.the_unit": "l'unité « {unit} »",
        "access.the_collaborator": "le collaborateur « {login} »",
        "access.outside": "Accès refusé : {what} est hors de votre périmètre, qui couvre : {units}",
        "access.outside_empty": "Accès refusé : {what} est hors de votre périmètre, qui est vide",
        "access.outside_empty_because": "Accès refusé : {what} est hors de votre périmètre, qui est vide : {because}",
        "access.because.cap_none": "votre fonction ({function}) ne donne aucun périmètre",
        "access.because.no_group": "vous n'êtes membre d'aucun groupe",
        "access.because.groups_without_units": "vos groupes ne couvrent aucune unité",
        "access.because.home_above_cap": "votre fonction ({function}) s'arrête à {a_level} et votre unité de rattachement est au-dessus",
        "access.because.outside_cap": "vos groupes ne couvrent rien dans votre {level}, où votre fonction ({function}) vous limite",
        "access.no_unit_for_reports": "Accès refusé : « {login} » n'a aucune unité dans son périmètre (rapports par {kind} impossibles)",
        "drill.sort": "impossible de trier par « {column} »",
        "report.progress": "rapports",
        "report.unit": "rapport",
        "report.stage.notebook": "calcul",
        "report.stage.html": "html",
        "report.stage.pdf": "pdf",
        "subs.progress": "abonnements",
        "report.nothing": "aucune {kind} dans le périmètre de {login} : essayez --by agency ou --unit ID",
        "report.no_chromium": "Chromium introuvable à « {path} » : les rapports PDF demandent le paquet chromium de Debian (apt-get install chromium), ou son chemin dans PROSPECTS_CHROMIUM ou `chromium = ...` de prospects.toml ; ou bien demandez --format html seulement",
        "cli.xlsx_output": "--format xlsx demande --output FICHIER",
        "cli.report_as": "report demande --as IDENTIFIANT (ou --subscriptions)",
        "cli.formats": "--format {formats} : attendu html, pdf ou html,pdf",
        "cli.jobs": "--jobs doit valoir au moins 1",
        "cli.date": "{option} {value} : attendu une date AAAA-MM-JJ, par exemple 2026-06-30",
        "cli.with_subscriptions": "--send, --dry-run et --force vont avec --subscriptions",
        "cli.not_with_subscriptions": "{options} : pas avec --subscriptions (chaque rapport est rendu avec les droits de son destinataire, pour l'unité et les formats de l'abonnement)",
        "subs.no_address": "{login} ({name}) n'a pas d'adresse e-mail (collaborators.email)",
        "subs.bad_address": "{login} ({name}) : l'adresse e-mail « {email} » n'est pas une simple adresse nom@domaine",
        "subs.exclude_unknown": "[subscriptions] exclude : identifiant inconnu « {login} »",
        "subs.default_problem": "abonnement par défaut : {problem} ; ajoutez l'adresse, ou mettez l'identifiant dans [subscriptions] exclude",
        "subs.twice": "{login} est déjà abonné à {unit} par une entrée précédente",
        "subs.unknown_login": "identifiant inconnu « {login} »",
        "subs.inactive": "le collaborateur « {login} » est inactif",
        "subs.not_validator": "il n'est pas habilité à valider des offres",
        "subs.no_perimeter": "« {login} » n'a aucune unité dans son périmètre ({why}) : abonnez-le à unit = \"mine\"",
        "subs.unknown_unit": "unité inconnue « {unit} » (un identifiant d'unité, \"perimeter\" ou \"mine\")",
        "subs.no_filters": "« {login} » ne peut pas filtrer par unité (pas habilité à valider des offres, docs/access.md) : seulement unit = \"mine\" (ses affaires)",
        "subs.unit_outside": "l'unité « {unit} » est hors du périmètre de {login} (docs/access.md)",
        "subs.problems": "{n} problème(s) d'abonnement : rien n'est rendu ni envoyé ; corrigez prospects.toml ([subscriptions]) ou les données (collaborators)",
        "subs.count": "{reports} rapport(s) pour {recipients} destinataire(s) ; par défaut : {default}",
        "subs.locked": "un autre `report --subscriptions` utilise {folder} (verrou {lock}) : rien n'est rendu ni envoyé",
        "subs.rendered": "{n} rapport(s) rendu(s) en {seconds} s",
        "subs.none_due": "aucun rapport à rendre",
        "subs.col.login": "identifiant",
        "subs.col.name": "nom",
        "subs.col.address": "adresse",
        "subs.col.unit": "unité",
        "subs.col.formats": "formats",
        "subs.col.language": "langue",
        "subs.col.from": "origine",
        "subs.col.status": "état",
        "subs.from_default": "par défaut",
        "subs.from_list": "liste n° {n}",
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
        # errors of the pure functions, carried as Phrase and said where the locale is known (Said)
        "period.both": "give either --fiscal-year or --previous, not both",
        "period.range": "fiscal year {fiscal_year}: figures need the fiscal year and its N-1 within the calendar (years 1 to 9999), so a fiscal year from {first} to {last}",
        "period.range_today": "today ({today}) is in fiscal year {fiscal_year}: figures need the fiscal year and its N-1 within the calendar (years 1 to 9999), so a fiscal year from {first} to {last}",
        "period.future": "fiscal year {fiscal_year} starts on {start}, after today ({today})",
        "period.as_of_outside": "as-of date {as_of} is outside fiscal year {fiscal_year} ({start} … {end})",
        "period.as_of_future": "as-of date {as_of} is after today ({today})",
        "access.the_unit": "unit '{unit}'",
        "access.the_collaborator": "collaborator '{login}'",
        "access.outside": "Access denied: {what} is outside your perimeter, which covers: {units}",
        "access.outside_empty": "Access denied: {what} is outside your perimeter, which is empty",
        "access.outside_empty_because": "Access denied: {what} is outside your perimeter, which is empty: {because}",
        "access.because.cap_none": "your function ({function}) gives no perimeter",
        "access.because.no_group": "you are a member of no group",
        "access.because.groups_without_units": "your groups cover no unit",
        "access.because.home_above_cap": "your function ({function}) stops at {a_level} and your home unit is above it",
        "access.because.outside_cap": "your groups cover nothing within your {level}, where your function ({function}) limits you",
        "access.no_unit_for_reports": "Access denied: '{login}' has no unit in their perimeter (no reports by {kind})",
        "drill.sort": "cannot sort by '{column}'",
        "report.progress": "reports",
        "report.unit": "report",
        "report.stage.notebook": "notebook",
        "report.stage.html": "html",
        "report.stage.pdf": "pdf",
        "subs.progress": "subscriptions",
        "report.nothing": "no {kind} in the perimeter of {login}: try --by agency or --unit ID",
        "report.no_chromium": "Chromium not found at '{path}': PDF reports need Debian's chromium package (apt-get install chromium), or set its path with PROSPECTS_CHROMIUM or `chromium = ...` in prospects.toml; or ask for --format html only",
        "cli.xlsx_output": "--format xlsx needs --output FILE",
        "cli.report_as": "report needs --as LOGIN (or --subscriptions)",
        "cli.formats": "--format {formats}: expected html, pdf or html,pdf",
        "cli.jobs": "--jobs must be at least 1",
        "cli.date": "{option} {value}: expected a date YYYY-MM-DD, e.g. 2026-06-30",
        "cli.with_subscriptions": "--send, --dry-run and --force go with --subscriptions",
        "cli.not_with_subscriptions": "{options}: not with --subscriptions (each report is rendered as its recipient, for the unit and formats of the subscription)",
        "subs.no_address": "{login} ({name}) has no e-mail address (collaborators.email)",
        "subs.bad_address": "{login} ({name}): e-mail address '{email}' is not a plain name@domain address",
        "subs.exclude_unknown": "[subscriptions] exclude: unknown login '{login}'",
        "subs.default_problem": "default subscription: {problem}; add the address, or list the login in [subscriptions] exclude",
        "subs.twice": "{login} is already subscribed to {unit} by an earlier entry",
        "subs.unknown_login": "unknown login '{login}'",
        "subs.inactive": "collaborator '{login}' is inactive",
        "subs.not_validator": "they do not validate offers",
        "subs.no_perimeter": "'{login}' has no unit in their perimeter ({why}): subscribe them to unit = \"mine\"",
        "subs.unknown_unit": "unknown unit '{unit}' (a unit id, \"perimeter\" or \"mine\")",
        "subs.no_filters": "'{login}' may not filter by unit (no right to validate offers, docs/access.md): only unit = \"mine\" (their own deals)",
        "subs.unit_outside": "unit '{unit}' is outside the perimeter of {login} (docs/access.md)",
        "subs.problems": "{n} subscription problem(s): nothing rendered or sent; fix prospects.toml ([subscriptions]) or the data (collaborators)",
        "subs.count": "{reports} report(s) for {recipients} recipient(s); default: {default}",
        "subs.locked": "another `report --subscriptions` is using {folder} (lock {lock}): nothing rendered or sent",
        "subs.rendered": "{n} report(s) rendered in {seconds} s",
        "subs.none_due": "0 report(s) to render",
        "subs.col.login": "login",
        "subs.col.name": "name",
        "subs.col.address": "address",
        "subs.col.unit": "unit",
        "subs.col.formats": "formats",
        "subs.col.language": "language",
        "subs.col.from": "from",
        "subs.col.status": "status",
        "subs.from_default": "default",
        "subs.from_list": "list #{n}",
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
        "currency": "Devise",
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
        "currency": "Currency",
        "figure": "Figure",
        "view": "View",
        "empty": "No row for this figure.",
        "empty_no_offer": "No document: these deals have no offer in progress at the as-of date.",
    },
}

#: The levels of the organisation, as a sentence names them (« rapports par région »), and
#: with their article (« votre fonction s'arrête à une agence »).
LEVEL_LABELS = {
    "fr": {"firm": "cabinet", "region": "région", "agency": "agence", "team": "équipe"},
    "en": {"firm": "firm", "region": "region", "agency": "agency", "team": "team"},
}
A_LEVEL_LABELS = {
    "fr": {"firm": "un cabinet", "region": "une région", "agency": "une agence", "team": "une équipe"},
    "en": {"firm": "the firm", "region": "a region", "agency": "an agency", "team": "a team"},
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

    A value that is a :class:`Phrase` or a :class:`Term` is said in the same locale, a date
    is written the locale's way (:func:`date`); others as they are. Values typed by
    someone must already be :func:`shown` (escaped, cut).
    """
    return LABELS[locale][key].format(**{name: _said(value, locale) for name, value in values.items()})


def _said(value: object, locale: str) -> object:
    if isinstance(value, Phrase | Term):
        return value.say(locale)
    if isinstance(value, dt.date):
        return date(value, locale)
    return value


@dataclass(frozen=True)
class Phrase:
    """A sentence of the catalog not yet said: its key and values, said in any locale."""

    key: str
    values: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, key: str, **values: object) -> Phrase:
        """``Phrase.of("period.future", fiscal_year=2030, …)``."""
        return cls(key, values)

    def say(self, locale: str = "fr") -> str:
        """The sentence in ``locale``."""
        return sentence(self.key, locale, **self.values)


@dataclass(frozen=True)
class Term:
    """A code shown as its label (a function, a level of the organisation…), in any locale:
    ``Term(FUNCTION_LABELS, "partner")`` says « Associé » or "Partner"; an unknown code says itself."""

    table: Mapping[str, Mapping[str, str]]
    code: str

    def say(self, locale: str = "fr") -> str:
        """The label in ``locale``."""
        return self.table[locale].get(self.code, self.code)


class Said(Exception):
    """An error a person reads, carried as a catalog key and values, said where the locale is known.

    The design (one for every sentence a viewer meets): pure functions (the fiscal calendar,
    the scoping rule, the figures and drill-downs) know no locale, so their exceptions
    (:class:`~prospects.fiscal.PeriodError`, :class:`~prospects.scoping.AccessDenied`,
    :class:`~prospects.drilldown.DrilldownError`, :class:`~prospects.figures.CellError`)
    carry a :class:`Phrase` instead of a text. Whoever knows the locale says it: the
    command line prints ``exc.say(settings.locale)``, the API's :class:`~prospects.api.View`
    stamps its session's locale on every such error leaving one of its methods
    (``exc.in_locale(...)``), so that ``str(exc)`` is then in that language. Without a
    stamp, ``str(exc)`` is French, the product's default. A sentence already said
    where the locale was known (the API's own refusals) is carried as it is
    (:meth:`already_said`), and so is a text that is no key of the catalog (the English of
    an operator's command, ``demo``'s fiscal-year check).
    """

    def __init__(self, key: str, /, **values: object) -> None:
        super().__init__(key)
        known = key in LABELS["fr"]
        # a text that is no key of the catalog is taken as already said (an operator's
        # command raising in its own language, English): never a KeyError instead of the error
        self.phrase: Phrase | None = Phrase(key, values) if known else None
        self.text = "" if known else key
        self.locale = "fr"

    @classmethod
    def already_said(cls, text: str) -> Said:
        """An error whose sentence was already said in the viewer's language."""
        return _rebuilt(cls, None, text, "fr")

    def __reduce__(self):  # pickled as what it says, not as its constructor's arguments
        return _rebuilt, (type(self), self.phrase, self.text, self.locale)

    def say(self, locale: str | None = None) -> str:
        """The sentence in ``locale`` (default: the one stamped, else French)."""
        if self.phrase is None:
            return self.text
        return self.phrase.say(locale or self.locale)

    def in_locale(self, locale: str) -> Said:
        """This error, said in ``locale`` from now on (``str(exc)``); returns it."""
        if locale in LABELS:
            self.locale = locale
        return self

    def __str__(self) -> str:
        return self.say()


def _rebuilt(cls: type[Said], phrase: Phrase | None, text: str, locale: str) -> Said:
    exc = cls.__new__(cls)
    exc.args = (phrase.key if phrase is not None else text,)
    exc.phrase, exc.text, exc.locale = phrase, text, locale
    return exc


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


def currency_name(locale: str, currency: str) -> str:
    """The currency's CLDR name and code in ``locale``: ``euro (EUR)``, ``dollar des États-Unis (USD)``."""
    from babel.numbers import get_currency_name

    code = check_currency(currency)
    return f"{get_currency_name(code, locale=_CLDR_LOCALES.get(locale, locale))} ({code})"


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


def decimal(value: float, locale: str = "fr") -> str:
    """A measure with one decimal in ``locale``: ``8,2`` (fr) / ``8.2`` (en)."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if locale == "fr" else text


def days(value: float | None, locale: str = "fr") -> str:
    """A number of days, e.g. ``41 jours`` (``20,5 jours``)."""
    if value is None:
        return LABELS[locale]["none"]
    shown = decimal(value, locale).rstrip("0").rstrip(".,")
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
