"""Evaluating value specs over the rows of a source: columns, constants, templates,
lookups, then default, map and the parsing the target column needs; and the
conditions of ``only_if``.

Org units, people and entities named by a spec are resolved by :mod:`.names`. Values
are cached per (spec, source): a spec used by several columns is evaluated once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..schema import DEAL_STATUSES, DOC_STATUSES
from .spec import Condition, ImportMapping, MappingError, Spec, describe, spec_columns
from .values import (
    Val,
    as_str,
    blank,
    distinct,
    hash_ids,
    norm,
    norm_one,
    parse_dates,
    parse_money,
    project,
    quoted,
    slugs,
)

if TYPE_CHECKING:
    from .names import Names
    from .sources import Source


class Evaluator:
    """Values of specs over the rows of sources, cached per (spec, source)."""

    def __init__(self, mapping: ImportMapping, sources: Mapping[str, Source]):
        self.m = mapping
        self.sources = sources
        self.cache: dict[tuple[int, str], Val] = {}
        self.hashes: dict[tuple[tuple[str, ...], str], Val] = {}  # hashed values' descriptions, source → ids
        self.names: Names  # set by the builder (the two call each other)

    # -- reading columns -------------------------------------------------------------
    def column(self, src: Source, key: str, names: Sequence[str]) -> pd.Series:
        """The first non-empty of the named columns (trimmed, empty → null)."""
        found = []
        for name in names:
            normed = norm_one(name)
            if normed in src.duplicated:
                raise MappingError(f"{src.label}: column '{name}' appears twice in the header (mapping key {key})")
            if normed in src.columns:
                if normed not in src.blanked:
                    src.blanked[normed] = blank(src.columns[normed])
                found.append(src.blanked[normed])
        if not found:
            shown = ", ".join(f"'{h}'" for h in src.headers if h.strip()) or "none"
            which = " or ".join(f"'{n}'" for n in names)
            raise MappingError(f"{src.label}: no column {which} (mapping key {key}); columns found: {shown}")
        out = found[0]
        for s in found[1:]:
            out = out.fillna(s)
        return out

    # -- evaluating specs ------------------------------------------------------------
    def eval(self, spec: Spec, src: Source) -> Val:
        """The values of ``spec`` for every row of ``src`` (its own ``only_if`` aside)."""
        key = (id(spec), src.name)
        if key not in self.cache:
            self.cache[key] = self._eval(spec, src)
        return self.cache[key]

    def value(self, spec: Spec, src: Source, own: Mapping[str, Spec], table: str) -> Val:
        """The values of ``spec``, emptied where its ``only_if`` does not hold.

        A value emptied by its condition is not a failure: whatever its spec could not
        map (a lookup that finds nothing, a bad date) on those rows is dropped with it.
        """
        val = self.eval(spec, src)
        if not spec.only_if:
            return val
        out = val.copy()
        out.clear(~self.holds(spec.only_if, src, own, table))
        return out

    def holds(self, conditions: Sequence[Condition], src: Source, own: Mapping[str, Spec], table: str) -> np.ndarray:
        """Rows of ``src`` where every condition holds (see :class:`.spec.Condition`)."""
        ok = np.ones(src.n, dtype=bool)
        for cond in conditions:
            if cond.on_source:
                values = norm(self.column(src, cond.key, (cond.column,)))
                ok &= values.isin([norm_one(v) for v in cond.values]).to_numpy()
                continue
            if cond.table == table:  # a column of the same rows, as mapped (its own condition applied)
                values = self.value(own[cond.column], src, own, table).v
            else:
                part = next(p for p in self.m.tables[cond.table].parts if src.name in p.sources and not p.distinct)
                values = self.eval(part.columns[cond.column], src).v
            ok &= values.isin(cond.values).to_numpy()
        return ok

    def _eval(self, spec: Spec, src: Source) -> Val:
        n = src.n
        if spec.kind == "column":
            val = Val.of(self.column(src, spec.key, spec.columns))
        elif spec.kind == "value":
            val = Val.of(as_str(spec.value, n))
        elif spec.kind == "template":
            acc = pd.Series("", index=range(n), dtype="str")
            present = np.zeros(n, dtype=bool)
            for literal, col in spec.parts:
                acc = acc + literal
                if col is not None:
                    s = self.column(src, spec.key, (col,))
                    acc = acc + s.fillna("")
                    present |= s.notna().to_numpy()
            acc = acc.str.strip()
            val = Val.of(acc.where(present & (acc != "").to_numpy()))
        elif spec.kind == "lookup":
            val = self.lookup(spec, src)
        elif spec.kind == "hash":
            val = self.hash(spec, src)
        elif spec.kind == "unit":
            return self.names.unit(spec, src)
        elif spec.kind in ("person", "entity"):
            return self.names.named(spec, src)
        else:  # pragma: no cover - closed set
            raise AssertionError(spec.kind)
        return self.finish(spec, src, val)

    def hash(self, spec: Spec, src: Source) -> Val:
        """An id from the values of the hashed specs (see :func:`.values.hash_ids`); empty when all are.
        Computed once per source for the same hashed values (a deal's id and its document's ``deal_id``)."""
        key = (tuple(describe(s) for s in spec.hashed), src.name)
        if key not in self.hashes:
            parts = [self.eval(s, src) for s in spec.hashed]
            out = Val.of(hash_ids([p.v for p in parts]))
            for p in parts:
                out.take(p)
            self.hashes[key] = out
        return self.hashes[key].copy()

    def lookup(self, spec: Spec, src: Source) -> Val:
        from .values import look_up

        other = self.sources[spec.lookup_source]
        match = self.eval(spec.match, src)
        keys, values = self.eval(spec.lookup_key, other), self.eval(spec.lookup_value, other)
        return look_up(spec, match, keys, values, other.rows)

    def finish(self, spec: Spec, src: Source, val: Val) -> Val:
        """default, map, slug, then the parsing the target column needs."""
        target = spec.target
        v = val.v
        raw = v
        label = spec_columns(spec)
        present = v.notna().to_numpy()
        out = val.copy()
        if spec.map is not None:
            entries = {k: project(target, vals) for k, vals in spec.map.entries.items()}
            mapped = norm(v).map(entries).astype("str")
            unmapped = present & mapped.isna().to_numpy()
            if spec.otherwise is not None:
                mapped[unmapped] = project(target, (spec.otherwise,))
            elif spec.keep_unmapped:
                mapped[unmapped] = v[unmapped]
            else:
                out.fail(unmapped, f"{label} " + quoted(raw) + f" is not in map {spec.map.name}", "unmapped", raw)
            v = mapped
        elif target.kind == "enum":
            allowed = DEAL_STATUSES if target.special and target.table == "deals" else DOC_STATUSES if target.special else target.values
            ok = v.isin(allowed).to_numpy()
            out.fail(present & ~ok, f"{label} " + quoted(raw) + f" is not one of {', '.join(allowed)}: add a map", "unmapped", raw)
        if spec.slug:
            v = slugs(v).str.replace("-", ".", regex=False).where(v.notna())
        if target.kind == "date":
            todo = present & out.ok_mask()
            parsed, ok = distinct(v[todo], lambda u: parse_dates(u, spec.dates or src.spec.dates))
            v = v.copy()
            v[todo] = parsed.to_numpy()
            bad = np.zeros(len(v), dtype=bool)
            bad[np.flatnonzero(todo)[~ok]] = True
            fmts = " or ".join(d.label for d in (spec.dates or src.spec.dates))
            out.fail(bad, f"{label} " + quoted(raw) + f" is not a date ({fmts})", "bad date", raw)
        elif target.kind == "amount":
            todo = present & out.ok_mask()
            cents, reason = distinct(v[todo], lambda u: parse_money(u, src.spec.decimal, self.m.currency, spec.money,
                                                                 self.m.firm_currency))
            v = v.copy()
            v[todo] = cents.to_numpy()
            bad = np.zeros(len(v), dtype=bool)
            bad[np.flatnonzero(todo)] = reason.notna().to_numpy()
            full = pd.Series(np.nan, index=v.index, dtype="str")
            full[todo] = reason.to_numpy()
            out.fail(bad, f"{label} " + quoted(raw) + " " + full, "bad amount", raw)
        out.v = as_str(v)
        out.raw = raw
        self.fill_default(spec, src, out, ~present)
        return out

    def fill_default(self, spec: Spec, src: Source, out: Val, empty: np.ndarray) -> None:
        """Where ``empty``, the value of the spec's ``default``: a constant (the target value
        itself), or a value spec over the same rows — whose failures and notes count only
        on the rows it fills, and whose own default comes next (a chain)."""
        d = spec.default
        if d is None or not empty.any():
            return
        if d.constant:
            fill = Val.of(as_str(project(spec.target, (d.value,)) if spec.target.special else d.value, src.n))
        else:
            fill = self.eval(d, src).copy()
            fill.clear(~empty)
        out.v = as_str(out.v.where(~empty, fill.v))
        out.take(fill)
