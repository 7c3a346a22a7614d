"""Metrics tables: figures of the metric dictionary by any dimension and period, in one tidy frame.

What :meth:`prospects.api.View.metrics` computes, as pure functions: a dataset, a deal
mask already scoped (:func:`prospects.scoping.scope_mask`) and periods in, a long pandas
frame out. Every metric is counted over the rows of :func:`prospects.figures.selections`
— the same masks as the dashboard's cells and drill-downs — and the rates and medians
come from :func:`prospects.figures.win_rates` and :func:`prospects.figures.medians_by`:
there is no second definition. Grouping is one vectorised pass per period: each deal
(or document) gets the index of its group, counts are :func:`numpy.bincount`, amounts
:func:`prospects.cents.sum_by` (exact cents), medians one sort; no Python loop per row or
per group.

The frame (:func:`table`) has one row per group, fiscal year, period, metric and
component: the group's dimensions (``region_id`` and ``region``, ``partner_id`` and
``partner``, ``doc_type``…), ``fiscal_year``, ``as_of``, ``period`` (a pandas
``Period``: the fiscal year, a month or a fiscal quarter), ``metric``, ``component``
(``count``, ``recurring``/``one_off``/``total`` in cents, ``by_count``/``by_value``
rates, ``days``) and ``value``. :func:`metric_names` lists what may be asked.

Amounts stay exact integer cents; ``frame.money.euros()`` (:mod:`prospects.money`) converts.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cents, figures
from .dataset import Dataset, day_number
from .fiscal import Period

#: Dimensions every deal has one value of: the org level above its unit, its people.
DEAL_DIMENSIONS = ("region", "agency", "team", "partner", "manager", "client_manager")
#: Dimensions of a document: its type, its template, who signs it.
DOCUMENT_DIMENSIONS = ("doc_type", "template", "signatory")
DIMENSIONS = DEAL_DIMENSIONS + DOCUMENT_DIMENSIONS
#: Org levels and people are named by an id and a name; a document's texts are their own name.
_ORG = ("region", "agency", "team")
_PEOPLE = ("partner", "manager", "client_manager", "signatory")

#: The components of an amount, in cents.
MONEY = ("recurring", "one_off", "total")
#: Sub-periods a fiscal year may be cut into: none (the year to its as-of date), months, fiscal quarters.
FREQUENCIES = (None, "M", "Q")


@dataclass(frozen=True)
class Metric:
    """A metric of the table: its components, what it counts and whether groups add up to it."""

    code: str
    components: tuple[str, ...]
    rows: str  # "deal" or "document": deal metrics cannot be cut by a document's dimension
    additive: bool  # counts and amounts: the groups add up to the whole; rates and medians do not


METRICS: dict[str, Metric] = {m.code: m for m in (
    Metric("prospects_without_document", ("count",), "deal", True),
    Metric("offers_in_progress", ("count",), "document", True),
    Metric("potential_fees", MONEY, "document", True),
    Metric("signed_offers", ("count",), "document", True),
    Metric("signed_budget", MONEY, "document", True),
    Metric("refused_offers", ("count",), "document", True),
    Metric("refused_fees", MONEY, "document", True),
    Metric("decided_offers", ("count", *MONEY), "document", True),
    Metric("abandoned_prospects", ("count",), "deal", True),
    Metric("converted_prospects", ("count",), "deal", True),
    Metric("win_rate", ("by_count", "by_value"), "document", False),
    Metric("refusal_rate", ("by_count", "by_value"), "document", False),
    Metric("median_days_to_sign", ("days",), "document", False),
    Metric("aged_offers", ("count", *MONEY), "document", True),  # aged_offers>N: a threshold in days
)}
#: Metrics that take a threshold: ``aged_offers>90`` (offers in progress older than 90 days).
THRESHOLD_METRICS = ("aged_offers",)
_NAME = re.compile(r"^(?P<code>[a-z_]+)(?:>(?P<days>[0-9]{1,5}))?(?:\.(?P<component>[a-z_]+))?$")


class MetricsError(ValueError):
    """A metric, dimension or frequency that the table cannot give: ``key`` and ``values`` say
    which (the API words it in the viewer's language)."""

    def __init__(self, key: str, **values: object) -> None:
        from . import i18n

        self.key = key
        self.values = values
        super().__init__(i18n.sentence(f"api.{key}", "en", **{k: i18n.shown(v, 200) for k, v in values.items()}))


@dataclass(frozen=True)
class Asked:
    """One metric as asked: its definition, the components wanted, its threshold and its name in the table."""

    metric: Metric
    components: tuple[str, ...]
    days: int | None
    name: str


def metric_names() -> list[str]:
    """What :func:`parse` accepts: every metric, every ``metric.component``, and ``aged_offers>N``."""
    out = []
    for m in METRICS.values():
        base = f"{m.code}>90" if m.code in THRESHOLD_METRICS else m.code
        out.append(base)
        if len(m.components) > 1:
            out += [f"{base}.{c}" for c in m.components]
    return out


def parse(names: Sequence[str]) -> list[Asked]:
    """The metrics asked, checked: ``code``, ``code.component``, ``aged_offers>N[.component]``."""
    out: list[Asked] = []
    for name in names:
        hit = _NAME.match(name) if isinstance(name, str) else None
        metric = METRICS.get(hit["code"]) if hit else None
        if hit is None or metric is None:
            raise MetricsError("unknown_metric", metric=name)
        days = hit["days"]
        if metric.code in THRESHOLD_METRICS and days is None:
            raise MetricsError("needs_threshold", metric=name, example=f"{metric.code}>90")
        if metric.code not in THRESHOLD_METRICS and days is not None:
            raise MetricsError("unknown_metric", metric=name)
        component = hit["component"]
        if component is not None and component not in metric.components:
            raise MetricsError("unknown_component", metric=name, components=", ".join(metric.components))
        code = f"{metric.code}>{int(days)}" if days is not None else metric.code
        out.append(Asked(metric, (component,) if component else metric.components, None if days is None else int(days), code))
    return out


# ---------------------------------------------------------------------------
# periods


def year_freq(start_month: int) -> str:
    """The pandas frequency of a fiscal year starting in ``start_month`` (``Y-DEC``, ``Y-SEP``…)."""
    return f"Y-{calendar.month_abbr[(start_month - 2) % 12 + 1].upper()}"


def sub_periods(period: Period, freq: str | None) -> list[tuple[pd.Period, Period]]:
    """A fiscal year's period cut by ``freq``: ``(label, period)`` pairs.

    Each sub-period starts on its first day and ends on its last day or the as-of date,
    whichever comes first: its flows (signed, refused, abandoned, converted…) are those of
    its own days, its states (offers in progress…) those of its last day. ``None``: the
    whole period, labelled by the fiscal year; ``"M"``: months; ``"Q"``: fiscal quarters
    (labelled as pandas does, e.g. ``2026Q1`` for the first quarter of FY 2026).
    """
    start_month = period.start.month
    if freq is None:
        return [(pd.Period(year=period.fiscal_year, freq=year_freq(start_month)), period)]
    step = {"M": 1, "Q": 3}[freq]
    pandas_freq = "M" if freq == "M" else f"Q-{year_freq(start_month)[2:]}"
    out = []
    first = period.start
    while first <= period.as_of:
        month = first.month - 1 + step
        after = dt.date(first.year + month // 12, month % 12 + 1, 1)
        last = min(after - dt.timedelta(days=1), period.as_of)
        out.append((pd.Period(first, freq=pandas_freq), Period(period.fiscal_year, first, period.end, last)))
        first = after
    return out


# ---------------------------------------------------------------------------
# groups


@dataclass(frozen=True, eq=False)
class Groups:
    """Which group each deal and document of a dataset falls in (-1: outside the scope).

    ``labels`` has one row per group (in order: org order, people by id, texts
    alphabetically; the empty value last) with the dimensions' ids and names.
    """

    by: tuple[str, ...]
    deal: np.ndarray
    document: np.ndarray
    labels: pd.DataFrame

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def per_document(self) -> bool:
        """Whether a dimension is a document's: deals then belong to no single group."""
        return any(d in DOCUMENT_DIMENSIONS for d in self.by)


def groups(ds: Dataset, deal_mask: np.ndarray, by: Sequence[str]) -> Groups:
    """Group the deals of ``deal_mask`` (and their documents) by the dimensions ``by``.

    The groups are the combinations of values found on those deals and documents only:
    nothing outside the mask (another viewer's rows) can name a group.
    """
    by = tuple(by)
    for d in by:
        if d not in DIMENSIONS:
            raise MetricsError("unknown_dimension", by=d, options=", ".join(DIMENSIONS))
    if len(set(by)) < len(by):
        raise MetricsError("repeated_dimension", by=", ".join(by))
    deal_pos = np.flatnonzero(deal_mask)
    per_document = any(d in DOCUMENT_DIMENSIONS for d in by)
    if per_document:
        doc_pos = np.flatnonzero(np.asarray(deal_mask, dtype=bool)[ds.doc_deal])
        rows = doc_pos
    else:
        rows = deal_pos
    codes, sizes, decode = [], [], []
    for d in by:
        c, size, names = _codes(ds, d, rows, per_document)
        codes.append(np.where(c < 0, size, c))  # the empty value sorts last
        sizes.append(size + 1)
        decode.append(names)
    unique, inverse = _combinations(codes, sizes, len(rows))
    unique = np.where(unique == np.asarray(sizes, dtype=np.int64) - 1, -1, unique)
    deal_group = np.full(ds.n_deals, -1, dtype=np.int64)
    doc_group = np.full(ds.n_documents, -1, dtype=np.int64)
    if per_document:
        doc_group[rows] = inverse
    else:
        deal_group[rows] = inverse
        doc_group[:] = deal_group[ds.doc_deal]
    labels = {}
    for i, named in enumerate(decode):
        labels.update(named(unique[:, i]))
    return Groups(by, deal_group, doc_group, pd.DataFrame(labels, index=pd.RangeIndex(len(unique))))


def _combinations(codes: list[np.ndarray], sizes: list[int], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct combinations of some code columns (each in ``[0, size)``), in order, and
    which one each row has: one integer key per row (mixed radix), then a table lookup when the
    keys are few, else a sort of the keys — never a sort of rows of several columns."""
    if not codes:
        return np.zeros((1, 0), dtype=np.int64), np.zeros(n, dtype=np.int64)
    total = 1
    for size in sizes:
        total *= size
    if total >= 2**62:  # pragma: no cover - beyond any organisation: sort the rows themselves
        unique, inverse = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
        return unique, inverse.reshape(-1)
    key = np.zeros(n, dtype=np.int64)
    for c, size in zip(codes, sizes, strict=True):
        key = key * size + c
    if total <= max(8 * n, 1 << 20):
        present = np.zeros(total, dtype=bool)
        present[key] = True
        keys = np.flatnonzero(present)
        lookup = np.empty(total, dtype=np.int64)
        lookup[keys] = np.arange(len(keys))
        inverse = lookup[key]
    else:
        keys, inverse = np.unique(key, return_inverse=True)
    unique = np.empty((len(keys), len(codes)), dtype=np.int64)
    rest = keys.astype(np.int64)
    for i in range(len(codes) - 1, -1, -1):
        rest, unique[:, i] = np.divmod(rest, sizes[i])
    return unique, inverse.reshape(-1)


def _codes(ds: Dataset, dimension: str, rows: np.ndarray, per_document: bool):
    """Codes of a dimension for some rows (deals, or documents when ``per_document``; -1 for
    none), how many codes there are, and how to turn codes into label columns."""
    deal_of = ds.doc_deal[rows] if per_document else rows
    directory = ds.directory
    if dimension in _ORG:
        codes = ds.unit_level_codes(dimension)[ds.deal_unit[deal_of]]
        table, name = directory.units, "name"
    elif dimension == "signatory":
        codes = ds.doc_signatory[rows].astype(np.int64)
        table, name = directory.collaborators, "full_name"
    elif dimension in _PEOPLE:
        codes = getattr(ds, f"deal_{dimension}")[deal_of].astype(np.int64)
        table, name = directory.collaborators, "full_name"
    else:  # a document's text
        codes, values = ds.doc_categories(dimension, rows)
        return codes, len(values), lambda c: {dimension: pd.Series(_take(values, c), dtype=object)}
    ids = table.index.to_numpy(dtype=object)
    names = table[name].to_numpy(dtype=object)
    return codes, len(ids), lambda c: {f"{dimension}_id": pd.Series(_take(ids, c), dtype=object),
                                       dimension: pd.Series(_take(names, c), dtype=object)}


def _take(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    out = np.full(len(codes), None, dtype=object)
    ok = codes >= 0
    out[ok] = values[codes[ok]]
    return out


# ---------------------------------------------------------------------------
# measuring


#: Metrics of what happened within a period (by the day it happened: decision, conversion,
#: abandonment); the others are states at the period's last day.
FLOWS = frozenset({"signed_offers", "signed_budget", "refused_offers", "refused_fees", "decided_offers",
                   "abandoned_prospects", "converted_prospects", "win_rate", "refusal_rate", "median_days_to_sign"})


def measure(ds: Dataset, sel: figures.Selection, g: Groups, asked: Sequence[Asked],
            edges: np.ndarray | None = None) -> list[np.ndarray]:
    """The values per group of every component asked, in order (counts and cents as
    integers, rates and medians as float64 with NaN where empty).

    With ``edges`` (the first day numbers of consecutive sub-periods of ``sel``'s period),
    flows only: each value is per group and sub-period (``group * len(edges) + sub``), a
    row counting in the sub-period of the day it happened — what a selection of each
    sub-period gives, in one pass.
    """
    subs = 1 if edges is None else len(edges)
    n = g.n * subs
    a = day_number(sel.period.as_of)
    memo: dict[str, np.ndarray] = {}
    money: dict[str, dict[str, np.ndarray]] = {}

    def docs(code: str) -> np.ndarray:
        if code not in memo:
            memo[code] = np.flatnonzero(sel.documents[code])
        return memo[code]

    def index(group: np.ndarray, pos: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The group (and sub-period, by ``day``) of the rows at ``pos``."""
        if edges is None:
            return group[pos]
        return group[pos] * subs + np.searchsorted(edges, day[pos], side="right") - 1

    def fees(code: str, pos: np.ndarray) -> dict[str, np.ndarray]:
        if code not in money:
            at = index(g.document, pos, ds.doc_decided)
            rec = cents.sum_by(at, ds.doc_recurring[pos], n)
            one = cents.sum_by(at, ds.doc_one_off[pos], n)
            money[code] = {"count": np.bincount(at, minlength=n).astype(np.int64), "recurring": rec, "one_off": one,
                           "total": cents.add(rec, one)}
        return money[code]

    out: list[np.ndarray] = []
    for item in asked:
        code = item.metric.code
        if edges is not None and code not in FLOWS:  # pragma: no cover - table() measures states per sub-period
            raise AssertionError(f"{code} is a state: measure it with each sub-period's selection")
        if item.metric.rows == "deal":
            if g.per_document:
                raise MetricsError("deal_metric_by_document", metric=item.name,
                                   by=", ".join(d for d in g.by if d in DOCUMENT_DIMENSIONS))
            day = {"converted_prospects": ds.deal_converted, "abandoned_prospects": ds.deal_abandoned}.get(code)
            values = {"count": np.bincount(index(g.deal, np.flatnonzero(sel.deals[code]), day), minlength=n)
                      .astype(np.int64)}
        elif code in ("offers_in_progress", "signed_offers", "refused_offers"):
            values = fees(code, docs(code))
        elif code in ("potential_fees", "signed_budget", "refused_fees"):
            cell = {"refused_fees": "refused_offers", "signed_budget": "signed_offers",
                    "potential_fees": "offers_in_progress"}[code]
            values = fees(cell, docs(cell))
        elif code == "decided_offers":
            values = fees(code, np.union1d(docs("signed_offers"), docs("refused_offers")))
        elif code == "aged_offers":
            pos = docs("offers_in_progress")
            values = fees(item.name, pos[figures.offer_ages(ds, a, pos) > item.days])
        elif code in ("win_rate", "refusal_rate"):
            signed, refused = fees("signed_offers", docs("signed_offers")), fees("refused_offers", docs("refused_offers"))
            if code == "refusal_rate":
                signed, refused = refused, signed
            by_count, by_value = figures.win_rates(signed["count"], refused["count"], signed["total"], refused["total"])
            values = {"by_count": by_count, "by_value": by_value}
        elif code == "median_days_to_sign":
            pos = docs("signed_offers")
            values = {"days": figures.medians_by(index(g.document, pos, ds.doc_decided), ds.doc_days_to_decide[pos], n)}
        else:  # pragma: no cover - METRICS and this function change together
            raise AssertionError(code)
        out += [values[c] for c in item.components]
    return out


def table(ds: Dataset, deal_mask: np.ndarray, periods: Sequence[Period], asked: Sequence[Asked],
          by: Sequence[str] = (), freq: str | None = None) -> pd.DataFrame:
    """The long metrics frame of the deals of ``deal_mask`` (see the module docstring).

    ``periods`` are fiscal years up to their as-of dates (N, N-1…), each cut by ``freq``:
    flows come from one selection of the year, each row in the sub-period of the day it
    happened; states from a selection at each sub-period's last day. Rows: group by group
    (in the groups' order), then fiscal year, period, metric and component as asked.
    ``value`` is float64 — exact for every count and every amount below 2**53 cents (90
    trillion euros); past that, it holds exact Python numbers (dtype object) rather than
    round an amount.
    """
    if freq not in FREQUENCIES:
        raise MetricsError("unknown_freq", freq=freq)
    g = groups(ds, deal_mask, by)
    flows = [item for item in asked if item.metric.code in FLOWS]
    states = [item for item in asked if item.metric.code not in FLOWS]
    blocks: list[np.ndarray] = []
    block_meta: list[tuple[int, dt.date, pd.Period, str, str]] = []
    for period in periods:
        subs = sub_periods(period, freq)
        found: dict[int, list[np.ndarray]] = {}  # per asked item: its components, each (groups, sub-periods)
        if flows:
            edges = np.array([day_number(sub.start) for _, sub in subs]) if len(subs) > 1 else None
            values = iter(measure(ds, figures.selections(ds, deal_mask, period), g, flows, edges))
            for item in flows:
                found[id(item)] = [next(values).reshape(g.n, len(subs)) for _ in item.components]
        if states:
            per_sub = [measure(ds, figures.selections(ds, deal_mask, sub), g, states) for _, sub in subs]
            k = 0
            for item in states:
                found[id(item)] = [np.stack([v[k + c] for v in per_sub], axis=1) for c in range(len(item.components))]
                k += len(item.components)
        for j, (label, sub) in enumerate(subs):
            for item in asked:
                for component, v in zip(item.components, found[id(item)], strict=True):
                    blocks.append(v[:, j])
                    block_meta.append((period.fiscal_year, sub.as_of, label, item.name, component))
    n, k = g.n, len(blocks)
    # group-major order: every block of group 0, then of group 1…
    group_of = np.repeat(np.arange(n), k)
    block_of = np.tile(np.arange(k), n)
    meta = pd.DataFrame(block_meta, columns=["fiscal_year", "as_of", "period", "metric", "component"])
    out = g.labels.take(group_of).reset_index(drop=True)
    out["fiscal_year"] = meta["fiscal_year"].to_numpy(dtype=np.int64)[block_of]
    out["as_of"] = pd.to_datetime(meta["as_of"]).to_numpy(dtype="datetime64[s]")[block_of] if k else np.array([], dtype="datetime64[s]")
    out["period"] = pd.PeriodIndex(meta["period"]).take(block_of) if k else pd.PeriodIndex([], freq="M")
    out["metric"] = pd.Series(meta["metric"].to_numpy(dtype=object)[block_of], dtype=object)
    out["component"] = pd.Series(meta["component"].to_numpy(dtype=object)[block_of], dtype=object)
    out["value"] = _values(blocks, n)
    return out


def _values(blocks: list[np.ndarray], n: int) -> np.ndarray:
    """Blocks of ``n`` values each, group-major: float64, or exact Python numbers past 2**53."""
    if not blocks or n == 0:
        return np.zeros(0)
    exact = all(cents.fits_float(b) if b.dtype != np.float64 else True for b in blocks)
    if exact:
        return np.stack([b.astype(np.float64) for b in blocks], axis=1).reshape(-1)
    stacked = np.empty((n, len(blocks)), dtype=object)
    for j, b in enumerate(blocks):
        stacked[:, j] = [float(x) if isinstance(x, float | np.floating) else int(x) for x in b]
    return stacked.reshape(-1)


# ---------------------------------------------------------------------------
# one Figures as a frame

#: The rows of :meth:`prospects.figures.Figures.to_frame`: every indicator and its components.
FIGURE_ROWS = (
    ("prospects_without_document", "count"),
    ("offers_in_progress", "count"),
    *(("potential_fees", c) for c in MONEY),
    ("signed_offers", "count"),
    *(("signed_budget", c) for c in MONEY),
    ("refused_offers", "count"),
    ("abandoned_prospects", "count"),
    ("converted_prospects", "count"),
    ("win_rate", "by_count"),
    ("win_rate", "by_value"),
    ("median_days_to_sign", "days"),
)


def _figure_values(figs: figures.Figures) -> list:
    out = []
    for code, component in FIGURE_ROWS:
        v = figs.indicators[code]
        if isinstance(v, dict):
            v = v[component]
        out.append(np.nan if v is None else v)
    return out


def figures_frame(figs: figures.Figures, compare: str | None = None) -> pd.DataFrame:
    """The indicators of ``figs`` as a frame (see :meth:`prospects.figures.Figures.to_frame`)."""
    from . import i18n

    if compare not in (None, "N-1"):
        raise ValueError(i18n.sentence("api.unknown_compare", figs.locale, compare=i18n.shown(compare)))
    index = pd.MultiIndex.from_tuples(FIGURE_ROWS, names=["metric", "component"])
    columns = {"N": _figure_values(figs)}
    if compare == "N-1":
        if figs.previous is None:
            raise ValueError(i18n.label("api.no_previous", figs.locale))
        columns["N-1"] = _figure_values(figs.previous)
    exact = all(isinstance(v, float) or abs(int(v)) <= cents.FLOAT_EXACT for col in columns.values() for v in col)
    frame = pd.DataFrame({k: np.array(v, dtype=np.float64 if exact else object) for k, v in columns.items()}, index=index)
    if compare == "N-1":
        now, before = frame["N"], frame["N-1"]
        frame["Δ"] = now - before
        base = before.abs().where(before != 0)
        frame["Δ %"] = (frame["Δ"] / base * 100).astype(np.float64)
    frame.attrs["scope"] = figs.scope
    return frame
