"""Drill-down exports: JSON records, CSV and Excel with the locale's column headers.

The same rows as the drill-down, in the order asked (``order``: row positions, such as
:meth:`prospects.drilldown.Rows.order` gives for the dashboard's current sort) and with
the columns in the order shown on screen (:func:`prospects.drilldown.display_columns`);
amounts converted exactly from minor units (the ``_cents`` columns) to the firm's currency
(setting ``currency``; every function takes it from its caller).

* CSV: French uses ``;``, a decimal comma in every amount (the lines' included) and a
  UTF-8 BOM (what French Excel opens directly); English uses ``,`` and a decimal point.
  Amounts have the currency's decimals (two for EUR, USD, CHF; none for JPY); dates are ISO
  (``2026-03-15``); the headers name the currency's symbol (``Total ($US)``).
* Excel (XlsxWriter, constant memory): dates are date cells (``dd/mm/yyyy`` in French),
  amounts number cells with the currency's format in the locale (:func:`prospects.i18n.excel_money_format`; Excel
  shows its own separators), a frozen header row, filters on, widths from the content;
  statuses and billing in the viewer's language (*Signée*, *Récurrent*…); the lines on
  a second sheet; an optional *À propos* sheet says which figure, when and what the
  amounts are (:func:`about_rows`).

The files cannot attack their reader (CSV/formula injection): a deal, prospect or
document text such as ``=HYPERLINK(…)`` is written as text, never as a formula. In Excel
workbooks every text cell is a string cell (those that look like a formula also carry
Excel's "quote prefix", so editing them keeps them text); in CSV a text cell starting
with ``= + - @``, a tab or a carriage return gets a leading ``'`` (OWASP's advice).
Numbers stay numbers (a negative amount is a number cell, not text). The canonical
extract (``prospects export``) is the one exception: it must round-trip byte for byte
(load → export → load), so it writes values verbatim and is not meant for a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import files, i18n
from .drilldown import (
    DATE_COLUMNS,
    MONEY_COLUMNS,
    STATUS_COLUMNS,
    columns,
    display_columns,
    footer_words,
)
from .fiscal import Period
from .i18n import STATUS_LABELS, column_labels, major, major_json

#: Excel number formats of a date (an amount's: :func:`prospects.i18n.excel_money_format`).
DATE_FORMAT = {"fr": "dd/mm/yyyy", "en": "yyyy-mm-dd"}
#: Sheet names.
SHEETS = {
    "fr": {"deal": "Par affaire", "document": "Par document", "lines": "Lignes", "about": "À propos"},
    "en": {"deal": "By deal", "document": "By document", "lines": "Lines", "about": "About"},
}
LINE_HEADS = {"fr": ("Id document", "Mission", "Nature", "Montant ({symbol})"),
              "en": ("Document id", "Mission", "Billing", "Amount ({symbol})")}
#: Column widths in characters: at least, at most, and how many rows are measured.
MIN_WIDTH, MAX_WIDTH, MEASURED_ROWS = 8, 60, 2000


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _columns(frame: pd.DataFrame, by: str) -> list[str]:
    """The view's columns the frame has (a prospect without document adds its history), in docs/metrics.md's order."""
    every = columns(by, "prospects_without_document")
    return [c for c in every if c in frame]


def _ordered(frame: pd.DataFrame, order: Sequence[int] | np.ndarray | None) -> pd.DataFrame:
    """The frame's rows in ``order`` (row positions), or as they are."""
    if order is None:
        return frame
    return frame.iloc[np.asarray(order, dtype=np.int64)].reset_index(drop=True)


