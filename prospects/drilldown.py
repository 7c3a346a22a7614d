"""The rows behind a cell or a bar, in two views (METRICS.md, "Drill-downs").

* **by document** ("Par document"): the cell's documents, one row each, with their deal,
  people, fees and (when lines are given) every line;
* **by deal** ("Par affaire"): the same documents grouped by deal, with how many of the
  cell's documents the deal holds and their fees; signatory and entity are those of the
  deal's most recent document in the cell.

For a document cell the rows are exactly the cell's documents. For a deal cell the
by-deal rows are exactly the cell's deals, and the documents are those deals'
documents created on or before the as-of date (their history), so both views add up.
Amounts are integer cents. Pure functions over a dataset and a selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cents
from .dataset import Dataset, day_number
from .figures import (
    DEAL_CELLS,
    DOCUMENT_CELLS,
    MONTH_CELLS,
    Selection,
    ageing_bucket_mask,
    month_selection,
)

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


class DrilldownError(ValueError):
    """An indicator, view or month that has no drill-down."""


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
        raise DrilldownError(f"unknown indicator {indicator!r}; expected one of {known}")
    if kind == "document":
        docs = mask
        deals = np.zeros(ds.n_deals, dtype=bool)
        deals[ds.doc_deal[docs]] = True
    else:
        deals = mask
        docs = deals[ds.doc_deal] & (ds.doc_created <= day_number(sel.period.as_of))
    return Cell(indicator, month, kind, deals, docs)


def _frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """A frame keeping text columns as ``object`` with ``None`` for null (no string inference)."""
    return pd.DataFrame(
        {k: pd.Series(v, dtype=object) if getattr(v, "dtype", None) == np.dtype(object) else v for k, v in cols.items()}
    )


def by_document(ds: Dataset, c: Cell, as_of_day: int) -> pd.DataFrame:
    """The "Par document" rows of a cell, ordered by deal then creation date."""
    doc_pos = np.flatnonzero(c.documents)
    docs = ds.documents.iloc[doc_pos]
    deals = ds.deal_display.iloc[ds.doc_deal[doc_pos]]
    decided = ds.doc_decided[doc_pos]
    status = np.where(decided > as_of_day, "in_progress", docs["status"].to_numpy(dtype=object))
    rec, one = ds.doc_recurring[doc_pos], ds.doc_one_off[doc_pos]
    out = _frame(
        {
            "document_id": docs["id"].to_numpy(),
            "doc_type": docs["doc_type"].to_numpy(),
            "template": docs["template"].to_numpy(),
            "title": docs["title"].to_numpy(),
            "status": status.astype(object),
            "created_on": docs["created_on"].to_numpy(),
            "sent_on": docs["sent_on"].to_numpy(),
            "decided_on": docs["decided_on"].to_numpy().copy(),
            **{col: deals[col].to_numpy() for col in DEAL_COLUMNS[:9]},
            "signatory": docs["signatory"].to_numpy(),
            "signatory_entity": docs["signatory_entity"].to_numpy(),
            "recurring": rec,
            "one_off": one,
            "total": rec + one,
        }
    )
    out.loc[decided > as_of_day, "decided_on"] = pd.NaT  # not decided yet at as-of
    order = np.lexsort((out["document_id"].to_numpy(), ds.doc_created[doc_pos], out["deal_id"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def by_deal(ds: Dataset, c: Cell, as_of_day: int) -> pd.DataFrame:
    """The "Par affaire" rows of a cell, ordered by total fees (descending) then deal id."""
    pos = np.flatnonzero(c.deals)
    doc_pos = np.flatnonzero(c.documents)
    deal_of_doc = ds.doc_deal[doc_pos]
    n = ds.n_deals
    count = np.bincount(deal_of_doc, minlength=n)[pos]
    rec = cents.sum_by(deal_of_doc, ds.doc_recurring[doc_pos], n)
    one = cents.sum_by(deal_of_doc, ds.doc_one_off[doc_pos], n)
    # most recent document of each deal among the cell's documents (creation date, then id)
    ids = ds.documents["id"].to_numpy()[doc_pos]
    order = np.lexsort((ids, ds.doc_created[doc_pos], deal_of_doc))
    last = np.ones(len(order), dtype=bool)
    if len(order):
        last[:-1] = deal_of_doc[order][1:] != deal_of_doc[order][:-1]
    latest = np.full(n, -1, dtype=np.int64)
    latest[deal_of_doc[order][last]] = doc_pos[order][last]
    pick = latest[pos]
    has = pick >= 0
    signatory = np.full(len(pos), None, dtype=object)
    entity = np.full(len(pos), None, dtype=object)
    signatory[has] = ds.documents["signatory"].to_numpy()[pick[has]]
    entity[has] = ds.documents["signatory_entity"].to_numpy()[pick[has]]
    out = ds.deal_display.iloc[pos].reset_index(drop=True)
    out["signatory"] = pd.Series(signatory, dtype=object)
    out["signatory_entity"] = pd.Series(entity, dtype=object)
    out["documents"] = count.astype(np.int64)
    out["recurring"] = rec[pos]
    out["one_off"] = one[pos]
    out["total"] = cents.add(rec[pos], one[pos])
    order = np.lexsort((out["deal_id"].to_numpy(), -out["total"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def rows(ds: Dataset, sel: Selection, indicator: str, by: str = "deal", *, month: str | None = None, bucket: str | None = None) -> pd.DataFrame:
    """The drill-down frame of a cell or bar, ``by`` ``deal`` or ``document``."""
    if by not in ("deal", "document"):
        raise DrilldownError(f"view {by!r}: expected 'deal' or 'document'")
    c = cell(ds, sel, indicator, month=month, bucket=bucket)
    a = day_number(sel.period.as_of)
    return by_deal(ds, c, a) if by == "deal" else by_document(ds, c, a)


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


def columns(by: str) -> Sequence[str]:
    """The columns of a view, in order."""
    return DEAL_COLUMNS if by == "deal" else DOCUMENT_COLUMNS
