"""The indicator table and the drill-downs as rows of labels and formatted values, for every front end.

The CLI, the dashboard and the reports all show the same table: this module turns
:class:`~prospects.figures.Figures` into labelled rows (current and N-1 at the same
date) in the locale's formats, with each figure's definition from the dictionary.
:func:`cell_text` and :func:`drill_table` show a drill-down's values as people read
them (the dashboard's table, the CLI's), in the on-screen column order.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from . import cents, i18n
from .dictionary import definition
from .drilldown import DATE_COLUMNS, MONEY_COLUMNS, STATUS_COLUMNS, display_columns
from .figures import Figures
from .scoping import Directory


def _value(figs: Figures, code: str, part: str | None, locale: str) -> str:
    v = figs.indicators[code]
    if part is not None:
        return i18n.money(v[part], locale)
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
    """Rows: code, part, label, value, previous, definition (formatted for ``locale``)."""
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
                "value": _value(figs, code, part, locale),
                "previous": _value(figs.previous, code, part, locale) if figs.previous else "",
                "definition": definition(code, locale),
            }
        )
    return pd.DataFrame(rows, dtype=object)  # object: "part" keeps None (no NaN)


def beside_table(figs: Figures, locale: str = "fr") -> pd.DataFrame:
    """The figures shown beside the table: converted prospects, win rates, median days to sign."""
    ind, prev = figs.indicators, (figs.previous.indicators if figs.previous else None)
    lines = [
        ("converted_prospects", i18n.number(ind["converted_prospects"], locale),
         i18n.number(prev["converted_prospects"], locale) if prev else ""),
        ("win_rate.by_count", i18n.percent(ind["win_rate"]["by_count"], locale),
         i18n.percent(prev["win_rate"]["by_count"], locale) if prev else ""),
        ("win_rate.by_value", i18n.percent(ind["win_rate"]["by_value"], locale),
         i18n.percent(prev["win_rate"]["by_value"], locale) if prev else ""),
        ("median_days_to_sign", i18n.days(ind["median_days_to_sign"], locale),
         i18n.days(prev["median_days_to_sign"], locale) if prev else ""),
    ]
    return pd.DataFrame(
        [{"code": c, "label": i18n.label(c, locale), "value": v, "previous": p, "definition": definition(c, locale)} for c, v, p in lines]
    )


def ageing_table(figs: Figures, locale: str = "fr") -> pd.DataFrame:
    """Offers in progress by age: bucket, count, total fees (formatted)."""
    a = figs.ageing
    return pd.DataFrame(
        {
            "bucket": [f"{b} {i18n.label('days', locale)}" for b in a["bucket"]],
            "offers": [i18n.number(v, locale) for v in a["offers"]],
            "total": [i18n.money(v, locale) for v in a["total"]],
        }
    )


def monthly_table(figs: Figures, locale: str = "fr") -> pd.DataFrame:
    """The chart's data, formatted: month, won prospects, recurring, one-off, total."""
    m = figs.monthly
    return pd.DataFrame(
        {
            "month": [i18n.month(x, locale) for x in m["month"]],
            "won_prospects": [i18n.number(v, locale) for v in m["won_prospects"]],
            "recurring": [i18n.money(v, locale) for v in m["recurring"]],
            "one_off": [i18n.money(v, locale) for v in m["one_off"]],
            "total": [i18n.money(v, locale) for v in m["total"]],
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


def scope_label(directory: Directory, unit: str | None, collaborator: str | None, locale: str = "fr") -> str:
    """What the figures cover, as shown to people: unit and/or collaborator names, else "Mes affaires"."""
    parts = []
    if unit:
        parts.append(str(directory.units.at[unit, "name"]))
    if collaborator:
        cid = directory.login_to_id(collaborator)
        parts.append(str(directory.collaborators.at[cid, "full_name"]) if cid else collaborator)
    return " · ".join(parts) or i18n.label("mine", locale)


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
def cell_text(column: str, value: Any, locale: str = "fr") -> str:
    """One value of a drill-down as shown: amounts in euros, counts grouped, dates and statuses
    in the locale, the lines as ``mission (récurrent) 12 000 €; …``, nothing for an empty value."""
    if column == "lines":
        names = i18n.STATUS_LABELS[locale]
        return "; ".join(
            f"{ln['mission']} ({names[ln['billing']].lower()}) {i18n.money(ln['amount_cents'], locale)}" for ln in value
        )
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column in MONEY_COLUMNS:
        return i18n.money(value, locale)
    if column == "documents":
        return i18n.number(value, locale)
    if column in DATE_COLUMNS:
        return i18n.date(pd.Timestamp(value), locale)
    if column in STATUS_COLUMNS:
        return i18n.STATUS_LABELS[locale].get(value, value)
    return str(value)


def drill_table(frame: pd.DataFrame, by: str, locale: str = "fr") -> pd.DataFrame:
    """A drill-down frame as text: the on-screen column order, the locale's headers and values."""
    cols = display_columns(by, present=list(frame.columns))
    labels = i18n.COLUMN_LABELS[locale]
    return pd.DataFrame({labels[c]: [cell_text(c, v, locale) for v in frame[c]] for c in cols}, dtype=object)