def records(frame: pd.DataFrame, by: str, currency: str) -> list[dict[str, Any]]:
    """JSON-ready rows: amounts as numbers of ``currency`` (exact from minor units), dates ISO, ``lines`` likewise."""
    cols = [*_columns(frame, by), *(["lines"] if "lines" in frame else [])]
    out = []
    for row in frame[cols].to_dict("records"):
        for c in MONEY_COLUMNS:
            row[c] = major_json(row[c], currency)
        for c in DATE_COLUMNS:
            if c in row:
                row[c] = _iso(row[c])
        if "documents" in row:
            row["documents"] = int(row["documents"])
        if "lines" in row:
            row["lines"] = [
                {"mission": ln["mission"], "billing": ln["billing"], "amount": major_json(ln["amount_cents"], currency)}
                for ln in row["lines"]
            ]
        out.append(row)
    return out


def _amount_text(cents: int, locale: str, currency: str) -> str:
    """An amount of a text cell (the lines): exact, the currency's decimals, the locale's decimal mark."""
    value = str(major(cents, currency))
    return value.replace(".", ",") if locale == "fr" else value


def table(frame: pd.DataFrame, by: str, locale: str = "fr", *, currency: str,
          order: Sequence[int] | np.ndarray | None = None) -> pd.DataFrame:
    """The drill-down as exported: on-screen column order, the locale's headers and statuses,
    amounts in ``currency`` (Decimal-exact, as floats), dates as ``datetime64`` (NaT when empty), rows in ``order``.

    A ``lines`` column becomes one text per document: ``mission (récurrent) 12000,00; …``.
    """
    frame = _ordered(frame, order)
    cols = display_columns(by, present=[*_columns(frame, by), *(["lines"] if "lines" in frame else [])])
    out = frame[[c for c in cols if c != "lines"]].copy()
    for c in MONEY_COLUMNS:
        out[c] = [float(major(v, currency)) for v in out[c]]
    for c in DATE_COLUMNS:
        if c in out:
            out[c] = pd.to_datetime(out[c]).astype("datetime64[s]")
    names = STATUS_LABELS[locale]
    for c in STATUS_COLUMNS:
        if c in out:
            out[c] = pd.Series([None if v is None else names.get(v, v) for v in out[c]], index=out.index, dtype=object)
    if "lines" in frame:
        out["lines"] = [
            "; ".join(f"{ln['mission']} ({names[ln['billing']].lower()}) {_amount_text(ln['amount_cents'], locale, currency)}"
                      for ln in lines)
            for lines in frame["lines"]
        ]
    return out.rename(columns=column_labels(locale, currency))


#: The first characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(values: pd.Series) -> np.ndarray:
    """Which values are text a spreadsheet would take for a formula (numbers never are)."""
    return np.fromiter(
        (isinstance(v, str) and v.startswith(FORMULA_TRIGGERS) for v in values), dtype=bool, count=len(values)
    )


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot start a formula: those that would get a leading ``'``."""
    out = frame.copy()
    for col in out.columns:
        if _is_text(out[col]):
            risky = formula_like(out[col])
            if risky.any():
                values = out[col].to_numpy(dtype=object).copy()
                values[risky] = ["'" + v for v in values[risky]]
                out[col] = pd.Series(values, index=out.index, dtype=object)
    return out


def to_csv(frame: pd.DataFrame, by: str, locale: str = "fr", *, currency: str,
           order: Sequence[int] | np.ndarray | None = None) -> str:
    """The drill-down as CSV text (formulas neutralised), amounts with the decimals of ``currency``."""
    sep, dec = (";", ",") if locale == "fr" else (",", ".")
    return neutralised(table(frame, by, locale, currency=currency, order=order)).to_csv(
        index=False, sep=sep, decimal=dec, float_format=f"%.{i18n.minor_digits(currency)}f", date_format="%Y-%m-%d")


