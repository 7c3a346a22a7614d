"""Every figure of METRICS.md, as pure vectorised functions.

:func:`selections` is the single definition of which deals and documents make each
cell of the indicator table at an as-of date; the indicators (:func:`compute`) are
counts and sums of those selections and the drill-downs (:mod:`prospects.drilldown`)
list their rows, so a drill-down always adds up to its cell. Money is integer cents.
No SQL, no widgets, no globals: a :class:`~prospects.dataset.Dataset`, a deal mask from
:func:`prospects.scoping.scope_mask` and a :class:`~prospects.fiscal.Period` in,
immutable results out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from . import cents
from .dataset import DOC_STATUS, Dataset, day_number
from .fiscal import Period

#: Cells whose rows are documents, and cells whose rows are deals.
DOCUMENT_CELLS = ("offers_in_progress", "potential_fees", "signed_offers", "signed_budget", "refused_offers")
DEAL_CELLS = ("prospects_without_document", "abandoned_prospects", "converted_prospects")
#: The seven cells of the table, in display order.
TABLE_CELLS = (
    "prospects_without_document",
    "offers_in_progress",
    "potential_fees",
    "signed_offers",
    "signed_budget",
    "refused_offers",
    "abandoned_prospects",
)
#: Cells that can be cut by month (the chart's bars): documents signed / deals won in a month.
MONTH_CELLS = ("won_prospects", "signed_offers", "signed_budget")
AGEING_BUCKETS = ((0, 30, "0-30"), (31, 90, "31-90"), (91, 180, "91-180"), (181, None, ">180"))


@dataclass(frozen=True, eq=False)
class Selection:
    """Boolean masks over a dataset's deals and documents: the rows behind each cell."""

    period: Period
    deals: Mapping[str, np.ndarray]  # code → mask over deals
    documents: Mapping[str, np.ndarray]  # code → mask over documents


def selections(ds: Dataset, deal_mask: np.ndarray, period: Period) -> Selection:
    """The rows of every cell at ``period.as_of`` (METRICS.md, "States at a date D")."""
    a, s = day_number(period.as_of), day_number(period.start)
    doc_in = deal_mask[ds.doc_deal]
    abandoned_at_a = ds.deal_abandoned <= a
    in_progress = doc_in & (ds.doc_created <= a) & (ds.doc_decided > a) & ~abandoned_at_a[ds.doc_deal]
    open_at_a = deal_mask & (ds.deal_created <= a) & (ds.deal_converted > a) & ~abandoned_at_a
    has_offer = np.bincount(ds.doc_deal[in_progress], minlength=ds.n_deals) > 0
    decided_in_p = (ds.doc_decided >= s) & (ds.doc_decided <= a)
    signed = doc_in & (ds.doc_status == DOC_STATUS["signed"]) & decided_in_p
    refused = doc_in & (ds.doc_status == DOC_STATUS["refused"]) & decided_in_p
    docs = {
        "offers_in_progress": in_progress,
        "potential_fees": in_progress,
        "signed_offers": signed,
        "signed_budget": signed,
        "refused_offers": refused,
    }
    deals = {
        "prospects_without_document": open_at_a & ~has_offer,
        "abandoned_prospects": deal_mask & (ds.deal_abandoned >= s) & (ds.deal_abandoned <= a),
        "converted_prospects": deal_mask & (ds.deal_converted >= s) & (ds.deal_converted <= a),
    }
    for m in (*docs.values(), *deals.values()):
        m.flags.writeable = False
    return Selection(period, MappingProxyType(deals), MappingProxyType(docs))


def month_index(period: Period, months: np.ndarray) -> np.ndarray:
    """Position in ``period.months()`` of month ordinals (see :func:`prospects.dataset.month_ordinal`)."""
    return months.astype(np.int64) - (period.start.year * 12 + period.start.month - 1)


def month_selection(ds: Dataset, sel: Selection, code: str, month: str) -> tuple[str, np.ndarray]:
    """The rows of one bar: ``(kind, mask)`` with kind ``deal`` or ``document``."""
    months = sel.period.months()
    if month not in months:
        raise ValueError(f"month {month} is not in fiscal year {sel.period.fiscal_year} up to {sel.period.as_of.isoformat()} ({months[0]} … {months[-1]})")
    pos = months.index(month)
    if code in ("won_prospects", "converted_prospects"):
        mask = sel.deals["converted_prospects"]
        return "deal", mask & (month_index(sel.period, ds.deal_converted_month) == pos)
    if code in ("signed_offers", "signed_budget"):
        mask = sel.documents[code]
        return "document", mask & (month_index(sel.period, ds.doc_decided_month) == pos)
    raise ValueError(f"indicator {code} has no monthly bars; use one of {', '.join(MONTH_CELLS)}")


