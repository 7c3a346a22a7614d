"""The public Python API: one way in for the dashboard, the reports, the CLI and notebooks.

>>> import prospects
>>> firm = prospects.open_firm("sqlite:///data/prospects.db", today="2026-11-29")
>>> me = firm.as_viewer("jdupont")            # refuses unknown / inactive logins
>>> figs = me.figures(unit="R-IDF")            # refuses units outside the perimeter
>>> figs.indicators["signed_budget"]["total"]  # integer cents
>>> me.drilldown("signed_budget", by="document", unit="R-IDF")

Every method scopes through :func:`prospects.scoping.scope_mask` before computing.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from . import db, drilldown, figures
from .config import Settings, load_settings, parse_date
from .dataset import Dataset, load_dataset
from .fiscal import Period, period_for
from .scoping import (
    Directory,
    Filters,
    Viewer,
    build_directory,
    check_filters,
    filter_options,
    resolve_viewer,
    scope_mask,
)


@dataclass(eq=False)
class Firm:
    """An opened database with its directory (organisation, people, groups).

    Get one with :func:`open_firm`; become a viewer with :meth:`as_viewer`.
    """

    engine: Engine
    settings: Settings
    directory: Directory

    def as_viewer(self, login: str, *, within: str | None = None) -> View:
        """Become a viewer.

        Parameters
        ----------
        login : str
            A ``collaborators.login``.
        within : str, optional
            Read only the deals under this org unit (which must be in the perimeter):
            faster for a report of one unit; every request must then filter on a unit
            of that subtree.

        Returns
        -------
        View
            What that collaborator may see (ACCESS.md).

        Raises
        ------
        AccessDenied
            For an unknown or inactive login.

        Examples
        --------
        >>> me = firm.as_viewer("mbrun")
        >>> me.viewer.perimeter            # org units the filters may use
        """
        viewer = resolve_viewer(self.directory, login, self.settings.function_caps)
        if within is not None:
            check_filters(viewer, self.directory, Filters(unit=within))
        return View(self, viewer, within=within)

    @property
    def extract_info(self) -> dict[str, str]:
        """When and from where the data was loaded (``loaded_at``, ``source``)."""
        return db.read_extract_info(self.engine)

    @property
    def units(self) -> pd.DataFrame:
        """The organisation: id, name, kind, parent and the region/agency/team above each unit."""
        return self.directory.units.reset_index(drop=True)


def open_firm(
    url: str | None = None,
    *,
    today: str | dt.date | None = None,
    config: str | Path | None = None,
    settings: Settings | None = None,
) -> Firm:
    """Open a database and read its directory.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL; default from the settings (``PROSPECTS_DB``, ``prospects.toml``,
        else ``sqlite:///data/prospects.db`` in the project folder).
    today : str or date, optional
        The date taken as today (``YYYY-MM-DD``); default ``PROSPECTS_TODAY`` or the system date.
    config : path, optional
        A ``prospects.toml`` to read instead of the project's.
    settings : Settings, optional
        Ready-made settings (``url`` and ``today`` still override them).

    Examples
    --------
    >>> firm = open_firm("sqlite:///data/prospects.db", today="2026-11-29")
    """
    if settings is None:
        settings = load_settings(db=url, today=today, config=config)
    else:
        if url is not None:
            settings = settings.with_(db_url=url)
        if today is not None:
            settings = settings.with_(today=parse_date(today, "today"))
    engine = db.make_engine(settings.db_url)
    directory = build_directory(db.read_directory(engine))
    return Firm(engine, settings, directory)


@dataclass(eq=False)
class View:
    """What one viewer sees: figures, drill-downs and scoped frames.

    Every method scopes through :func:`prospects.scoping.scope_mask` before computing,
    and refuses (``AccessDenied``) a ``unit`` or ``collaborator`` filter outside the
    viewer's perimeter or without the right to filter. Without filters the view is
    "Mes affaires": the deals on the viewer's team. Rows are read once per fiscal-year
    range and cached, so changing filters never queries the database again.
    """

    firm: Firm
    viewer: Viewer
    within: str | None = None
    # datasets by (first day, last day, only "Mes affaires"); loads under way in the background
    _cache: dict[tuple[dt.date, dt.date, bool], Dataset] = field(default_factory=dict, repr=False)
    _pending: dict[tuple[dt.date, dt.date, bool], Future] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- periods and rows ------------------------------------------------------------
    def period(self, fiscal_year: int | None = None, *, previous: bool = False, as_of: str | dt.date | None = None) -> Period:
        """The period of a fiscal year (default: the current one) up to its as-of date.

        Examples
        --------
        >>> me.period()                      # FY containing today, as of today
        >>> me.period(2025)                  # a past FY, as of its last day
        >>> me.period(as_of="2026-06-30")
        """
        s = self.firm.settings
        return period_for(
            s.today,
            start_month=s.fiscal_year_start_month,
            fiscal_year=fiscal_year,
            previous=previous,
            as_of=parse_date(as_of, "as-of") if as_of is not None else None,
        )

    def _key(self, period: Period, mine: bool) -> tuple[dt.date, dt.date, bool]:
        # a viewer without a perimeter sees only their own deals: one dataset serves both
        only_mine = mine and bool(self.viewer.perimeter) and self.within is None
        return (period.previous().start, period.as_of, only_mine)

    @staticmethod
    def _serves(key: tuple[dt.date, dt.date, bool], period: Period, mine: bool) -> bool:
        first, last, only_mine = key
        return first <= period.previous().start and period.as_of <= last and (mine or not only_mine)

    def _load(self, key: tuple[dt.date, dt.date, bool], period: Period) -> Dataset:
        ds = load_dataset(self.firm.engine, self.viewer, self.firm.directory, period, within=self.within, mine_only=key[2])
        with self._lock:
            self._cache[key] = ds
            self._pending.pop(key, None)
        return ds

    def dataset(self, period: Period, *, mine: bool = False) -> Dataset:
        """The viewer's rows covering ``period`` and its N-1 (cached; one query per new range).

        ``mine``: only "Mes affaires" is asked for, so a validator's perimeter need not be
        read (yet). A load under way in the background (:meth:`prefetch`) is waited for.
        """
        with self._lock:
            for key, ds in self._cache.items():
                if self._serves(key, period, mine):
                    return ds
            pending = next((f for key, f in self._pending.items() if self._serves(key, period, mine)), None)
        if pending is not None:
            return pending.result()
        return self._load(self._key(period, mine), period)

    def prefetch(self, period: Period) -> Future | None:
        """Start reading the whole perimeter's rows in the background (None if already there).

        The dashboard shows "Mes affaires" first, then prefetches, so that the first
        filter change finds the rows already loaded.
        """
        key = self._key(period, mine=False)
        with self._lock:
            if any(self._serves(k, period, False) for k in (*self._cache, *self._pending)):
                return None
            future: Future = Future()
            self._pending[key] = future

        def run() -> None:
            try:
                future.set_result(self._load(key, period))
            except BaseException as exc:  # surfaced to whoever waits on the rows
                with self._lock:
                    self._pending.pop(key, None)
                future.set_exception(exc)

        threading.Thread(target=run, name=f"prefetch-{self.viewer.login}", daemon=True).start()
        return future

    def mask(self, ds: Dataset, unit: str | None = None, collaborator: str | None = None) -> np.ndarray:
        """The scoped deal mask over ``ds.deals`` (refuses filters outside the perimeter)."""
        if self.within is not None and (unit is None or unit not in self.firm.directory.subtree(self.within)):
            raise ValueError(f"this view reads only the deals under {self.within}: filter on a unit of that subtree")
        return scope_mask(self.viewer, self.firm.directory, ds.deals, Filters(unit, collaborator))

    def _resolve(self, period: Period | None, fiscal_year: int | None, as_of) -> Period:
        return period if period is not None else self.period(fiscal_year, as_of=as_of)

    # -- figures ---------------------------------------------------------------------
    def figures(
        self,
        *,
        unit: str | None = None,
        collaborator: str | None = None,
        fiscal_year: int | None = None,
        as_of: str | dt.date | None = None,
        period: Period | None = None,
    ) -> figures.Figures:
        """Every figure of METRICS.md, with N-1 at the same date.

        Parameters
        ----------
        unit : str, optional
            An org unit of the perimeter (its whole subtree).
        collaborator : str, optional
            A login of the perimeter: the deals where that person is on the team.
        fiscal_year, as_of, period
            Which period (default: the current fiscal year as of today).

        Returns
        -------
        Figures
            ``indicators`` (counts; fees as ``{"recurring", "one_off", "total"}`` in cents;
            ``win_rate``; ``median_days_to_sign``), ``monthly``, ``ageing``, ``previous``.

        Examples
        --------
        >>> figs = me.figures(unit="R-IDF")
        >>> figs.indicators["signed_budget"]["total"] / 100   # euros
        """
        p = self._resolve(period, fiscal_year, as_of)
        ds = self.dataset(p, mine=unit is None and collaborator is None)
        return figures.compute(ds, self.mask(ds, unit, collaborator), p)

    def drilldown(
        self,
        indicator: str,
        *,
        by: str = "deal",
        month: str | None = None,
        bucket: str | None = None,
        unit: str | None = None,
        collaborator: str | None = None,
        fiscal_year: int | None = None,
        as_of: str | dt.date | None = None,
        period: Period | None = None,
        lines: bool = False,
    ) -> pd.DataFrame:
        """The rows behind a cell, a month's bar or an ageing bucket; amounts in cents.

        Parameters
        ----------
        indicator : str
            A cell code (``signed_budget``, ``offers_in_progress``, …) or ``won_prospects``.
        by : {"deal", "document"}
            "Par affaire" or "Par document".
        month : str, optional
            ``YYYY-MM``: one bar of the chart (``won_prospects``, ``signed_offers``, ``signed_budget``).
        bucket : str, optional
            An ageing bucket of the offers in progress (``0-30``, ``31-90``, ``91-180``, ``>180``).
        lines : bool
            By document, add each document's lines (mission, billing, amount).

        Examples
        --------
        >>> me.drilldown("signed_budget", by="document", unit="R-IDF", month="2026-03")
        >>> me.drilldown("offers_in_progress", by="document", bucket=">180")
        """
        p = self._resolve(period, fiscal_year, as_of)
        ds = self.dataset(p, mine=unit is None and collaborator is None)
        sel = figures.selections(ds, self.mask(ds, unit, collaborator), p)
        frame = drilldown.rows(ds, sel, indicator, by, month=month, bucket=bucket)
        return self.with_lines(frame) if lines and by == "document" else frame

    def with_lines(self, frame: pd.DataFrame) -> pd.DataFrame:
        """By-document drill-down rows with a ``lines`` column (mission, billing, amount_cents)."""
        return drilldown.attach_lines(frame, db.read_lines(self.firm.engine, frame["document_id"].tolist()))

    def timeline(
        self,
        dates: pd.DatetimeIndex | list[dt.date] | None = None,
        *,
        freq: str = "W-FRI",
        unit: str | None = None,
        collaborator: str | None = None,
        fiscal_year: int | None = None,
    ) -> pd.DataFrame:
        """The indicator table at successive as-of dates of one fiscal year.

        Parameters
        ----------
        dates : list of dates, optional
            As-of dates; default every ``freq`` (weekly, Fridays) from the FY start to its as-of.
        freq : str
            A pandas frequency for the default dates.

        Returns
        -------
        DataFrame
            One row per date: counts and fees (cents) of the seven cells and converted prospects.

        Examples
        --------
        >>> me.timeline(unit="R-IDF")[["as_of", "potential_fees"]]
        """
        year = self.period(fiscal_year)
        if dates is None:
            dates = list(pd.date_range(year.start, year.as_of, freq=freq).date) or [year.as_of]
        ds = self.dataset(year, mine=unit is None and collaborator is None)
        mask = self.mask(ds, unit, collaborator)
        rows = []
        for day in dates:
            p = self.period(year.fiscal_year, as_of=pd.Timestamp(day).date())
            ind = figures.compute(ds, mask, p, with_previous=False).indicators
            rows.append(
                {
                    "as_of": p.as_of,
                    **{k: ind[k] for k in ("prospects_without_document", "offers_in_progress", "signed_offers",
                                           "refused_offers", "abandoned_prospects", "converted_prospects")},
                    "potential_fees": ind["potential_fees"]["total"],
                    "signed_budget": ind["signed_budget"]["total"],
                    "signed_recurring": ind["signed_budget"]["recurring"],
                    "signed_one_off": ind["signed_budget"]["one_off"],
                }
            )
        return pd.DataFrame(rows)

    def filter_options(self) -> dict[str, pd.DataFrame]:
        """What the Organisation and Collaborateurs filters may offer (empty without the right)."""
        return filter_options(self.viewer, self.firm.directory)

    # -- scoped frames for exploration -----------------------------------------------
    def deals(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The scoped prospect deals, with readable organisation and people names.

        Columns: the deal's own (id, name, prospect_name, status, created_on, …),
        ``converted_on`` and ``region``, ``agency``, ``team``, ``partner``, ``manager``,
        ``client_manager`` names.
        """
        p = period or self.period()
        ds = self.dataset(p, mine=unit is None and collaborator is None)
        mask = self.mask(ds, unit, collaborator)
        d = ds.deals[mask].astype({c: object for c in ("kind", "unit_id", "partner_id", "manager_id", "client_manager_id", "group_id")})
        names = ds.deal_display[mask]
        return d.assign(**{c: names[c].to_numpy() for c in ("region", "agency", "team", "partner", "manager", "client_manager")}).reset_index(drop=True)

    def documents(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The scoped documents with fees in cents (``recurring``, ``one_off``, ``total``) and their prospect."""
        p = period or self.period()
        ds = self.dataset(p, mine=unit is None and collaborator is None)
        m = self.mask(ds, unit, collaborator)[ds.doc_deal]
        docs = ds.documents[m]
        return docs.assign(
            total=docs["recurring"] + docs["one_off"],
            prospect=ds.deals["prospect_name"].to_numpy()[docs["deal_pos"].to_numpy()],
        ).drop(columns="deal_pos").reset_index(drop=True)

    def lines(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The lines (mission, billing, amount_cents) of the scoped documents."""
        docs = self.documents(unit=unit, collaborator=collaborator, period=period)
        return db.read_lines(self.firm.engine, docs["id"].tolist())
