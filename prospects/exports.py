"""Drill-down exports: JSON records, CSV and Excel with the locale's column headers.

The same rows as the drill-down frame; amounts converted exactly from cents to euros.
French CSV uses ``;`` and a decimal comma (what French Excel opens directly) and a
UTF-8 BOM; English CSV uses ``,`` and a decimal point.

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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import files
from .drilldown import MONEY_COLUMNS, columns
from .i18n import COLUMN_LABELS, STATUS_LABELS, euros, euros_json


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


DATE_COLUMNS = ("created_on", "sent_on", "decided_on")


def records(frame: pd.DataFrame, by: str) -> list[dict[str, Any]]:
    """JSON-ready rows: amounts in euros, dates ISO, ``lines`` with euro amounts."""
    cols = [*columns(by), *(["lines"] if "lines" in frame else [])]
    out = []
    for row in frame[cols].to_dict("records"):
        for c in MONEY_COLUMNS:
            row[c] = euros_json(row[c])
        for c in DATE_COLUMNS:
            if c in row:
                row[c] = _iso(row[c])
        if "documents" in row:
            row["documents"] = int(row["documents"])
        if "lines" in row:
            row["lines"] = [
                {"mission": ln["mission"], "billing": ln["billing"], "amount": euros_json(ln["amount_cents"])}
                for ln in row["lines"]
            ]
        out.append(row)
    return out


def table(frame: pd.DataFrame, by: str, locale: str = "fr") -> pd.DataFrame:
    """The drill-down with the locale's headers, statuses and euro amounts (Decimal-exact)."""
    cols = list(columns(by))
    out = frame[cols].copy()
    for c in MONEY_COLUMNS:
        out[c] = [float(euros(v)) for v in out[c]]
    for c in DATE_COLUMNS:
        if c in out:
            out[c] = [pd.Timestamp(v).date() if not pd.isna(v) else None for v in out[c]]
    if "status" in out:
        out["status"] = out["status"].map(STATUS_LABELS[locale]).fillna(out["status"])
    if "lines" in frame:
        names = STATUS_LABELS[locale]
        out["lines"] = [
            "; ".join(f"{ln['mission']} ({names[ln['billing']].lower()}) {float(euros(ln['amount_cents'])):.2f}" for ln in lines)
            for lines in frame["lines"]
        ]
    return out.rename(columns=COLUMN_LABELS[locale])


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


def to_csv(frame: pd.DataFrame, by: str, target: str | Path | io.IOBase | None = None, locale: str = "fr") -> str | None:
    """Write (or return, when ``target`` is None) the drill-down as CSV (formulas neutralised);
    a path is written whole or not at all (:func:`prospects.files.write_atomically`)."""
    sep, dec = (";", ",") if locale == "fr" else (",", ".")
    text = neutralised(table(frame, by, locale)).to_csv(index=False, sep=sep, decimal=dec)
    if target is None:
        return text
    if isinstance(target, str | Path):
        files.write_atomically(target, text.encode("utf-8-sig"))
    else:
        target.write(text)
    return None


def to_xlsx(frame: pd.DataFrame, by: str, target: str | Path | io.IOBase, locale: str = "fr") -> None:
    """Write the drill-down as an Excel workbook (a second sheet holds the lines, if any).

    Written row by row with XlsxWriter in constant memory (a drill-down of 130,000 rows
    does not hold a workbook's cells in memory, only its compressed bytes), every text cell
    as a string, never a formula. A path is written whole or not at all
    (:func:`prospects.files.write_atomically`: a device, a pipe, a full disk or a folder that
    cannot be written raise :class:`prospects.files.FileRefused` and leave no partial file).
    """
    import xlsxwriter

    if isinstance(target, str | Path):
        files.write_atomically(target, xlsx_bytes(frame, by, locale))
        return

    sheet = "Par affaire" if by == "deal" else "Par document"
    if locale == "en":
        sheet = "By deal" if by == "deal" else "By document"
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    try:
        write_sheet(book, table(frame.drop(columns=["lines"], errors="ignore"), by, locale), sheet, locale)
        if "lines" in frame:
            rows = [
                {"document_id": d, "mission": ln["mission"], "billing": ln["billing"], "amount": float(euros(ln["amount_cents"]))}
                for d, lines in zip(frame["document_id"], frame["lines"], strict=True)
                for ln in lines
            ]
            lines = pd.DataFrame(rows, columns=["document_id", "mission", "billing", "amount"])
            heads = {"fr": ["Id document", "Mission", "Nature", "Montant (€)"], "en": ["Document id", "Mission", "Billing", "Amount (€)"]}
            lines.columns = heads[locale]
            write_sheet(book, lines, "Lignes" if locale == "fr" else "Lines", locale)
    finally:
        book.close()


