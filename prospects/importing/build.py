"""Building the nine target tables (as text) from the sources, with the provenance of
every row and every value the mapping could not make.

A table's rows come from its parts — ``source`` + ``columns`` and each ``[[from]]`` —
then its literal ``rows``; ``merge`` joins rows sharing a key; ``lines`` turn amount
columns into document lines. Rows made from names come from :mod:`.names`.

A value the mapping could not make is handed to validation holding a NUL character
(:data:`.values.BAD`), which validation always rejects; :mod:`.result` then puts the
mapping's own reason in place of validation's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import TABLE_ORDER, TABLES
from .cells import GENERATED, Cells, Explained, Piece, concat, join, literal_cells, take_rows
from .evaluate import Evaluator
from .names import Names
from .sources import Source, read_source, source_files
from .spec import (
    NO_DOCUMENT,
    ImportMapping,
    PartSpec,
    TableSpec,
    describe,
    describe_conditions,
    spec_columns,
)
from .values import BAD, Val, as_str, norm, quoted

#: ``org_units.kind`` by depth in the tree, when not mapped.
TREE_KINDS = ("firm", "region", "agency", "team")
#: Kinds of failure that reject the whole target row with this reason alone.
ROW_LEVEL = frozenset({"no document"})
OVERRIDE_COLUMNS = ["table", "line", "column", "value", "reason", "kind", "source_column"]
KEPT_COLUMNS = ["source", "row", "table", "column", "value", "reason", "kind", "source_column"]


@dataclass(frozen=True)
class MappingIssue:
    """A value the mapping could not map, counted over the source rows holding it.

    ``rejected`` is False for values kept empty on purpose (a lookup with
    ``on_miss = "empty"`` that found nothing): they are listed, their rows are kept.
    """

    kind: str
    target: str  # table.column
    source_column: str
    value: str
    reason: str
    rows: int
    rejected: bool = True


@dataclass(eq=False)
class Built:
    """The nine tables as text, with provenance and the failures of the mapping."""

    mapping: ImportMapping
    sources: Mapping[str, Source]
    read_rejects: Mapping[str, pd.DataFrame]  # source → rows rejected while reading
    raw: Mapping[str, pd.DataFrame]
    provenance: Mapping[str, pd.DataFrame]  # table → source, row, part
    overrides: pd.DataFrame  # OVERRIDE_COLUMNS: values the mapping could not make
    kept_empty: pd.DataFrame  # KEPT_COLUMNS: values left empty by on_miss = "empty"
    source_columns: Mapping[tuple[str, str, int], str]
    described: Mapping[str, list[tuple[str, str]]]  # table → (column, description)
    drivers: Mapping[str, str]  # table → how its rows are made
    notes: tuple[str, ...] = ()
    merged: pd.DataFrame | None = None  # rows merged into another (merge = true): table, line, source, row

    def issues(self) -> list[MappingIssue]:
        """Every value the mapping could not map (or left empty), grouped with counts."""
        out = []
        over = self.overrides[self.overrides["kind"] != "duplicate"]
        if len(over):
            prov = []
            for table, part in over.groupby("table", sort=False):
                p = self.provenance[table]
                pos = part["line"].to_numpy() - 1
                prov.append(pd.DataFrame({"source": p["source"].to_numpy()[pos], "row": p["row"].to_numpy()[pos]}, index=part.index))
            over = over.join(pd.concat(prov))
        for o, rejected in ((over, True), (self.kept_empty, False)):
            if o.empty:
                continue
            o = o.assign(target=o["table"] + "." + o["column"])
            for (kind, target, col, value), g in o.groupby(["kind", "target", "source_column", "value"], sort=True, dropna=False):
                rows = int(g[["source", "row"]].drop_duplicates().shape[0])
                out.append(MappingIssue(str(kind), str(target), str(col), "" if pd.isna(value) else str(value), str(g["reason"].iloc[0]), rows, rejected))
        return sorted(out, key=lambda i: (not i.rejected, i.kind, i.target, -i.rows, i.value))


class TableBuilder:
    """Builds every table of a mapping from its sources."""

    def __init__(self, mapping: ImportMapping, sources: Mapping[str, Source]):
        self.m = mapping
        self.sources = sources
        self.explain = Explained()
        self.ev = Evaluator(mapping, sources)
        self.names = Names(mapping, self.ev, self.explain)
        self.ev.names = self.names
        self.no_doc: dict[str, tuple[np.ndarray, np.ndarray, Val, str]] = {}  # source → no document by status, by only_if; status; part
        self.merged: list[pd.DataFrame] = []  # rows merged into another: table, line, source, row
        self.disagree: dict[str, dict[int, str]] = {}  # table → line → columns on which same-key rows differ
        self.frames: dict[str, pd.DataFrame] = {}
        self.kept_empty: list[pd.DataFrame] = []  # KEPT_COLUMNS

    # -- rows of a table -------------------------------------------------------------
    def cells(self, ts: TableSpec) -> Cells:
        name = ts.name
        if ts.lines:
            return self.line_cells(ts)
        pieces = [p for part in ts.parts for p in self.part_pieces(name, part)]
        parts = [concat(name, pieces)] if ts.parts else []
        if ts.rows:
            parts.append(literal_cells(name, ts.rows))
        cells = join(name, parts)
        if ts.merge:
            cells = self.merge(name, cells)
        if name == "org_units" and not any("kind" in p.columns for p in ts.parts):
            self.kinds_by_depth(cells)
        if name == "document_lines" and not any("line_no" in p.columns for p in ts.parts):
            doc = cells.values["document_id"]
            cells.values["line_no"] = as_str((doc.groupby(doc.fillna(BAD)).cumcount() + 1).astype("str"))
            cells.errors["line_no"] = Val.of(cells.values["line_no"])
        self.explain_table(ts)
        return cells

    def kinds_by_depth(self, cells: Cells) -> None:
        """``org_units.kind`` not mapped: each unit's depth in the tree gives it — the root
        (no parent) the firm, then region, agency, team; a unit below a team is rejected.
        A kind given by a literal row stays."""
        ids, parents = cells.values["id"], cells.values["parent_id"]
        depth = pd.Series(np.where(parents.isna() & ids.notna(), 0, -1), index=ids.index)
        for level in range(1, len(TREE_KINDS) + 1):
            known = pd.Series(depth.to_numpy(), index=ids.to_numpy())
            known = known[~known.index.duplicated() & known.index.notna()]
            above = parents.map(known)
            depth[(depth < 0) & (above == level - 1).to_numpy()] = level
        kind = as_str(depth.map(dict(enumerate(TREE_KINDS))))
        kind = kind.fillna(cells.values["kind"]) if "kind" in cells.values else kind
        val = Val.of(kind)
        val.fail((depth == len(TREE_KINDS)).to_numpy(), "'" + cells.values["name"].fillna(ids).astype(str)
                 + "' sits below a team: the organisation has four levels (firm, region, agency, team)", "org", ids)
        cells.values["kind"], cells.errors["kind"] = val.v, val
        self.explain.source_columns[("org_units", "kind", -1)] = "(depth in the tree)"

    def part_pieces(self, name: str, part: PartSpec) -> list[Piece]:
        """The rows of one part, one piece per source: the rows its ``only_if`` keeps, one per
        distinct value with ``distinct``, and (documents) those whose status has a document."""
        chosen = self.chosen_rows(name, part)
        pieces = []
        for sname in part.sources:
            src = self.sources[sname]
            n = src.n
            vals = {col: self.ev.value(cs, src, part.columns, name) for col, cs in part.columns.items()}
            if name == "collaborators" and "active" not in vals:
                vals["active"] = Val.of(as_str("true", n))
            for col in TABLES[name].column_names:
                vals.setdefault(col, Val.empty(n))
            keep = chosen[sname]
            if name == "documents":
                status = vals["status"]
                has_doc = ~(status.v == NO_DOCUMENT).to_numpy() | ~status.ok_mask()
                if sname not in self.no_doc:
                    self.no_doc[sname] = (keep & ~has_doc, ~keep, self.ev.eval(part.columns["status"], src), part.key)
                keep = keep & has_doc
            pos = np.flatnonzero(keep)
            pieces.append(Piece(sname, {c: v.rows(pos) for c, v in vals.items()}, src.rows[pos], np.full(len(pos), GENERATED if part.distinct else -1)))
        return pieces

    def chosen_rows(self, name: str, part: PartSpec) -> dict[str, np.ndarray]:
        """Per source, the rows the part makes rows from."""
        chosen = {}
        for sname in part.sources:
            src = self.sources[sname]
            keep = np.ones(src.n, dtype=bool)
            if part.only_if:
                keep &= self.ev.holds(part.only_if, src, part.columns, name)
            chosen[sname] = keep
        if part.distinct:  # the first row of each distinct combination of non-empty values, over every source
            frames = []
            for sname in part.sources:
                src = self.sources[sname]
                keys = pd.DataFrame({i: norm(self.ev.eval(d, src).v) for i, d in enumerate(part.distinct)})
                usable = keys.notna().all(axis=1).to_numpy() & chosen[sname]
                frames.append(keys[usable].assign(_source=sname, _pos=np.flatnonzero(usable)))
            every = pd.concat(frames, ignore_index=True)
            firsts = every[~every.drop(columns=["_source", "_pos"]).duplicated()]
            for sname in part.sources:
                keep = np.zeros(self.sources[sname].n, dtype=bool)
                keep[firsts.loc[firsts["_source"] == sname, "_pos"].to_numpy(dtype="int64")] = True
                chosen[sname] = keep
        return chosen

    def explain_table(self, ts: TableSpec) -> None:
        name = ts.name
        for part in ts.parts:
            for col, cs in part.columns.items():
                self.explain.source_columns.setdefault((name, col, -1), spec_columns(cs))
        described = []
        drivers = []
        for i, part in enumerate(ts.parts):
            prefix = "" if i == 0 and part.key == ts.key else f"{part.key.removeprefix(ts.key + '.')}: "
            if prefix:
                described.append((prefix.rstrip(": "), f"rows of {' and '.join(part.sources)}"))
            described += [(("  " if prefix else "") + col, describe(cs)) for col, cs in part.columns.items()]
            if name == "org_units" and i == 0 and "kind" not in part.columns:
                described.append(("kind", "by depth in the tree (not mapped): the root firm, then region, agency, team"))
            how = (
                ("one row per distinct " + ", ".join(describe(d) for d in part.distinct) + " of ") if part.distinct
                else "one row per distinct key of " if ts.merge else "one row per row of "
            ) + " and ".join(part.sources)
            if part.only_if:
                how += " where " + describe_conditions(part.only_if)
            drivers.append(how + (" with a document" if name == "documents" else ""))
        if ts.rows:
            drivers.append(f"{len(ts.rows)} literal row{'s' if len(ts.rows) > 1 else ''} of the mapping")
        self.explain.described[name] = described
        self.explain.drivers[name] = "; ".join(drivers)

    def merge(self, name: str, cells: Cells) -> Cells:
        """Rows sharing the table's key become one when they agree on every column.

        Rows that disagree stay (validation rejects them as duplicates; the reason says
        on what they differ). A merged row shares the fate of the row it joined.
        """
        key = list(TABLES[name].key)
        frame = pd.DataFrame(cells.values).astype(object)
        has_key = frame[key].notna().all(axis=1).to_numpy()
        if not has_key.any():
            return cells
        sub = frame[has_key]
        groups = sub.groupby(key, sort=False)
        others = [c for c in frame.columns if c not in key]
        differ = pd.DataFrame({c: groups[c].transform(lambda g: g.nunique(dropna=False) > 1) for c in others}, index=sub.index)
        disagree = differ.any(axis=1).to_numpy() if others else np.zeros(len(sub), bool)
        first = ~sub.duplicated(key).to_numpy()
        drop = np.zeros(cells.n, dtype=bool)
        drop[np.flatnonzero(has_key)[~first & ~disagree]] = True
        if disagree.any():
            names = np.array(others, dtype=object)
            listing = [", ".join(names[f]) for f in differ.to_numpy(dtype=bool)[disagree]]  # disagreeing rows only
            self.disagree[name] = dict(zip(np.flatnonzero(has_key)[disagree].tolist(), listing, strict=True))
        if not drop.any():
            self.remap_disagree(name, np.arange(cells.n))
            return cells
        rep_pos = pd.Series(np.arange(cells.n))[has_key].groupby([sub[k] for k in key], sort=False).transform("min")
        kept = np.flatnonzero(~drop)
        new_pos = np.full(cells.n, -1)
        new_pos[kept] = np.arange(len(kept))
        dropped = np.flatnonzero(drop)
        into = new_pos[rep_pos.reindex(dropped).to_numpy(dtype="int64")]
        self.merged.append(pd.DataFrame({"table": name, "line": into + 1, "source": cells.source[dropped], "row": cells.row[dropped]}))
        self.remap_disagree(name, new_pos)
        return take_rows(cells, kept)

    def remap_disagree(self, name: str, new_pos: np.ndarray) -> None:
        if name in self.disagree:
            self.disagree[name] = {int(new_pos[p]) + 1: v for p, v in self.disagree[name].items() if new_pos[p] >= 0}

    def line_cells(self, ts: TableSpec) -> Cells:
        """Amount columns → lines: one line per non-empty (non-zero) amount of a row with a
        document, where the entry's ``only_if`` holds."""
        pieces, order = [], []
        for si, sname in enumerate(ts.line_sources):
            src = self.sources[sname]
            doc = self.ev.eval(ts.document_id, src)
            no_status = np.zeros(src.n, dtype=bool)
            no_doc_by_status, no_doc_by_cond, status, part_key = self.no_doc.get(sname, (no_status, no_status, None, ""))
            for ei, entry in enumerate(ts.lines):
                own = entry.specs
                amount = self.ev.value(entry.amount, src, own, "document_lines").copy()
                keep = amount.v.notna().to_numpy() | ~amount.ok_mask()
                applies = self.ev.holds(entry.only_if, src, own, "document_lines") if entry.only_if else np.ones(src.n, dtype=bool)
                keep &= applies
                unfound = applies & ~keep & amount.note_mask()
                if unfound.any():  # no amount, so no line: the miss is listed all the same
                    self.explain.source_columns[("document_lines", "amount_cents", ei)] = spec_columns(entry.amount)
                    self.note_rows("document_lines", "amount_cents", np.full(int(unfound.sum()), sname, object), src.rows[unfound], amount, unfound, np.full(int(unfound.sum()), ei))
                if not entry.keep_zero:
                    keep &= ~(amount.v == "0").to_numpy()
                vals = {
                    "document_id": doc,
                    "line_no": Val.empty(src.n),
                    "mission": self.ev.value(entry.mission, src, own, "document_lines"),
                    "billing": self.ev.value(entry.billing, src, own, "document_lines"),
                    "amount_cents": amount,
                }
                orphan = keep & (no_doc_by_status | no_doc_by_cond)
                if orphan.any():  # one row, one reason: the amount has no document to go to
                    what = pd.Series(f"this row makes no document ({part_key}.only_if)", index=amount.v.index, dtype="str")
                    if no_doc_by_status.any():
                        means = f"{spec_columns(self.m.tables['documents'].columns['status'])} " + quoted(status.raw) + " means no document"
                        what = what.where(~no_doc_by_status, means)
                    reason = f"{spec_columns(entry.amount)} " + quoted(amount.raw) + " is given but " + what + ": the amount is not imported"
                    for col in ("mission", "billing", "amount_cents"):
                        vals[col] = vals[col].copy()
                        vals[col].clear(orphan)
                    vals["amount_cents"].fail(orphan, reason, "no document", amount.raw)
                pos = np.flatnonzero(keep)
                pieces.append(Piece(sname, {c: v.rows(pos) for c, v in vals.items()}, src.rows[pos], np.full(len(pos), ei)))
                order.append(np.stack([np.full(len(pos), si), pos, np.full(len(pos), ei)], axis=1))
                self.explain.source_columns[("document_lines", "amount_cents", ei)] = spec_columns(entry.amount)
                self.explain.source_columns[("document_lines", "billing", ei)] = spec_columns(entry.billing)
                self.explain.source_columns[("document_lines", "mission", ei)] = spec_columns(entry.mission)
        cells = concat("document_lines", pieces)
        self.explain.source_columns[("document_lines", "document_id", -1)] = spec_columns(ts.document_id)
        # source order, row, then entry: line numbers follow the columns of the mapping
        if cells.n:
            key = np.concatenate(order)
            perm = np.lexsort((key[:, 2], key[:, 1], key[:, 0]))
            cells = take_rows(cells, perm)
            doc = cells.values["document_id"]
            cells.values["line_no"] = as_str((doc.groupby(doc.fillna(BAD), sort=False).cumcount() + 1).astype("str"))
            cells.errors["line_no"] = Val.of(cells.values["line_no"])
        described = [("document_id", describe(ts.document_id)), ("line_no", "numbered per document")]
        for i, e in enumerate(ts.lines, 1):
            when = f"; only if {describe_conditions(e.only_if)}" if e.only_if else ""
            described.append((f"line {i}", f"amount {describe(e.amount)}; billing {describe(e.billing)}; mission {describe(e.mission)}{when}"))
        self.explain.described["document_lines"] = described
        self.explain.drivers["document_lines"] = f"one line per non-empty amount ({len(ts.lines)} amount columns) of " + " and ".join(ts.line_sources)
        return cells

    # -- the whole build -------------------------------------------------------------
    def build(self, read_rejects: Mapping[str, pd.DataFrame]) -> Built:
        self.names.build_tree(self.sources)
        cells: dict[str, Cells] = {}
        for table in TABLE_ORDER:
            ts = self.m.tables.get(table)
            if ts is not None:
                cells[table] = self.cells(ts)
                self.frames[table] = pd.DataFrame(cells[table].values)
                if table == "collaborators":
                    self.names.set_directory(cells[table])
        entities = self.names.entity_cells()
        if entities is not None:
            cells["entities"] = entities
        people = self.names.people_cells(self.frames)
        if people is not None:
            cells["collaborators"] = join("collaborators", [cells.get("collaborators"), people])
        if self.m.org is not None:  # last: a home unit of [people] may add units
            cells["org_units"] = self.names.org_cells()
        raw, prov, overrides = {}, {}, []
        for table in TABLE_ORDER:
            c = cells.get(table)
            if c is None:
                raw[table] = pd.DataFrame({col: pd.Series([], dtype="str") for col in TABLES[table].column_names})
                prov[table] = pd.DataFrame({"source": pd.Series([], dtype=object), "row": pd.Series([], dtype="int64"), "part": pd.Series([], dtype="int64")})
                self.explain.drivers.setdefault(table, "not mapped: empty")
                continue
            frame = {}
            for col in TABLES[table].column_names:
                val = c.errors[col]
                v = c.values[col]
                bad = ~val.ok_mask()
                if bad.any():
                    # built in Python: pandas' text concatenation drops a lone NUL
                    marked = np.array([BAD + ("" if x is None else str(x)) for x in val.shown[bad]], dtype=object)
                    v = v.astype(object)
                    v[bad] = marked
                    v = as_str(v)
                    overrides.append(self.cell_frame(table, c, col, bad, val.err, val.kind))
                noted = val.note_mask() & ~bad
                if noted.any():
                    self.note_rows(table, col, c.source[noted], c.row[noted], val, noted, c.part[noted])
                frame[col] = v
            raw[table] = pd.DataFrame(frame, columns=list(TABLES[table].column_names))
            prov[table] = pd.DataFrame({"source": c.source, "row": c.row.astype("int64"), "part": c.part.astype("int64")})
        overrides += self.duplicate_overrides(raw, prov)
        over = pd.concat(overrides, ignore_index=True) if overrides else pd.DataFrame(columns=OVERRIDE_COLUMNS)
        empty = pd.concat(self.kept_empty, ignore_index=True) if self.kept_empty else pd.DataFrame(columns=KEPT_COLUMNS)
        merged = pd.concat(self.merged, ignore_index=True) if self.merged else None
        e = self.explain
        return Built(self.m, self.sources, read_rejects, raw, prov, over, empty, dict(e.source_columns), e.described, e.drivers, tuple(e.notes), merged)

    def note_rows(self, table: str, col: str, source: np.ndarray, row: np.ndarray, val: Val, mask: np.ndarray, part: np.ndarray) -> None:
        """Values left empty on purpose (``on_miss = "empty"``), by source row: listed, not rejected."""
        sc = self.explain.source_columns
        self.kept_empty.append(pd.DataFrame({
            "source": source, "row": row, "table": table, "column": col,
            "value": pd.Series(val.shown[mask], dtype=object).to_numpy(), "reason": val.note[mask], "kind": "not found",
            "source_column": [sc.get((table, col, int(p)), sc.get((table, col, -1), "")) for p in part],
        }))

    def cell_frame(self, table: str, c: Cells, col: str, mask: np.ndarray, reasons: np.ndarray, kinds: np.ndarray) -> pd.DataFrame:
        sc = self.explain.source_columns
        return pd.DataFrame({
            "table": table, "line": np.flatnonzero(mask) + 1, "column": col,
            "value": pd.Series(c.errors[col].shown[mask], dtype=object).to_numpy(),
            "reason": reasons[mask], "kind": kinds[mask],
            "source_column": [sc.get((table, col, int(p)), sc.get((table, col, -1), "")) for p in c.part[mask]],
        })

    def duplicate_overrides(self, raw: Mapping[str, pd.DataFrame], prov: Mapping[str, pd.DataFrame]) -> list[pd.DataFrame]:
        """Reasons for duplicate keys that name the source rows (validation names positions)."""
        out = []
        for table in TABLE_ORDER:
            spec = TABLES[table]
            frame = raw[table]
            keys = [spec.key] + [(c.name,) for c in spec.columns if c.unique and c.name not in spec.key]
            for cols in keys:
                k = frame[list(cols)]
                usable = k.notna().all(axis=1) & ~k.apply(lambda s: s.str.contains(BAD, regex=False)).any(axis=1)
                dup = usable & k.duplicated(keep=False)
                if not dup.any():
                    continue
                p = prov[table]
                where = where_rows(p["source"], p["row"], self.sources)
                sub = k[dup].assign(_w=where[dup.to_numpy()].to_numpy(), _line=np.flatnonzero(dup.to_numpy()) + 1)
                grouped = sub.groupby(list(cols), sort=False)
                listing = grouped["_w"].transform(lambda w: ", ".join(w.iloc[:3]) + (", …" if len(w) > 3 else ""))
                size = grouped["_w"].transform("size")
                value = sub[cols[0]].astype(str)
                for c in cols[1:]:
                    value = value + ", " + sub[c].astype(str)
                label = " with ".join(f"{c} '" + sub[c].astype(str) + "'" for c in cols) if len(cols) > 1 else f"{cols[0]} '" + value + "'"
                what = "ids must be unique" + self.hash_hint(table) if cols == ("id",) else f"{cols[0]}s must be unique" if len(cols) == 1 else "each combination must be unique"
                if cols == spec.key and table in self.disagree:
                    differ = pd.Series(sub["_line"].map(self.disagree[table]).fillna("").to_numpy(), index=sub.index)
                    listing = listing + np.where(differ != "", "; they differ in " + differ, "")
                out.append(pd.DataFrame({
                    "table": table, "line": sub["_line"].to_numpy(), "column": ", ".join(cols), "value": value.to_numpy(),
                    "reason": (label + " is used by " + size.astype(str) + " rows (" + listing + "); " + what).to_numpy(),
                    "kind": "duplicate", "source_column": [self.explain.source_columns.get((table, cols[0], -1), "") for _ in range(len(sub))],
                }))
        return out


    def hash_hint(self, table: str) -> str:
        """What to do when ids made by ``{ hash = [...] }`` repeat: the rows are alike in every hashed column."""
        ts = self.m.tables.get(table)
        hashed = [p.columns["id"] for p in (ts.parts if ts else ()) if p.columns.get("id") is not None and p.columns["id"].kind == "hash"]
        if not hashed:
            return ""
        return f" (rows alike in {spec_columns(hashed[0])}: add a column that tells them apart to the hash)"


def where_rows(source: pd.Series, row: pd.Series, sources: Mapping[str, Source]) -> pd.Series:
    labels = {name: src.label for name, src in sources.items()}
    return source.map(labels).fillna(source).astype(str) + " row " + row.astype(str)


def build(mapping: ImportMapping, files: Mapping[str, Path] | None = None, *, max_bytes: int | None = None, progress: Callable[[str], None] | None = None) -> Built:
    """Read the sources and map them to the nine tables (as text, not yet validated)."""
    from .sources import DEFAULT_MAX_BYTES

    files = dict(files or source_files(mapping))
    sources, bad = {}, {}
    for name, spec in mapping.sources.items():
        if progress is not None:
            progress(f"reading {name}")
        sources[name], bad[name] = read_source(spec, files[name], max_bytes=max_bytes or DEFAULT_MAX_BYTES)
    if progress is not None:
        progress("mapping")
    return TableBuilder(mapping, sources).build(bad)

