"""Loading and exporting the canonical CSV extract (docs/data.md).

Three steps, each usable on its own:

* :func:`read_extract` reads the nine ``<table>.csv`` of a folder as text and hands
  them to :func:`validate_tables`;
* :func:`validate_tables` applies every rule of the data contract, vectorised, and
  returns the canonical frames of the rows kept, the rejections and the counts
  (it knows nothing of files, so a CRM import can reuse it);
* :func:`load_extract` replaces the database content atomically
  (:func:`prospects.db.replace_all`) and writes ``rejects.csv``.

:func:`write_extract` / :func:`export_extract` write the canonical extract back, so
that load → export → load gives identical tables.

Rejection rules (beyond the per-column rules of docs/data.md):

* a row breaking several rules appears once per broken rule in the rejections, but
  is counted once;
* when an id (or a composite key, or a login) is used by several rows, *all* of them
  are rejected: the extract does not say which one is right;
* a reference, required or optional, must name a row that is loaded. A reference to
  a row that exists in the file but was rejected rejects the referencing row too,
  with the reason ``parent rejected: <table> <id>`` (a deal whose partner was
  rejected, a document whose signatory or entity was rejected, the lines of a
  rejected document, a whole subtree of org units under a rejected unit, ...).
  Keeping such rows with the reference emptied would change who sees what silently;
* rejection only flows from parents to children: a document keeps its other lines
  when one of its lines is rejected;
* text and id values are kept verbatim (an empty field is null, and so is an id made
  only of spaces); enums, dates, booleans and integers are read without their
  surrounding spaces; enums are case-sensitive, booleans are not; header names are
  trimmed and case-insensitive;
* ``line`` is the line of the file where the row starts (the header is line 1), line
  breaks inside quoted fields included;
* a file with no column for an optional, unconditional column (``template``,
  ``title``, ``abandon_reason``, ``sent_on``, ``entity_id``, ``signatory_id``,
  ``partner_id``, ``manager_id``, ``client_manager_id``, ``group_id``) is read as if
  the column were empty, and the result says so in ``notes``; any other missing
  column makes the extract unusable;
* lines that are empty (or hold only empty fields) are skipped and not counted; a
  line with more fields than the header is rejected;
* the organisation tree must have exactly one usable firm row (kind ``firm``, empty
  parent): none, several, or a rejected one make the extract unusable, as does a
  cycle in ``parent_id``. The database and ``rejects.csv`` are then left untouched.

Progress goes to stderr when stderr is a terminal or the extract is big
(:data:`PROGRESS_MIN_BYTES`); ``PROSPECTS_PROGRESS=1`` / ``0`` forces it on / off.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from . import db, files, store
from .config import DEFAULT_LOAD_MAX_MB
from .i18n import message_line
from .schema import (
    MAX_AMOUNT_CENTS,
    MAX_DOCUMENT_CENTS,
    PLAIN_ADDRESS,
    TABLE_ORDER,
    TABLES,
    max_chars,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from .config import Settings

Progress = Callable[[str], None]

#: Columns of the rejections (``rejects.csv``).
REJECT_COLUMNS: tuple[str, ...] = ("table", "line", "column", "value", "reason")
REJECTS_FILE = "rejects.csv"

TRUE_WORDS = ("true", "1", "yes", "oui")
FALSE_WORDS = ("false", "0", "no", "non")
_BOOLS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}

#: Optional columns that carry a rule when empty: a file must have them.
_NEEDED_OPTIONAL = {("org_units", "parent_id"), ("deals", "abandoned_on"), ("documents", "decided_on")}
_KIND_PARENT = {"region": "firm", "agency": "region", "team": "agency"}
_A_KIND = {"firm": "a firm", "region": "a region", "agency": "an agency", "team": "a team"}
_INT_RE = r"[+-]?0*[0-9]{1,18}"
#: A whole number of any size (beyond 18 digits: too large, not "not a whole number").
_ANY_INT_RE = r"[+-]?[0-9]+"
#: Extracts bigger than this (bytes) report progress on stderr.
PROGRESS_MIN_BYTES = 10_000_000
#: Default size limit of one CSV file of an extract (setting ``load_max_mb``).
DEFAULT_LOAD_MAX_BYTES = DEFAULT_LOAD_MAX_MB * 1_000_000


class UnusableExtract(ValueError):
    """The extract cannot be used at all (missing file or column, encoding, broken tree)."""


class TableCount(NamedTuple):
    """Rows of one table: ``read == loaded + rejected``."""

    read: int
    loaded: int
    rejected: int


@dataclass(frozen=True)
class Validated:
    """The outcome of validation: canonical frames of the kept rows, rejections, counts."""

    frames: Mapping[str, pd.DataFrame]
    rejects: pd.DataFrame
    counts: Mapping[str, TableCount]
    notes: tuple[str, ...] = ()

    @property
    def rejected(self) -> int:
        """Total number of rejected rows."""
        return sum(c.rejected for c in self.counts.values())


@dataclass(frozen=True)
class LoadReport:
    """What a load did: counts per table, rejections and where they were written."""

    folder: Path
    counts: Mapping[str, TableCount]
    rejects: pd.DataFrame
    rejects_path: Path | None
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    info: Mapping[str, str] = field(default_factory=dict)

    @property
    def read(self) -> int:
        return sum(c.read for c in self.counts.values())

    @property
    def loaded(self) -> int:
        return sum(c.loaded for c in self.counts.values())

    @property
    def rejected(self) -> int:
        return sum(c.rejected for c in self.counts.values())

    @property
    def exit_code(self) -> int:
        """0 when nothing was rejected, 1 otherwise."""
        return 1 if self.rejected else 0


# ---------------------------------------------------------------------------
# validation


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": pd.Series([], dtype=object),
            "line": pd.Series([], dtype="int64"),
            "column": pd.Series([], dtype=object),
            "value": pd.Series([], dtype=object),
            "reason": pd.Series([], dtype=object),
        }
    )


def _as_text(series: pd.Series) -> pd.Series:
    """Raw values as ``str`` dtype with NaN for null ("" and None are null)."""
    if isinstance(series.dtype, pd.StringDtype):
        s = series
    elif pd.api.types.is_datetime64_any_dtype(series.dtype):  # dates handed over as dates
        s = series.dt.strftime("%Y-%m-%d").astype("str")
    else:
        s = series.astype("str")
    s = s.reset_index(drop=True)
    return s.mask(s == "")


def _objects(series: pd.Series) -> pd.Series:
    """Values as ``object`` with ``None`` for null (canonical text)."""
    return series.astype(object).where(series.notna(), None)


def _mask(mask: np.ndarray | pd.Series) -> np.ndarray:
    if isinstance(mask, pd.Series):
        return mask.fillna(False).to_numpy(dtype=bool)
    return np.asarray(mask, dtype=bool)


Reason = str | Callable[[np.ndarray], "pd.Series | np.ndarray"]


class _Check:
    """The rows of one table under validation: values, line numbers, rejections."""

    def __init__(self, table: str, values: dict[str, pd.Series], lines: np.ndarray):
        self.table = table
        self.spec = TABLES[table]
        self.values = values  # column -> str series (NaN = null), as read
        self.lines = lines
        self.n = len(lines)
        self.bad = np.zeros(self.n, dtype=bool)
        self.parsed: dict[str, pd.Series] = {}
        self.parts: list[pd.DataFrame] = []

    def reject(
        self,
        mask: np.ndarray | pd.Series,
        column: str | None,
        reason: Reason,
        value: pd.Series | None = None,
    ) -> None:
        """Reject the rows of ``mask`` for ``reason``.

        ``reason`` is a string, or a function of the mask giving one reason per rejected
        row (so that reasons are only built for the rows rejected).
        """
        mask = _mask(mask)
        count = int(mask.sum())
        if not count:
            return
        self.bad |= mask
        if value is None and column is not None:
            value = self.values[column]
        values = [None] * count if value is None else _objects(value[mask]).to_numpy()
        if isinstance(reason, str):
            reasons = np.full(count, reason, dtype=object)
        else:
            reasons = np.asarray(_objects(pd.Series(np.asarray(reason(mask), dtype=object))))
        self.parts.append(
            pd.DataFrame(
                {
                    "table": self.table,
                    "line": self.lines[mask].astype("int64"),
                    "column": column,
                    "value": values,
                    "reason": reasons,
                }
            )
        )

    def reject_value(
        self,
        mask: np.ndarray | pd.Series,
        column: str,
        before: str,
        after: str = "",
        *,
        shown: pd.Series | None = None,
        quote: bool = True,
    ) -> None:
        """Reject with the reason ``before + 'value' + after`` (the value of each row)."""
        series = self.values[column] if shown is None else shown
        q = "'" if quote else ""

        def reason(m: np.ndarray) -> pd.Series:
            return before + q + series[m].astype(str) + q + after

        self.reject(mask, column, reason)


def _retry_stripped(
    raw: pd.Series, present: np.ndarray, parse: Callable[[pd.Series], tuple[pd.Series, np.ndarray]]
) -> tuple[pd.Series, np.ndarray]:
    """``parse`` the values as read, then once more without surrounding spaces where it failed."""
    parsed, ok = parse(raw)
    retry = present & ~ok
    if retry.any():
        again, ok_again = parse(raw[retry].str.strip())
        parsed = parsed.copy()
        parsed[retry] = again
        ok = ok.copy()
        ok[retry] = ok_again
    return parsed, ok


def _parse_enum(values: tuple[str, ...]) -> Callable[[pd.Series], tuple[pd.Series, np.ndarray]]:
    def parse(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
        ok = s.isin(values).to_numpy()
        return s.where(ok), ok

    return parse


def _parse_date(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    ok = (parsed.notna() & (s.str.len() == 10) & (parsed.dt.year >= 1)).to_numpy()
    return parsed.where(ok).astype("datetime64[s]"), ok


def _parse_bool(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    parsed = s.str.lower().map(_BOOLS).astype(object)
    return parsed, parsed.notna().to_numpy()


def _parse_int(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    # plain digits the fast way, the rest (signs, junk) through the regular expression
    ok = _mask(s.str.isdigit()) & _mask(s.str.isascii()) & _mask(s.str.len() <= 18)
    other = ~ok & s.notna().to_numpy()
    if other.any():
        ok[other] = _mask(s[other].str.fullmatch(_INT_RE, na=False))
    values = np.zeros(len(s), dtype="int64")
    if ok.all():
        values = s.astype("int64").to_numpy()
    elif ok.any():
        values[ok] = s[ok].astype("int64").to_numpy()
    return pd.Series(pd.arrays.IntegerArray(values, ~ok), index=s.index), ok


def _has_nul(s: pd.Series) -> bool:
    """Whether any value holds a NUL character (one join instead of a search per value)."""
    values = s.to_numpy(dtype=object)[s.notna().to_numpy()]
    return "\x00" in "".join(values)


def _check_columns(chk: _Check) -> None:
    """Required, types (enum, date, bool, int), sizes and NUL characters."""
    for col in chk.spec.columns:
        name = col.name
        raw = chk.values[name]
        if col.type == "id":  # an id made of spaces is no id
            chk.values[name] = raw = raw.mask(_mask(raw.str.isspace()))
        present = raw.notna().to_numpy()
        if col.required:
            chk.reject(~present, name, f"{name} is required but empty")
        if _has_nul(raw):
            nul = raw.str.contains("\x00", regex=False, na=False)
            chk.reject(nul, name, f"{name} contains a NUL character, which cannot be stored")
        if col.type in ("id", "text"):
            length = max_chars(col)
            if length:
                chk.reject(raw.str.len() > length, name, f"{name} is longer than {length:,} characters")
            chk.parsed[name] = raw
            continue
        if col.type == "enum":
            parse, what = _parse_enum(col.values), f" is not one of {', '.join(col.values)}"
        elif col.type == "date":
            parse, what = _parse_date, " is not a date of the form YYYY-MM-DD"
        elif col.type == "bool":
            parse, what = _parse_bool, " is not a boolean (true/false, 1/0, yes/no, oui/non)"
        elif col.type == "int":
            parse, what = _parse_int, " is not a whole number"
        else:  # pragma: no cover - schema types are closed
            raise AssertionError(col.type)
        parsed, ok = _retry_stripped(raw, present, parse)
        if col.type == "int" and (present & ~ok).any():  # whole numbers beyond int64: too large
            huge = present & ~ok & _mask(raw.str.strip().str.fullmatch(_ANY_INT_RE, na=False))
            chk.reject_value(huge, name, f"{name} ", " is too large" + _INT_LIMITS.get(name, " (more than 18 digits)"),
                             shown=raw.str.strip())
            ok = ok | huge
        chk.reject_value(present & ~ok, name, f"{name} ", what)
        chk.parsed[name] = parsed


def _duplicates(chk: _Check, columns: Sequence[str], what: str) -> None:
    """Reject every row whose value(s) in ``columns`` are shared with another row."""
    keys = pd.DataFrame({c: chk.parsed[c] for c in columns})
    usable = keys.notna().all(axis=1).to_numpy()
    dup = np.zeros(chk.n, dtype=bool)
    dup[usable] = keys[usable].duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    sub = keys[dup].assign(_line=chk.lines[dup], _pos=np.flatnonzero(dup))
    sub = sub.sort_values([*columns, "_line"], kind="stable").reset_index(drop=True)
    groups = sub.groupby(list(columns), sort=False)
    rank = groups.cumcount().to_numpy()
    size = groups["_line"].transform("size").to_numpy()
    lines = sub["_line"].to_numpy()
    start = np.arange(len(sub)) - rank
    label = pd.Series("", index=sub.index)
    for i, c in enumerate(columns):
        label = label + (" with " if i else "") + c + " '" + sub[c].astype(str) + "'"
    reason_sub = (
        label
        + " is used by "
        + pd.Series(size).astype(str)
        + " rows (lines "
        + pd.Series(lines[start]).astype(str)
        + ", "
        + pd.Series(lines[start + 1]).astype(str)
        + np.where(size > 2, ", …", "")
        + "); "
        + what
    )
    reasons = np.empty(chk.n, dtype=object)
    reasons[sub["_pos"].to_numpy()] = reason_sub.to_numpy()
    value = chk.values[columns[0]]
    for c in columns[1:]:
        value = value + ", " + chk.values[c]
    chk.reject(dup, ", ".join(columns), lambda m: reasons[m], value=value)


def _check_keys(chk: _Check) -> None:
    spec = chk.spec
    what = "ids must be unique" if spec.key == ("id",) else "each combination must be unique"
    _duplicates(chk, spec.key, what)
    for col in spec.columns:
        if col.unique and col.name not in spec.key:
            _duplicates(chk, (col.name,), f"{col.name}s must be unique")


def _check_refs(chk: _Check, all_ids: Mapping[str, pd.Index], kept_ids: Mapping[str, pd.Index]) -> None:
    """References: the value must exist, and its row must be kept (else: parent rejected)."""
    for col in chk.spec.columns:
        if not col.ref or col.ref == chk.table:
            continue
        v = chk.parsed[col.name]
        present = v.notna().to_numpy()
        missing = present & (kept_ids[col.ref].get_indexer(v) < 0)
        if not missing.any():
            continue
        exists = np.zeros(chk.n, dtype=bool)
        exists[missing] = v[missing].isin(all_ids[col.ref]).to_numpy()
        chk.reject_value(missing & ~exists, col.name, f"{col.name} ", f" does not exist in {col.ref}")
        chk.reject_value(missing & exists, col.name, f"parent rejected: {col.ref} ", quote=False)


def _not_before(chk: _Check, later: str, earlier: str) -> None:
    a, b = chk.parsed[later], chk.parsed[earlier]

    def reason(m: np.ndarray) -> pd.Series:
        return (
            later
            + " "
            + a[m].dt.strftime("%Y-%m-%d")
            + f" is before {earlier} "
            + b[m].dt.strftime("%Y-%m-%d")
        )

    chk.reject((a < b).to_numpy(dtype=bool), later, reason)


def _check_deals(chk: _Check) -> None:
    status, raw = chk.parsed["status"], chk.values["abandoned_on"]
    chk.reject(
        (status == "abandoned") & raw.isna(),
        "abandoned_on",
        "abandoned_on is required when status is abandoned",
    )
    chk.reject(
        (status == "open") & raw.notna(),
        "abandoned_on",
        "abandoned_on must be empty when status is open",
    )
    _not_before(chk, "abandoned_on", "created_on")


def _check_documents(chk: _Check) -> None:
    status, raw = chk.parsed["status"], chk.values["decided_on"]
    chk.reject(
        status.notna() & (status != "in_progress") & raw.isna(),
        "decided_on",
        lambda m: "decided_on is required when status is " + status[m],
    )
    chk.reject(
        (status == "in_progress") & raw.notna(),
        "decided_on",
        "decided_on must be empty while status is in_progress",
    )
    _not_before(chk, "sent_on", "created_on")
    _not_before(chk, "decided_on", "created_on")



def _check_collaborators(chk: _Check) -> None:
    email = chk.parsed["email"]
    present = email.notna().to_numpy()
    if present.any():
        bad = present & ~_mask(email.str.fullmatch(PLAIN_ADDRESS, na=False))
        chk.reject_value(bad, "email", "email ", " is not a plain address (name@domain)")


_INT_LIMITS = {"amount_cents": f" (more than {MAX_AMOUNT_CENTS:,} cents)"}


def _check_lines(chk: _Check) -> None:
    for name, bad, what in (
        ("line_no", chk.parsed["line_no"] < 1, " is less than 1"),
        ("amount_cents", chk.parsed["amount_cents"] < 0, " is negative"),
    ):
        shown = chk.values[name].str.strip()
        chk.reject_value(bad, name, f"{name} ", what, shown=shown, quote=False)
    too_large = chk.parsed["amount_cents"] > MAX_AMOUNT_CENTS
    chk.reject_value(too_large, "amount_cents", "amount_cents ", " is too large" + _INT_LIMITS["amount_cents"],
                     shown=chk.values["amount_cents"].str.strip())


def _check_document_totals(lines: _Check, documents: _Check) -> None:
    """A document whose kept lines add up to more than :data:`MAX_DOCUMENT_CENTS` is
    rejected as too large, and its lines with it (parent rejected)."""
    from . import cents

    keep = ~lines.bad
    doc_ids = lines.parsed["document_id"]
    if not keep.any():
        return
    codes, uniques = pd.factorize(doc_ids[keep])
    sums = cents.sum_by(codes, lines.parsed["amount_cents"][keep].to_numpy(dtype="int64"), len(uniques))
    over = np.asarray(sums > MAX_DOCUMENT_CENTS, dtype=bool)
    if not over.any():
        return
    total_of = dict(zip(uniques[over], sums[over], strict=True))
    ids = documents.parsed["id"]
    docs = ~documents.bad & _mask(ids.isin(list(total_of)))
    documents.reject(
        docs, None,
        lambda m: [f"document too large: its lines add up to {int(total_of[d]):,} cents "
                   f"(more than {MAX_DOCUMENT_CENTS:,})" for d in ids[m]],
    )
    lines.reject_value(keep & _mask(doc_ids.isin(list(total_of))), "document_id", "parent rejected: documents ", quote=False)


def _check_cycles(chk: _Check, label: str) -> None:
    """A cycle in parent_id makes the tree, hence the extract, unusable."""
    ids, parents = chk.values["id"], chk.values["parent_id"]
    first = (ids.notna() & ~ids.duplicated()).to_numpy()
    node_ids = pd.Index(ids[first])
    lines = chk.lines[first]
    n = len(node_ids)
    if n == 0:
        return
    par = node_ids.get_indexer(parents[first])
    par = np.append(np.where(par < 0, n, par), n)  # n is the sink: no parent
    anc = par.copy()
    for _ in range(math.ceil(math.log2(n + 1)) + 1):  # pointer doubling: 2^k >= n steps up
        anc = anc[anc]
    stuck = np.flatnonzero(anc[:n] != n)
    if len(stuck) == 0:
        return
    start = int(anc[stuck[0]])  # after n steps up, a node on the cycle
    cycle = [start]
    node = int(par[start])
    while node != start and len(cycle) < 10:  # walks the cycle only (at most 10 units)
        cycle.append(node)
        node = int(par[node])
    shown = " → ".join(f"'{node_ids[i]}'" for i in cycle)
    shown += f" → '{node_ids[start]}'" if node == start else " → …"
    where = ", ".join(str(lines[i]) for i in sorted(cycle, key=lambda i: lines[i]))
    raise UnusableExtract(
        f"{label}: parent_id forms a cycle: {shown} (lines {where}); the organisation tree must not loop"
    )


def _check_tree(chk: _Check, label: str) -> None:
    """org_units: one firm root, kinds nest firm > region > agency > team, subtree cascade."""
    ids, kind, parent = chk.parsed["id"], chk.parsed["kind"], chk.parsed["parent_id"]
    is_firm = (kind == "firm").to_numpy(dtype=bool)
    no_parent = parent.isna().to_numpy()
    chk.reject(is_firm & ~no_parent, "parent_id", "the firm row must have an empty parent_id (it is the root)")
    chk.reject(
        kind.notna().to_numpy() & ~is_firm & no_parent,
        "parent_id",
        lambda m: "parent_id is required for " + kind[m].map(_A_KIND) + " (only the firm row has none)",
    )
    known = parent.isin(ids.dropna()).to_numpy()
    chk.reject_value(~no_parent & ~known, "parent_id", "parent_id ", " does not exist in org_units")
    # nesting, where both kinds are valid and the parent id is unique
    unique_ids = (ids.notna() & ~ids.duplicated(keep=False)).to_numpy()
    kind_of = pd.Series(kind[unique_ids].to_numpy(), index=ids[unique_ids].to_numpy())
    parent_kind = parent.map(kind_of)
    expected = kind.map(_KIND_PARENT)
    wrong = parent_kind.notna() & expected.notna() & (parent_kind != expected)
    chk.reject(
        wrong,
        "parent_id",
        lambda m: kind[m].map(_A_KIND)
        + " must be under "
        + expected[m].map(_A_KIND)
        + ", but its parent '"
        + parent[m]
        + "' is "
        + parent_kind[m].map(_A_KIND),
    )
    # exactly one usable firm row
    roots = np.flatnonzero(is_firm & no_parent)
    if len(roots) == 0:
        raise UnusableExtract(
            f"{label}: no firm row (kind firm with an empty parent_id); the organisation tree needs exactly one"
        )
    if len(roots) > 1:
        where = ", ".join(str(chk.lines[i]) for i in roots[:10])
        raise UnusableExtract(f"{label}: {len(roots)} firm rows (lines {where}); the organisation tree needs exactly one")
    root = int(roots[0])
    if chk.bad[root]:
        reasons = [str(r) for p in chk.parts for r in p.loc[p["line"] == chk.lines[root], "reason"]]
        raise UnusableExtract(f"{label}: the firm row (line {chk.lines[root]}) cannot be loaded: {'; '.join(reasons)}")
    # a unit under a rejected unit is rejected, down the whole subtree (one pass per level)
    bad = chk.bad.copy()
    while True:
        newly = ~bad & parent.isin(ids[bad].dropna()).to_numpy()
        if not newly.any():
            break
        bad |= newly
    cascade = known & parent.isin(ids[bad].dropna()).to_numpy()
    chk.reject_value(cascade, "parent_id", "parent rejected: org_units ", quote=False)


def _canonical(chk: _Check) -> pd.DataFrame:
    keep = ~chk.bad
    out = {}
    for col in chk.spec.columns:
        s = chk.parsed[col.name][keep].reset_index(drop=True)
        if col.type == "date":
            out[col.name] = s.astype("datetime64[s]")
        elif col.type == "bool":
            out[col.name] = s.astype(bool)
        elif col.type == "int":
            out[col.name] = s.astype("int64")
        else:
            out[col.name] = _objects(s)
    return pd.DataFrame(out, columns=list(chk.spec.column_names))


def _table_values(table: str, frame: pd.DataFrame, label: str) -> tuple[dict[str, pd.Series], list[str]]:
    spec = TABLES[table]
    values, notes = {}, []
    for col in spec.columns:
        if col.name in frame.columns:
            values[col.name] = _as_text(frame[col.name])
        elif col.required or (table, col.name) in _NEEDED_OPTIONAL:
            found = ", ".join(f"'{c}'" for c in frame.columns) or "none"
            raise UnusableExtract(f"{label}: missing column '{col.name}' (columns found: {found})")
        else:
            values[col.name] = pd.Series(np.nan, index=range(len(frame)), dtype="str")
            notes.append(f"{label}: no column '{col.name}', read as empty")
    return values, notes


def validate_tables(
    raw: Mapping[str, pd.DataFrame],
    *,
    line_numbers: Mapping[str, Sequence[int]] | None = None,
    labels: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    function_caps: Mapping[str, str | None] | None = None,
) -> Validated:
    """Apply every rule of docs/data.md to the nine tables given as text.

    ``raw[table]`` holds the values as read (strings; ``None``, NaN or ``""`` for
    empty); ``line_numbers[table]`` the line of each row in its source (default: row
    position + 2, the header being line 1); ``labels[table]`` how to name the table
    in messages (default: its name); ``function_caps`` the settings' caps (default:
    :data:`prospects.config.DEFAULT_FUNCTION_CAPS`), for the warnings about validators
    whose home unit sits above their cap (:func:`directory_warnings`, in ``notes``).
    Raises :class:`UnusableExtract` when the data cannot be used at all.
    """
    frames: dict[str, pd.DataFrame] = {}
    counts: dict[str, TableCount] = {}
    parts: list[pd.DataFrame] = []
    notes: list[str] = []
    all_ids: dict[str, pd.Index] = {}
    kept_ids: dict[str, pd.Index] = {}
    labels = labels or {}
    missing = [t for t in TABLE_ORDER if t not in raw]
    if missing:
        raise UnusableExtract(f"missing table(s): {', '.join(missing)}")
    prepared = {}
    checks: dict[str, _Check] = {}
    for table in TABLE_ORDER:
        label = labels.get(table, table)
        values, table_notes = _table_values(table, raw[table], label)
        notes += table_notes
        n = len(raw[table])
        if line_numbers is not None and table in line_numbers:
            lines = np.asarray(line_numbers[table], dtype="int64")
            if len(lines) != n:
                raise ValueError(f"{table}: {len(lines)} line numbers for {n} rows")
        else:
            lines = np.arange(2, n + 2, dtype="int64")
        prepared[table] = (values, lines)
    for table in TABLE_ORDER:
        label = labels.get(table, table)
        values, lines = prepared.pop(table)
        if progress:
            progress(f"checking {table} ({len(lines)} rows)")
        chk = _Check(table, values, lines)
        if table == "org_units":
            _check_cycles(chk, label)
        _check_columns(chk)
        _check_keys(chk)
        if table == "org_units":
            _check_tree(chk, label)
        elif table == "deals":
            _check_deals(chk)
        elif table == "documents":
            _check_documents(chk)
        elif table == "collaborators":
            _check_collaborators(chk)
        elif table == "document_lines":
            _check_lines(chk)
        _check_refs(chk, all_ids, kept_ids)
        if table == "document_lines":
            _check_document_totals(chk, checks["documents"])
            frames["documents"] = _canonical(checks["documents"])
        frame = _canonical(chk)
        frames[table] = frame
        if chk.spec.key == ("id",):
            all_ids[table] = pd.Index(chk.parsed["id"].dropna().unique())
            kept_ids[table] = pd.Index(frame["id"].astype("str"))
        checks[table] = chk
    for table, chk in checks.items():
        kept = len(frames[table])
        counts[table] = TableCount(chk.n, kept, chk.n - kept)
        parts += chk.parts
    rejects = _sorted_rejects(parts)
    notes += directory_warnings(frames, function_caps)
    return Validated(MappingProxyType(frames), rejects, MappingProxyType(counts), tuple(notes))


#: At most this many validators named per reason of an empty perimeter, then a count.
NAMED_PER_REASON = 10


def directory_warnings(
    frames: Mapping[str, pd.DataFrame], function_caps: Mapping[str, str | None] | None = None
) -> list[str]:
    """Rows that load but will not behave as the firm probably means (docs/access.md), by name.

    * an active validator whose perimeter is empty sees only their own deals: in no group,
      in groups covering no unit, a function capped at none, a home unit above the cap
      level, groups covering nothing under it (:func:`prospects.scoping.empty_perimeters`);
    * logins that differ only by surrounding spaces or case are distinct collaborators,
      though an identity provider hands over one spelling only.
    """
    from .config import DEFAULT_FUNCTION_CAPS
    from .i18n import shown
    from .scoping import NO_PERIMETER, build_directory, empty_perimeters

    caps = DEFAULT_FUNCTION_CAPS if function_caps is None else function_caps
    people = frames["collaborators"]
    out = []
    empty = empty_perimeters(build_directory(frames), caps) if len(people) else pd.DataFrame(columns=["why"])
    for why in NO_PERIMETER:
        chosen = empty[empty["why"] == why]
        for r in chosen.head(NAMED_PER_REASON).itertuples():
            out.append(f"collaborator {shown(r.id)} '{shown(r.login)}' ({shown(r.full_name)}): " + _no_perimeter(r, shown))
        if len(chosen) > NAMED_PER_REASON:
            out.append(f"… and {len(chosen) - NAMED_PER_REASON} more validators with no perimeter for the same reason ({_NO_PERIMETER_SHORT[why]})")
    folded = people["login"].astype(str).str.strip().str.casefold()
    clash = folded.duplicated(keep=False).to_numpy()
    for _, group in people[clash].groupby(folded[clash], sort=True):
        names = " and ".join(f"{shown(i)} '{shown(login)}'" for i, login in zip(group["id"], group["login"], strict=True))
        out.append(
            f"collaborators {names}: logins differ only by surrounding spaces or case; "
            "they are distinct people to prospects, but a sign-in hands over one spelling only"
        )
    return out


_NO_PERIMETER_SHORT = {
    "cap_none": "a function capped at none", "no_group": "in no group", "groups_without_units": "groups covering no unit",
    "home_above_cap": "home unit above the cap level", "outside_cap": "groups covering nothing under the cap",
}


def _no_perimeter(r: Any, shown: Callable[[object], str]) -> str:
    """Why one validator has no perimeter, and what fixes it."""
    only = "no perimeter, only their own deals; "
    if r.why == "cap_none":
        return f"validates offers but the function cap of {r.function} is none: {only}change their function or the setting function_caps"
    if r.why == "no_group":
        return f"validates offers but is in no group: {only}add them to a group covering the units they answer for (group_members, group_units)"
    if r.why == "groups_without_units":
        return f"validates offers but their groups ({shown(r.groups)}) cover no unit: {only}give the groups their units (group_units)"
    if r.why == "home_above_cap":
        return (f"{r.function} capped at {r.cap} level but home unit {shown(r.unit_id)} is {_A_KIND[r.home_kind]}, above it: "
                f"{only}fix their home unit or function")
    return (f"{r.function} capped at {r.cap} level ({shown(r.cap_unit)}) but their groups ({shown(r.groups)}) cover nothing in it: "
            f"{only}fix their groups, home unit or function")


def _sorted_rejects(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_rejects()
    rejects = pd.concat(parts, ignore_index=True)
    order = {t: i for i, t in enumerate(TABLE_ORDER)}
    rejects = rejects.assign(_t=rejects["table"].map(order)).sort_values(["_t", "line"], kind="stable")
    rejects = rejects.drop(columns="_t").reset_index(drop=True)
    rejects["line"] = rejects["line"].astype("int64")
    for c in ("table", "column", "value", "reason"):
        rejects[c] = rejects[c].astype(object).where(rejects[c].notna(), None)
    return rejects


# ---------------------------------------------------------------------------
# reading the CSV files

_BAD_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")


def _read_csv(path: Path, table: str, max_bytes: int = DEFAULT_LOAD_MAX_BYTES) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """One file as text: the frame, the line of each row, and the rejected bad lines.

    The file must be a regular file of at most ``max_bytes`` (setting ``load_max_mb``).
    """
    try:
        data = files.read_limited(path, max_bytes, limit_text="the load limit of {limit} (setting load_max_mb)")
    except files.FileRefused as exc:
        if exc.kind == "missing":
            names = ", ".join(f"{t}.csv" for t in TABLE_ORDER)
            raise UnusableExtract(f"{files.shown_path(path)}: file missing (an extract holds {names})") from None
        raise UnusableExtract(str(exc)) from None
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnusableExtract(f"{path}: not UTF-8 text ({files.undecodable(body, exc)}); save the file as UTF-8") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(
                io.BytesIO(body),
                header=None,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8",
                skip_blank_lines=False,
                on_bad_lines="warn",
            )
        except pd.errors.EmptyDataError:
            raise UnusableExtract(f"{path}: empty file (the first line must name the columns)") from None
        except (pd.errors.ParserError, ValueError) as exc:
            raise UnusableExtract(f"{path}: not a readable CSV file ({str(exc).strip()})") from None
    bad: list[tuple[int, int]] = []
    for w in caught:
        if issubclass(w.category, pd.errors.ParserWarning):
            found = _BAD_LINE.findall(str(w.message))
            if not found:
                raise UnusableExtract(f"{path}: not a readable CSV file ({str(w.message).strip()})")
            bad += [(int(rec), int(saw)) for rec, _, saw in found]
    bad.sort()
    # record numbers (the header is record 1), then physical lines: quoted line breaks
    # inside a record shift the lines that follow
    bad_rec = np.array([b[0] for b in bad], dtype="int64")
    n_records = len(frame) + len(bad_rec)
    is_row = np.ones(n_records, dtype=bool)
    is_row[bad_rec - 1] = False
    rec = np.arange(1, n_records + 1, dtype="int64")[is_row]
    if len(rec) != len(frame):  # pragma: no cover - defensive
        rec = np.arange(1, len(frame) + 1, dtype="int64")
    lines, bad_lines = rec, bad_rec
    if body.count(b"\n") > n_records - (0 if body.endswith(b"\n") else 1) and len(frame):
        per_row = sum(frame[c].str.count("\n").to_numpy(dtype="int64") for c in frame.columns)
        offset = np.concatenate([[0], np.cumsum(per_row)])
        lines = rec + offset[:-1]
        bad_lines = bad_rec + offset[np.searchsorted(rec, bad_rec)]
    header = [str(h).strip().lower() for h in frame.iloc[0]] if len(frame) else []
    if not any(header):
        raise UnusableExtract(f"{path}: no header row (the first line must name the columns)")
    contract = set(TABLES[table].column_names)
    names = []
    for name in header:
        if name in contract and name in names:
            raise UnusableExtract(f"{path}: column '{name}' appears twice in the header")
        names.append(name)
    frame = frame.iloc[1:].reset_index(drop=True)
    frame.columns = names
    lines = lines[1:]
    # empty lines and lines of empty fields are not rows
    blank = (frame.iloc[:, 0] == "").to_numpy(copy=True)
    if blank.any():
        blank[blank] = (frame[blank] == "").all(axis=1).to_numpy()
    if blank.any():
        frame = frame[~blank].reset_index(drop=True)
        lines = lines[~blank]
    bad_frame = pd.DataFrame(
        {
            "table": table,
            "line": bad_lines,
            "column": None,
            "value": None,
            "reason": [f"the line has {saw} fields but the header has {len(header)}" for _, saw in bad],
        }
    )
    return frame, lines, bad_frame


def read_extract(
    folder: Path, *, progress: Progress | None = None, function_caps: Mapping[str, str | None] | None = None,
    max_bytes: int = DEFAULT_LOAD_MAX_BYTES,
) -> Validated:
    """Read and validate the canonical CSV extract in ``folder`` (one ``<table>.csv`` each).

    ``function_caps``: the settings' caps, for the warnings of :func:`directory_warnings`;
    ``max_bytes``: the size limit of each file (setting ``load_max_mb``).
    """
    folder = Path(folder)
    problem = files.not_a_folder(folder)
    if problem is not None:
        raise UnusableExtract(str(problem))
    if not folder.is_dir():
        raise UnusableExtract(f"{files.shown_path(folder)}: no such folder")
    raw, lines, labels, bad_parts = {}, {}, {}, []
    for table in TABLE_ORDER:
        path = folder / f"{table}.csv"
        if progress:
            progress(f"reading {path.name}")
        frame, table_lines, bad = _read_csv(path, table, max_bytes)
        raw[table], lines[table], labels[table] = frame, table_lines, str(path)
        if len(bad):
            bad_parts.append(bad)
    validated = validate_tables(raw, line_numbers=lines, labels=labels, progress=progress, function_caps=function_caps)
    if not bad_parts:
        return validated
    counts = dict(validated.counts)
    for bad in bad_parts:
        table = bad["table"].iloc[0]
        c = counts[table]
        counts[table] = TableCount(c.read + len(bad), c.loaded, c.rejected + len(bad))
    rejects = _sorted_rejects([validated.rejects, *bad_parts])
    return Validated(validated.frames, rejects, MappingProxyType(counts), validated.notes)


# ---------------------------------------------------------------------------
# loading


def escape_nul(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text never holds a raw NUL byte: each one is written ``\\x00``."""
    out = frame.copy()
    for c in out.columns:
        text = pd.api.types.is_object_dtype(out[c].dtype) or pd.api.types.is_string_dtype(out[c].dtype)
        if text and "\x00" in "".join(v for v in out[c] if isinstance(v, str)):
            out[c] = [v.replace("\x00", "\\x00") if isinstance(v, str) and "\x00" in v else v for v in out[c]]
    return out


