"""The rows behind a cell or a bar, in two views (docs/metrics.md, "Drill-downs").

* **by document** ("Par document"): the cell's documents, one row each, with their deal,
  people, fees and (when lines are given) every line;
* **by deal** ("Par affaire"): the same documents grouped by deal, with how many of the
  cell's documents the deal holds and their fees; signatory and entity are those of the
  deal's most recent document in the cell (for a deal cell where the deal has none: of
  its most recent document created by the as-of date, if any).

:func:`cell` is the one place that decides a cell's rows. For a document cell they are
exactly the cell's documents. For a deal cell the by-deal rows are exactly the cell's
deals, and their documents are those that make each deal count in the cell
(docs/metrics.md, "Deal cells"), so that every amount reads as the cell's:

* ``converted_prospects`` and a month's ``won_prospects``: the deal's ``signed``
  documents decided on or before the as-of date A;
* ``abandoned_prospects``: the deal's documents still undecided when it was abandoned
  (created on or before ``abandoned_on``, decided on or after it, or never);
* ``prospects_without_document``: none; the by-deal view adds the deal's creation date
  and the status and date of its latest document decided by A (:data:`HISTORY_COLUMNS`).

A deal's other documents (refused, earlier, later) never add. Both views add up to each
other. :func:`footer_words` says what a cell's amounts are and :func:`empty_words` what
an empty view means, for every front end (dashboard, CLI, exports); :func:`display_columns`
is the order in which every front end shows and exports the columns. Amounts are integer
cents. Pure functions over a dataset and a selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import cents, i18n
from .dataset import DOC_STATUS, NEVER, Dataset, day_number
from .figures import (
    DEAL_CELLS,
    DOCUMENT_CELLS,
    MONTH_CELLS,
    CellError,
    Selection,
    ageing_bucket_mask,
    month_selection,
    offer_ages,
)
from .store import dates_of

DEAL_COLUMNS = (
    "deal_id", "deal", "prospect", "region", "agency", "team", "partner", "manager", "client_manager",
    "signatory", "signatory_entity", "documents", "recurring", "one_off", "total",
)
DOCUMENT_COLUMNS = (
    "document_id", "doc_type", "template", "title", "status", "created_on", "sent_on", "decided_on",
    "deal_id", "deal", "prospect", "region", "agency", "team", "partner", "manager", "client_manager",
    "signatory", "signatory_entity", "recurring", "one_off", "total",
)
MONEY_COLUMNS = ("recurring", "one_off", "total")
#: What the Python API adds to a drill-down (:func:`identities`): the id beside each name of a
#: unit or person, and the row's age at the as-of date.
ID_COLUMNS = ("unit_id", "region_id", "agency_id", "team_id", "partner_id", "manager_id", "client_manager_id",
              "signatory_id", "signatory_entity_id")
#: What the by-deal view of ``prospects_without_document`` adds: the deal's creation date and
#: the status and date of its latest document decided by the as-of date.
HISTORY_COLUMNS = ("deal_created_on", "last_decision", "last_decision_on")
#: Every date column of either view.
DATE_COLUMNS = ("created_on", "sent_on", "decided_on", "deal_created_on", "last_decision_on")
#: Columns whose values are document statuses (shown with the locale's status labels).
STATUS_COLUMNS = ("status", "last_decision")
#: Which documents of its deals a deal cell shows (docs/metrics.md, "Deal cells").
DEAL_CELL_DOCUMENTS = {
    "converted_prospects": "signed",  # signed documents decided on or before A
    "won_prospects": "signed",
    "abandoned_prospects": "at_stake",  # undecided when the deal was abandoned
    "prospects_without_document": "none",
}
#: On-screen (and export) order: what identifies the row, then the amounts, then the people
#: and places; the columns not named here follow in docs/metrics.md's order.
DISPLAY_FIRST = {
    "deal": ("deal_id", "deal", "prospect", *HISTORY_COLUMNS, "documents", "recurring", "one_off", "total"),
    "document": ("document_id", "deal", "prospect", "status", "decided_on", "recurring", "one_off", "total",
                 "doc_type", "template", "title", "created_on", "sent_on", "deal_id"),
}


class DrilldownError(CellError):
    """An indicator, view or month that has no drill-down (a sentence of the catalog, said in
    the viewer's language where it is shown: :class:`~prospects.i18n.Said`)."""


@dataclass(frozen=True, eq=False)
class Cell:
    """The rows behind one cell or bar: masks over the dataset's deals and documents."""

    indicator: str
    month: str | None
    kind: str  # "deal" or "document"
    deals: np.ndarray
    documents: np.ndarray


def cell(ds: Dataset, sel: Selection, indicator: str, *, month: str | None = None, bucket: str | None = None) -> Cell:
    """Locate the rows of a cell (``month`` for a chart bar, ``bucket`` for an ageing line)."""
    if month is not None:
        kind, mask = month_selection(ds, sel, indicator, month)
    elif bucket is not None:
        kind, mask = "document", ageing_bucket_mask(ds, sel, bucket)
    elif indicator in DOCUMENT_CELLS:
        kind, mask = "document", sel.documents[indicator]
    elif indicator in DEAL_CELLS:
        kind, mask = "deal", sel.deals[indicator]
    elif indicator == "won_prospects":
        kind, mask = "deal", sel.deals["converted_prospects"]
    else:
        known = ", ".join((*DOCUMENT_CELLS, *DEAL_CELLS, *MONTH_CELLS[:1]))
        raise DrilldownError("api.unknown_indicator", indicator=i18n.shown(indicator), options=known)
    if kind == "document":
        docs = mask
        deals = np.zeros(ds.n_deals, dtype=bool)
        deals[ds.doc_deal[docs]] = True
    else:
        deals = mask
        docs = deal_cell_documents(ds, deals, "won_prospects" if month is not None else indicator,
                                   day_number(sel.period.as_of))
    return Cell(indicator, month, kind, deals, docs)


def deal_cell_documents(ds: Dataset, deals: np.ndarray, indicator: str, as_of_day: int) -> np.ndarray:
    """The documents a deal cell shows: those that make each of its ``deals`` count in it.

    A mask over the dataset's documents (docs/metrics.md, "Deal cells"; :data:`DEAL_CELL_DOCUMENTS`).
    """
    rule = DEAL_CELL_DOCUMENTS[indicator]
    out = np.zeros(ds.n_documents, dtype=bool)
    if rule == "none":
        return out
    idx = np.flatnonzero(deals[ds.doc_deal])  # the documents of the cell's deals
    decided = ds.doc_decided[idx]
    if rule == "signed":
        keep = (ds.doc_status[idx] == DOC_STATUS["signed"]) & (decided <= as_of_day)
    else:  # at stake when abandoned: created by then, decided on that day or later (or never)
        abandoned = ds.deal_abandoned[ds.doc_deal[idx]]
        keep = (ds.doc_created[idx] <= abandoned) & (decided >= abandoned)
    out[idx[keep]] = True
    return out


@dataclass(frozen=True, eq=False)
class Rows:
    """A drill-down's rows before any text is materialised: positions, counts and sums.

    ``pos`` are dataset positions (documents by document, deals by deal) in the view's
    default order; by deal, ``documents``, ``recurring``, ``one_off`` and ``latest`` (the
    deal's document whose signatory is shown, -1 for none) are per row, and for
    ``prospects_without_document`` ``last_decided`` (the latest document decided by the
    as-of date, -1 for none). :meth:`totals` and :meth:`order` need no text;
    :meth:`frame` materialises ids, names and titles for the rows asked only (a page of
    the dashboard's table, or everything for a download).
    """

    ds: Dataset
    by: str
    as_of_day: int
    pos: np.ndarray
    documents: np.ndarray
    recurring: np.ndarray
    one_off: np.ndarray
    latest: np.ndarray
    indicator: str = ""
    last_decided: np.ndarray | None = None

    @property
    def columns(self) -> Sequence[str]:
        """The frame's columns, in docs/metrics.md's order (:func:`columns`)."""
        return columns(self.by, self.indicator)

    def __len__(self) -> int:
        return len(self.pos)

    def totals(self) -> dict[str, int]:
        """The footer: rows, documents and cents (exact integer sums)."""
        rec, one = cents.total(self.recurring), cents.total(self.one_off)
        return {"rows": len(self.pos), "documents": cents.total(self.documents), "recurring": rec, "one_off": one,
                "total": rec + one}

    def order(self, column: str | None, ascending: bool = True) -> np.ndarray:
        """Row indices sorted by ``column`` (stable from the default order; empty values last).

        Text sorts case- and accent-insensitively; dates and amounts by value.
        """
        n = len(self.pos)
        if column is None:
            return np.arange(n)
        key, null = self._key(column)
        key = _sortable(key)
        if not ascending:
            key = -key
        return np.lexsort((key, null))

    def frame(self, order: np.ndarray | None = None, limit: int | None = None) -> pd.DataFrame:
        """The rows as a frame (text materialised), in ``order`` (default: the view's), at most ``limit``."""
        idx = np.arange(len(self.pos)) if order is None else np.asarray(order, dtype=np.int64)
        if limit is not None:
            idx = idx[:limit]
        if self.by == "document":
            return _document_frame(self.ds, self.pos[idx], self.as_of_day)
        out = _deal_frame(self.ds, self.pos[idx], self.documents[idx], self.recurring[idx], self.one_off[idx],
                          self.latest[idx])
        if self.last_decided is not None:
            out = _with_history(self.ds, out, self.pos[idx], self.last_decided[idx])
        return out[list(self.columns)]

    # -- sort keys ------------------------------------------------------------------------
    def _doc_pos(self) -> np.ndarray:
        return self.pos if self.by == "document" else self.latest

    def _deal_pos(self) -> np.ndarray:
        return self.ds.doc_deal[self.pos] if self.by == "document" else self.pos

    def _key(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        ds, n = self.ds, len(self.pos)
        none = np.zeros(n, dtype=bool)
        if column in MONEY_COLUMNS:
            rec, one = self.recurring, self.one_off
            return {"recurring": rec, "one_off": one, "total": cents.add(rec, one)}[column], none
        if column == "documents":
            return self.documents.astype(np.int64), none
        if column == "deal_created_on":
            return ds.deal_created[self._deal_pos()].astype(np.int64), none
        if column in ("last_decision", "last_decision_on"):
            last = self.last_decided if self.last_decided is not None else np.full(n, -1, dtype=np.int64)
            status, decided = _decisions(ds, last)
            if column == "last_decision_on":
                return np.where(decided == NEVER, 0, decided).astype(np.int64), decided == NEVER
            return _text_ranks(pa.array(status, type=pa.large_string()))
        if column in ("created_on", "sent_on", "decided_on"):
            days = ds.snapshot.col("documents", {"created_on": "created", "sent_on": "sent", "decided_on": "decided"}[column])
            values = days[ds.doc_rows(self.pos)].astype(np.int64)
            null = values == NEVER
            if column == "decided_on":
                null |= values > self.as_of_day  # not decided yet at as-of
            return np.where(null, 0, values), null
        if column == "status":
            status = np.where(ds.doc_decided[self.pos] > self.as_of_day, "in_progress", ds.doc_status_names(self.pos))
            return _text_ranks(pa.array(status.astype(object), type=pa.large_string()))
        if column in ("deal_id", "deal", "prospect"):
            deal = self._deal_pos()
            if column == "deal_id":
                return ds.deal_id_rank(deal).astype(np.int64), none
            return _text_ranks(ds.deal_arrow({"deal": "name", "prospect": "prospect_name"}[column], deal))
        if column == "document_id":
            return ds.doc_id_rank(self.pos).astype(np.int64), none
        if column in ("doc_type", "template", "title"):
            return _text_ranks(ds.doc_arrow(column, self.pos))
        # names from the directory: ranks of the folded names, per code
        if column in ("region", "agency", "team"):
            return _code_ranks(ds.unit_level_codes(column)[ds.deal_unit[self._deal_pos()]], ds.directory.units["name"])
        if column in ("partner", "manager", "client_manager"):
            return _code_ranks(getattr(ds, f"deal_{column}")[self._deal_pos()], ds.directory.collaborators["full_name"])
        doc = self._doc_pos()
        has = doc >= 0
        if column in ("signatory", "signatory_entity"):
            codes = np.full(n, -1, dtype=np.int64)  # -1: no document (a dataset may hold none)
            codes[has] = (ds.doc_signatory if column == "signatory" else ds.doc_entity)[doc[has]]
            names = ds.directory.collaborators["full_name"] if column == "signatory" else ds.directory.entities["name"]
            return _code_ranks(codes, names)
        raise DrilldownError("drill.sort", column=i18n.shown(column))


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text (for sorting)."""
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(ch))


def _text_ranks(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Dense sort ranks of Arrow strings, folded in C (lower case, accents removed); nulls flagged.

    Equal texts get equal ranks, so a descending sort keeps their default order.
    """
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    null = pc.is_null(arr).to_numpy(zero_copy_only=False)
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64), null
    folded = pc.replace_substring_regex(pc.utf8_normalize(pc.utf8_lower(arr.fill_null("")), "NFKD"), r"\p{Mn}", "")
    rank = pc.rank(folded, sort_keys="ascending", tiebreaker="dense").to_numpy().astype(np.int64)
    return np.where(null, 0, rank), null


def _code_ranks(codes: np.ndarray, names: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dense sort ranks of directory names through their codes (-1 is empty)."""
    folded = np.array([fold(str(v)) if v is not None else "" for v in names.to_numpy(dtype=object)] + [""], dtype=object)
    _, rank_of_code = np.unique(folded, return_inverse=True)
    codes = np.asarray(codes, dtype=np.int64)
    null = codes < 0
    return rank_of_code[np.where(null, len(folded) - 1, codes)].astype(np.int64), null


def _sortable(key: np.ndarray) -> np.ndarray:
    """An int64 sort key: as is, or dense ranks of exact sums that passed int64 (Python integers)."""
    if key.dtype != object:
        return key.astype(np.int64)
    _, rank = np.unique(key, return_inverse=True)
    return rank.astype(np.int64)


def select(ds: Dataset, c: Cell, by: str, as_of_day: int) -> Rows:
    """The rows of a cell in one view, unmaterialised."""
    doc_pos = np.flatnonzero(c.documents)
    if by == "document":
        order = np.lexsort((ds.doc_id_rank(doc_pos), ds.doc_created[doc_pos], ds.deal_id_rank(ds.doc_deal[doc_pos])))
        pos = doc_pos[order]
        return Rows(ds, by, as_of_day, pos, np.ones(len(pos), dtype=np.int64), ds.doc_recurring[pos],
                    ds.doc_one_off[pos], pos, indicator=c.indicator)
    pos = np.flatnonzero(c.deals)
    deal_of_doc = ds.doc_deal[doc_pos]
    n = ds.n_deals
    count = np.bincount(deal_of_doc, minlength=n)[pos]
    rec = cents.sum_by(deal_of_doc, ds.doc_recurring[doc_pos], n)
    one = cents.sum_by(deal_of_doc, ds.doc_one_off[doc_pos], n)
    # whose signatory a deal shows: its most recent document in the cell (creation date, then id) …
    latest = _last_by_deal(ds, doc_pos, n, ds.doc_created[doc_pos])
    last_decided = None
    if c.kind == "deal":
        # … and for a deal with none in the cell, its most recent document created by the as-of date
        history = _documents_of(ds, pos[latest[pos] < 0])
        history = history[ds.doc_created[history] <= as_of_day]
        fallback = _last_by_deal(ds, history, n, ds.doc_created[history])
        latest = np.where(latest < 0, fallback, latest)
        if c.indicator == "prospects_without_document":
            decided = _documents_of(ds, pos)
            decided = decided[ds.doc_decided[decided] <= as_of_day]
            last_decided = _last_by_deal(ds, decided, n, ds.doc_created[decided], ds.doc_decided[decided])[pos]
    rec, one, latest = rec[pos], one[pos], latest[pos]
    order = np.lexsort((ds.deal_id_rank(pos), -_sortable(cents.add(rec, one))))
    return Rows(ds, by, as_of_day, pos[order], count[order].astype(np.int64), rec[order], one[order], latest[order],
                indicator=c.indicator, last_decided=None if last_decided is None else last_decided[order])


def _documents_of(ds: Dataset, deal_pos: np.ndarray) -> np.ndarray:
    """Positions of every document of some deals."""
    if len(deal_pos) == 0:
        return np.zeros(0, dtype=np.int64)
    wanted = np.zeros(ds.n_deals, dtype=bool)
    wanted[deal_pos] = True
    return np.flatnonzero(wanted[ds.doc_deal])


def _last_by_deal(ds: Dataset, doc_pos: np.ndarray, n: int, *keys: np.ndarray) -> np.ndarray:
    """For each of the ``n`` deals, its last document among ``doc_pos`` (-1 for none).

    Last by ``keys`` (the most significant last, as :func:`numpy.lexsort` takes them), then by id.
    """
    deal_of_doc = ds.doc_deal[doc_pos]
    order = np.lexsort((ds.doc_id_rank(doc_pos), *keys, deal_of_doc))
    last = np.ones(len(order), dtype=bool)
    if len(order):
        last[:-1] = deal_of_doc[order][1:] != deal_of_doc[order][:-1]
    out = np.full(n, -1, dtype=np.int64)
    out[deal_of_doc[order][last]] = doc_pos[order][last]
    return out


def _document_frame(ds: Dataset, doc_pos: np.ndarray, as_of_day: int) -> pd.DataFrame:
    """"Par document" rows of these documents, in this order (text materialised for them only)."""
    deal_pos = ds.doc_deal[doc_pos]
    deals = ds.display(deal_pos)
    decided = ds.doc_decided[doc_pos]
    pending = decided > as_of_day  # not decided yet at as-of
    status = np.where(pending, "in_progress", ds.doc_status_names(doc_pos)).astype(object)
    decided_on = ds.doc_dates("decided_on", doc_pos)
    decided_on[pending] = np.datetime64("NaT")
    rec, one = ds.doc_recurring[doc_pos].astype(np.int64), ds.doc_one_off[doc_pos].astype(np.int64)
    return pd.DataFrame(
        {
            "document_id": pd.Series(ds.doc_text("id", doc_pos), dtype=object),
            "doc_type": pd.Series(ds.doc_text("doc_type", doc_pos), dtype=object),
            "template": pd.Series(ds.doc_text("template", doc_pos), dtype=object),
            "title": pd.Series(ds.doc_text("title", doc_pos), dtype=object),
            "status": pd.Series(status, dtype=object),
            "created_on": ds.doc_dates("created_on", doc_pos),
            "sent_on": ds.doc_dates("sent_on", doc_pos),
            "decided_on": decided_on,
            **{col: deals[col] for col in DEAL_COLUMNS[:9]},
            "signatory": pd.Series(ds.people(ds.doc_signatory[doc_pos]), dtype=object),
            "signatory_entity": pd.Series(ds.entities(ds.doc_entity[doc_pos]), dtype=object),
            "recurring": rec,
            "one_off": one,
            "total": cents.add(rec, one),
        }
    )


def _deal_frame(ds: Dataset, pos: np.ndarray, documents: np.ndarray, rec: np.ndarray, one: np.ndarray,
                latest: np.ndarray) -> pd.DataFrame:
    """"Par affaire" rows of these deals, in this order (text materialised for them only)."""
    has = latest >= 0
    signatory = np.full(len(pos), None, dtype=object)
    entity = np.full(len(pos), None, dtype=object)
    signatory[has] = ds.people(ds.doc_signatory[latest[has]])
    entity[has] = ds.entities(ds.doc_entity[latest[has]])
    out = ds.display(pos)
    out["signatory"] = pd.Series(signatory, dtype=object)
    out["signatory_entity"] = pd.Series(entity, dtype=object)
    out["documents"] = np.asarray(documents, dtype=np.int64)
    out["recurring"] = rec
    out["one_off"] = one
    out["total"] = cents.add(rec, one)
    return out


def deal_identities(ds: Dataset, deal_pos: np.ndarray) -> dict[str, np.ndarray]:
    """The ids of some deals' unit, region, agency, team, partner, manager and client manager
    (None where there is none)."""
    units = ds.directory.units.index.to_numpy(dtype=object)
    people = ds.directory.collaborators.index.to_numpy(dtype=object)
    unit = ds.deal_unit[deal_pos]
    out = {"unit_id": _of(units, unit)}
    for level in ("region", "agency", "team"):
        out[f"{level}_id"] = _of(units, ds.unit_level_codes(level)[unit])
    for role in ("partner", "manager", "client_manager"):
        out[f"{role}_id"] = _of(people, getattr(ds, f"deal_{role}")[deal_pos])
    return out


def identities(rows: Rows) -> pd.DataFrame:
    """For each of a drill-down's rows (in their default order): the ids of its units and people
    (:data:`ID_COLUMNS`) and ``age_days``, the age at the as-of date of what the row is — a
    document since it was sent, else created (as the ageing of the offers); a deal since it
    was created."""
    ds = rows.ds
    if rows.by == "document":
        doc, deal = rows.pos, ds.doc_deal[rows.pos]
        age = offer_ages(ds, rows.as_of_day, doc)
    else:
        doc, deal = rows.latest, rows.pos
        age = np.maximum(rows.as_of_day - ds.deal_created[deal].astype(np.int64), 0)
    out = deal_identities(ds, deal)
    has = doc >= 0
    signatory = np.full(len(doc), -1, dtype=np.int64)
    entity = np.full(len(doc), -1, dtype=np.int64)
    signatory[has] = ds.doc_signatory[doc[has]]
    entity[has] = ds.doc_entity[doc[has]]
    out["signatory_id"] = _of(ds.directory.collaborators.index.to_numpy(dtype=object), signatory)
    out["signatory_entity_id"] = _of(ds.directory.entities.index.to_numpy(dtype=object), entity)
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})
    frame["age_days"] = age.astype(np.int64)
    return frame


def with_ids(frame: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    """A drill-down frame with :func:`identities` beside it: each id just before its name
    (``region_id`` before ``region``, ``unit_id`` before them), ``age_days`` last."""
    out = pd.concat([frame.reset_index(drop=True), ids.reset_index(drop=True)], axis=1)
    order: list[str] = []
    for col in frame.columns:
        if col == "region" and "unit_id" in ids:
            order.append("unit_id")
        if f"{col}_id" in ids and f"{col}_id" not in frame.columns:
            order.append(f"{col}_id")
        order.append(col)
    order += [c for c in ids.columns if c not in order]
    return out[order]


def _of(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``values[codes]``, None where a code is -1."""
    codes = np.asarray(codes, dtype=np.int64)
    out = np.full(len(codes), None, dtype=object)
    ok = codes >= 0
    out[ok] = values[codes[ok]]
    return out
def _with_history(ds: Dataset, out: pd.DataFrame, pos: np.ndarray, last_decided: np.ndarray) -> pd.DataFrame:
    """Add :data:`HISTORY_COLUMNS` to by-deal rows: the deal's creation date, its latest decision and its date."""
    status, decided = _decisions(ds, last_decided)
    out["deal_created_on"] = dates_of(ds.deal_created[pos])
    out["last_decision"] = pd.Series(status, dtype=object)
    out["last_decision_on"] = dates_of(decided)
    return out


def _decisions(ds: Dataset, doc_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Status names (None for -1) and decision days (NEVER for -1) of documents given as positions or -1."""
    has = doc_pos >= 0
    status = np.full(len(doc_pos), None, dtype=object)
    decided = np.full(len(doc_pos), NEVER, dtype=np.int64)
    status[has] = ds.doc_status_names(doc_pos[has])
    decided[has] = ds.doc_decided[doc_pos[has]]
    return status, decided


def rows_of(ds: Dataset, sel: Selection, indicator: str, by: str = "deal", *, month: str | None = None,
            bucket: str | None = None) -> Rows:
    """The rows of a cell or bar, ``by`` ``deal`` or ``document``, not yet materialised."""
    if by not in ("deal", "document"):
        raise DrilldownError("api.unknown_view", by=i18n.shown(by))
    c = cell(ds, sel, indicator, month=month, bucket=bucket)
    return select(ds, c, by, day_number(sel.period.as_of))


def rows(ds: Dataset, sel: Selection, indicator: str, by: str = "deal", *, month: str | None = None, bucket: str | None = None) -> pd.DataFrame:
    """The drill-down frame of a cell or bar, ``by`` ``deal`` or ``document``."""
    return rows_of(ds, sel, indicator, by, month=month, bucket=bucket).frame()


def attach_lines(frame: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Add a ``lines`` column (list of {mission, billing, amount_cents}) to by-document rows."""
    grouped: dict[str, list[dict]] = {}
    if len(lines):
        recs = lines[["document_id", "mission", "billing", "amount_cents"]]
        keys = recs["document_id"].to_numpy()
        split = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        starts = np.concatenate([[0], split])
        ends = np.concatenate([split, [len(keys)]])
        missions, billings, amounts = recs["mission"].tolist(), recs["billing"].tolist(), recs["amount_cents"].tolist()
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            grouped[keys[s]] = [
                {"mission": missions[i], "billing": billings[i], "amount_cents": int(amounts[i])} for i in range(s, e)
            ]
    return frame.assign(lines=[grouped.get(d, []) for d in frame["document_id"]])


def totals(frame: pd.DataFrame, by: str) -> dict[str, int]:
    """The footer of a drill-down: how many documents and how many cents (exact sums)."""
    docs = int(frame["documents"].sum()) if by == "deal" else len(frame)
    return {
        "rows": len(frame),
        "documents": docs,
        **{m: cents.total(frame[m].to_numpy()) for m in MONEY_COLUMNS},
    }


def columns(by: str, indicator: str | None = None) -> Sequence[str]:
    """The columns of a view of a cell, in docs/metrics.md's order (``prospects_without_document``
    by deal adds :data:`HISTORY_COLUMNS` before the counts and amounts)."""
    if by == "document":
        return DOCUMENT_COLUMNS
    if indicator == "prospects_without_document":
        return (*DEAL_COLUMNS[:11], *HISTORY_COLUMNS, *DEAL_COLUMNS[11:])
    return DEAL_COLUMNS


def display_columns(by: str, indicator: str | None = None, *, present: Sequence[str] | None = None) -> list[str]:
    """The order in which every front end shows and exports a view's columns (:data:`DISPLAY_FIRST`).

    ``present`` (a frame's columns) keeps those of them a view has, extra ones (``lines``) last
    — never the API's ids and ages (:func:`with_ids`), which no screen or export shows; else
    the columns of ``indicator``'s view.
    """
    if present is None:
        known = list(columns(by, indicator))
    else:  # every column a view may have, in docs/metrics.md's order, then the others (lines)
        every = columns(by, "prospects_without_document")
        extra = [c for c in present if c not in every and c not in ID_COLUMNS and c != "age_days"]
        known = [c for c in every if c in present] + extra
    first = [c for c in DISPLAY_FIRST[by] if c in known]
    return first + [c for c in known if c not in first]


def footer_words(indicator: str, *, month: str | None = None, bucket: str | None = None, locale: str = "fr") -> str:
    """What the amounts of a cell's drill-down are, in the viewer's language (the footer's words).

    One wording for every front end: "honoraires signés de ces affaires" for converted or
    won prospects, "honoraires en jeu à l'abandon" for abandoned ones, and so on.
    """
    words = i18n.DRILL_WORDS[locale]
    if bucket is not None:
        return words["in_progress_bucket"].format(bucket=bucket)
    if indicator in ("converted_prospects", "won_prospects"):
        return words["signed_by_deals"]
    if month is not None and indicator in ("signed_offers", "signed_budget"):
        return words["signed_month"].format(month=i18n.month(month, locale))
    key = {
        "abandoned_prospects": "at_stake",
        "prospects_without_document": "no_offer",
        "offers_in_progress": "in_progress",
        "potential_fees": "in_progress",
        "signed_offers": "signed",
        "signed_budget": "signed",
        "refused_offers": "refused",
    }.get(indicator)
    if key is None:
        raise DrilldownError("api.unknown_indicator", indicator=i18n.shown(indicator),
                             options=", ".join((*DOCUMENT_CELLS, *DEAL_CELLS, *MONTH_CELLS[:1])))
    return words[key]


def empty_words(indicator: str, by: str, *, locale: str = "fr") -> str:
    """What an empty view of a cell says (a prospect without document has no document to show)."""
    words = i18n.DRILL_WORDS[locale]
    if indicator == "prospects_without_document" and by == "document":
        return words["empty_no_offer"]
    return words["empty"]
