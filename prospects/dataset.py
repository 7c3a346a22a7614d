"""A viewer's rows: positions into the shared figure store, ready for vectorised figures.

:class:`Dataset` is immutable: the prospect deals a viewer works on and their
documents, as integer arrays (directory codes, day numbers, cents) that are either
the store's own memory-mapped columns (no copy: a wide perimeter, a unit's subtree)
or, for a narrow perimeter, those columns gathered at the viewer's positions. No text
is held: drill-downs and frames materialise ids, names and titles for their own rows
only (:meth:`Dataset.deal_text`, :meth:`Dataset.doc_text`, :meth:`Dataset.display`).

A dataset may hold more deals than the viewer may see (the store's range covering
their perimeter): every figure, drill-down and frame applies
:func:`prospects.scoping.scope_mask` first. Filters never rebuild it: they are masks
over its deals. It covers every date: no period is pruned (docs/metrics.md counts, say, a
document signed this year on a deal abandoned last year).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .scoping import Directory, Viewer, visible_mask
from .store import (
    BILLING_NAMES,
    DOC_STATUS,
    DOC_STATUS_NAMES,
    NEVER,
    Snapshot,
    dates_of,
    day_number,
    month_ordinal,
    take_arrow,
    take_text,
)

__all__ = ["DOC_STATUS", "NEVER", "Dataset", "day_number", "for_viewer", "month_ordinal"]

#: Below this share of the covering range, a viewer's deals are gathered (copied) rather
#: than read in place: small perimeters then compute over small arrays.
DENSE_ENOUGH = 0.25

_DEAL_COLUMNS = ("unit", "partner", "manager", "client_manager", "group", "created", "abandoned", "converted",
                 "converted_month")
_DOC_COLUMNS = ("status", "created", "sent_or_created", "decided", "decided_month", "days_to_decide", "recurring",
                "one_off", "signatory", "entity")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Deals and documents of one viewer as positions into a store snapshot, with their arrays."""

    snapshot: Snapshot
    # where the rows sit in the store: a range starting at ``*_lo`` (in place), or the
    # store position of each row (``*_pick``, gathered)
    deal_lo: int
    doc_lo: int
    deal_pick: np.ndarray | None
    doc_pick: np.ndarray | None
    # deal arrays (store codes, day numbers)
    deal_unit: np.ndarray
    deal_partner: np.ndarray
    deal_manager: np.ndarray
    deal_client_manager: np.ndarray
    deal_group: np.ndarray
    deal_created: np.ndarray
    deal_abandoned: np.ndarray  # NEVER unless status is abandoned
    deal_converted: np.ndarray  # earliest decided_on of the deal's signed documents, else NEVER
    deal_converted_month: np.ndarray  # month ordinal (year * 12 + month - 1) of the conversion
    # document arrays
    doc_deal: np.ndarray  # position of the document's deal in this dataset
    doc_status: np.ndarray  # codes of DOC_STATUS
    doc_created: np.ndarray
    doc_sent_or_created: np.ndarray
    doc_decided: np.ndarray  # NEVER when undecided
    doc_decided_month: np.ndarray  # month ordinal of decided_on
    doc_days_to_decide: np.ndarray  # decided_on - (sent_on, else created_on), in days
    doc_recurring: np.ndarray  # cents
    doc_one_off: np.ndarray  # cents
    doc_signatory: np.ndarray  # collaborator code, -1 for none
    doc_entity: np.ndarray  # entity code, -1 for none

    @property
    def directory(self) -> Directory:
        return self.snapshot.directory

    @property
    def n_deals(self) -> int:
        return len(self.deal_unit)

    @property
    def n_documents(self) -> int:
        return len(self.doc_status)

    def deal_rows(self, positions: np.ndarray) -> np.ndarray:
        """Store positions of some of the dataset's deals."""
        positions = np.asarray(positions, dtype=np.int64)
        return positions + self.deal_lo if self.deal_pick is None else self.deal_pick[positions]

    def doc_rows(self, positions: np.ndarray) -> np.ndarray:
        """Store positions of some of the dataset's documents."""
        positions = np.asarray(positions, dtype=np.int64)
        return positions + self.doc_lo if self.doc_pick is None else self.doc_pick[positions]

    def doc_positions(self, store_rows: np.ndarray) -> np.ndarray:
        """The dataset positions of store documents (those not in the dataset left out)."""
        store_rows = np.asarray(store_rows, dtype=np.int64)
        if self.doc_pick is None:
            local = store_rows - self.doc_lo
            return local[(local >= 0) & (local < self.n_documents)]
        pos = np.searchsorted(self.doc_pick, store_rows)  # gathered documents are in store order
        ok = pos < self.n_documents
        ok[ok] = self.doc_pick[pos[ok]] == store_rows[ok]
        return pos[ok]

    # -- text, materialised for some rows only ------------------------------------------
    def deal_text(self, column: str, positions: np.ndarray) -> np.ndarray:
        """A text column (``id``, ``name``, ``prospect_name``, ``abandon_reason``) of some deals."""
        return take_text(self.snapshot.deals, column, self.deal_rows(positions))

    def doc_text(self, column: str, positions: np.ndarray) -> np.ndarray:
        """A text column (``id``, ``doc_type``, ``template``, ``title``) of some documents."""
        return take_text(self.snapshot.documents, column, self.doc_rows(positions))

    def doc_categories(self, column: str, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A repetitive text column (``doc_type``, ``template``) of some documents as codes.

        ``(codes, values)``: ``values[codes]`` is each document's text; codes are ranks of
        the texts sorted case-insensitively (-1 for null). Read from the store's own
        dictionary encoding (one integer per document, shared per version of the store),
        without a Python string per document.
        """
        codes, values = _categories(self.snapshot, column)
        return codes[self.doc_rows(positions)], values

    def deal_id_rank(self, positions: np.ndarray) -> np.ndarray:
        """Sort keys equivalent to the deals' ids (ranks of the ids in sorted order)."""
        return self.snapshot.col("deals", "id_rank")[self.deal_rows(positions)]

    def doc_id_rank(self, positions: np.ndarray) -> np.ndarray:
        """Sort keys equivalent to the documents' ids (ranks of the ids in sorted order)."""
        return self.snapshot.col("documents", "id_rank")[self.doc_rows(positions)]

    def deal_arrow(self, column: str, positions: np.ndarray) -> pa.Array:
        """A text column of some deals as an Arrow array (no Python strings)."""
        return take_arrow(self.snapshot.deals, column, self.deal_rows(positions))

    def doc_arrow(self, column: str, positions: np.ndarray) -> pa.Array:
        """A text column of some documents as an Arrow array (no Python strings)."""
        return take_arrow(self.snapshot.documents, column, self.doc_rows(positions))

    def unit_level_codes(self, level: str) -> np.ndarray:
        """For each unit code, the code of its ancestor-or-self at ``level`` (-1 when above it).

        Computed once per directory and level (a few hundred units), then shared (read-only).
        """
        directory = self.directory
        cache = _LEVEL_CODES.setdefault(directory, {})
        if level not in cache:
            units = directory.units
            ancestor = units["code"].reindex(units[level].to_numpy(dtype=object)).to_numpy()
            cache[level] = _frozen(np.where(pd.isna(ancestor), -1, ancestor).astype(np.int64))
        return cache[level]

    def deal_ids(self, mask: np.ndarray | None = None) -> np.ndarray:
        """The ids of the deals of ``mask`` (all when None)."""
        pos = np.arange(self.n_deals) if mask is None else np.flatnonzero(mask)
        return self.deal_text("id", pos)

    def document_ids(self, mask: np.ndarray | None = None) -> np.ndarray:
        """The ids of the documents of ``mask`` (all when None)."""
        pos = np.arange(self.n_documents) if mask is None else np.flatnonzero(mask)
        return self.doc_text("id", pos)

    def unit_ids(self, positions: np.ndarray | None = None) -> np.ndarray:
        """The org unit id of some deals (all when None)."""
        codes = self.deal_unit if positions is None else self.deal_unit[positions]
        return self.directory.units.index.to_numpy(dtype=object)[codes]

    def people(self, codes: np.ndarray, column: str = "full_name") -> np.ndarray:
        """A column of the collaborators of some codes (None for -1)."""
        return _lookup(self.directory.collaborators[column].to_numpy(dtype=object), codes)

    def display(self, positions: np.ndarray) -> pd.DataFrame:
        """The deal columns of the drill-downs (readable names) for some deals."""
        units = self.directory.units
        unit = self.deal_unit[positions]
        names = units["name"].to_numpy(dtype=object)
        out = {
            "deal_id": self.deal_text("id", positions),
            "deal": self.deal_text("name", positions),
            "prospect": self.deal_text("prospect_name", positions),
        }
        for level in ("region", "agency", "team"):
            out[level] = _lookup(names, self.unit_level_codes(level)[unit])
        for role in ("partner", "manager", "client_manager"):
            out[role] = self.people(getattr(self, f"deal_{role}")[positions])
        return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})

    def entities(self, codes: np.ndarray) -> np.ndarray:
        """Entity names of some codes (None for -1)."""
        return _lookup(self.directory.entities["name"].to_numpy(dtype=object), codes)

    def doc_status_names(self, positions: np.ndarray) -> np.ndarray:
        return DOC_STATUS_NAMES[self.doc_status[positions]]

    def doc_dates(self, name: str, positions: np.ndarray) -> np.ndarray:
        """``created_on``, ``sent_on`` or ``decided_on`` of some documents (``datetime64[s]``, NaT for null)."""
        column = {"created_on": "created", "sent_on": "sent", "decided_on": "decided"}[name]
        return dates_of(self.snapshot.col("documents", column)[self.doc_rows(positions)])

    def lines(self, positions: np.ndarray) -> pd.DataFrame:
        """The lines of some documents: document_id, line_no, mission, billing, amount_cents (by document, line)."""
        snap = self.snapshot
        rows = self.doc_rows(positions)
        start, end = snap.col("documents", "line_start")[rows], snap.col("documents", "line_end")[rows]
        count = (end - start).astype(np.int64)
        which = np.repeat(np.arange(len(rows)), count)
        line_rows = np.repeat(start - np.concatenate([[0], np.cumsum(count)[:-1]]), count) + np.arange(int(count.sum()))
        doc_ids = self.doc_text("id", np.asarray(positions, dtype=np.int64))
        out = pd.DataFrame({
            "document_id": pd.Series(doc_ids[which] if len(which) else np.array([], dtype=object), dtype=object),
            "line_no": snap.col("lines", "line_no")[line_rows].astype(np.int64),
            "mission": pd.Series(take_text(snap.lines, "mission", line_rows), dtype=object),
            "billing": pd.Series(BILLING_NAMES[snap.col("lines", "billing")[line_rows]], dtype=object),
            "amount_cents": snap.col("lines", "amount")[line_rows].astype(np.int64),
        })
        return out.sort_values(["document_id", "line_no"], kind="stable", ignore_index=True)


