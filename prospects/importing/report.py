"""What an import says: the report of ``--check`` (sources, how each column is made,
sample rows, every value it could not map, what loading would do) and the summary of
an import."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .. import cents, i18n
from ..i18n import escaped
from ..loading import format_counts
from ..schema import TABLE_ORDER
from .build import MappingIssue
from .result import ImportResult
from .values import BAD

#: A rejection because of a rejected parent: the parent table, then its id.
_PARENT = r"^(parent rejected: \w+) (.*)$"
KEPT_EMPTY = "Values not found, kept empty or at their default (on_miss = \"empty\": not a rejection):"


def format_source_counts(result: ImportResult) -> str:
    """Per source: ``read = imported + rejected``, aligned."""
    rows = []
    used = {s for ts in result.built.mapping.tables.values() for s in ts.sources}
    for name, c in result.source_counts.items():
        note = "" if name in used else "  (lookups only)"
        if c.partly:
            note += f"  ({c.partly} partly imported)"
        rows.append((name, c.read, c.imported, c.rejected, result.built.sources[name].label + note))
    width = max(len(r[0]) for r in [*rows, ("source",)])
    nums = max(8, *(len(str(v)) for r in rows for v in r[1:4]))
    out = [f"{'source':<{width}}  {'read':>{nums}} = {'imported':>{nums}} + {'rejected':>{nums}}  file"]
    for name, read, imp, rej, label in rows:
        out.append(f"{name:<{width}}  {read:>{nums}} = {imp:>{nums}} + {rej:>{nums}}  {label}")
    return "\n".join(out)


def format_amounts(result: ImportResult) -> str:
    """The amounts kept, in the firm's currency (setting ``currency``, CLDR's format): ``Amounts: 17 document
    lines, total $54,300.00 (currency USD, the setting `currency`; stored as integer cents in amount_cents)``."""
    cur = result.built.mapping.firm_currency
    lines = result.validated.frames["document_lines"]  # validation fills every table
    n = len(lines)
    total = cents.total(lines["amount_cents"].to_numpy(dtype="int64"))
    digits = i18n.minor_digits(cur)
    unit = "cents" if digits else "whole units (the currency has no minor unit)"
    return (f"Amounts: {n:,} document line{'s' if n != 1 else ''}, total {i18n.money(total, 'en', cur, decimals=True)} "
            f"(currency {cur}, the setting `currency`; stored as integer {unit} in amount_cents)")


def format_issues(issues: Sequence[MappingIssue], limit: int | None = None) -> str:
    """One line per value not mapped: kind, target ← source column, value, rows, reason."""
    lines = []
    shown = issues if limit is None else issues[:limit]
    for i in shown:
        plural = "row" if i.rows == 1 else "rows"
        lines.append(f"  {i.kind:<11} {i.target} ← {i.source_column}: '{i.value}' ({i.rows} {plural}) — {i.reason}")
    if limit is not None and len(issues) > limit:
        lines.append(f"  … and {len(issues) - limit} more (see the rejects file)")
    return escaped("\n".join(lines), keep="\n")


def check_report(result: ImportResult, sample: int = 5) -> str:
    """What ``--check`` prints: sources, per table its columns and first rows, what
    could not be mapped, and what loading would do (control characters escaped)."""
    built = result.built
    m = built.mapping
    out = [f"Mapping {m.path} — dry run, nothing is loaded"]
    if m.description:
        out.append(m.description.strip())
    if m.export_date is not None:
        out.append(f"Export date: {m.export_date.isoformat()} ({m.export_date_from})")
    out += ["", "Sources"]
    for name, src in built.sources.items():
        s = src.spec
        how = f"sheet '{s.sheet}'" if s.is_excel and s.sheet else "Excel" if s.is_excel else f"{s.encoding}, delimiter {s.delimiter!r}"
        cols = len([h for h in src.headers if h.strip()])
        out.append(f"  {name}: {src.label} ({how}, header on row {s.header_row}): {src.n} rows, {cols} columns")
    with pd.option_context("display.max_columns", None, "display.width", 200, "display.max_colwidth", 28):
        for table in TABLE_ORDER:
            frame = built.raw[table]
            out += ["", f"Table {table}: {built.drivers.get(table, '')} → {len(frame)} rows"]
            for col, desc in built.described.get(table, []):
                out.append(f"  {col:<20} ← {desc}")
            if len(frame):
                shown = frame.head(sample).apply(lambda c: c.str.replace(BAD, "✗ ", regex=False)).fillna("")
                out.append("  first rows (✗ = could not be mapped):")
                out += ["    " + line for line in shown.to_string(index=False).splitlines()]
    issues = [i for i in result.issues() if i.rejected]
    if issues:
        out += ["", "Values it could not map (their rows would be rejected)", format_issues(issues)]
    elif len(result.rejects):
        out += ["", "Every value was mapped; the rows below break the rules of the data contract (docs/data.md)"]
    else:
        out += ["", "Values it could not map: none"]
    kept = [i for i in result.issues() if not i.rejected]
    if kept:
        out += ["", KEPT_EMPTY, format_issues(kept)]
    out += ["", "What loading would do", format_counts(result.counts), format_amounts(result), "",
            format_source_counts(result)]
    rej = result.rejects
    if len(rej):
        out += ["", f"Rejections ({len(rej)}), by reason:"]
        # "parent rejected: deals A-2611" once per parent table, naming the first parents
        parent = rej["reason"].str.extract(_PARENT, expand=True)
        reasons = rej.assign(table=rej["table"].fillna("(read)"), column=rej["column"].fillna(""),
                             _reason=parent[0].fillna(rej["reason"]), _id=parent[1])
        for (t, c, r), g in reasons.groupby(["table", "column", "_reason"], sort=False):
            if g["_id"].notna().any():
                ids = list(dict.fromkeys(g["_id"]))
                r = f"{r} {', '.join(ids[:3])}{', …' if len(ids) > 3 else ''}"
            out.append(f"  {t}.{c} × {len(g)}: {r} ({g['file'].iloc[0]} row {g['row'].iloc[0]})")
    for note in result.notes:
        out.append(f"note: {note}")
    return escaped("\n".join(out), keep="\n")  # the export's values are quoted in it


def summary(result: ImportResult, url: str) -> str:
    """What an import prints once loaded (control characters escaped)."""
    from ..loading import _shown_url

    m = result.built.mapping
    out = [f"Imported {m.path} into {_shown_url(url)} in {result.seconds:.1f} s", format_source_counts(result), "",
           format_counts(result.counts), format_amounts(result)]
    issues = [i for i in result.issues() if i.rejected]
    if issues:
        out += ["", "Values not mapped (their rows are rejected):", format_issues(issues, 30)]
    kept = [i for i in result.issues() if not i.rejected]
    if kept:
        out += ["", KEPT_EMPTY, format_issues(kept, 30)]
    for note in result.notes:
        out.append(f"note: {note}")
    src_rejected = sum(c.rejected for c in result.source_counts.values())
    if result.rejects_path is not None:
        out.append(f"{src_rejected} source rows rejected ({result.validated.rejected} target rows); reasons in {result.rejects_path.resolve()}")
    elif result.rejected:
        out.append(f"{src_rejected} source rows rejected; the reasons could not be written (see note above)")
    else:
        out.append("No row rejected.")
    return escaped("\n".join(out), keep="\n")
