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
    filter_options,
    resolve_viewer,
    scope_mask,
)


@dataclass(eq=False)
class Firm:
    """An opened database with its directory (organisation, people, groups)."""

    engine: Engine
    settings: Settings
    directory: Directory

    def as_viewer(self, login: str) -> View:
        """Become a viewer: refuses (``AccessDenied``) an unknown or inactive login."""
        viewer = resolve_viewer(self.directory, login, self.settings.function_caps)
        return View(self, viewer)

    @property
    def extract_info(self) -> dict[str, str]:
        """When and from where the data was loaded."""
        return db.read_extract_info(self.engine)


def open_firm(
    url: str | None = None,
    *,
    today: str | dt.date | None = None,
    config: str | Path | None = None,
    settings: Settings | None = None,
) -> Firm:
    """Open a database (default: settings' database) and read its directory."""
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
    """What one viewer sees. Datasets are loaded once per period range and cached."""

    firm: Firm
    viewer: Viewer
    _cache: dict[tuple[dt.date, dt.date], Dataset] = field(default_factory=dict, repr=False)

    # -- periods and rows ------------------------------------------------------------
    def period(self, fiscal_year: int | None = None, *, previous: bool = False, as_of: str | dt.date | None = None) -> Period:
        """The period of a fiscal year (default: the current one) up to its as-of date."""
        s = self.firm.settings
        return period_for(
            s.today,
            start_month=s.fiscal_year_start_month,
            fiscal_year=fiscal_year,
            previous=previous,
            as_of=parse_date(as_of, "as-of") if as_of is not None else None,
        )

    def dataset(self, period: Period) -> Dataset:
        """The viewer's rows covering ``period`` and its N-1 (cached; one query per new range)."""
        for ds in self._cache.values():
            if ds.covers(period):
                return ds
        ds = load_dataset(self.firm.engine, self.viewer, self.firm.directory, period)
        self._cache[(ds.first_day, ds.last_day)] = ds
        return ds

    def mask(self, ds: Dataset, unit: str | None = None, collaborator: str | None = None) -> np.ndarray:
        """The scoped deal mask (refuses filters outside the perimeter)."""
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
        """Every figure of METRICS.md, with N-1 at the same date."""
        p = self._resolve(period, fiscal_year, as_of)
        ds = self.dataset(p)
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
        """The rows behind a cell (or a month's bar, or an ageing bucket); amounts in cents."""
        p = self._resolve(period, fiscal_year, as_of)
        ds = self.dataset(p)
        sel = figures.selections(ds, self.mask(ds, unit, collaborator), p)
        frame = drilldown.rows(ds, sel, indicator, by, month=month, bucket=bucket)
        if lines and by == "document":
            frame = drilldown.attach_lines(frame, db.read_lines(self.firm.engine, frame["document_id"].tolist()))
        return frame

    def filter_options(self) -> dict[str, pd.DataFrame]:
        """What the Organisation and Collaborateurs filters may offer."""
        return filter_options(self.viewer, self.firm.directory)

    # -- scoped frames for exploration -----------------------------------------------
    def deals(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The scoped prospect deals, with readable organisation and people names."""
        p = period or self.period()
        ds = self.dataset(p)
        d = ds.deals[self.mask(ds, unit, collaborator)]
        units, people = self.firm.directory.units["name"], self.firm.directory.collaborators["full_name"]
        return d.assign(
            region=d["region_id"].map(units),
            agency=d["agency_id"].map(units),
            team=d["team_id"].map(units),
            partner=d["partner_id"].map(people),
            manager=d["manager_id"].map(people),
            client_manager=d["client_manager_id"].map(people),
        ).reset_index(drop=True)

    def documents(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The scoped documents with fees (cents) and their deal's prospect name."""
        p = period or self.period()
        ds = self.dataset(p)
        m = self.mask(ds, unit, collaborator)[ds.doc_deal]
        docs = ds.documents[m]
        return docs.assign(
            total=docs["recurring"] + docs["one_off"],
            prospect=ds.deals["prospect_name"].to_numpy()[docs["deal_pos"].to_numpy()],
        ).drop(columns="deal_pos").reset_index(drop=True)

    def lines(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The lines of the scoped documents."""
        docs = self.documents(unit=unit, collaborator=collaborator, period=period)
        return db.read_lines(self.firm.engine, docs["id"].tolist())

