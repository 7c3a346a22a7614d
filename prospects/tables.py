"""The indicator table and the drill-downs as rows of labels and formatted values, for every front end.

The CLI, the dashboard and the reports all show the same table: this module turns
:class:`~prospects.figures.Figures` into labelled rows (current and N-1 at the same
date, and the change between them: :func:`change`) in the locale's formats, with each
figure's definition from the dictionary. :func:`cell_text` and :func:`drill_table` show a
drill-down's values as people read them (the dashboard's table, the CLI's), in the
on-screen column order.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from . import cents, i18n
from .dictionary import definition
from .drilldown import DATE_COLUMNS, MONEY_COLUMNS, STATUS_COLUMNS, display_columns
from .figures import Figures
from .scoping import Directory

MINUS = "\u2212"
#: Whether a rise of a figure is good news (True), bad news (False) or neither (None): the tone
#: of its change against N-1 (shown with an arrow and words too, never by colour alone).
GOOD_WHEN_UP: dict[str, bool | None] = {
    "prospects_without_document": None,
    "offers_in_progress": True,
    "potential_fees": True,
    "signed_offers": True,
    "signed_budget": True,
    "refused_offers": False,
    "abandoned_prospects": False,
    "converted_prospects": True,
    "win_rate.by_count": True,
    "win_rate.by_value": True,
    "median_days_to_sign": False,
}


@dataclass(frozen=True)
class Change:
    """A figure's change against N-1, as shown: ``+300 %`` ▲ "en hausse"."""

    direction: str  # "up", "down", "flat" or "ns" (not significant: no N-1 or N-1 is zero)
    text: str  # "+300 %", "−50 %", "0 %", "+5 pts", "n.s."
    arrow: str  # "▲", "▼", "=" or ""
    words: str  # "en hausse", "en baisse", "stable", "non significatif : N-1 nul"
    tone: str  # "better", "worse" or "neutral"