def about_rows(indicator: str, by: str, *, month: str | None = None, bucket: str | None = None,
               period: Period | None = None, scope: str | None = None, locale: str = "fr",
               currency: str = "EUR") -> list[tuple[str, str]]:
    """What a drill-down file holds, as (label, value) lines for its *À propos* sheet:
    the figure (and month or age bucket), the view, the period, the scope, what the amounts
    are and their currency."""
    lab = i18n.DRILL_WORDS[locale]
    figure = i18n.label(indicator, locale)
    if month is not None:
        figure += f" — {i18n.month(month, locale)}"
    if bucket is not None:
        figure += f" — {bucket} {i18n.label('days', locale)}"
    out = [(lab["figure"], figure), (lab["view"], i18n.label("by_deal" if by == "deal" else "by_document", locale))]
    if period is not None:
        out.append((i18n.label("period", locale), f"{i18n.date(period.start, locale)} → {i18n.date(period.as_of, locale)}"))
    if scope:
        out.append((i18n.label("scope", locale), scope))
    out.append((lab["amounts"], footer_words(indicator, month=month, bucket=bucket, locale=locale)))
    out.append((lab["currency"], i18n.currency_name(locale, currency)))
    return out


def to_xlsx(frame: pd.DataFrame, by: str, target: str | Path | io.IOBase, locale: str = "fr", *, currency: str,
            order: Sequence[int] | np.ndarray | None = None, about: Sequence[tuple[str, str]] | None = None) -> None:
    """Write the drill-down as an Excel workbook: the rows, their lines (if any) on a second
    sheet in the same order, and ``about`` (see :func:`about_rows`) on a last sheet.

    Written row by row with XlsxWriter in constant memory (a drill-down of 130,000 rows
    does not hold a workbook's cells in memory, only its compressed bytes), every text cell
    as a string, never a formula. A path is written whole or not at all
    (:func:`prospects.files.write_atomically`: a device, a pipe, a full disk or a folder that
    cannot be written raise :class:`prospects.files.FileRefused` and leave no partial file).
    """
    import xlsxwriter

    if isinstance(target, str | Path):
        files.write_atomically(target, xlsx_bytes(frame, by, locale, currency=currency, order=order, about=about))
        return
    frame = _ordered(frame, order)
    names = SHEETS[locale]
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    try:
        shown = table(frame.drop(columns=["lines"], errors="ignore"), by, locale, currency=currency)
        money = [column_labels(locale, currency)[c] for c in MONEY_COLUMNS]
        money_format = i18n.excel_money_format(locale, currency)
        write_sheet(book, shown, names[by], locale, money=money, money_format=money_format)
        if "lines" in frame:
            billing = STATUS_LABELS[locale]
            rows = [
                (d, ln["mission"], billing[ln["billing"]], float(major(ln["amount_cents"], currency)))
                for d, lines in zip(frame["document_id"], frame["lines"], strict=True)
                for ln in lines
            ]
            heads = [h.replace("{symbol}", i18n.currency_symbol(locale, currency)) for h in LINE_HEADS[locale]]
            lines = pd.DataFrame(rows, columns=heads).astype({heads[3]: "float64"})
            write_sheet(book, lines, names["lines"], locale, money=[heads[3]], money_format=money_format)
        if about:
            write_sheet(book, pd.DataFrame(list(about), columns=["label", "value"]), names["about"], locale, header=False)
    finally:
        book.close()


def _width(name: str, values: pd.Series, kind: str) -> int:
    """A column's width in characters: its header and its longest value among the first rows."""
    if kind == "date":
        longest = 10
    elif kind in ("money", "number"):
        sample = values.iloc[:MEASURED_ROWS].dropna()
        biggest = float(sample.abs().max()) if len(sample) else 0.0
        longest = len(f"{biggest:,.2f}") + (3 if kind == "money" else 0)
    else:
        sample = values.iloc[:MEASURED_ROWS].dropna()
        longest = int(sample.astype(str).str.len().max()) if len(sample) else 0
    return int(min(MAX_WIDTH, max(MIN_WIDTH, len(str(name)), longest) + 2))


