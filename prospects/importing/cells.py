"""Rows of a target table under construction (:class:`Cells`) and what the build says
about itself (:class:`Explained`): how each column is made, from which source columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..schema import TABLES
from .values import Val, as_str

#: Provenance ``part`` of rows made from names or distinct values (org units, people,
#: entities, ``distinct`` rows): they point at the first row naming them, which they
#: do not make "partly imported".
GENERATED = -2


@dataclass(eq=False)
class Cells:
    """Rows of one target table under construction: values, failures, provenance."""

    values: dict[str, pd.Series]
    errors: dict[str, Val]
    source: np.ndarray  # source name per row
    row: np.ndarray  # source row number per row
    part: np.ndarray  # lines entry index per row (-1 otherwise, GENERATED)

    @property
    def n(self) -> int:
        return len(self.row)


@dataclass
class Piece:
    """Rows of a table from one source: a value per column, where each row comes from."""

    source: str
    vals: Mapping[str, Val]
    rows: np.ndarray  # source row numbers
    part: np.ndarray  # provenance part per row


def concat(table: str, pieces: Sequence[Piece]) -> Cells:
    """One :class:`Cells` from pieces holding every column of ``table``."""
    values, errors = {}, {}
    for col in TABLES[table].column_names:
        vs = [p.vals[col] for p in pieces]
        errors[col] = Val.concat([v.v for v in vs], vs)
        values[col] = errors[col].v
    source = np.concatenate([np.full(len(p.rows), p.source, object) for p in pieces]) if pieces else np.empty(0, object)
    row = np.concatenate([p.rows for p in pieces]).astype("int64") if pieces else np.empty(0, "int64")
    part = np.concatenate([p.part for p in pieces]).astype("int64") if pieces else np.empty(0, "int64")
    return Cells(values, errors, source, row, part)


def join(table: str, parts: Sequence[Cells]) -> Cells:
    """The rows of several :class:`Cells` of one table, in order."""
    parts = [c for c in parts if c is not None]
    if len(parts) == 1:
        return parts[0]
    pieces = [
        Piece("", {col: Val(c.values[col], e.err, e.kind, e.shown, None, e.note) for col, e in c.errors.items()}, c.row, c.part)
        for c in parts
    ]
    out = concat(table, pieces)
    out.source = np.concatenate([c.source for c in parts]) if parts else np.empty(0, object)
    return out


def take_rows(cells: Cells, perm: np.ndarray) -> Cells:
    errors = {c: Val(cells.values[c], e.err, e.kind, e.shown, None, e.note).rows(perm) for c, e in cells.errors.items()}
    return Cells({c: e.v for c, e in errors.items()}, errors, cells.source[perm], cells.row[perm], cells.part[perm])


def literal_cells(table: str, rows: Sequence[Mapping[str, str | None]]) -> Cells:
    """Rows written in the mapping (``rows = [...]``)."""
    from .values import blank

    n = len(rows)
    values = {c: blank(as_str([r.get(c) for r in rows])) for c in TABLES[table].column_names}
    return Cells(values, {c: Val.of(values[c]) for c in values}, np.full(n, "(mapping)", object), np.arange(1, n + 1), np.full(n, -1))


@dataclass
class Explained:
    """What ``--check`` shows about the build, and the source columns named by rejections."""

    described: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # table → (column, description)
    drivers: dict[str, str] = field(default_factory=dict)  # table → how its rows are made
    source_columns: dict[tuple[str, str, int], str] = field(default_factory=dict)  # (table, column, lines entry) → columns
    notes: list[str] = field(default_factory=list)