def _rounded(value: Decimal) -> int:
    """Rounded to a whole number, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def change(current: float | None, previous: float | None, locale: str = "fr", *, points: bool = False,
           lower_is_better: bool | None = False) -> Change:
    """The change from ``previous`` (N-1 at the same date) to ``current``.

    In percent of N-1 (``n.s.`` when N-1 is 0 or missing), or with ``points`` in percentage
    points between two rates (0–1). ``lower_is_better`` gives the tone: a rise is worse
    news (True), better news (False) or neither (None).
    """
    lab = i18n.LABELS[locale]
    sep = i18n.NNBSP if locale == "fr" else ("" if not points else " ")
    if current is None or previous is None or pd.isna(current) or pd.isna(previous) or (not points and previous == 0):
        return Change("ns", lab["change_ns_short"], "", lab["change_ns"], "neutral")
    diff = Decimal(str(current)) - Decimal(str(previous))
    amount = _rounded(diff * 100) if points else _rounded(diff * 100 / Decimal(str(previous)))
    unit = lab["points"] if points else "%"
    if amount == 0:
        return Change("flat", f"0{sep}{unit}", "=", lab["change_flat"], "neutral")
    up = amount > 0
    sign = "+" if up else MINUS
    number = i18n.number(abs(amount), locale)
    tone = "neutral" if lower_is_better is None else ("better" if up != lower_is_better else "worse")
    return Change("up" if up else "down", f"{sign}{number}{sep}{unit}", "▲" if up else "▼",
                  lab["change_up" if up else "change_down"], tone)


def _lower_is_better(code: str) -> bool | None:
    good = GOOD_WHEN_UP.get(code)
    return None if good is None else not good


def _change(figs: Figures, code: str, part: str | None, locale: str) -> Change:
    now = figs.indicators[code]
    then = figs.previous.indicators[code] if figs.previous else None
    if part is not None:
        now, then = now[part], (then[part] if then is not None else None)
    return change(now, then, locale, lower_is_better=_lower_is_better(code))


def _value(figs: Figures, code: str, part: str | None, locale: str, currency: str) -> str:
    v = figs.indicators[code]
    if part is not None:
        return i18n.money(v[part], locale, currency)
    return i18n.number(v, locale)


#: (code, part) of each line of the table; ``part`` picks a fee column.
TABLE_LINES = (
    ("prospects_without_document", None),
    ("offers_in_progress", None),
    ("potential_fees", "total"),
    ("signed_offers", None),
    ("signed_budget", "total"),
    ("signed_budget", "recurring"),
    ("signed_budget", "one_off"),
    ("refused_offers", None),
    ("abandoned_prospects", None),
)


def indicator_table(figs: Figures, locale: str = "fr") -> pd.DataFrame:
    """Rows: code, part, label, value, previous, change (a :class:`Change`), definition (formatted for
    ``locale``, amounts in the figures' currency)."""
    cur = figs.currency
    rows = []
    for code, part in TABLE_LINES:
        text = i18n.label(code, locale)
        if part in ("recurring", "one_off"):
            text = f"  {i18n.label(code, locale)} {i18n.label(part, locale)}"
        rows.append(
            {
                "code": code,
                "part": part,
                "label": text,
                "value": _value(figs, code, part, locale, cur),
                "previous": _value(figs.previous, code, part, locale, cur) if figs.previous else "",
                "change": _change(figs, code, part, locale),
                "definition": definition(code, locale),
            }
        )
    return pd.DataFrame(rows, dtype=object)  # object: "part" keeps None (no NaN)


def beside_table(figs: Figures, locale: str = "fr") -> pd.DataFrame:
    """The figures shown beside the table: converted prospects, win rates, median days to sign
    (code, label, value, previous, change, definition)."""
    ind, prev = figs.indicators, (figs.previous.indicators if figs.previous else None)
    rates = {
        c: (ind["win_rate"][c.split(".")[1]], prev["win_rate"][c.split(".")[1]] if prev else None)
        for c in ("win_rate.by_count", "win_rate.by_value")
    }
    lines = [
        ("converted_prospects", i18n.number(ind["converted_prospects"], locale),
         i18n.number(prev["converted_prospects"], locale) if prev else "",
         change(ind["converted_prospects"], prev["converted_prospects"] if prev else None, locale,
                lower_is_better=_lower_is_better("converted_prospects"))),
        *[(c, i18n.percent(now, locale), i18n.percent(then, locale) if prev else "",
           change(now, then, locale, points=True, lower_is_better=_lower_is_better(c))) for c, (now, then) in rates.items()],
        ("median_days_to_sign", i18n.days(ind["median_days_to_sign"], locale),
         i18n.days(prev["median_days_to_sign"], locale) if prev else "",
         change(ind["median_days_to_sign"], prev["median_days_to_sign"] if prev else None, locale,
                lower_is_better=_lower_is_better("median_days_to_sign"))),
    ]
    return pd.DataFrame(
        [{"code": c, "label": i18n.label(c, locale), "value": v, "previous": p, "change": ch,
          "definition": definition(c, locale)} for c, v, p, ch in lines]
    )


def ageing_table(figs: Figures, locale: str = "fr") -> pd.DataFrame:
    """Offers in progress by age: bucket, count, total fees (formatted)."""
    a = figs.ageing
    return pd.DataFrame(
        {
            "bucket": [f"{b} {i18n.label('days', locale)}" for b in a["bucket"]],
            "offers": [i18n.number(v, locale) for v in a["offers"]],
            "total": [i18n.money(v, locale, figs.currency) for v in a["total"]],
        }
    )


def monthly_table(figs: Figures, locale: str = "fr") -> pd.DataFrame:
    """The chart's data, formatted: month, won prospects, recurring, one-off, total."""
    m = figs.monthly
    return pd.DataFrame(
        {
            "month": [i18n.month(x, locale) for x in m["month"]],
            "won_prospects": [i18n.number(v, locale) for v in m["won_prospects"]],
            "recurring": [i18n.money(v, locale, figs.currency) for v in m["recurring"]],
            "one_off": [i18n.money(v, locale, figs.currency) for v in m["one_off"]],
            "total": [i18n.money(v, locale, figs.currency) for v in m["total"]],
        }
    )


def monthly_totals(figs: Figures) -> dict[str, int]:
    """The chart's months added up, exactly (cents): they equal the converted prospects and the signed budget."""
    m = figs.monthly
    return {c: cents.total(m[c].to_numpy()) for c in ("won_prospects", "recurring", "one_off", "total")}


def ageing_totals(figs: Figures) -> dict[str, int]:
    """The ageing buckets added up, exactly (cents): they equal the offers in progress and the potential fees."""
    a = figs.ageing
    return {c: cents.total(a[c].to_numpy()) for c in ("offers", "recurring", "one_off", "total")}


def scope_words(unit_names: Sequence[str], person: str | None, locale: str = "fr") -> str:
    """What figures cover, as shown to people: the units' names (``A + B``) and/or the person, else "Mes affaires"."""
    parts = [" + ".join(unit_names)] if unit_names else []
    if person:
        parts.append(person)
    return " · ".join(parts) or i18n.label("mine", locale)


def scope_label(directory: Directory, unit: str | None, collaborator: str | None, locale: str = "fr") -> str:
    """:func:`scope_words` of a unit id and/or a collaborator's login, named from ``directory``."""
    names = [str(directory.units.at[unit, "name"])] if unit else []
    person = None
    if collaborator:
        cid = directory.login_to_id(collaborator)
        person = str(directory.collaborators.at[cid, "full_name"]) if cid else collaborator
    return scope_words(names, person, locale)


def figures_html(figs: Figures) -> str:
    """The indicator table of ``figs`` in the figures' language, for Jupyter (escaped)."""
    loc = figs.locale
    rows = pd.concat([indicator_table(figs, loc)[["label", "value", "previous"]],
                      beside_table(figs, loc)[["label", "value", "previous"]]], ignore_index=True)
    p = figs.period
    head = [i18n.label("table", loc), f"{i18n.label('fiscal_year', loc)} {p.fiscal_year}",
            f"{i18n.date(p.start, loc)} → {i18n.date(p.as_of, loc)}"]
    prev_head = i18n.label("previous", loc)
    if figs.previous is not None:
        prev_head += f" ({i18n.date(figs.previous.period.as_of, loc)})"
    rows.columns = ["", f"{i18n.label('fiscal_year', loc)} {p.fiscal_year}", prev_head]
    caption = html.escape(" · ".join(head) + (f" — {figs.scope}" if figs.scope is not None else ""))
    return f'<div class="prospects-figures"><p>{caption}</p>{rows.to_html(index=False, escape=True, border=0)}</div>'
def cell_text(column: str, value: Any, locale: str, currency: str) -> str:
    """One value of a drill-down as shown: amounts in the firm's ``currency``, counts grouped, dates and statuses
    in the locale, the lines as ``mission (récurrent) 12 000 €; …``, nothing for an empty value."""
    if column == "lines":
        names = i18n.STATUS_LABELS[locale]
        return "; ".join(
            f"{ln['mission']} ({names[ln['billing']].lower()}) {i18n.money(ln['amount_cents'], locale, currency)}" for ln in value
        )
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column in MONEY_COLUMNS:
        return i18n.money(value, locale, currency)
    if column == "documents":
        return i18n.number(value, locale)
    if column in DATE_COLUMNS:
        return i18n.date(pd.Timestamp(value), locale)
    if column in STATUS_COLUMNS:
        return i18n.STATUS_LABELS[locale].get(value, value)
    return str(value)


def drill_table(frame: pd.DataFrame, by: str, locale: str, currency: str) -> pd.DataFrame:
    """A drill-down frame as text: the on-screen column order, the locale's headers and values (amounts in ``currency``)."""
    cols = display_columns(by, present=list(frame.columns))
    labels = i18n.column_labels(locale, currency)
    return pd.DataFrame({labels[c]: [cell_text(c, v, locale, currency) for v in frame[c]] for c in cols}, dtype=object)
