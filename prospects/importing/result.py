"""Validating the built tables with every rule of the contract, and reconciling what
happened to each source row: ``read = imported + rejected``.

Validation is :func:`prospects.loading.validate_tables`, the very code of ``load``.
Where the mapping could not make a value, its own reason (``Statut 'Gelé' is not in
map statut``) replaces validation's, with the source file, row and column.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..loading import TableCount, Validated, validate_tables
from ..loading import write_rejects as loading_write_rejects
from ..schema import TABLE_ORDER
from .build import ROW_LEVEL, Built, MappingIssue, build
from .cells import GENERATED
from .mapping import read_mapping
from .sources import source_files
from .spec import ImportMapping, Spec, describe_conditions, spec_columns
from .values import BAD, blank, norm_one

SOURCE_REJECT_COLUMNS = ("source", "file", "row", "table", "column", "source_column", "value", "reason")


class SourceCount(NamedTuple):
    """Rows of one source: ``read == imported + rejected``; ``partly`` of the rejected
    rows still gave some loaded rows (a deal kept while one of its amounts was rejected)."""

    read: int
    imported: int
    rejected: int
    partly: int = 0


@dataclass(eq=False)
class ImportResult:
    """What an import did, or would do (``--check``)."""

    built: Built
    validated: Validated
    rejects: pd.DataFrame  # SOURCE_REJECT_COLUMNS
    source_counts: Mapping[str, SourceCount]
    seconds: float = 0.0
    rejects_path: Path | None = None
    notes: tuple[str, ...] = ()

    @property
    def counts(self) -> Mapping[str, TableCount]:
        return self.validated.counts

    @property
    def rejected(self) -> int:
        """Target rows rejected, plus source rows rejected while reading."""
        return self.validated.rejected + sum(len(b) for b in self.built.read_rejects.values())

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def issues(self) -> list[MappingIssue]:
        return self.built.issues()


def prepare(
    mapping: str | Path | ImportMapping,
    files: Sequence[str | Path] | Mapping[str, Path] = (),
    *,
    export_date: str | dt.date | None = None,
    today: dt.date | None = None,
    max_bytes: int | None = None,
    progress: Callable[[str], None] | None = None,
    function_caps: Mapping[str, str | None] | None = None,
    currency: str = "EUR",
) -> ImportResult:
    """Read, map and validate, without touching any database (what ``--check`` shows).

    ``export_date`` overrides the mapping's ``[defaults] export_date`` ("today" means
    ``today``, default the system date); ``max_bytes`` limits the size of each source
    file (default: the setting's default); ``progress`` is called with each stage;
    ``function_caps`` (the settings') for the warnings about validators above their cap;
    ``currency`` the firm's (the settings'), for amounts (:func:`prospects.importing.mapping.read_mapping`).
    """
    start = time.monotonic()
    m = mapping if isinstance(mapping, ImportMapping) else read_mapping(mapping, export_date=export_date, today=today, currency=currency)
    paths = dict(files) if isinstance(files, Mapping) else source_files(m, files)
    built = build(m, paths, max_bytes=max_bytes, progress=progress)
    lines = {t: np.arange(1, len(f) + 1, dtype="int64") for t, f in built.raw.items()}
    labels = {t: f"{t} (as mapped by {m.path})" for t in TABLE_ORDER}
    validated = validate_tables(built.raw, line_numbers=lines, labels=labels, progress=progress, function_caps=function_caps)
    rejects = source_rejects(built, validated)
    counts = source_counts(built, validated, rejects)
    notes = [n.replace(" (as mapped by", " (mapped by") for n in validated.notes if "no column" not in n]
    return ImportResult(built, validated, rejects, counts, time.monotonic() - start, None, (*built.notes, *notes))


def source_rejects(built: Built, validated: Validated) -> pd.DataFrame:
    """One line per broken rule, named by source file, row and column (SOURCE_REJECT_COLUMNS)."""
    rej = validated.rejects.loc[:, ["table", "line", "column", "value", "reason"]].copy()
    over = built.overrides
    whole = over.loc[over["kind"].isin(ROW_LEVEL), ["table", "line"]].drop_duplicates()
    if len(whole):  # rows the mapping rejects as a whole: its reason alone
        hit = rej.merge(whole.assign(_whole=True), on=["table", "line"], how="left")["_whole"].fillna(False).to_numpy(dtype=bool)
        own = over.merge(whole, on=["table", "line"])[["table", "line", "column"]].assign(value=None, reason=None)
        rej = pd.concat([rej.loc[~hit], own], ignore_index=True)
    if len(over):
        keys = over[["table", "line", "column"]].drop_duplicates().assign(_over=True)
        rej = rej.merge(keys, on=["table", "line", "column"], how="left")
        hit = rej["_over"].fillna(False).astype(bool)
        present = rej.loc[hit, ["table", "line", "column"]].drop_duplicates()
        rej = rej.loc[~hit].drop(columns="_over")
        unseen = over.merge(present.assign(_seen=True), on=["table", "line", "column"], how="left")
        unseen = unseen[unseen["_seen"].isna() & (unseen["kind"] != "duplicate")]
        if len(unseen):  # never load a value the mapping could not make
            u = unseen.iloc[0]
            raise RuntimeError(f"internal error: {u['table']} line {u['line']} column {u['column']} was not mapped but passed validation")
        over = over.merge(present, on=["table", "line", "column"]).drop_duplicates(["table", "line", "column"])
    parts = []
    for frame, own in ((rej, False), (over, True)):
        if frame.empty:
            continue
        for table, g in frame.groupby("table", sort=False):
            p = built.provenance[table]
            pos = g["line"].to_numpy(dtype="int64") - 1
            part = p["part"].to_numpy()[pos]
            src = pd.Series(p["source"].to_numpy()[pos], index=g.index)
            if own:
                scol = g["source_column"]
            else:
                scol = pd.Series(
                    [built.source_columns.get((table, c, int(k)), built.source_columns.get((table, c, -1), "")) if isinstance(c, str) else ""
                     for c, k in zip(g["column"], part, strict=True)],
                    index=g.index,
                )
            rows = pd.Series(p["row"].to_numpy()[pos], index=g.index)
            reason = g["reason"] if own else g["reason"] + _why_empty(built, table, g, src, rows, part)
            parts.append(pd.DataFrame({
                "source": src, "row": rows, "table": table, "column": g["column"],
                "source_column": scol, "value": g["value"], "reason": reason,
            }))
    merged = built.merged
    if merged is not None and len(merged):
        rejected = validated.rejects[["table", "line"]].drop_duplicates().assign(_bad=True)
        hit = merged.merge(rejected, on=["table", "line"], how="inner")
        if len(hit):
            labels = {name: src.label for name, src in built.sources.items()}
            rep = []
            for table, g in hit.groupby("table", sort=False):
                p = built.provenance[table]
                pos = g["line"].to_numpy(dtype="int64") - 1
                rep.append(pd.Series(p["source"].to_numpy()[pos], index=g.index).map(labels) + " row " + pd.Series(p["row"].to_numpy()[pos], index=g.index).astype(str))
            into = pd.concat(rep)
            parts.append(pd.DataFrame({
                "source": hit["source"], "row": hit["row"], "table": hit["table"], "column": None, "source_column": None,
                "value": None, "reason": "merged into " + into.loc[hit.index] + ", which is rejected",
            }))
    for name, bad in built.read_rejects.items():
        if len(bad):
            parts.append(pd.DataFrame({"source": name, "row": bad["row"].to_numpy(), "table": None, "column": None,
                                       "source_column": None, "value": None, "reason": bad["reason"].to_numpy()}))
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "row" else object) for c in SOURCE_REJECT_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    labels = {name: src.label for name, src in built.sources.items()}
    out["file"] = out["source"].map(labels).fillna(str(built.mapping.path))
    order = {name: i for i, name in enumerate(built.sources)}
    torder = {t: i for i, t in enumerate(TABLE_ORDER)}
    out = out.assign(_s=out["source"].map(order).fillna(len(order)), _t=out["table"].map(torder).fillna(-1))
    out = out.sort_values(["_s", "row", "_t"], kind="stable").drop(columns=["_s", "_t"]).reset_index(drop=True)
    for c in ("value", "reason"):
        s = out[c].astype(object)
        out[c] = s.where(s.isna(), s.astype(str).str.replace(BAD, "", regex=False)).where(s.notna(), None)
    out["row"] = out["row"].astype("int64")
    return out.loc[:, list(SOURCE_REJECT_COLUMNS)]


def _spec_of(m: ImportMapping, table: str, column: str, source: str, entry: int) -> Spec | None:
    """The spec that made a column of a row of ``source`` (``entry``: its lines entry)."""
    ts = m.tables.get(table)
    if ts is None:
        return None
    if ts.lines:
        if column == "document_id":
            return ts.document_id
        return ts.lines[entry].specs.get(column) if 0 <= entry < len(ts.lines) else None
    part = next((p for p in ts.parts if source in p.sources), None)
    return part.columns.get(column) if part is not None else None


def _why_empty(built: Built, table: str, g: pd.DataFrame, source: pd.Series, rows: pd.Series, entry: np.ndarray) -> pd.Series:
    """For rules broken by an empty value (``decided_on is required when status is refused``):
    which source column was empty — or, for a value emptied by its ``only_if``, what it held."""
    out = pd.Series("", index=g.index, dtype=object)
    empty = g["value"].isna().to_numpy() & g["column"].notna().to_numpy()
    if not empty.any():
        return out
    keys = pd.DataFrame({"column": g["column"], "source": source, "entry": entry}, index=g.index)[empty]
    for (col, sname, k), idx in keys.groupby(["column", "source", "entry"], sort=False).groups.items():
        spec = _spec_of(built.mapping, table, col, sname, int(k))
        src = built.sources.get(sname)
        if spec is None or src is None or spec.kind == "value":
            continue
        label = spec_columns(spec)
        if not spec.only_if:
            out[idx] = f" ({label}: empty)"
            continue
        if spec.kind != "column":
            out[idx] = f" ({label}: empty, or only_if {describe_conditions(spec.only_if)} does not hold)"
            continue
        pos = np.searchsorted(src.rows, rows[idx].to_numpy())
        held = pd.Series(np.nan, index=range(len(pos)), dtype="str")
        for name in spec.columns:  # the first non-empty, as the spec reads them
            normed = norm_one(name)
            if normed in src.columns:
                held = held.fillna(blank(src.columns[normed].iloc[pos].reset_index(drop=True)))
        cond = describe_conditions(spec.only_if)
        out[idx] = np.where(held.isna(), f" ({label}: empty)", f" ({label} holds '" + held.fillna("") + f"' but only_if {cond} does not hold)")
    return out


def source_counts(built: Built, validated: Validated, rejects: pd.DataFrame) -> dict[str, SourceCount]:
    """Per source: rows read, imported, rejected (and partly imported)."""
    rejected_lines = {t: set(g["line"]) for t, g in validated.rejects.groupby("table")}
    loaded = []
    for table, p in built.provenance.items():
        if not len(p):
            continue
        bad = np.isin(np.arange(1, len(p) + 1), list(rejected_lines.get(table, ())))
        loaded.append(p.loc[~bad & (p["part"] != GENERATED).to_numpy(), ["source", "row"]])
    merged = built.merged
    if merged is not None and len(merged):
        for table, g in merged.groupby("table"):
            ok = ~g["line"].isin(list(rejected_lines.get(table, ())))
            loaded.append(g.loc[ok, ["source", "row"]])
    loaded_pairs = pd.concat(loaded).drop_duplicates() if loaded else pd.DataFrame(columns=["source", "row"])
    out = {}
    for name, src in built.sources.items():
        bad_rows = rejects.loc[rejects["source"] == name, "row"].unique()
        read = src.n + len(built.read_rejects.get(name, ()))
        ok_rows = set(loaded_pairs.loc[loaded_pairs["source"] == name, "row"])
        partly = sum(1 for r in bad_rows if r in ok_rows)
        out[name] = SourceCount(read, read - len(bad_rows), len(bad_rows), partly)
    return out


def write_rejects(rejects: pd.DataFrame, path: Path) -> None:
    """The rejections (source, file, row, table, column, source column, value, reason), UTF-8 with BOM, NUL escaped."""
    loading_write_rejects(rejects, Path(path), SOURCE_REJECT_COLUMNS)


def default_rejects_path(mapping_path: str | Path) -> Path:
    """Rejections go next to the mapping: ``crm_mapping.toml`` → ``crm_mapping.rejects.csv``."""
    p = Path(mapping_path)
    return p.with_name(p.stem + ".rejects.csv")
