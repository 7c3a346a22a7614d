"""Every figure of docs/metrics.md, as pure vectorised functions.

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
from .i18n import Said, shown

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
    """The rows of every cell at ``period.as_of`` (docs/metrics.md: each state is read at the as-of date).

    Only the window of the dataset between the first and the last deal of the mask is
    looked at (a region's deals are one range of the store): the masks returned cover
    the whole dataset, False outside it.
    """
    a, s = day_number(period.as_of), day_number(period.start)
    n_deals, n_docs = ds.n_deals, ds.n_documents
    lo = int(deal_mask.argmax()) if n_deals else 0
    hi = n_deals - int(deal_mask[::-1].argmax()) if n_deals and deal_mask[lo] else lo
    # documents are ordered by deal: the window's documents are one range too
    dlo, dhi = (int(x) for x in np.searchsorted(ds.doc_deal, [lo, hi])) if hi > lo else (0, 0)
    dm = deal_mask[lo:hi]
    abandoned_at_a = ds.deal_abandoned[lo:hi] <= a
    # one gather per document: bit 0 "deal counted", bit 1 "deal abandoned at A"
    state = (dm.view(np.uint8) | (abandoned_at_a.view(np.uint8) << 1))[ds.doc_deal[dlo:dhi] - lo]
    doc_in = (state & 1).astype(bool)
    live = state == 1  # counted and not abandoned at A
    created, decided, status = ds.doc_created[dlo:dhi], ds.doc_decided[dlo:dhi], ds.doc_status[dlo:dhi]
    in_progress = live & (created <= a) & (decided > a)
    open_at_a = dm & (ds.deal_created[lo:hi] <= a) & (ds.deal_converted[lo:hi] > a) & ~abandoned_at_a
    has_offer = np.zeros(hi - lo, dtype=bool)
    has_offer[ds.doc_deal[dlo:dhi][in_progress] - lo] = True
    decided_in_p = (decided >= s) & (decided <= a) & doc_in
    signed = decided_in_p & (status == DOC_STATUS["signed"])
    refused = decided_in_p & (status == DOC_STATUS["refused"])
    abandoned = ds.deal_abandoned[lo:hi]
    converted = ds.deal_converted[lo:hi]

    def docs_mask(window: np.ndarray) -> np.ndarray:
        out = np.zeros(n_docs, dtype=bool)
        out[dlo:dhi] = window
        out.flags.writeable = False
        return out

    def deals_mask(window: np.ndarray) -> np.ndarray:
        out = np.zeros(n_deals, dtype=bool)
        out[lo:hi] = window
        out.flags.writeable = False
        return out

    in_progress_mask = docs_mask(in_progress)
    signed_mask = docs_mask(signed)
    docs = {
        "offers_in_progress": in_progress_mask,
        "potential_fees": in_progress_mask,
        "signed_offers": signed_mask,
        "signed_budget": signed_mask,
        "refused_offers": docs_mask(refused),
    }
    deals = {
        "prospects_without_document": deals_mask(open_at_a & ~has_offer),
        "abandoned_prospects": deals_mask(dm & (abandoned >= s) & (abandoned <= a)),
        "converted_prospects": deals_mask(dm & (converted >= s) & (converted <= a)),
    }
    return Selection(period, MappingProxyType(deals), MappingProxyType(docs))


class CellError(Said, ValueError):
    """A month, ageing bucket or indicator that has no cell: a sentence of the catalog, said in
    the viewer's language where it is shown (:class:`~prospects.i18n.Said`)."""


def month_index(period: Period, months: np.ndarray) -> np.ndarray:
    """Position in ``period.months()`` of month ordinals (see :func:`prospects.dataset.month_ordinal`)."""
    return months.astype(np.int64) - (period.start.year * 12 + period.start.month - 1)


def month_selection(ds: Dataset, sel: Selection, code: str, month: str) -> tuple[str, np.ndarray]:
    """The rows of one bar: ``(kind, mask)`` with kind ``deal`` or ``document``."""
    months = sel.period.months()
    if month not in months:
        raise CellError("api.unknown_month", month=shown(month), fiscal_year=sel.period.fiscal_year, as_of=sel.period.as_of,
                        first=months[0], last=months[-1])
    pos = months.index(month)
    if code in ("won_prospects", "converted_prospects"):
        mask = sel.deals["converted_prospects"]
        return "deal", mask & (month_index(sel.period, ds.deal_converted_month) == pos)
    if code in ("signed_offers", "signed_budget"):
        mask = sel.documents[code]
        return "document", mask & (month_index(sel.period, ds.doc_decided_month) == pos)
    raise CellError("api.month_cells", indicator=shown(code), options=", ".join(MONTH_CELLS))


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
    """The indicator table, the figures beside it, the chart data, and N-1 at the same date.

    ``monthly`` is indexed by the month (a ``pandas.Period``, so that ``figs.monthly.plot()``
    reads in months) and keeps the ``month`` label ``YYYY-MM`` the front ends show.
    :meth:`to_frame` gives the indicators as one frame (N, N-1, Δ, Δ %); ``scope`` says what
    they cover (set by :meth:`prospects.api.View.figures`); in Jupyter they show as a table.
    """

    period: Period
    indicators: Mapping[str, object]  # counts (int), fees (dict of cents), ratios (float | None)
    monthly: pd.DataFrame  # month, won_prospects, recurring, one_off, total (cents)
    ageing: pd.DataFrame  # bucket, offers, recurring, one_off, total (cents)
    previous: Figures | None = None
    scope: object | None = None  # a prospects.api.Scope: who, which units, what is left out
    locale: str = "fr"
    currency: str = "EUR"  # the firm's currency (set by the view from the settings): the amounts' minor units

    def to_frame(self, compare: str | None = None) -> pd.DataFrame:
        """The indicators as a frame: rows (metric, component), column ``N`` — and with
        ``compare="N-1"`` columns ``N-1`` (at the same point), ``Δ`` and ``Δ %`` (percent
        of N-1). Counts and cents (exact below 2**53), rates as fractions, days."""
        from .analysis import figures_frame

        return figures_frame(self, compare)

    def __repr__(self) -> str:
        p = self.period
        where = f" · {self.scope}" if self.scope is not None else ""
        prev = f" · N-1 as of {self.previous.period.as_of.isoformat()}" if self.previous is not None else ""
        return f"<Figures FY {p.fiscal_year} as of {p.as_of.isoformat()}{where}{prev}>"

    def _repr_html_(self) -> str:
        from .tables import figures_html

        return figures_html(self)


def compute(ds: Dataset, deal_mask: np.ndarray, period: Period, *, with_previous: bool = True) -> Figures:
    """All figures of docs/metrics.md for the deals in ``deal_mask`` over ``period``."""
    sel = selections(ds, deal_mask, period)
    # positions, not masks: taking by index is several times faster than boolean indexing
    signed = np.flatnonzero(sel.documents["signed_offers"])
    refused = np.flatnonzero(sel.documents["refused_offers"])
    in_progress = np.flatnonzero(sel.documents["offers_in_progress"])
    converted = np.flatnonzero(sel.deals["converted_prospects"])
    n_signed, n_refused = len(signed), len(refused)
    signed_fees, refused_fees = _fees(ds, signed), _fees(ds, refused)
    by_count, by_value = win_rates(np.array([n_signed]), np.array([n_refused]), np.array([signed_fees["total"]]),
                                   np.array([refused_fees["total"]]))
    median = medians_by(np.zeros(len(signed), dtype=np.int64), ds.doc_days_to_decide[signed], 1)[0]
    indicators = {
        "prospects_without_document": int(np.count_nonzero(sel.deals["prospects_without_document"])),
        "offers_in_progress": len(in_progress),
        "potential_fees": _fees(ds, in_progress),
        "signed_offers": n_signed,
        "signed_budget": signed_fees,
        "refused_offers": n_refused,
        "abandoned_prospects": int(np.count_nonzero(sel.deals["abandoned_prospects"])),
        "converted_prospects": len(converted),
        "win_rate": {"by_count": _none_if_nan(by_count[0]), "by_value": _none_if_nan(by_value[0])},
        "median_days_to_sign": _none_if_nan(median),
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
        },
        index=pd.PeriodIndex(months, freq="M", name="period"),
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
        raise CellError("api.unknown_bucket", bucket=shown(bucket), options=", ".join(labels))
    in_progress = np.flatnonzero(sel.documents["offers_in_progress"])
    out = np.zeros(ds.n_documents, dtype=bool)
    out[in_progress] = ageing_positions(ds, sel.period, in_progress) == labels.index(bucket)
    return out


def offer_ages(ds: Dataset, as_of: int, idx: np.ndarray) -> np.ndarray:
    """Age in days at the day number ``as_of`` of the documents at positions ``idx``: days
    since sent (else created), never below 0 (docs/metrics.md, "ageing")."""
    return np.maximum(as_of - ds.doc_sent_or_created[idx].astype(np.int64), 0)


def ageing_positions(ds: Dataset, period: Period, idx: np.ndarray) -> np.ndarray:
    """Ageing bucket at as-of of the documents at positions ``idx`` (:func:`offer_ages`)."""
    age = offer_ages(ds, day_number(period.as_of), idx)
    return np.searchsorted(np.array([b[0] for b in AGEING_BUCKETS[1:]]), age, side="right")


# -- ratios and medians, per group: the one definition of the rates and the median --------


def ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` element-wise as float64, NaN where ``whole`` is 0 (an empty rate).

    Counts and cents divide exactly as Python integers would (correctly rounded), also
    when they pass what float64 holds exactly (sums of cents beyond 2**53).
    """
    part, whole = np.asarray(part), np.asarray(whole)
    out = np.full(len(whole), np.nan)
    ok = np.asarray(whole != 0, dtype=bool)
    if cents.fits_float(part, whole):
        out[ok] = part[ok].astype(np.float64) / whole[ok].astype(np.float64)
    else:
        out[ok] = [int(a) / int(b) for a, b in zip(part[ok], whole[ok], strict=True)]
    return out


def win_rates(n_signed: np.ndarray, n_refused: np.ndarray, signed_total: np.ndarray,
              refused_total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Win rate by count and by value per group (docs/metrics.md): signed / (signed + refused).

    Arrays of counts and of cents (one entry per group) in, float64 rates out (NaN when
    nothing was decided). The refusal rate is the same with refused on top.
    """
    return (ratio(n_signed, cents.add(n_signed, n_refused)),
            ratio(signed_total, cents.add(signed_total, refused_total)))


def medians_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """The median of ``values`` per bucket ``index`` (0 … n-1), NaN for an empty bucket.

    One sort for every bucket (no loop per bucket): as :func:`numpy.median`, the middle
    value, or the mean of the two middle values.
    """
    index = np.asarray(index, dtype=np.int64)
    values = np.asarray(values)
    order = np.lexsort((values, index))
    ordered = values[order].astype(np.float64)
    count = np.bincount(index, minlength=n)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    out = np.full(n, np.nan)
    has = count > 0
    lo = start[has] + (count[has] - 1) // 2
    hi = start[has] + count[has] // 2
    out[has] = (ordered[lo] + ordered[hi]) / 2
    return out


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