def write_rejects(rejects: pd.DataFrame, path: Path, columns: Sequence[str] = REJECT_COLUMNS) -> None:
    """The rejections as a CSV a person can open (UTF-8 with BOM for spreadsheets; NUL escaped)."""
    with files.replacing(path) as handle:  # never renamed over a device, a pipe or a folder
        escape_nul(rejects.loc[:, list(columns)]).to_csv(handle, index=False, encoding="utf-8-sig", lineterminator="\n")


def update_rejects_file(rejects: pd.DataFrame, path: Path, columns: Sequence[str] = REJECT_COLUMNS) -> tuple[Path | None, str | None]:
    """After a load: write the rejections to ``path``, or remove a stale file when there is none.

    Returns the file written (None when nothing was rejected) and, when the file could not
    be written or removed, a note saying so (the load itself stands).
    """
    try:
        if len(rejects):
            write_rejects(rejects, path, columns)
            return path, None
        if path.exists():
            path.unlink()
    except OSError as exc:
        return None, f"could not write {files.shown_path(path)}: {exc.strerror}"
    except files.FileRefused as exc:
        return None, f"could not write {exc}"
    return None, None


def load_extract(
    engine: Engine,
    folder: Path,
    progress: Progress | None = None,
    *,
    function_caps: Mapping[str, str | None] | None = None,
    allow_shrink: bool = False,
    settings: Settings | None = None,
) -> LoadReport:
    """Read, validate and load the extract in ``folder``, replacing the database content atomically.

    Then publishes the figure store of the new content (:mod:`prospects.store`; its
    location from ``settings``, else the project's). Writes the rejections to
    ``folder/rejects.csv`` (removing a stale one when nothing is rejected). Raises
    :class:`UnusableExtract`, or :class:`prospects.db.ShrinkRefused` when the extract would
    remove more than half of a table's rows and ``allow_shrink`` is not set (the database,
    its store and ``rejects.csv`` are then untouched).
    """
    start = time.monotonic()
    folder = Path(folder)
    max_bytes = settings.load_max_bytes if settings is not None else DEFAULT_LOAD_MAX_BYTES
    validated = read_extract(folder, progress=progress, function_caps=function_caps, max_bytes=max_bytes)
    counts = validated.counts
    info = {
        "source": str(folder.resolve()),
        "rows_read": str(sum(c.read for c in counts.values())),
        "rows_loaded": str(sum(c.loaded for c in counts.values())),
        "rows_rejected": str(validated.rejected),
    }

    def on_table(name: str) -> None:
        if progress:
            progress(f"writing {name} ({counts[name].loaded} rows)")

    _, store_note = store.replace_content(engine, validated.frames, info, settings=settings, on_table=on_table, progress=progress, allow_shrink=allow_shrink)
    rejects_path, rejects_note = update_rejects_file(validated.rejects, folder / REJECTS_FILE)
    notes = [*validated.notes, *(n for n in (store_note, rejects_note) if n)]
    return LoadReport(
        folder=folder,
        counts=counts,
        rejects=validated.rejects,
        rejects_path=rejects_path,
        notes=tuple(notes),
        seconds=time.monotonic() - start,
        info=info,
    )