def _fees(ds: Dataset, idx: np.ndarray) -> dict[str, int]:
    """Fees of the documents at positions ``idx``: recurring, one-off, total (cents, exact)."""
    rec = cents.total(ds.doc_recurring[idx])
    one = cents.total(ds.doc_one_off[idx])
    return {"recurring": rec, "one_off": one, "total": rec + one}


def _sum_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Integer sums of ``values`` per bucket ``index`` (0 … n-1), exact (no float, no wrap)."""
    return cents.sum_by(index, values, n)


@dataclass(frozen=True, eq=False)
class Figures:
    """The indicator table, the figures beside it, the chart data, and N-1 at the same date."""

    period: Period
    indicators: Mapping[str, object]  # counts (int), fees (dict of cents), ratios (float | None)
    monthly: pd.DataFrame  # month, won_prospects, recurring, one_off, total (cents)
    ageing: pd.DataFrame  # bucket, offers, recurring, one_off, total (cents)
    previous: Figures | None = None


def compute(ds: Dataset, deal_mask: np.ndarray, period: Period, *, with_previous: bool = True) -> Figures:
    """All figures of METRICS.md for the deals in ``deal_mask`` over ``period``."""
    sel = selections(ds, deal_mask, period)
    # positions, not masks: taking by index is several times faster than boolean indexing
    signed = np.flatnonzero(sel.documents["signed_offers"])
    refused = np.flatnonzero(sel.documents["refused_offers"])
    in_progress = np.flatnonzero(sel.documents["offers_in_progress"])
    converted = np.flatnonzero(sel.deals["converted_prospects"])
    n_signed, n_refused = len(signed), len(refused)
    signed_fees, refused_fees = _fees(ds, signed), _fees(ds, refused)
    by_value_den = signed_fees["total"] + refused_fees["total"]
    days_to_sign = ds.doc_days_to_decide[signed]
    indicators = {
        "prospects_without_document": int(np.count_nonzero(sel.deals["prospects_without_document"])),
        "offers_in_progress": len(in_progress),
        "potential_fees": _fees(ds, in_progress),
        "signed_offers": n_signed,
        "signed_budget": signed_fees,
        "refused_offers": n_refused,
        "abandoned_prospects": int(np.count_nonzero(sel.deals["abandoned_prospects"])),
        "converted_prospects": len(converted),
        "win_rate": {
            "by_count": n_signed / (n_signed + n_refused) if n_signed + n_refused else None,
            "by_value": signed_fees["total"] / by_value_den if by_value_den else None,
        },
        "median_days_to_sign": float(np.median(days_to_sign)) if len(days_to_sign) else None,
    }
    months = period.months()
    won_idx = month_index(period, ds.deal_converted_month[converted])
    sig_idx = month_index(period, ds.doc_decided_month[signed])
    rec = _sum_by(sig_idx, ds.doc_recurring[signed], len(months))
    one = _sum_by(sig_idx, ds.doc_one_off[signed], len(months))
    monthly = pd.DataFrame(
        {
            "month": months,
            "won_prospects": np.bincount(won_idx, minlength=len(months)).astype(np.int64),
            "recurring": rec,
            "one_off": one,
            "total": cents.add(rec, one),
        }
    )
    bucket = ageing_positions(ds, period, in_progress)
    n_buckets = len(AGEING_BUCKETS)
    a_rec = _sum_by(bucket, ds.doc_recurring[in_progress], n_buckets)
    a_one = _sum_by(bucket, ds.doc_one_off[in_progress], n_buckets)
    ageing = pd.DataFrame(
        {
            "bucket": [b[2] for b in AGEING_BUCKETS],
            "offers": np.bincount(bucket, minlength=n_buckets).astype(np.int64),
            "recurring": a_rec,
            "one_off": a_one,
            "total": cents.add(a_rec, a_one),
        }
    )
    previous = compute(ds, deal_mask, period.previous(), with_previous=False) if with_previous else None
    return Figures(period, MappingProxyType(indicators), monthly, ageing, previous)


def ageing_bucket_mask(ds: Dataset, sel: Selection, bucket: str) -> np.ndarray:
    """The offers in progress at as-of that fall in one ageing bucket."""
    labels = [b[2] for b in AGEING_BUCKETS]
    if bucket not in labels:
        raise ValueError(f"ageing bucket {bucket!r}: expected one of {', '.join(labels)}")
    in_progress = np.flatnonzero(sel.documents["offers_in_progress"])
    out = np.zeros(ds.n_documents, dtype=bool)
    out[in_progress] = ageing_positions(ds, sel.period, in_progress) == labels.index(bucket)
    return out


def ageing_positions(ds: Dataset, period: Period, idx: np.ndarray) -> np.ndarray:
    """Ageing bucket at as-of of the documents at positions ``idx``: days since sent (else created)."""
    age = day_number(period.as_of) - ds.doc_sent_or_created[idx].astype(np.int64)
    return np.searchsorted(np.array([b[0] for b in AGEING_BUCKETS[1:]]), np.maximum(age, 0), side="right")
