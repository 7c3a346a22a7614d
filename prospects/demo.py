"""A seeded, realistic demo firm: a French accounting / audit / advisory practice.

:func:`generate` returns the nine canonical frames (docs/data.md) of a professional-services
firm organised as firm → regions → agencies → teams, with its directory, its
confidentiality groups, its legal entities, and three fiscal years of prospect and
client deals, offers (documents) and fee lines. The same ``size``, ``seed``, ``today``
and ``fiscal_year_start_month`` always give identical frames.

The volume is set by ``size``: ``small`` ≈ 2,000 documents (tests, first look),
``medium`` ≈ 50,000, ``large`` ≈ 1,000,000. Deals, documents and lines are generated
with vectorised numpy (no Python loop per row): only the organisation and the
directory, a few hundred rows at most, are built row by row.

:func:`demo_logins` picks a few logins worth trying (one per function, with and
without the right to validate offers); :func:`run_demo_command` is ``prospects demo``.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .fiscal import PeriodError, fiscal_year_range
from .i18n import shown
from .schema import TABLE_ORDER, TABLES

if TYPE_CHECKING:
    from .config import Settings

__all__ = ["SIZES", "covered_fiscal_years", "demo_logins", "generate", "run_demo_command"]

# ---------------------------------------------------------------------------
# sizes


@dataclass(frozen=True)
class Size:
    """How big the demo firm is. Ranges are inclusive ``(low, high)``."""

    regions: int
    agencies: tuple[int, int]
    teams: tuple[int, int]
    firm_directors: int
    regional_partners: int
    agency_partners: tuple[int, int]
    team_managers: tuple[int, int]
    staff: tuple[int, int]
    entities: int
    documents: int


SIZES: Mapping[str, Size] = {
    "small": Size(3, (2, 2), (2, 4), 3, 1, (2, 3), (1, 2), (2, 4), 2, 2_000),
    "medium": Size(6, (3, 4), (3, 5), 5, 1, (2, 4), (1, 3), (3, 7), 3, 50_000),
    "large": Size(10, (3, 5), (4, 5), 8, 2, (3, 6), (2, 3), (4, 10), 3, 1_000_000),
}

#: Documents per deal, measured on the generator (deals = documents / this).
_DOCS_PER_DEAL = 1.145

# ---------------------------------------------------------------------------
# the organisation: real regions and cities

#: (code, name, [(agency code, city, weight)]), biggest cities first.
REGIONS: tuple[tuple[str, str, tuple[tuple[str, str, float], ...]], ...] = (
    ("IDF", "Île-de-France", (("LADEFENSE", "Paris La Défense", 3.0), ("VERSAILLES", "Versailles", 1.2), ("PARIS", "Paris Opéra", 2.0), ("CERGY", "Cergy", 0.8), ("MARNE", "Marne-la-Vallée", 0.8))),
    ("HDF", "Hauts-de-France", (("LILLE", "Lille", 2.0), ("AMIENS", "Amiens", 0.9), ("VALENCIENNES", "Valenciennes", 0.7), ("ARRAS", "Arras", 0.6), ("DUNKERQUE", "Dunkerque", 0.6))),
    ("ARA", "Auvergne-Rhône-Alpes", (("LYON", "Lyon", 2.5), ("GRENOBLE", "Grenoble", 1.2), ("CLERMONT", "Clermont-Ferrand", 0.9), ("STETIENNE", "Saint-Étienne", 0.8), ("ANNECY", "Annecy", 0.8))),
    ("NAQ", "Nouvelle-Aquitaine", (("BORDEAUX", "Bordeaux", 2.0), ("LIMOGES", "Limoges", 0.7), ("PAU", "Pau", 0.7), ("LAROCHELLE", "La Rochelle", 0.7), ("BAYONNE", "Bayonne", 0.6))),
    ("PACA", "Provence-Alpes-Côte d'Azur", (("MARSEILLE", "Marseille", 2.0), ("NICE", "Nice", 1.2), ("AIX", "Aix-en-Provence", 1.0), ("TOULON", "Toulon", 0.8), ("AVIGNON", "Avignon", 0.6))),
    ("GES", "Grand Est", (("STRASBOURG", "Strasbourg", 1.8), ("METZ", "Metz", 0.9), ("NANCY", "Nancy", 0.9), ("REIMS", "Reims", 0.8), ("MULHOUSE", "Mulhouse", 0.6))),
    ("OCC", "Occitanie", (("TOULOUSE", "Toulouse", 2.0), ("MONTPELLIER", "Montpellier", 1.3), ("NIMES", "Nîmes", 0.7), ("PERPIGNAN", "Perpignan", 0.6))),
    ("PDL", "Pays de la Loire", (("NANTES", "Nantes", 1.8), ("ANGERS", "Angers", 0.9), ("LEMANS", "Le Mans", 0.8), ("LAVAL", "Laval", 0.5))),
    ("BRE", "Bretagne", (("RENNES", "Rennes", 1.6), ("BREST", "Brest", 0.8), ("VANNES", "Vannes", 0.6), ("QUIMPER", "Quimper", 0.5))),
    ("NOR", "Normandie", (("ROUEN", "Rouen", 1.4), ("CAEN", "Caen", 1.0), ("LEHAVRE", "Le Havre", 0.8), ("CHERBOURG", "Cherbourg", 0.4))),
)

#: Services, i.e. the kinds of teams: (code, team name, share of the business).
SERVICES: tuple[tuple[str, str, float], ...] = (
    ("EC", "Expertise comptable", 1.0),
    ("AUD", "Audit", 0.6),
    ("SOC", "Social", 0.45),
    ("JUR", "Juridique", 0.3),
    ("CON", "Conseil", 0.3),
)
_SERVICE_CODES = tuple(s[0] for s in SERVICES)

FIRMS: tuple[str, ...] = ("Delorme", "Vasseur", "Marchand", "Fontaine", "Berthier", "Lemaire", "Carpentier", "Delaunay")

# ---------------------------------------------------------------------------
# the offers: missions, document types, templates

#: mission → (billing, lowest, highest annual or one-off fee in euros)
MISSIONS: dict[str, tuple[str, int, int]] = {
    "Tenue comptable": ("recurring", 3_000, 25_000),
    "Établissement des comptes annuels": ("recurring", 2_000, 12_000),
    "Déclarations fiscales": ("recurring", 1_000, 4_000),
    "Social": ("recurring", 1_500, 20_000),
    "Juridique": ("recurring", 1_000, 5_000),
    "Commissariat aux comptes": ("recurring", 8_000, 60_000),
    "Audit des comptes consolidés": ("recurring", 10_000, 45_000),
    "Conseil fiscal": ("one_off", 1_000, 15_000),
    "Audit contractuel": ("one_off", 3_000, 15_000),
    "Due diligence": ("one_off", 5_000, 15_000),
    "Revue de contrôle interne": ("one_off", 2_000, 12_000),
    "Attestations particulières": ("one_off", 500, 3_000),
    "Mise en place du dossier": ("one_off", 500, 3_000),
    "Prévisionnel": ("one_off", 800, 5_000),
    "Audit social": ("one_off", 2_000, 10_000),
    "Mise en place de la paie": ("one_off", 500, 4_000),
    "Conseil en droit social": ("one_off", 800, 8_000),
    "Opérations juridiques": ("one_off", 500, 8_000),
    "Accompagnement à la création": ("one_off", 500, 3_000),
    "Évaluation d'entreprise": ("one_off", 3_000, 15_000),
    "Conseil en gestion": ("one_off", 1_500, 12_000),
}
_MISSION_NAMES = tuple(MISSIONS)

#: service → (main missions with weights, companion missions: the other lines)
SERVICE_MISSIONS: dict[str, tuple[tuple[tuple[str, float], ...], tuple[str, ...]]] = {
    "EC": ((("Tenue comptable", 0.6), ("Établissement des comptes annuels", 0.4)),
           ("Déclarations fiscales", "Mise en place du dossier", "Social", "Juridique", "Prévisionnel", "Conseil fiscal")),
    "AUD": ((("Commissariat aux comptes", 0.7), ("Audit contractuel", 0.3)),
            ("Attestations particulières", "Audit des comptes consolidés", "Revue de contrôle interne", "Due diligence")),
    "SOC": ((("Social", 1.0),),
            ("Mise en place de la paie", "Audit social", "Conseil en droit social")),
    "JUR": ((("Juridique", 0.7), ("Opérations juridiques", 0.3)),
            ("Accompagnement à la création", "Conseil en droit social", "Conseil fiscal")),
    "CON": ((("Conseil fiscal", 0.5), ("Évaluation d'entreprise", 0.25), ("Conseil en gestion", 0.25)),
            ("Prévisionnel", "Due diligence", "Accompagnement à la création")),
}

DOC_TYPES = ("Proposition commerciale", "Lettre de mission", "Avenant")
_TITLE_PREFIX = ("Proposition", "Lettre de mission", "Avenant")

#: (doc type, main mission) → templates (modèles) of the CRM's document management
TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("Proposition commerciale", "Tenue comptable"): ("Proposition expertise comptable v2", "Proposition création d'entreprise"),
    ("Proposition commerciale", "Établissement des comptes annuels"): ("Proposition expertise comptable v2",),
    ("Proposition commerciale", "Commissariat aux comptes"): ("Proposition audit légal",),
    ("Proposition commerciale", "Audit contractuel"): ("Proposition audit contractuel",),
    ("Proposition commerciale", "Social"): ("Proposition gestion de la paie",),
    ("Proposition commerciale", "Juridique"): ("Proposition juridique",),
    ("Proposition commerciale", "Opérations juridiques"): ("Proposition juridique",),
    ("Proposition commerciale", "Conseil fiscal"): ("Proposition conseil fiscal",),
    ("Proposition commerciale", "Évaluation d'entreprise"): ("Proposition évaluation",),
    ("Proposition commerciale", "Conseil en gestion"): ("Proposition conseil en gestion",),
    ("Lettre de mission", "Tenue comptable"): ("LM tenue comptable v3", "LM tenue comptable v2"),
    ("Lettre de mission", "Établissement des comptes annuels"): ("LM présentation des comptes annuels",),
    ("Lettre de mission", "Commissariat aux comptes"): ("LM CAC 6 exercices", "LM CAC 3 exercices (ALPE)"),
    ("Lettre de mission", "Audit contractuel"): ("LM audit contractuel",),
    ("Lettre de mission", "Social"): ("LM social et paie v2", "LM social et paie v1"),
    ("Lettre de mission", "Juridique"): ("LM secrétariat juridique annuel",),
    ("Lettre de mission", "Opérations juridiques"): ("LM opération juridique ponctuelle",),
    ("Lettre de mission", "Conseil fiscal"): ("LM conseil fiscal",),
    ("Lettre de mission", "Évaluation d'entreprise"): ("LM mission d'évaluation",),
    ("Lettre de mission", "Conseil en gestion"): ("LM conseil v2",),
    ("Avenant", "Commissariat aux comptes"): ("Avenant honoraires", "Avenant CAC comptes consolidés"),
    ("Avenant", "Social"): ("Avenant honoraires", "Avenant nombre de bulletins"),
}
_DEFAULT_AVENANTS = ("Avenant honoraires", "Avenant extension de mission")

ABANDON_AFTER_REFUSAL = (("Prix trop élevé", 0.35), ("Concurrent retenu", 0.35), ("Projet reporté", 0.12),
                         ("Périmètre de mission inadapté", 0.08), (None, 0.10))
ABANDON_WITHOUT_OFFER = (("Pas de réponse du prospect", 0.35), ("Projet reporté", 0.2), ("Besoin couvert en interne", 0.15),
                         ("Prospect non qualifié", 0.1), ("Cessation d'activité", 0.05), ("Concurrent retenu", 0.05), (None, 0.10))
ABANDON_STALE = (("Pas de réponse du prospect", 0.6), ("Projet reporté", 0.25), (None, 0.15))

# ---------------------------------------------------------------------------
# names

SURNAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard",
    "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard",
    "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron", "Picard", "Roger",
    "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre",
    "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte", "Lopez", "Dupuy",
    "Guillot", "Hubert", "Berger", "Carpentier", "Sanchez", "Dupuis", "Moulin", "Deschamps", "Huet", "Vasseur",
    "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet", "Adam", "Poirier", "Marty", "Aubry",
    "Guyot", "Carré", "Renault", "Charpentier", "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé",
    "Schneider", "Fernandez", "Le Gall", "Collet", "Léger", "Bouvier", "Julien", "Prévost", "Millet", "Perrot",
    "Le Roux", "Germain", "Breton", "Besson", "Langlois", "Rémy", "Le Goff", "Pelletier", "Lévêque", "Perrier",
    "Leblanc", "Barré", "Lebrun", "Marchal", "Weber", "Mallet", "Hamon", "Boulanger", "Jacob", "Monnier",
    "Michaud", "Rodriguez", "Guichard", "Gillet", "Étienne", "Grondin", "Poulain", "Tessier", "Chevallier", "Collin",
    "Chauvin", "Da Silva", "Bouchet", "Lemaître", "Bénard", "Maréchal", "Humbert", "Reynaud", "Antoine", "Hoarau",
    "Perret", "Barthélemy", "Cordier", "Pichon", "Lejeune", "Gilbert", "Lamy", "Delaunay", "Pasquier", "Carlier",
    "Laporte", "Nguyen", "Benali", "Haddad", "N'Diaye", "Diallo", "Kowalski", "Ferreira", "Saint-Martin", "De Oliveira",
    "Traoré", "Cohen", "Moreno", "Rossi", "Bensaïd", "Tran", "Mendes", "Ben Amor", "Lefort", "Delmas",
)
FIRST_NAMES = (
    "Jean", "Pierre", "Nicolas", "Julien", "Thomas", "Alexandre", "François", "Olivier", "Laurent", "Sébastien",
    "Christophe", "Philippe", "Stéphane", "David", "Antoine", "Mathieu", "Guillaume", "Romain", "Maxime", "Hugo",
    "Lucas", "Louis", "Paul", "Arthur", "Benoît", "Damien", "Éric", "Frédéric", "Jérôme", "Karim",
    "Mehdi", "Vincent", "Yann", "Xavier", "Bruno", "Cédric", "Jean-Marc", "Jean-Pierre", "Marc", "Patrick",
    "Marie", "Sophie", "Isabelle", "Nathalie", "Catherine", "Julie", "Camille", "Claire", "Céline", "Émilie",
    "Aurélie", "Caroline", "Sandrine", "Valérie", "Anne", "Laure", "Hélène", "Charlotte", "Manon", "Léa",
    "Chloé", "Sarah", "Inès", "Amandine", "Audrey", "Élodie", "Pauline", "Mathilde", "Nadia", "Fatima",
    "Anne-Sophie", "Marie-Laure", "Virginie", "Stéphanie", "Delphine", "Agnès", "Florence", "Mélanie", "Justine", "Clémence",
)

ACTIVITIES = (
    "Boulangerie", "Transports", "Garage", "Menuiserie", "Pharmacie", "Boucherie", "Imprimerie", "Plomberie",
    "Électricité", "Maçonnerie", "Restaurant", "Hôtel", "Fromagerie", "Librairie", "Cave", "Pâtisserie",
    "Charpente", "Couverture", "Optique", "Immobilière", "Laboratoire", "Auto-école", "Ambulances", "Taxis",
    "Pressing", "Fleurs", "Brasserie", "Distillerie", "Vignobles", "Domaine", "Scierie", "Métallerie",
    "Chaudronnerie", "Bureau d'études", "Informatique", "Logistique", "Carrosserie", "Paysages", "Nettoyage", "Traiteur",
)
PLACES = (
    "Alpes", "Atlantique", "Provence", "Armor", "Val de Loire", "Rhône", "Normandie", "Flandres", "Lorraine",
    "Alsace", "Garonne", "Méditerranée", "Jura", "Vosges", "Seine", "Océan", "Pyrénées", "Cévennes", "Bocage",
    "Horizon", "Azur", "Avenir", "Opale", "Vexin", "Beauce", "Dauphiné", "Gascogne", "Artois", "Morvan", "Sologne",
)
SECTORS = (
    "Logistique", "Bâtiment", "Négoce", "Distribution", "Industrie", "Services", "Ingénierie", "Emballages",
    "Énergies", "Numérique", "Santé", "Immobilier", "Conseil", "Environnement", "Mécanique", "Agroalimentaire",
)
SCI_NAMES = (
    "Les Tilleuls", "du Parc", "Les Chênes", "Saint-Michel", "La Fontaine", "Les Vignes", "du Moulin",
    "Les Acacias", "Le Clos", "Bellevue", "des Lilas", "Les Pins", "du Port", "Les Hauts de Seine", "La Croix Blanche",
)
PROFESSIONS = ("Pharmacie", "Cabinet dentaire", "Cabinet vétérinaire", "Cabinet médical", "Kinésithérapie", "Cabinet d'avocats", "Laboratoire")
FAMILY_SUFFIXES = (" & Fils", " Frères", " et Associés", " Père & Fils")
LEGAL_FORMS = (("SARL", 0.35), ("SAS", 0.35), ("SASU", 0.12), ("EURL", 0.10), ("SA", 0.05), ("SNC", 0.03))

# ---------------------------------------------------------------------------
# dates

#: Weight of each calendar month for new business: busy autumn and January, quiet August.
MONTH_WEIGHTS = np.array([1.35, 1.1, 1.05, 1.0, 0.95, 0.95, 0.75, 0.3, 1.25, 1.35, 1.3, 0.85])
_WEEKDAY_WEIGHTS = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.04, 0.01])  # Monday … Sunday
_GROWTH_PER_YEAR = 0.08
_S = np.dtypes.StringDType()


def _fy_bounds(label: int, start_month: int) -> tuple[dt.date, dt.date]:
    if start_month == 1:
        return dt.date(label, 1, 1), dt.date(label, 12, 31)
    return dt.date(label - 1, start_month, 1), dt.date(label, start_month, 1) - dt.timedelta(days=1)


def covered_fiscal_years(today: dt.date, fiscal_year_start_month: int = 1) -> list[tuple[int, dt.date, dt.date]]:
    """The fiscal years of the demo data, oldest first: ``(label, first day, last day)``.

    The current FY (N, containing ``today``, labelled by the calendar year in which it
    ends) and the two before it. Demo dates run from the first day of N-2 to ``today``.
    """
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1-12, not {fiscal_year_start_month!r}")
    current = today.year if fiscal_year_start_month == 1 or today.month < fiscal_year_start_month else today.year + 1
    first, last = fiscal_year_range(fiscal_year_start_month)
    if not first + 1 <= current <= last:  # N-2 … N, and N-1 of each, within years 1 … 9999
        raise PeriodError(
            f"today ({today.isoformat()}) is in fiscal year {current}: the demo covers it and the two before, "
            f"so today must fall in fiscal year {first + 1} to {last}"
        )
    return [(label, *_fy_bounds(label, fiscal_year_start_month)) for label in (current - 2, current - 1, current)]


def _day(d: dt.date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _lag(rng: np.random.Generator, n: int, median: float, sigma: float, low: int, high: int) -> np.ndarray:
    """Log-normal delays in whole days, clipped to [low, high]."""
    return np.clip(np.rint(median * np.exp(sigma * rng.standard_normal(n))), low, high).astype(np.int64)


def _office_days(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Move dates to office life: most of August waits for September, weekends for the next week.

    Dates only move forward, so an order between dates (sent ≥ created…) is kept.
    """
    n = len(days)
    u = rng.random(n)
    spread = rng.integers(0, 12, n)
    next_week = rng.integers(0, 5, n)  # a weekend day goes to Monday … Friday after it
    d = days.astype("datetime64[D]")
    month0 = d.astype("datetime64[M]").astype(np.int64) % 12
    september = (d.astype("datetime64[Y]").astype("datetime64[M]") + 8).astype("datetime64[D]").astype(np.int64)
    out = np.where((month0 == 7) & (u < 0.6), september + spread, days)
    weekday = (out + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return out + np.where(weekday >= 5, 7 - weekday + next_week, 0)


def _seasonal_days(rng: np.random.Generator, n: int, first: int, last: int) -> np.ndarray:
    """``n`` sorted days in [first, last], following the months, weekdays and growth."""
    days = np.arange(first, last + 1)
    month0 = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    weight = MONTH_WEIGHTS[month0] * _WEEKDAY_WEIGHTS[(days + 3) % 7] * (1 + _GROWTH_PER_YEAR * (days - first) / 365.25)
    cdf = np.cumsum(weight)
    picks = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    return np.sort(days[np.minimum(picks, len(days) - 1)])


# ---------------------------------------------------------------------------
# small helpers


def _choice(rng: np.random.Generator, options: Sequence[tuple[object, float]], n: int) -> np.ndarray:
    """``n`` indices into ``options`` drawn by their weights."""
    p = np.array([w for _, w in options], dtype=float)
    return rng.choice(len(options), size=n, p=p / p.sum())


def _objects(values: Sequence[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _codes(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1 … n, as an object array of str (vectorised)."""
    width = max(width, len(str(n)))
    numbers = np.strings.zfill(np.arange(1, n + 1).astype(_S), width)
    return np.strings.add(prefix, numbers).astype(object)


def _join(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise concatenation of string arrays and constants (vectorised)."""
    out = np.asarray(parts[0], dtype=_S) if not isinstance(parts[0], str) else parts[0]
    for part in parts[1:]:
        out = np.strings.add(out, part if isinstance(part, str) else np.asarray(part, dtype=_S))
    return out


def _ascii_letters(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalpha())


def _dates(days: np.ndarray, null: np.ndarray | None = None) -> pd.Series:
    values = days.astype("datetime64[D]").astype("datetime64[s]")
    if null is not None:
        values[null] = np.datetime64("NaT")
    return pd.Series(values, dtype="datetime64[s]")


def _text(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object), dtype=object)


def _frame(table: str, columns: Mapping[str, object]) -> pd.DataFrame:
    """A canonical frame in contract column order."""
    out = {}
    for col in TABLES[table].columns:
        value = columns[col.name]
        if col.type == "date":
            out[col.name] = value if isinstance(value, pd.Series) else _dates(np.asarray(value))
        elif col.type == "bool":
            out[col.name] = pd.Series(np.asarray(value, dtype=bool), dtype=bool)
        elif col.type == "int":
            out[col.name] = pd.Series(np.asarray(value, dtype=np.int64), dtype="int64")
        else:
            out[col.name] = _text(value)
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------
# the organisation and the directory


@dataclass
class _Unit:
    id: str
    name: str
    kind: str
    parent: str | None
    region: int = -1
    agency: int = -1  # index of the agency unit in the unit list
    service: str | None = None
    weight: float = 0.0


@dataclass
class _Person:
    unit: int
    function: str
    validates: bool
    groups: list[str]
    entity: str | None
    active: bool = True


@dataclass
class _Org:
    firm_short: str
    units: list[_Unit] = field(default_factory=list)
    people: list[_Person] = field(default_factory=list)
    groups: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # id → (name, unit ids)
    region_codes: list[str] = field(default_factory=list)
    entities: list[tuple[str, str]] = field(default_factory=list)

    def group(self, gid: str, name: str, unit_ids: list[str]) -> str:
        if gid not in self.groups:
            self.groups[gid] = (name, unit_ids)
        return gid


def _entity_for(service: str | None, known: set[str]) -> str:
    """The legal entity issuing a service's offers: audit, advice and law, or accounting."""
    wanted = {"AUD": "E-AUD", "JUR": "E-CON", "CON": "E-CON"}.get(service or "", "E-EXP")
    return wanted if wanted in known else "E-EXP"


def _build_org(rng: np.random.Generator, size: Size) -> _Org:
    short = FIRMS[int(rng.integers(len(FIRMS)))]
    org = _Org(short)
    org.entities = [("E-EXP", f"{short} Expertise SAS"), ("E-AUD", f"{short} Audit SA"), ("E-CON", f"{short} Conseil SAS")][: size.entities]
    entity_ids = {e for e, _ in org.entities}

    def entity_of(service: str | None) -> str:
        return _entity_for(service, entity_ids)

    def lo_hi(r: tuple[int, int]) -> int:
        return int(rng.integers(r[0], r[1] + 1))

    firm_id = f"F-{_ascii_letters(short).upper()}"
    org.units.append(_Unit(firm_id, f"Cabinet {short} & Associés", "firm", None))
    direction = org.group("G-DIRECTION", "Direction générale", [firm_id])
    direction_conf = org.group("G-DIRECTION-CONF", "Confidentiel – Direction", [firm_id])
    for i in range(size.firm_directors):
        validates = i < 2 or bool(rng.random() < 0.5)
        org.people.append(_Person(0, "director", validates, [direction, direction_conf] if validates else [direction], None))

    for r, (rcode, rname, cities) in enumerate(REGIONS[: size.regions]):
        org.region_codes.append(rcode)
        region_id = f"R-{rcode}"
        r_index = len(org.units)
        org.units.append(_Unit(region_id, rname, "region", firm_id, region=r))
        g_region = org.group(f"G-{rcode}", f"Région {rname}", [region_id])
        g_conf = org.group(f"G-{rcode}-CONF", f"Confidentiel – {rname}", [region_id])
        regional_director_validates = r == 0 or bool(rng.random() < 0.6)
        org.people.append(_Person(r_index, "director", regional_director_validates,
                                  [g_region, g_conf] if regional_director_validates else [], None))
        for _ in range(size.regional_partners):
            org.people.append(_Person(r_index, "partner", True, [g_region, g_conf], "E-EXP"))
        audit_teams: list[str] = []
        n_agencies = min(lo_hi(size.agencies), len(cities))
        for a, (acode, city, weight) in enumerate(cities[:n_agencies]):
            agency_id = f"A-{acode}"
            a_index = len(org.units)
            org.units.append(_Unit(agency_id, city, "agency", region_id, region=r, agency=a_index, weight=weight * 0.08))
            g_agency = f"G-{acode}"
            for p in range(lo_hi(size.agency_partners)):
                u = rng.random()
                entity = "E-AUD" if rng.random() < 0.3 and "E-AUD" in entity_ids else "E-EXP"
                if r == 0 and a == 0 and p == 1:
                    groups: list[str] = []  # a validator without any group: sees his own deals only
                elif p == 0 or u < 0.8:
                    groups = [g_region]
                elif u < 0.92:
                    groups = [org.group(g_agency, f"Agence {city}", [agency_id])]
                else:
                    groups = []
                org.people.append(_Person(a_index, "partner", True, groups, entity, active=p == 0 or rng.random() > 0.03))
            manager_validates = a == 0 or bool(rng.random() < 0.5)
            if manager_validates:
                if a == 0 or rng.random() < 0.7:
                    groups = [org.group(g_agency, f"Agence {city}", [agency_id])]
                else:
                    groups = [g_region]
            else:
                groups = []
            org.people.append(_Person(a_index, "manager", manager_validates, groups, "E-EXP"))
            others = list(_SERVICE_CODES[1:])
            p = np.array([s[2] for s in SERVICES[1:]])
            n_teams = min(lo_hi(size.teams), len(SERVICES))
            services = ["EC", *[others[i] for i in rng.choice(len(others), n_teams - 1, replace=False, p=p / p.sum())]]
            services.sort(key=_SERVICE_CODES.index)
            for service in services:
                sname = next(s[1] for s in SERVICES if s[0] == service)
                sweight = next(s[2] for s in SERVICES if s[0] == service)
                team_id = f"T-{acode}-{service}"
                t_index = len(org.units)
                org.units.append(_Unit(team_id, f"{sname} – {city}", "team", agency_id, region=r, agency=a_index,
                                       service=service, weight=weight * sweight))
                if service == "AUD":
                    audit_teams.append(team_id)
                for _ in range(lo_hi(size.team_managers)):
                    validates = bool(rng.random() < 0.3)
                    groups = []
                    if validates:
                        u = rng.random()
                        if u < 0.6:
                            groups = [g_region]
                        elif u < 0.8 and service == "AUD":
                            groups = [f"G-{rcode}-AUDIT"]
                        elif u < 0.8:
                            groups = [g_region]
                    org.people.append(_Person(t_index, "manager", validates, groups, entity_of(service),
                                              active=rng.random() > 0.04))
                for _ in range(lo_hi(size.staff)):
                    org.people.append(_Person(t_index, "staff", False, [], entity_of(service), active=rng.random() > 0.05))
        if audit_teams:
            org.group(f"G-{rcode}-AUDIT", f"Pôle Audit – {rname}", audit_teams)
    # keep the groups somebody belongs to, and every confidentiality group
    used = {g for person in org.people for g in person.groups}
    org.groups = {g: v for g, v in org.groups.items() if g in used or g.endswith("-CONF")}
    return org


def _names(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """Unique French full names and their logins (``jdupont``, de-duplicated)."""
    full_names: list[str] = []
    logins: list[str] = []
    seen_names: set[str] = set()
    seen_logins: set[str] = set()
    for _ in range(n):  # the directory: a few thousand rows at most
        while True:
            first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
            last = SURNAMES[int(rng.integers(len(SURNAMES)))]
            name = f"{first} {last}"
            if name not in seen_names:
                break
        seen_names.add(name)
        base = _ascii_letters(first)[0] + _ascii_letters(last)
        login, k = base, 1
        while login in seen_logins:
            k += 1
            login = f"{base}{k}"
        seen_logins.add(login)
        full_names.append(name)
        logins.append(login)
    return full_names, logins


# ---------------------------------------------------------------------------
# prospects (company names)


def _company_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` French company names (SARL, SAS, SCI, SELARL…), as a StringDType array."""
    pattern = _choice(rng, [("activity", 0.52), ("family", 0.13), ("place", 0.17), ("sci", 0.11), ("selarl", 0.07)], n)
    surname = np.asarray(SURNAMES, dtype=_S)[rng.integers(len(SURNAMES), size=n)]
    form = np.asarray([f for f, _ in LEGAL_FORMS], dtype=_S)[_choice(rng, LEGAL_FORMS, n)]
    activity = np.asarray(ACTIVITIES, dtype=_S)[rng.integers(len(ACTIVITIES), size=n)]
    family = np.asarray(FAMILY_SUFFIXES, dtype=_S)[rng.integers(len(FAMILY_SUFFIXES), size=n)]
    place = np.asarray(PLACES, dtype=_S)[rng.integers(len(PLACES), size=n)]
    sector = np.asarray(SECTORS, dtype=_S)[rng.integers(len(SECTORS), size=n)]
    sci = np.asarray(SCI_NAMES, dtype=_S)[rng.integers(len(SCI_NAMES), size=n)]
    sci = np.where(rng.random(n) < 0.4, surname, sci)
    profession = np.asarray(PROFESSIONS, dtype=_S)[rng.integers(len(PROFESSIONS), size=n)]
    out = np.empty(n, dtype=_S)
    for code, build in enumerate((
        lambda m: _join(activity[m], " ", surname[m], " ", form[m]),
        lambda m: _join(surname[m], family[m], " ", form[m]),
        lambda m: _join(place[m], " ", sector[m], " ", form[m]),
        lambda m: _join("SCI ", sci[m]),
        lambda m: _join("SELARL ", profession[m], " ", surname[m]),
    )):
        mask = pattern == code
        out[mask] = build(mask)
    return out


# ---------------------------------------------------------------------------
# the generator


def generate(
    size: str = "small",
    seed: int = 42,
    *,
    today: dt.date,
    fiscal_year_start_month: int = 1,
) -> dict[str, pd.DataFrame]:
    """The nine canonical frames of a seeded demo firm (see the module docstring).

    Dates run from the first day of fiscal year N-2 to ``today`` (N contains today).
    Same arguments, same frames.
    """
    if size not in SIZES:
        raise ValueError(f"unknown demo size {size!r}; expected one of {', '.join(SIZES)}")
    if isinstance(today, dt.datetime):
        today = today.date()
    spec = SIZES[size]
    years = covered_fiscal_years(today, fiscal_year_start_month)
    first_day, last_day = _day(years[0][1]), _day(today)
    rng = np.random.default_rng(seed)

    org = _build_org(rng, spec)
    frames = _directory_frames(rng, org)
    n_deals = max(1, round(spec.documents / _DOCS_PER_DEAL))
    frames.update(_business_frames(rng, org, n_deals, first_day, last_day))
    return {name: frames[name] for name in TABLE_ORDER}


def _directory_frames(rng: np.random.Generator, org: _Org) -> dict[str, pd.DataFrame]:
    units = org.units
    people = org.people
    full_names, logins = _names(rng, len(people))
    ids = _codes("C", len(people), 5)
    org_units = _frame("org_units", {
        "id": [u.id for u in units], "name": [u.name for u in units],
        "kind": [u.kind for u in units], "parent_id": _objects([u.parent for u in units]),
    })
    entities = _frame("entities", {"id": [e for e, _ in org.entities], "name": [n for _, n in org.entities]})
    collaborators = _frame("collaborators", {
        "id": ids, "login": logins, "full_name": full_names,
        "function": [p.function for p in people], "unit_id": [units[p.unit].id for p in people],
        "entity_id": _objects([p.entity for p in people]),
        "can_validate_offers": [p.validates for p in people], "active": [p.active for p in people],
        # everyone has an address at the firm's domain (where subscribed reports are sent)
        "email": [f"{login}@{_ascii_letters(org.firm_short)}-associes.fr" for login in logins],
    })
    group_ids = list(org.groups)
    groups = _frame("groups", {"id": group_ids, "name": [org.groups[g][0] for g in group_ids]})
    pairs = [(g, u) for g in group_ids for u in org.groups[g][1]]
    group_units = _frame("group_units", {"group_id": [g for g, _ in pairs], "unit_id": [u for _, u in pairs]})
    members = [(g, ids[i]) for i, p in enumerate(people) for g in p.groups if g in org.groups]
    members.sort()
    group_members = _frame("group_members", {"group_id": [g for g, _ in members], "collaborator_id": [c for _, c in members]})
    return {"org_units": org_units, "entities": entities, "collaborators": collaborators, "groups": groups,
            "group_units": group_units, "group_members": group_members}


def _pools(org: _Org, deal_units: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per deal unit, the candidates for partner, manager and client manager.

    Three ``(table, sizes)`` pairs: ``table`` is a padded 2-D array of collaborator
    indices (row = position in ``deal_units``, unused cells -1), ``sizes`` the number of
    candidates of each row. Repeating a person in a pool weighs the draw towards him.
    """
    by_unit: dict[int, dict[str, list[int]]] = {}
    for i, person in enumerate(org.people):
        by_unit.setdefault(person.unit, {}).setdefault(person.function, []).append(i)
    teams_of: dict[int, list[int]] = {}
    region_unit: dict[int, int] = {}
    for i, unit in enumerate(org.units):
        if unit.kind == "team":
            teams_of.setdefault(unit.agency, []).append(i)
        elif unit.kind == "region":
            region_unit[unit.region] = i

    def people(unit: int, function: str) -> list[int]:
        return by_unit.get(unit, {}).get(function, [])

    partners, managers, clients = [], [], []
    for u in deal_units:
        unit = org.units[u]
        agency = unit.agency
        region = region_unit[unit.region]
        partners.append(people(agency, "partner") * 3 + people(region, "partner"))
        if unit.kind == "team":
            managers.append(people(u, "manager") * 3 + people(agency, "manager"))
            clients.append(people(u, "staff") * 2 + people(u, "manager"))
        else:
            team_list = teams_of.get(agency, [])
            managers.append([m for t in team_list for m in people(t, "manager")] + people(agency, "manager") * 2)
            clients.append([s for t in team_list for s in people(t, "staff")])
    out = []
    for pools in (partners, managers, clients):
        width = max(len(p) for p in pools)
        table = np.full((len(pools), width), -1, dtype=np.int64)
        for row, pool in enumerate(pools):
            table[row, : len(pool)] = pool
        out.append((table, np.array([len(p) for p in pools], dtype=np.int64)))
    return tuple(out)  # type: ignore[return-value]


def _draw(rng: np.random.Generator, pool: tuple[np.ndarray, np.ndarray], rows: np.ndarray) -> np.ndarray:
    table, sizes = pool
    pick = (rng.random(len(rows)) * sizes[rows]).astype(np.int64)
    return np.where(sizes[rows] > 0, table[rows, np.minimum(pick, table.shape[1] - 1)], -1)


def _business_frames(rng: np.random.Generator, org: _Org, n: int, first_day: int, last_day: int) -> dict[str, pd.DataFrame]:
    people_ids = _codes("C", len(org.people), 5)

    # --- deals: when, where, who
    created = _seasonal_days(rng, n, first_day, last_day)
    deal_units = [i for i, u in enumerate(org.units) if u.kind in ("agency", "team")]
    weights = np.array([org.units[i].weight for i in deal_units])
    unit_row = rng.choice(len(deal_units), size=n, p=weights / weights.sum())
    unit_ids = _objects([org.units[i].id for i in deal_units])[unit_row]
    # the service (team kind) of each deal; deals held by an agency get one at random
    unit_service = np.asarray([_SERVICE_CODES.index(s) if (s := org.units[i].service) else -1 for i in deal_units])
    service = unit_service[unit_row]
    service = np.where(service < 0, _choice(rng, [(s, w) for s, _, w in SERVICES], n), service)
    kind_client = rng.random(n) < 0.15

    partner_pool, manager_pool, client_pool = _pools(org, deal_units)
    partner = _draw(rng, partner_pool, unit_row)
    manager = _draw(rng, manager_pool, unit_row)
    client_manager = _draw(rng, client_pool, unit_row)
    partner[rng.random(n) < 0.02] = -1
    manager[rng.random(n) < 0.05] = -1
    client_manager[rng.random(n) < 0.2] = -1

    # confidential deals: a few percent, guarded by their region's group or the direction's
    region_of_deal = np.asarray([org.units[i].region for i in deal_units])[unit_row]
    u = rng.random(n)
    conf_groups = _objects([f"G-{code}-CONF" for code in org.region_codes])
    group = np.full(n, None, dtype=object)
    group[u < 0.03] = conf_groups[region_of_deal[u < 0.03]]
    group[(u >= 0.03) & (u < 0.036)] = "G-DIRECTION-CONF"

    # main mission of each deal, by its service
    main_mission = np.empty(n, dtype=np.int64)
    for s_index, code in enumerate(_SERVICE_CODES):  # five services, vectorised inside
        mask = service == s_index
        mains = SERVICE_MISSIONS[code][0]
        main_mission[mask] = np.asarray([_MISSION_NAMES.index(m) for m, _ in mains])[_choice(rng, mains, int(mask.sum()))]

    # --- documents, one wave per rank within the deal (a refused offer, then a new one…)
    planned = rng.choice(4, size=n, p=[0.12, 0.62, 0.2, 0.06])
    alive = planned > 0
    previous_day = created.copy()
    previous_signed = np.zeros(n, dtype=bool)
    waves = []
    for rank in range(int(planned.max())):
        idx = np.flatnonzero(alive & (planned > rank))
        m = len(idx)
        last = planned[idx] == rank + 1
        outcome_last = _choice(rng, [(0, 0.58), (1, 0.24), (2, 0.10), (3, 0.08)], m)  # signed, refused, cancelled, stale
        outcome_mid = _choice(rng, [(0, 0.15), (1, 0.6), (2, 0.25)], m)
        outcome = np.where(last, outcome_last, outcome_mid)
        gap = _lag(rng, m, 8, 0.9, 0, 120) if rank == 0 else _lag(rng, m, 12, 0.8, 1, 120)
        d_created = _office_days(rng, previous_day[idx] + gap)
        d_sent = _office_days(rng, d_created + _lag(rng, m, 3, 1.0, 0, 45))
        decision_median = np.array([25.0, 35.0, 50.0, 30.0])[outcome]
        decision_lag = np.clip(np.rint(decision_median * np.exp(0.7 * rng.standard_normal(m))), 1, 300).astype(np.int64)
        d_decided = _office_days(rng, d_sent + decision_lag)
        exists = d_created <= last_day
        pending = (d_decided > last_day) | (outcome == 3)
        status = np.where(pending, 3, outcome)  # 3 = in progress from here on
        u = rng.random(m)
        no_sent = (d_sent > last_day) | np.select(
            [status == 3, status == 2], [u < 0.2, u < 0.35], default=u < 0.03)
        if rank == 0:
            doc_type = np.where(kind_client[idx], np.where(rng.random(m) < 0.55, 1, 2), np.where(rng.random(m) < 0.4, 0, 1))
        else:
            doc_type = np.where(previous_signed[idx], 2, np.where(rng.random(m) < 0.7, 1, 0))
        keep = exists
        waves.append({
            "deal": idx[keep], "rank": np.full(int(keep.sum()), rank), "created": d_created[keep],
            "sent": d_sent[keep], "no_sent": no_sent[keep], "decided": d_decided[keep],
            "status": status[keep], "doc_type": doc_type[keep],
        })
        alive[idx] = exists & (status != 3)
        previous_day[idx] = d_decided
        previous_signed[idx] = status == 0

    docs = {k: np.concatenate([w[k] for w in waves]) for k in waves[0]}
    order = np.lexsort((docs["rank"], docs["deal"], docs["created"]))
    docs = {k: v[order] for k, v in docs.items()}
    n_docs = len(order)
    deal_of = docs["deal"]
    d_status = docs["status"]

    # --- deal outcome: abandoned after a refusal, without any offer, or left pending
    per_deal = np.bincount(deal_of, minlength=n)
    is_last = docs["rank"] == per_deal[deal_of] - 1
    last_doc = np.full(n, -1, dtype=np.int64)
    last_doc[deal_of[is_last]] = np.flatnonzero(is_last)
    has_doc = last_doc >= 0
    safe = np.maximum(last_doc, 0)
    last_status = np.where(has_doc, d_status[safe], -1)
    last_decided = np.where(has_doc, docs["decided"][safe], created)
    last_created = np.where(has_doc, docs["created"][safe], created)
    u = rng.random(n)
    refused = (last_status == 1) | (last_status == 2)
    abandon_refused = refused & (u < np.where(kind_client, 0.5, 0.7))
    abandon_without = ~has_doc & (created <= last_day - 60) & (u < 0.75)
    abandon_stale = (last_status == 3) & (last_created <= last_day - 180) & (u < 0.25)
    abandoned_on = np.select(
        [abandon_refused, abandon_without, abandon_stale],
        [last_decided + _lag(rng, n, 10, 0.8, 0, 90), created + _lag(rng, n, 90, 0.6, 14, 400),
         last_created + _lag(rng, n, 150, 0.4, 60, 500)],
        default=created,
    )
    abandoned_on = _office_days(rng, abandoned_on)
    is_abandoned = (abandon_refused | abandon_without | abandon_stale) & (abandoned_on <= last_day)
    reasons = np.full(n, None, dtype=object)
    for mask, options in ((refused, ABANDON_AFTER_REFUSAL), (~has_doc, ABANDON_WITHOUT_OFFER), (last_status == 3, ABANDON_STALE)):
        sel = is_abandoned & mask
        reasons[sel] = _objects([r for r, _ in options])[_choice(rng, options, int(sel.sum()))]

    # --- names
    prospect = _company_names(rng, n)
    mission_names = np.asarray(_MISSION_NAMES, dtype=_S)
    deal_name = np.where(kind_client, _join(prospect, " – ", mission_names[main_mission], ", mission complémentaire"),
                         _join(prospect, " – ", mission_names[main_mission]))
    deal_ids = _codes("D", n, 6)

    def collaborator(index: np.ndarray) -> np.ndarray:
        out = people_ids[np.maximum(index, 0)]
        out[index < 0] = None
        return out

    deals = _frame("deals", {
        "id": deal_ids, "name": deal_name, "kind": _objects(["prospect", "client"])[kind_client.astype(np.int64)],
        "prospect_name": prospect, "unit_id": unit_ids, "partner_id": collaborator(partner),
        "manager_id": collaborator(manager), "client_manager_id": collaborator(client_manager), "group_id": group,
        "status": _objects(["open", "abandoned"])[is_abandoned.astype(np.int64)], "created_on": _dates(created),
        "abandoned_on": _dates(np.where(is_abandoned, abandoned_on, created), ~is_abandoned), "abandon_reason": reasons,
    })

    # --- documents: type, template, title, signatory, entity
    doc_type = docs["doc_type"]
    doc_service = service[deal_of]
    doc_mission = main_mission[deal_of]
    options = [[TEMPLATES.get((t, m), _DEFAULT_AVENANTS if t == "Avenant" else ()) for m in _MISSION_NAMES] for t in DOC_TYPES]
    width = max(len(x) for row in options for x in row)
    templates = np.full((len(DOC_TYPES), len(_MISSION_NAMES), width), None, dtype=object)
    counts = np.zeros((len(DOC_TYPES), len(_MISSION_NAMES)), dtype=np.int64)
    for t, row in enumerate(options):
        for m, names in enumerate(row):
            templates[t, m, : len(names)] = names
            counts[t, m] = len(names)
    pick = (rng.random(n_docs) * counts[doc_type, doc_mission]).astype(np.int64)
    template = templates[doc_type, doc_mission, pick]
    template[rng.random(n_docs) < 0.05] = None
    title = _join(np.asarray(_TITLE_PREFIX, dtype=_S)[doc_type], " ", mission_names[doc_mission], " – ", prospect[deal_of]).astype(object)
    title[rng.random(n_docs) < 0.08] = None

    u = rng.random(n_docs)
    signatory = np.where(u < 0.8, partner[deal_of], _draw(rng, partner_pool, unit_row[deal_of]))
    signatory = np.where(signatory < 0, _draw(rng, partner_pool, unit_row[deal_of]), signatory)
    signatory[u > 0.97] = -1
    known_entities = {e for e, _ in org.entities}
    entity_codes = _objects([_entity_for(s, known_entities) for s in _SERVICE_CODES])
    entity = entity_codes[doc_service]
    entity[rng.random(n_docs) < 0.03] = None

    status_names = _objects(["signed", "refused", "cancelled", "in_progress"])
    decided_null = d_status == 3
    documents = _frame("documents", {
        "id": _codes("DOC", n_docs, 7), "deal_id": deal_ids[deal_of], "doc_type": _objects(DOC_TYPES)[doc_type],
        "template": template, "title": title, "status": status_names[d_status],
        "created_on": _dates(docs["created"]), "sent_on": _dates(np.minimum(docs["sent"], last_day), docs["no_sent"]),
        "decided_on": _dates(np.minimum(docs["decided"], last_day), decided_null),
        "signatory_id": collaborator(signatory), "entity_id": entity,
    })

    # --- fee lines: the deal's main mission first, then companion missions
    n_lines = np.where(doc_type == 2, _choice(rng, [(1, 0.7), (2, 0.3)], n_docs) + 1,
                       _choice(rng, [(1, 0.4), (2, 0.32), (3, 0.18), (4, 0.10)], n_docs) + 1)
    line_doc = np.repeat(np.arange(n_docs), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_no = np.arange(len(line_doc)) - np.repeat(starts, n_lines) + 1
    companions = [SERVICE_MISSIONS[s][1] for s in _SERVICE_CODES]
    comp_table = np.zeros((len(_SERVICE_CODES), max(len(c) for c in companions)), dtype=np.int64)
    comp_count = np.array([len(c) for c in companions])
    for s, options in enumerate(companions):
        comp_table[s, : len(options)] = [_MISSION_NAMES.index(m) for m in options]
    rotation = rng.integers(0, 1 << 30, n_docs)[line_doc]
    line_service = doc_service[line_doc]
    companion = comp_table[line_service, (rotation + line_no - 2) % comp_count[line_service]]
    mission = np.where(line_no == 1, main_mission[deal_of[line_doc]], companion)
    billing_of = np.asarray([MISSIONS[m][0] for m in _MISSION_NAMES], dtype=object)
    low = np.log(np.asarray([MISSIONS[m][1] for m in _MISSION_NAMES], dtype=float))
    high = np.log(np.asarray([MISSIONS[m][2] for m in _MISSION_NAMES], dtype=float))
    euros = np.exp(low[mission] + (high[mission] - low[mission]) * rng.beta(1.6, 2.6, len(line_doc)))
    euros = np.where(doc_type[line_doc] == 2, np.maximum(euros * rng.uniform(0.15, 0.5, len(line_doc)), 200), euros)
    step = np.where(rng.random(len(line_doc)) < 0.75, 10, 1)
    cents = (np.rint(euros / step) * step).astype(np.int64) * 100
    document_lines = _frame("document_lines", {
        "document_id": documents["id"].to_numpy()[line_doc], "line_no": line_no,
        "mission": _objects(_MISSION_NAMES)[mission], "billing": billing_of[mission], "amount_cents": cents,
    })
    return {"deals": deals, "documents": documents, "document_lines": document_lines}


# ---------------------------------------------------------------------------
# logins to try


def demo_logins(
    frames: Mapping[str, pd.DataFrame], function_caps: Mapping[str, str | None] | None = None
) -> list[dict]:
    """A few logins worth trying, one per function, with and without the right to validate.

    In order: a firm-level director with the widest perimeter, a regional partner, an
    agency manager who validates offers, a partner who validates but belongs to no
    group, a manager without the right, a staff member (those the frames hold).
    Among the candidates of each kind, the active one in the team of the most deals is
    chosen (ties: the lowest id), so that "Mes affaires" is not empty.

    Each is a dict: ``login``, ``full_name``, ``function``, ``unit_id``, ``unit_name``,
    ``can_validate_offers``, ``groups`` (group names), ``deals_in_team``,
    ``perimeter`` (names of the top units of the perimeter, computed by
    :mod:`prospects.scoping` with ``function_caps``) and ``what`` (what to expect).
    """
    from .config import DEFAULT_FUNCTION_CAPS
    from .scoping import build_directory, resolve_viewer

    caps = DEFAULT_FUNCTION_CAPS if function_caps is None else function_caps
    people = frames["collaborators"]
    units = frames["org_units"].set_index("id")
    members = frames["group_members"]
    group_names = frames["groups"].set_index("id")["name"]
    deals = frames["deals"]
    team_counts = pd.concat([deals["partner_id"], deals["manager_id"], deals["client_manager_id"]]).dropna().value_counts()
    groups_of = members.groupby("collaborator_id")["group_id"].agg(list)
    directory = build_directory(frames)

    kind = people["unit_id"].map(units["kind"])
    in_group = people["id"].isin(members["collaborator_id"])
    validates = people["can_validate_offers"]
    function = people["function"]
    wanted = [
        ((function == "director") & (kind == "firm") & validates & in_group, "the whole firm, with the filters"),
        ((function == "partner") & (kind == "region") & validates & in_group, "their region, with the filters"),
        ((function == "manager") & (kind == "agency") & validates & in_group, "their agency, with the filters"),
        ((function == "partner") & validates & ~in_group, "validates but in no group: own deals only"),
        ((function == "manager") & ~validates, "no right to validate: own deals only, no filters"),
        ((function == "staff"), "own deals only, no filters"),
    ]
    out: list[dict] = []
    for mask, what in wanted:
        candidates = people[mask & people["active"]]
        if candidates.empty:
            continue
        score = candidates["id"].map(team_counts).fillna(0).astype("int64").to_numpy()
        ranked = candidates.assign(_n=-score).sort_values(["_n", "id"], kind="stable")
        viewers = [resolve_viewer(directory, login, caps) for login in ranked["login"].head(50)]
        if what.startswith("the whole firm"):  # the widest perimeter wins
            best_viewer = max(viewers, key=lambda v: len(v.perimeter))
        else:
            best_viewer = viewers[0]
        best = ranked[ranked["login"] == best_viewer.login].iloc[0]
        perimeter = best_viewer.perimeter
        tops = sorted(u for u in perimeter if units.at[u, "parent_id"] not in perimeter)
        out.append({
            "login": best["login"],
            "full_name": best["full_name"],
            "function": best["function"],
            "unit_id": best["unit_id"],
            "unit_name": units.at[best["unit_id"], "name"],
            "can_validate_offers": bool(best["can_validate_offers"]),
            "groups": [group_names.get(g, g) for g in groups_of.get(best["id"], [])],
            "deals_in_team": int(team_counts.get(best["id"], 0)),
            "perimeter": [units.at[u, "name"] for u in tops],
            "what": what,
        })
    return out


# ---------------------------------------------------------------------------
# the command


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


#: ``extract_info.source`` of a demo (what :func:`run_demo_command` records).
DEMO_SOURCE = re.compile(r"demo size=(?:small|medium|large) seed=\d+")


def holds_demo(info: Mapping[str, str]) -> bool:
    """Whether an extract's ``extract_info`` says it is a demo (its ``source``, as ``demo`` records it).

    A load records its folder (an absolute path) and an import ``import <mapping>``: never
    this form, whatever the folder is called.
    """
    return DEMO_SOURCE.fullmatch(str(info.get("source", ""))) is not None


def firm_data_refusal(info: Mapping[str, str], counts: Mapping[str, int]) -> str | None:
    """Why ``demo`` may not replace this content (``None``: a demo, or no row at all)."""
    if holds_demo(info) or not any(counts.values()):
        return None
    source = shown(info.get("source") or "unknown source", 200)
    loaded = f", loaded {info['loaded_at']}" if info.get("loaded_at") else ""
    return (f"this database holds a firm's own data ({source}{loaded}; {counts.get('deals', 0):,} deals, "
            f"{counts.get('documents', 0):,} documents): `demo` replaces only a demo or an empty database; "
            "the database is unchanged (--replace-firm-data replaces it with the demo anyway)")


def run_demo_command(settings: Settings, size: str = "small", seed: int = 42, *, allow_shrink: bool = False,
                     replace_firm_data: bool = False) -> int:
    """``prospects demo``: create the schema and replace the whole content with a demo firm.

    A database holding a demo (:func:`holds_demo`), or no row at all, is replaced freely.
    One holding anything else — a firm's own data, loaded or imported — is refused
    (:func:`firm_data_refusal`, checked in the replacing transaction) unless
    ``replace_firm_data``; that replacement then still obeys the shrink rule
    (``allow_shrink``, :func:`prospects.db.replace_all`).

    Progress goes to stderr for medium and large; the summary (counts per table, fiscal
    years covered, database URL without password) and the logins to try to stdout.
    """
    import sqlalchemy as sa

    from . import db, store

    verbose = size != "small"

    def progress(message: str) -> None:
        if verbose:
            print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    progress(f"demo: generating the {size} firm (seed {seed}, today {settings.today})…")
    frames = generate(size, seed, today=settings.today, fiscal_year_start_month=settings.fiscal_year_start_month)
    progress(f"demo: generated {sum(len(f) for f in frames.values()):,} rows in {time.perf_counter() - started:.1f} s")

    engine = db.make_engine(settings.db_url)
    db.create_schema(engine)
    write_start = time.perf_counter()

    def on_table(name: str) -> None:
        progress(f"demo: writing {name} ({len(frames[name]):,} rows) at {time.perf_counter() - write_start:.1f} s…")

    info = {
        "source": f"demo size={size} seed={seed}",
        "demo_today": settings.today.isoformat(),
        "fiscal_year_start_month": str(settings.fiscal_year_start_month),
    }
    replaces_a_demo = holds_demo(db.read_extract_info(engine))  # a demo replaces a demo whatever their sizes
    _, store_note = store.replace_content(engine, frames, info, settings=settings, on_table=on_table, progress=progress,
                                          allow_shrink=allow_shrink or replaces_a_demo,
                                          replaceable=None if replace_firm_data else firm_data_refusal)
    progress(f"demo: written in {time.perf_counter() - write_start:.1f} s (database and figure store)")
    if store_note:
        print(f"prospects: {store_note}", file=sys.stderr)
    engine.dispose()

    firm = frames["org_units"].loc[frames["org_units"]["kind"] == "firm", "name"].iloc[0]
    url = sa.engine.make_url(settings.db_url).render_as_string(hide_password=True)
    print(f"Demo firm: {firm} (size {size}, seed {seed})")
    print(f"Database:  {url}")
    years = covered_fiscal_years(settings.today, settings.fiscal_year_start_month)
    print("Fiscal years: " + ", ".join(f"FY {label} ({start:%d/%m/%Y} – {min(end, settings.today):%d/%m/%Y})" for label, start, end in years))
    print()
    print(_table([[name, f"{len(frames[name]):,}"] for name in TABLE_ORDER], ["table", "rows"]))
    print()
    print("Logins to try (e.g. `prospects indicators --user LOGIN`, `prospects serve --user LOGIN`):")
    rows = [[x["login"], x["full_name"], x["function"], f"{x['unit_name']} ({x['unit_id']})",
             "yes" if x["can_validate_offers"] else "no", ", ".join(x["perimeter"]) or "-",
             f"{x['deals_in_team']:,}", x["what"]] for x in demo_logins(frames, settings.function_caps)]
    print(_table(rows, ["login", "name", "function", "home unit", "validates", "perimeter", "deals in team", "sees"]))
    return 0