def _categories(snap: Snapshot, column: str) -> tuple[np.ndarray, np.ndarray]:
    """A dictionary-encoded text column of the store's documents: a code per document (ranks
    of the sorted texts, -1 for null) and the sorted texts. Once per snapshot and column."""
    cache = _CATEGORIES.setdefault(snap, {})
    if column not in cache:
        col = snap.documents.column(column)
        if col.num_chunks == 1:
            arr = col.chunk(0)
        else:  # several chunks may hold several dictionaries: one of them all
            arr = pa.concat_arrays([c.dictionary_decode() if pa.types.is_dictionary(c.type) else c for c in col.chunks])
        if not pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_encode()
        values = np.asarray(arr.dictionary.to_pylist(), dtype=object)
        indices = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        order = np.argsort(np.array([str(v).casefold() for v in values], dtype=object), kind="stable")
        rank = np.empty(len(values) + 1, dtype=np.int64)
        rank[order] = np.arange(len(values))
        rank[-1] = -1  # index -1 (null) stays -1
        cache[column] = (_frozen(rank[indices]), values[order])
    return cache[column]


#: :func:`_categories` per snapshot, and :meth:`Dataset.unit_level_codes` per directory (freed with them).
_CATEGORIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LEVEL_CODES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _lookup(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``values[codes]`` with None where the code is -1."""
    codes = np.asarray(codes, dtype=np.int64)
    out = np.empty(len(codes), dtype=object)
    ok = codes >= 0
    out[ok] = values[codes[ok]]
    out[~ok] = None
    return out


def _frozen(a: np.ndarray) -> np.ndarray:
    if a.flags.writeable:
        a.flags.writeable = False
    return a


def _dataset(snap: Snapshot, deal_lo: int, deal_hi: int, deal_rows: np.ndarray | None) -> Dataset:
    """The store's deals ``[deal_lo, deal_hi)`` in place, or the deals ``deal_rows`` gathered."""
    d = lambda name: snap.col("deals", name)  # noqa: E731
    doc = lambda name: snap.col("documents", name)  # noqa: E731
    if deal_rows is None:  # a range: views of the mapped columns, no copy
        doc_lo = int(d("doc_start")[deal_lo]) if deal_hi > deal_lo else 0
        doc_hi = int(d("doc_end")[deal_hi - 1]) if deal_hi > deal_lo else 0
        deals = {c: d(c)[deal_lo:deal_hi] for c in _DEAL_COLUMNS}
        docs = {c: doc(c)[doc_lo:doc_hi] for c in _DOC_COLUMNS}
        doc_deal = doc("deal")[doc_lo:doc_hi]
        if deal_lo:
            doc_deal = (doc_deal - np.int32(deal_lo)).astype(np.int32)
        deal_pick = doc_pick = None
    else:  # gathered: copies of the viewer's rows only
        deal_lo = doc_lo = 0
        deal_pick = _frozen(np.asarray(deal_rows, dtype=np.int64))
        start, end = d("doc_start")[deal_pick], d("doc_end")[deal_pick]
        count = end - start
        doc_pick = _frozen(np.repeat(start - np.concatenate([[0], np.cumsum(count)[:-1]]), count) + np.arange(int(count.sum())))
        deals = {c: d(c)[deal_pick] for c in _DEAL_COLUMNS}
        docs = {c: doc(c)[doc_pick] for c in _DOC_COLUMNS}
        doc_deal = np.repeat(np.arange(len(deal_pick), dtype=np.int32), count)
    return Dataset(
        snapshot=snap,
        deal_lo=deal_lo,
        doc_lo=doc_lo,
        deal_pick=deal_pick,
        doc_pick=doc_pick,
        **{f"deal_{c}": _frozen(v) for c, v in deals.items()},
        doc_deal=_frozen(doc_deal),
        **{f"doc_{c}": _frozen(v) for c, v in docs.items()},
    )


def for_viewer(snap: Snapshot, viewer: Viewer, *, within: str | None = None) -> Dataset:
    """The rows a viewer works on: their visible deals (or those under ``within``).

    The store's deals are ordered by unit, depth first, so a subtree is one range: a
    wide perimeter reads the covering range in place; a narrow one is gathered.
    """
    directory = snap.directory
    units = snap.col("deals", "unit")
    if within is not None:  # a unit's subtree: one range of the store, always in place
        lo_code, hi_code = directory.subtree_codes(within)
        lo, hi = np.searchsorted(units, [lo_code, hi_code])
        return _dataset(snap, int(lo), int(hi), None)
    everything = _dataset(snap, 0, snap.n_deals, None)
    visible = np.flatnonzero(visible_mask(viewer, directory, everything))
    if len(visible) == 0:
        return _dataset(snap, 0, 0, None)
    lo, hi = int(visible[0]), int(visible[-1]) + 1
    if len(visible) >= DENSE_ENOUGH * (hi - lo):
        return everything if (lo, hi) == (0, snap.n_deals) else _dataset(snap, lo, hi, None)
    return _dataset(snap, 0, 0, visible)