def write_sheet(book: Any, frame: pd.DataFrame, name: str, locale: str = "fr", *, money: Sequence[str] = (),
                money_format: str | None = None, header: bool = True) -> None:
    """One sheet of an XlsxWriter workbook: a bold, frozen header row with filters, then one row per row.

    Text is always a string cell (the workbook does not turn strings into formulas); text
    that looks like a formula also gets Excel's quote prefix, so editing it keeps it text.
    Numbers are number cells (negative ones included; the ``money`` columns with
    ``money_format``, :func:`prospects.i18n.excel_money_format`); dates are date cells; empty is blank. Widths follow the content.
    """
    ws = book.add_worksheet(name)
    bold = book.add_format({"bold": True})
    quoted = book.add_format({"quote_prefix": True})
    day = book.add_format({"num_format": DATE_FORMAT[locale]})
    euro = book.add_format({"num_format": money_format}) if money else None
    first = 1 if header else 0
    writers = []
    for j, col in enumerate(frame.columns):
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            kind, data = "date", [None if pd.isna(v) else v.to_pydatetime() for v in values]
        elif _is_text(values):
            kind, data = "text", values.to_numpy(dtype=object)
        elif pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            kind, data = ("money" if col in money else "number"), values.to_numpy()
        else:
            kind, data = "other", values.to_numpy(dtype=object)
        risky = formula_like(values) if kind == "text" else None
        writers.append((kind, data, risky))
        ws.set_column(j, j, _width(col if header else "", values, kind))
    if header:
        ws.write_row(0, 0, [str(c) for c in frame.columns], bold)
        ws.freeze_panes(1, 0)
        if len(frame.columns):
            ws.autofilter(0, 0, len(frame), len(frame.columns) - 1)
    for i in range(len(frame)):
        r = i + first
        for j, (kind, values, risky) in enumerate(writers):
            v = values[i]
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                continue
            if kind == "text":
                ws.write_string(r, j, str(v), quoted if risky[i] else None)
            elif kind == "money":
                ws.write_number(r, j, float(v), euro)
            elif kind == "number":
                ws.write_number(r, j, float(v))
            elif kind == "date" or isinstance(v, dt.date):
                ws.write_datetime(r, j, v, day)
            else:
                ws.write_string(r, j, str(v))


def xlsx_bytes(frame: pd.DataFrame, by: str, locale: str = "fr", *, currency: str,
               order: Sequence[int] | np.ndarray | None = None, about: Sequence[tuple[str, str]] | None = None) -> bytes:
    """The Excel workbook as bytes (for a download button)."""
    buf = io.BytesIO()
    to_xlsx(frame, by, buf, locale, currency=currency, order=order, about=about)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# figures


def _indicators_json(ind, currency: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code, value in ind.items():
        if isinstance(value, dict) and "total" in value:
            out[code] = {k: major_json(v, currency) for k, v in value.items()}
        else:
            out[code] = value
    return out


def figures_json(figs, *, viewer: str, unit: str | None, collaborator: str | None) -> dict[str, Any]:
    """The ``indicators --json`` document of docs/cli.md: amounts as numbers of the figures' currency
    (exact from minor units), the currency said once (``"currency": "EUR"``)."""
    p = figs.period
    cur = figs.currency
    doc: dict[str, Any] = {
        "viewer": viewer,
        "currency": cur,
        "fiscal_year": p.fiscal_year,
        "period": {"start": p.start.isoformat(), "end": p.end.isoformat(), "as_of": p.as_of.isoformat()},
        "filters": {"unit": unit, "collaborator": collaborator},
        "indicators": _indicators_json(figs.indicators, cur),
        "monthly": [
            {"month": r["month"], "won_prospects": int(r["won_prospects"]),
             **{m: major_json(r[m], cur) for m in MONEY_COLUMNS}}
            for r in figs.monthly.to_dict("records")
        ],
        "ageing": [
            {"bucket": r["bucket"], "offers": int(r["offers"]), **{m: major_json(r[m], cur) for m in MONEY_COLUMNS}}
            for r in figs.ageing.to_dict("records")
        ],
    }
    if figs.previous is not None:
        prev = figs.previous.period
        doc["previous"] = {
            "fiscal_year": prev.fiscal_year,
            "as_of": prev.as_of.isoformat(),
            "indicators": _indicators_json(figs.previous.indicators, cur),
        }
    return doc