# ---------------------------------------------------------------------------
# exporting


def _csv_frame(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    out = {}
    for col in TABLES[table].columns:
        s = frame[col.name]
        if col.type == "date":
            d = pd.to_datetime(s)
            out[col.name] = d.dt.strftime("%Y-%m-%d").astype(object).where(d.notna(), "")
        elif col.type == "bool":
            out[col.name] = np.where(s.astype(bool), "true", "false")
        elif col.type == "int":
            out[col.name] = s.astype("int64")
        else:
            out[col.name] = s.astype(object).where(s.notna(), "")
    return pd.DataFrame(out, columns=list(TABLES[table].column_names))


def write_extract(frames: Mapping[str, pd.DataFrame], folder: Path) -> dict[str, int]:
    """Write canonical frames as the canonical CSV extract; returns the rows written per table.

    Raises :class:`prospects.files.FileRefused` before writing anything when ``folder``
    is not a folder or one of its ``<table>.csv`` is not a regular file.
    """
    folder = Path(folder)
    problem = files.not_a_folder(folder)
    if problem is not None:
        raise problem
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLE_ORDER:
        problem = files.writable(folder / f"{table}.csv")
        if problem is not None:
            raise problem
    written = {}
    for table in TABLE_ORDER:
        frame = frames[table]
        with files.replacing(folder / f"{table}.csv") as handle:
            _csv_frame(frame, table).to_csv(handle, index=False, encoding="utf-8", lineterminator="\n")
        written[table] = len(frame)
    return written


def export_extract(engine: Engine, folder: Path) -> dict[str, int]:
    """Write the canonical CSV extract of the database into ``folder``."""
    return write_extract(db.read_all(engine), folder)


# ---------------------------------------------------------------------------
# command line


def format_counts(counts: Mapping[str, TableCount]) -> str:
    """The per-table summary ``table  read = loaded + rejected`` as an aligned table."""
    rows = [(t, c.read, c.loaded, c.rejected) for t, c in counts.items()]
    total = ("total", *(sum(r[i] for r in rows) for i in (1, 2, 3)))
    width = max(len(r[0]) for r in [*rows, total, ("table",)])
    nums = max(8, *(len(str(v)) for r in [*rows, total] for v in r[1:]))
    out = [f"{'table':<{width}}  {'read':>{nums}} = {'loaded':>{nums}} + {'rejected':>{nums}}"]
    for name, read, loaded, rejected in [*rows, total]:
        out.append(f"{name:<{width}}  {read:>{nums}} = {loaded:>{nums}} + {rejected:>{nums}}")
    return "\n".join(out)


def _extract_bytes(folder: Path) -> int:
    total = 0
    for table in TABLE_ORDER:
        with contextlib.suppress(OSError):
            total += (folder / f"{table}.csv").stat().st_size
    return total


def _progress_for(folder: Path) -> Progress | None:
    forced = os.environ.get("PROSPECTS_PROGRESS", "").strip().lower()
    if forced in ("0", "false", "no"):
        return None
    if not (forced in ("1", "true", "yes") or sys.stderr.isatty() or _extract_bytes(folder) >= PROGRESS_MIN_BYTES):
        return None
    start = time.monotonic()

    def progress(message: str) -> None:
        print(f"prospects: [{time.monotonic() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    return progress


def _shown_url(url: str) -> str:
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # pragma: no cover - the URL was already accepted by make_engine
        return url


def run_load_command(settings: Settings, folder: Path, *, allow_shrink: bool = False) -> int:
    """``prospects load DIR``: load, print the summary; exit 0 clean, 1 rows rejected, 2 unusable
    (or refused: more than half of a table's rows would go, without ``--allow-shrink``)."""
    import sqlalchemy as sa

    folder = Path(folder)
    engine = db.make_engine(settings.db_url)
    try:
        report = load_extract(
            engine, folder, progress=_progress_for(folder), function_caps=settings.function_caps, allow_shrink=allow_shrink,
            settings=settings,
        )
    except UnusableExtract as exc:
        print(f"prospects: unusable extract, nothing loaded: {message_line(exc)}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:
        print(f"prospects: the database refused the load, nothing loaded: {db.one_line(exc)}", file=sys.stderr)
        return 2
    print(f"Loaded {report.folder.resolve()} into {_shown_url(settings.db_url)} in {report.seconds:.1f} s")
    print(format_counts(report.counts))
    for note in report.notes:
        print(f"note: {message_line(note)}")
    if report.rejects_path is not None:
        print(f"{report.rejected} rows rejected; reasons in {report.rejects_path.resolve()}")
    elif report.rejected:
        print(f"{report.rejected} rows rejected; the reasons could not be written (see note above)")
    else:
        print("No row rejected.")
    return report.exit_code


def run_export_command(settings: Settings, folder: Path) -> int:
    """``prospects export DIR``: write the canonical extract of the database; exit 0, or 2."""
    folder = Path(folder)
    engine = db.make_engine(settings.db_url)
    try:
        written = export_extract(engine, folder)
    except files.FileRefused as exc:
        where = "" if exc.path == folder else f"{exc.path}: "
        print(f"prospects: cannot write the extract to {files.shown_path(folder)}: {where}{exc.reason}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{files.shown_path(exc.filename)}: " if exc.filename else ""
        print(f"prospects: cannot write the extract to {files.shown_path(folder)}: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"Exported {_shown_url(settings.db_url)} to {folder.resolve()}")
    width = max(len(t) for t in written)
    for table, rows in written.items():
        print(f"{table:<{width}}  {rows:>10} rows")
    return 0