def write_sheet(book: Any, frame: pd.DataFrame, name: str, locale: str = "fr") -> None:
    """One sheet of an XlsxWriter workbook: a bold header row, then one row per row.

    Text is always a string cell (the workbook does not turn strings into formulas); text
    that looks like a formula also gets Excel's quote prefix, so editing it keeps it text.
    Numbers are number cells (negative ones included); dates are dates; empty is blank.
    """
    ws = book.add_worksheet(name)
    bold = book.add_format({"bold": True})
    quoted = book.add_format({"quote_prefix": True})
    day = book.add_format({"num_format": "dd/mm/yyyy" if locale == "fr" else "yyyy-mm-dd"})
    ws.write_row(0, 0, [str(c) for c in frame.columns], bold)
    writers = []
    for j, col in enumerate(frame.columns):
        values = frame[col]
        ws.set_column(j, j, min(40, max(10, len(str(col)) + 2)))
        if _is_text(values):
            risky = formula_like(values)
            writers.append(("text", values.to_numpy(dtype=object), risky))
        elif pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            writers.append(("number", values.to_numpy(), None))
        else:
            writers.append(("other", values.to_numpy(dtype=object), None))
    for i in range(len(frame)):
        r = i + 1
        for j, (kind, values, risky) in enumerate(writers):
            v = values[i]
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                continue
            if kind == "text":
                ws.write_string(r, j, str(v), quoted if risky[i] else None)
            elif kind == "number":
                ws.write_number(r, j, float(v))
            elif isinstance(v, dt.date):
                ws.write_datetime(r, j, v, day)
            else:
                ws.write_string(r, j, str(v))


def xlsx_bytes(frame: pd.DataFrame, by: str, locale: str = "fr") -> bytes:
    """The Excel workbook as bytes (for a download button)."""
    buf = io.BytesIO()
    to_xlsx(frame, by, buf, locale)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# figures


def _indicators_json(ind) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code, value in ind.items():
        if isinstance(value, dict) and "total" in value:
            out[code] = {k: euros_json(v) for k, v in value.items()}
        else:
            out[code] = value
    return out


def figures_json(figs, *, viewer: str, unit: str | None, collaborator: str | None) -> dict[str, Any]:
    """The ``indicators --json`` document of CLI.md (amounts in euros, exact from cents)."""
    p = figs.period
    doc: dict[str, Any] = {
        "viewer": viewer,
        "fiscal_year": p.fiscal_year,
        "period": {"start": p.start.isoformat(), "end": p.end.isoformat(), "as_of": p.as_of.isoformat()},
        "filters": {"unit": unit, "collaborator": collaborator},
        "indicators": _indicators_json(figs.indicators),
        "monthly": [
            {"month": r["month"], "won_prospects": int(r["won_prospects"]),
             **{m: euros_json(r[m]) for m in MONEY_COLUMNS}}
            for r in figs.monthly.to_dict("records")
        ],
        "ageing": [
            {"bucket": r["bucket"], "offers": int(r["offers"]), **{m: euros_json(r[m]) for m in MONEY_COLUMNS}}
            for r in figs.ageing.to_dict("records")
        ],
    }
    if figs.previous is not None:
        prev = figs.previous.period
        doc["previous"] = {
            "fiscal_year": prev.fiscal_year,
            "as_of": prev.as_of.isoformat(),
            "indicators": _indicators_json(figs.previous.indicators),
        }
    return doc
