"""The public Python API: one way in for the dashboard, the reports, the CLI and notebooks.

>>> import prospects
>>> firm = prospects.open_firm("sqlite:///data/prospects.db", today="2026-11-29")
>>> me = firm.as_viewer("jdupont")            # refuses unknown / inactive logins
>>> figs = me.figures(unit="R-IDF")            # refuses units outside the perimeter
>>> figs.indicators["signed_budget"]["total"]  # integer cents
>>> me.drilldown("signed_budget", by="document", unit="R-IDF")

Every method scopes through :func:`prospects.scoping.scope_mask` before computing.

Rows come from the firm's figure store (:mod:`prospects.store`), memory-mapped and
shared by every process: opening a firm costs milliseconds whatever its size, and a
viewer holds positions and masks, not a copy of the rows.

The :class:`View` is the boundary, for the dashboard, the reports, the command line and
notebooks alike: every public method and attribute of a view hands out only what its
viewer may see (ACCESS.md), and leads to nothing wider (no firm, store, dataset or
database: those stay behind leading underscores, for the package's own modules). The
:class:`Firm` is not scoped: whoever holds the database URL is trusted with the whole
database, and ``firm.engine`` is the deliberately unscoped way in (plain SQLAlchemy,
outside any scoping) — give people the dashboard or a view, not the URL.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from . import db, drilldown, figures, store
from .config import Settings, load_settings, parse_date
from .dataset import Dataset, day_number, for_viewer
from .fiscal import Period, period_for
from .scoping import (
    AccessDenied,
    Directory,
    Filters,
    Viewer,
    check_filters,
    filter_options,
    resolve_viewer,
    scope_mask,
    visible_mask,
)

log = logging.getLogger(__name__)

@dataclass(eq=False)
class Firm:
    """An opened database: its figure store (directory and rows) and settings.

    Get one with :func:`open_firm`; become a viewer with :meth:`as_viewer`. The firm
    follows the database: when a load commits a new version, the next call of any view
    reads that version's store (directory, perimeters and rows together, never a mix).

    A firm is not scoped: it is whoever holds the database URL. ``engine`` is the
    deliberately unscoped way in (the whole database, outside ACCESS.md), ``directory``
    and ``units`` are the whole organisation, and :meth:`as_viewer` becomes any active
    login. Hand people a :class:`View`, never the firm.
    """

    engine: Engine  # deliberately unscoped: the whole database
    settings: Settings = field(repr=False)
    _open: store.Snapshot = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _unreachable: bool = field(default=False, repr=False)

    def _snapshot(self) -> store.Snapshot:
        """The version of the figure store that matches the database now.

        The database's version stamp decides (one small query, about 0.2 ms on SQLite):
        after a load, import or demo, the new version's store is opened — or waited for
        while the loading process publishes it, or built if it never was. A store of
        another version is never read.
        """
        try:
            stamp = db.read_version(self.engine)
        except db.DatabaseError as exc:
            # out of reach: the version already open is a whole extract; say so once per outage
            if not self._unreachable:
                self._unreachable = True
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                log.warning("cannot read the database's version (%s); the figures stay those of version %s",
                            reason, self._open.stamp)
            return self._open
        self._unreachable = False
        if stamp == self._open.stamp:
            return self._open
        with self._lock:
            if stamp != self._open.stamp:
                self._open = store.open_snapshot(self.settings, self.engine)
            return self._open

    @property
    def directory(self) -> Directory:
        """The organisation, people and groups of the current version."""
        return self._snapshot().directory

    def as_viewer(self, login: str, *, within: str | None = None) -> View:
        """Become a viewer.

        Parameters
        ----------
        login : str
            A ``collaborators.login``.
        within : str, optional
            Work only on the deals under this org unit (which must be in the perimeter):
            a report of one unit needs no more; every request must then filter on a unit
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
        view = View(self, login, within=within)
        view._current()  # refusals now, not at the first figure
        return view

    @property
    def extract_info(self) -> dict[str, str]:
        """When and from where the data was loaded (``loaded_at``, ``source``, ``version``)."""
        return dict(self._snapshot().meta.get("source", {}))

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
    """Open a database: map its figure store (built first when missing or stale).

    The database is asked only for its version stamp; everything else is read from the
    store (:mod:`prospects.store`), which the database's last load wrote.

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
    return Firm(engine, settings, store.open_snapshot(settings, engine))


@dataclass(frozen=True, eq=False)
class _ViewState:
    """A viewer and their rows, both from one version of the store (internal: the rows
    cover the viewer's range of the store, more than they may see)."""

    snapshot: store.Snapshot
    viewer: Viewer
    dataset: Dataset


class View:
    """What one viewer sees: figures, drill-downs and scoped frames.

    Every public method and attribute hands out only what this viewer may see
    (ACCESS.md): each scopes through :func:`prospects.scoping.scope_mask` before
    computing, and refuses (``AccessDenied``) a ``unit`` or ``collaborator`` filter
    outside the viewer's perimeter or without the right to filter. Without filters the
    view is "Mes affaires": the deals on the viewer's team. The view is the boundary:
    it leads to no firm, store, dataset or database (those are internal, behind a
    leading underscore).

    The rows are positions into the firm's figure store, built once per version of it:
    changing filters, fiscal year or as-of date reads no row of the database (only its
    version stamp, to follow a new load).
    """

    def __init__(self, firm: Firm, login: str, *, within: str | None = None) -> None:
        self._firm = firm
        self._login = login
        self._within = within
        self._state: _ViewState | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        within = f", within={self._within!r}" if self._within is not None else ""
        return f"View(login={self._login!r}{within})"

    @property
    def login(self) -> str:
        """The viewer's ``collaborators.login``."""
        return self._login

    @property
    def within(self) -> str | None:
        """The org unit this view is limited to (``as_viewer(..., within=...)``), else None."""
        return self._within

    @property
    def viewer(self) -> Viewer:
        """The signed-in collaborator and their perimeter."""
        return self._current().viewer

    # -- internal: the store's rows behind the scoped methods ----------------------------
    def _current(self) -> _ViewState:
        """The viewer and rows of the store's current version (re-resolved after a new load).

        Internal: the dataset covers the viewer's range of the store, confidential deals
        of groups they are not in included; only scoped masks may select from it.
        """
        snap = self._firm._snapshot()
        state = self._state
        if state is not None and state.snapshot is snap:
            return state
        with self._lock:
            if self._state is not None and self._state.snapshot is snap:
                return self._state
            directory = snap.directory
            viewer = resolve_viewer(directory, self._login, self._firm.settings.function_caps)
            if self._within is not None:
                if self._within not in directory.units.index:
                    raise AccessDenied(f"Accès refusé : l'unité « {self._within} » est hors de votre périmètre")
                check_filters(viewer, directory, Filters(unit=self._within))
            self._state = _ViewState(snap, viewer, for_viewer(snap, viewer, within=self._within))
            return self._state

    def _rows(self) -> Dataset:
        """Internal: the viewer's dataset (every date; more deals than they may see, see :meth:`_mask`)."""
        return self._current().dataset

    def _mask(self, ds: Dataset | None = None, unit: str | None = None, collaborator: str | None = None) -> np.ndarray:
        """Internal: the scoped deal mask over the dataset's deals (refuses filters outside the perimeter)."""
        state = self._current()
        ds = state.dataset if ds is None else ds
        directory = state.snapshot.directory
        if self._within is not None and (unit is None or unit not in directory.units.index
                                         or unit not in directory.subtree(self._within)):
            raise ValueError(f"this view reads only the deals under {self._within}: filter on a unit of that subtree")
        return scope_mask(state.viewer, directory, ds, Filters(unit, collaborator))

    def _resolve(self, period: Period | None, fiscal_year: int | None, as_of) -> Period:
        return period if period is not None else self.period(fiscal_year, as_of=as_of)

    # -- periods -------------------------------------------------------------------------
    def period(self, fiscal_year: int | None = None, *, previous: bool = False, as_of: str | dt.date | None = None) -> Period:
        """The period of a fiscal year (default: the current one) up to its as-of date.

        Examples
        --------
        >>> me.period()                      # FY containing today, as of today
        >>> me.period(2025)                  # a past FY, as of its last day
        >>> me.period(as_of="2026-06-30")
        """
        s = self._firm.settings
        return period_for(
            s.today,
            start_month=s.fiscal_year_start_month,
            fiscal_year=fiscal_year,
            previous=previous,
            as_of=parse_date(as_of, "as-of") if as_of is not None else None,
        )

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
        ds = self._rows()
        return figures.compute(ds, self._mask(ds, unit, collaborator), p)

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
        frame = self._drill_rows(indicator, by=by, month=month, bucket=bucket, unit=unit, collaborator=collaborator,
                                fiscal_year=fiscal_year, as_of=as_of, period=period).frame()
        return self.with_lines(frame) if lines and by == "document" else frame

    def _drill_rows(
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
    ) -> drilldown.Rows:
        """Internal: the rows of :meth:`drilldown`, counted, summed and sortable before any text is read.

        What the dashboard pages through (``Rows`` leads to the viewer's whole dataset, so
        it stays behind the boundary). ``rows.totals()`` is the footer, ``rows.order(column, ascending)`` a sort, and
        ``rows.frame(order, limit)`` materialises names and titles for those rows only
        (what the dashboard shows a page of).
        """
        p = self._resolve(period, fiscal_year, as_of)
        ds = self._rows()
        sel = figures.selections(ds, self._mask(ds, unit, collaborator), p)
        return drilldown.rows_of(ds, sel, indicator, by, month=month, bucket=bucket)

    def with_lines(self, frame: pd.DataFrame) -> pd.DataFrame:
        """By-document drill-down rows with a ``lines`` column (mission, billing, amount_cents).

        Only documents the viewer may see have lines: any other ``document_id`` is refused
        (``AccessDenied``), whatever frame it comes from.
        """
        ids = pd.unique(frame["document_id"].to_numpy(dtype=object))
        state = self._current()
        ds = state.dataset
        found = store.find_text(state.snapshot.documents, "id", [str(i) for i in ids])
        pos = ds.doc_positions(found)
        pos = pos[visible_mask(state.viewer, state.snapshot.directory, ds)[ds.doc_deal[pos]]]
        if len(pos) < len(ids):
            raise AccessDenied(f"Accès refusé : {len(ids) - len(pos)} document(s) hors de votre périmètre")
        return drilldown.attach_lines(frame, ds.lines(np.sort(pos)))

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
        ds = self._rows()
        mask = self._mask(ds, unit, collaborator)
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
        state = self._current()
        return filter_options(state.viewer, state.snapshot.directory)

    # -- scoped frames for exploration -----------------------------------------------
    def deals(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The scoped prospect deals created by the period's as-of date, with readable names.

        Columns: the deal's own (id, name, kind, prospect_name, unit_id, partner_id, …,
        status, created_on, abandoned_on, abandon_reason), ``converted_on`` and
        ``region``, ``agency``, ``team``, ``partner``, ``manager``, ``client_manager`` names.
        """
        p = period or self.period()
        ds = self._rows()
        pos = np.flatnonzero(self._mask(ds, unit, collaborator) & (ds.deal_created <= day_number(p.as_of)))
        snap = ds.snapshot
        rows = ds.deal_rows(pos)
        ids = lambda table, codes: _ids(ds.directory, table, codes)  # noqa: E731
        abandoned = ds.deal_abandoned[pos]
        out = pd.DataFrame({
            "id": pd.Series(ds.deal_text("id", pos), dtype=object),
            "name": pd.Series(ds.deal_text("name", pos), dtype=object),
            "kind": pd.Series(np.full(len(pos), "prospect", dtype=object), dtype=object),
            "prospect_name": pd.Series(ds.deal_text("prospect_name", pos), dtype=object),
            "unit_id": pd.Series(ds.unit_ids(pos), dtype=object),
            "partner_id": ids("collaborators", ds.deal_partner[pos]),
            "manager_id": ids("collaborators", ds.deal_manager[pos]),
            "client_manager_id": ids("collaborators", ds.deal_client_manager[pos]),
            "group_id": ids("groups", ds.deal_group[pos]),
            "status": pd.Series(np.where(snap.col("deals", "status")[rows] == 1, "abandoned", "open"), dtype=object),
            "created_on": store.dates_of(ds.deal_created[pos]),
            "abandoned_on": store.dates_of(abandoned),
            "abandon_reason": pd.Series(ds.deal_text("abandon_reason", pos), dtype=object),
            "converted_on": store.dates_of(ds.deal_converted[pos]),
        })
        names = ds.display(pos)
        return out.assign(**{c: names[c].to_numpy() for c in ("region", "agency", "team", "partner", "manager", "client_manager")})

    def documents(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The scoped documents created by the period's as-of date, with fees in cents and their prospect.

        Columns: the document's own (id, deal_id, doc_type, template, title, status,
        created_on, sent_on, decided_on, signatory_id, entity_id), ``recurring``,
        ``one_off``, ``total`` and ``prospect``. ``status`` and ``decided_on`` are those
        of the extract (not as of a date).
        """
        p = period or self.period()
        ds = self._rows()
        m = self._mask(ds, unit, collaborator)[ds.doc_deal] & (ds.doc_created <= day_number(p.as_of))
        pos = np.flatnonzero(m)
        rec, one = ds.doc_recurring[pos].astype(np.int64), ds.doc_one_off[pos].astype(np.int64)
        return pd.DataFrame({
            "id": pd.Series(ds.doc_text("id", pos), dtype=object),
            "deal_id": pd.Series(ds.deal_text("id", ds.doc_deal[pos]), dtype=object),
            "doc_type": pd.Series(ds.doc_text("doc_type", pos), dtype=object),
            "template": pd.Series(ds.doc_text("template", pos), dtype=object),
            "title": pd.Series(ds.doc_text("title", pos), dtype=object),
            "status": pd.Series(ds.doc_status_names(pos), dtype=object),
            "created_on": ds.doc_dates("created_on", pos),
            "sent_on": ds.doc_dates("sent_on", pos),
            "decided_on": ds.doc_dates("decided_on", pos),
            "signatory_id": _ids(ds.directory, "collaborators", ds.doc_signatory[pos]),
            "entity_id": _ids(ds.directory, "entities", ds.doc_entity[pos]),
            "recurring": rec,
            "one_off": one,
            "total": rec + one,
            "prospect": pd.Series(ds.deal_text("prospect_name", ds.doc_deal[pos]), dtype=object),
        })

    def lines(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The lines (document_id, line_no, mission, billing, amount_cents) of the scoped documents."""
        p = period or self.period()
        ds = self._rows()
        m = self._mask(ds, unit, collaborator)[ds.doc_deal] & (ds.doc_created <= day_number(p.as_of))
        return ds.lines(np.flatnonzero(m))


def _ids(directory: Directory, table: str, codes: np.ndarray) -> pd.Series:
    """Directory ids of store codes (None for -1)."""
    index = getattr(directory, table).index.to_numpy(dtype=object)
    codes = np.asarray(codes, dtype=np.int64)
    out = np.empty(len(codes), dtype=object)
    ok = codes >= 0
    out[ok] = index[codes[ok]]
    return pd.Series(out, dtype=object)
