"""The public Python API: one way in for the dashboard, the reports, the CLI and notebooks.

>>> import prospects
>>> firm = prospects.open_firm("sqlite:///data/prospects.db", today="2026-11-29")
>>> me = firm.as_viewer("jdupont")            # refuses unknown / inactive logins
>>> figs = me.figures(unit="R-IDF")            # refuses units outside the perimeter
>>> figs.indicators["signed_budget"]["total"]  # integer cents
>>> figs.to_frame(compare="N-1")               # metric × component, N, N-1, Δ, Δ %
>>> me.metrics(["win_rate.by_value", "median_days_to_sign"], by="region", unit="perimeter", compare="N-1")
>>> me.drilldown("signed_budget", by="document", unit="R-IDF")

Every method scopes through :func:`prospects.scoping.scope_mask` before computing.

Rows come from the firm's figure store (:mod:`prospects.store`), memory-mapped and
shared by every process: opening a firm costs milliseconds whatever its size, and a
viewer holds positions and masks, not a copy of the rows.

The :class:`View` is the boundary, for the dashboard, the reports, the command line and
notebooks alike: every public method and attribute of a view hands out only what its
viewer may see (docs/access.md), and leads to nothing wider (no firm, store, dataset or
database: those stay behind leading underscores, for the package's own modules). The
:class:`Firm` is not scoped: whoever holds the database URL is trusted with the whole
database, and ``firm.engine`` is the deliberately unscoped way in (plain SQLAlchemy,
outside any scoping) — give people the dashboard or a view, not the URL.

Where a method takes a ``unit``, three aliases name what a viewer means without knowing
ids: ``"perimeter"`` (the viewer's widest units: every deal of their perimeter they may
see), ``"firm"`` (the firm's root unit, for a viewer whose perimeter reaches it) and
``"mine"`` (the same as no unit: *Mes affaires*). Every result says what it covers
(``figures(...).scope``, ``frame.attrs["scope"]``: a :class:`Scope`). Errors are one
sentence in the session's language (``PROSPECTS_LOCALE``): :class:`ArgumentError` for a
parameter of the wrong type or value, ``AccessDenied`` for what the viewer may not see
(with close matches among what they may).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from . import analysis, db, drilldown, figures, i18n, store
from . import money as _money  # noqa: F401 - registers the frame.money accessor on the frames handed out
from .config import Settings, load_settings, parse_date
from .dataset import Dataset, day_number, for_viewer
from .fiscal import Period, PeriodError, period_for
from .freshness import Freshness, freshness
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
from .tables import scope_words

log = logging.getLogger(__name__)

#: What ``unit`` may name besides a unit id.
UNIT_ALIASES = ("perimeter", "firm", "mine")


class ArgumentError(TypeError, ValueError):
    """A parameter of the API with the wrong type or value: one sentence says which, and what
    it expects (a ``TypeError`` and a ``ValueError`` alike, for callers catching either)."""


class Notice(UserWarning):
    """Something to know about what a result covers, said once as a warning (not an error):
    an empty *Mes affaires* for someone with a perimeter, a demo's own date taken as today."""


@dataclass(frozen=True)
class Scope:
    """What a result covers: who asked, which units (or *Mes affaires*), what is left out.

    ``str(scope)`` says it in the viewer's language. ``confidential_excluded`` is the rule
    (deals of confidential groups the viewer is not a member of never count, however wide
    the perimeter), not a count of what is hidden: nothing here says how much there is.
    """

    login: str
    viewer: str
    function: str
    units: tuple[str, ...]  # unit ids of the filter; () for Mes affaires
    unit_names: tuple[str, ...]
    collaborator: str | None
    collaborator_name: str | None
    confidential_excluded: bool
    locale: str = "fr"
    currency: str = "EUR"  # the firm's (setting currency): what the amounts' cents are minor units of

    @property
    def mine(self) -> bool:
        """Whether this is *Mes affaires* (no unit, no collaborator)."""
        return not self.units and self.collaborator is None

    @property
    def label(self) -> str:
        """What is covered, as the dashboard's header says it: ``Île-de-France · Jean Dupont``, else "Mes affaires"."""
        return scope_words(self.unit_names, self.collaborator_name or self.collaborator, self.locale)

    def __str__(self) -> str:
        loc = self.locale
        who = f"{self.viewer} ({self.login}, {i18n.FUNCTION_LABELS[loc].get(self.function, self.function).lower()})"
        parts = []
        if self.units:
            parts.append(" + ".join(f"{n} ({u})" for u, n in zip(self.units, self.unit_names, strict=True)))
        if self.collaborator is not None:
            parts.append(i18n.sentence("api.scope_collaborator", loc, name=self.collaborator_name,
                                       login=self.collaborator))
        if not parts:
            parts.append(i18n.label("api.scope_mine", loc))
        text = f"{who} — {' · '.join(parts)}"
        if self.confidential_excluded:
            text += ("; " if loc == "en" else " ; ") + i18n.label("api.scope_excluded", loc)
        return text

    def __repr__(self) -> str:
        return f"<Scope {self}>"


@dataclass(eq=False)
class Firm:
    """An opened database: its figure store (directory and rows) and settings.

    Get one with :func:`open_firm`; become a viewer with :meth:`as_viewer`. The firm
    follows the database: when a load commits a new version, the next call of any view
    reads that version's store (directory, perimeters and rows together, never a mix).

    A firm is not scoped: it is whoever holds the database URL. ``engine`` is the
    deliberately unscoped way in (the whole database, outside docs/access.md), ``directory``
    and ``units`` are the whole organisation, and :meth:`as_viewer` becomes any active
    login. Hand people a :class:`View`, never the firm.
    """

    engine: Engine  # deliberately unscoped: the whole database
    settings: Settings = field(repr=False)
    _open: store.Snapshot = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _unreachable: bool = field(default=False, repr=False)
    #: Where ``today`` came from: "argument", "PROSPECTS_TODAY", "settings", "the demo's date" or "system date".
    today_from: str = "system date"

    def __repr__(self) -> str:
        snap = self._open
        d = snap.directory
        url = self.engine.url.render_as_string(hide_password=True)
        return (f"<Firm {d.firm_name or '?'} · {url} · {len(d.units)} units · {len(d.collaborators)} collaborators"
                f" · {snap.n_deals:,} deals · today {self.today.isoformat()} ({self.today_from})>")

    @property
    def today(self) -> dt.date:
        """The date taken as today (current fiscal year, default as-of date); see ``today_from``."""
        return self.settings.today

    def _snapshot(self) -> store.Snapshot:
        """The version of the figure store that matches the database now.

        The database's version stamp decides (one small query, about 0.2 ms on SQLite):
        after a load, import or demo, the new version's store is opened — or waited for
        while the loading process publishes it, or built if it never was (or damaged). A
        store of another version is never read: when the process writing it does not
        finish within ``store_wait_seconds`` (a load stopped by Ctrl-Z, a hung disk), this
        raises :class:`~prospects.store.StoreError` in one line naming that process, and
        asked again while the same process holds the store, says so without waiting. A
        version whose files changed on disk since it was opened is opened (checked) again.
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
        if stamp == self._open.stamp and self._open.unchanged():
            return self._open
        with self._lock:
            if stamp != self._open.stamp or not self._open.unchanged():
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
            What that collaborator may see (docs/access.md).

        Raises
        ------
        AccessDenied
            For an unknown or inactive login (in the settings' language).

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

    def freshness(self) -> Freshness:
        """How fresh the current extract is: its date, old past the setting ``stale_after_days``."""
        return freshness(self.extract_info, self.today, self.settings.stale_after_days)

    @property
    def units(self) -> pd.DataFrame:
        """The organisation: id, name, kind, parent and the region/agency/team above each unit."""
        return self.directory.units.reset_index(drop=True)


def demo_day(info: dict) -> dt.date | None:
    """The date a demo extract was built for (``demo_today``), or None for a firm's own data."""
    if not str(info.get("source", "")).startswith("demo") or not info.get("demo_today"):
        return None
    try:
        return dt.date.fromisoformat(str(info["demo_today"]))
    except ValueError:
        return None


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
        The date taken as today (``YYYY-MM-DD``). Default ``PROSPECTS_TODAY``; else, on a
        demo database (``prospects demo``), the date the demo was built for — said once
        (a :class:`Notice`), since a demo's figures are meant as of that day; else the
        system date. ``firm.today`` and ``firm.today_from`` tell which was used.
    config : path, optional
        A ``prospects.toml`` to read instead of the project's.
    settings : Settings, optional
        Ready-made settings (``url`` and ``today`` still override them; their own
        ``today`` is taken as chosen).

    Examples
    --------
    >>> firm = open_firm("sqlite:///data/prospects.db", today="2026-11-29")
    >>> firm.today, firm.today_from
    """
    if today is not None and not isinstance(today, str | dt.date):
        raise ArgumentError(_type_sentence("today", today, "date", _locale(settings)))
    if settings is None:
        settings = load_settings(db=url, today=today, config=config)
        source = "argument" if today is not None else "PROSPECTS_TODAY" if os.environ.get("PROSPECTS_TODAY") else "system date"
    else:
        source = "settings"
        if url is not None:
            settings = settings.with_(db_url=url)
        if today is not None:
            settings = settings.with_(today=parse_date(today, "today"))
            source = "argument"
    engine = db.make_engine(settings.db_url)
    snap = store.open_snapshot(settings, engine)
    if source == "system date":
        day = demo_day(dict(snap.meta.get("source", {})))
        if day is not None and day != settings.today:
            settings = settings.with_(today=day)
            source = "the demo's date"
            _notice(i18n.sentence("api.demo_today", settings.locale, day=day.isoformat()))
    return Firm(engine, settings, snap, today_from=source)


@dataclass(frozen=True, eq=False)
class _ViewState:
    """A viewer and their rows, both from one version of the store (internal: the rows
    cover the viewer's range of the store, more than they may see)."""

    snapshot: store.Snapshot
    viewer: Viewer
    dataset: Dataset


def _one_version(method):
    """A view's method that reads one version of the store from start to end (see ``View._current``);
    the errors of the catalog leaving it are said in the session's language (:class:`prospects.i18n.Said`)."""

    @functools.wraps(method)
    def pinned(self, *args, **kwargs):
        if getattr(self._pin, "state", None) is not None:  # already inside a public call
            return method(self, *args, **kwargs)
        try:
            self._pin.state = self._current()
            return method(self, *args, **kwargs)
        except i18n.Said as exc:  # an error of a pure function (a period, a cell): said in the session's language
            exc.in_locale(self._locale)
            raise
        finally:
            self._pin.state = None

    return pinned


class View:
    """What one viewer sees: figures, metrics tables, drill-downs and scoped frames.

    Every public method and attribute hands out only what this viewer may see
    (docs/access.md): each scopes through :func:`prospects.scoping.scope_mask` before
    computing, and refuses (``AccessDenied``) a ``unit`` or ``collaborator`` filter
    outside the viewer's perimeter or without the right to filter. Without filters the
    view is "Mes affaires": the deals on the viewer's team (``unit="perimeter"`` is the
    whole perimeter). The view is the boundary: it leads to no firm, store, dataset or
    database (those are internal, behind a leading underscore).

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
        self._pin = threading.local()

    def __repr__(self) -> str:
        try:
            v = self.viewer
            top = self._widest()
        except (AccessDenied, ValueError) as exc:
            return f"<View {i18n.shown(self._login)} · {exc}>"
        reach = (f"{' + '.join(top[:3])}{' …' if len(top) > 3 else ''} · {len(v.perimeter)} units"
                 if v.perimeter else "own deals")
        within = f" · within {self._within}" if self._within is not None else ""
        return f"<View {v.login} · {v.function} · {reach}{within} · as of {self._firm.today.isoformat()}>"

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
    @property
    def _locale(self) -> str:
        return self._firm.settings.locale

    def _say(self, key: str, **values: object) -> str:
        return i18n.sentence(key, self._locale, **values)

    def _denied(self, key: str, **values: object) -> AccessDenied:
        """A refusal of the catalog, said in the session's language."""
        return AccessDenied(key, **values).in_locale(self._locale)

    def _current(self) -> _ViewState:
        """The viewer and rows of the store's current version (re-resolved after a new load).

        Internal: the dataset covers the viewer's range of the store, confidential deals
        of groups they are not in included; only scoped masks may select from it. Within a
        public call (:func:`_one_version`) it is the state that call started with: one call
        never mixes two versions of the store, and asks the database for its version once.
        """
        pinned = getattr(self._pin, "state", None)
        if pinned is not None:
            return pinned
        snap = self._firm._snapshot()
        state = self._state
        if state is not None and state.snapshot is snap:
            return state
        with self._lock:
            if self._state is not None and self._state.snapshot is snap:
                return self._state
            directory = snap.directory
            viewer = self._resolve_viewer(directory)
            if self._within is not None:
                self._check_unit(viewer, directory, self._within)
            self._state = _ViewState(snap, viewer, for_viewer(snap, viewer, within=self._within))
            return self._state

    def _resolve_viewer(self, directory: Directory) -> Viewer:
        """The viewer of the login, refused in the session's language (never a suggestion:
        the login comes from whoever signed in)."""
        try:
            return resolve_viewer(directory, self._login, self._firm.settings.function_caps)
        except AccessDenied as exc:
            raise exc.in_locale(self._locale) from None

    def _rows(self) -> Dataset:
        """Internal: the viewer's dataset (every date; more deals than they may see, see :meth:`_mask`)."""
        return self._current().dataset

    def _mask(self, ds: Dataset | None = None, unit: str | None = None, collaborator: str | None = None) -> np.ndarray:
        """Internal: the scoped deal mask over the dataset's deals of one unit id (or none) and
        collaborator (refused outside the perimeter, in the session's language)."""
        state = self._current()
        ds = state.dataset if ds is None else ds
        directory = state.snapshot.directory
        if self._within is not None and (unit is None or unit not in directory.units.index
                                         or unit not in directory.subtree(self._within)):
            raise ValueError(self._say("api.within", unit=self._within))
        if unit is not None:
            self._check_unit(state.viewer, directory, unit)
        if collaborator is not None:
            self._check_collaborator(state.viewer, directory, collaborator)
        return scope_mask(state.viewer, directory, ds, Filters(unit, collaborator))

    def _resolve(self, period: Period | None, fiscal_year: int | None, as_of) -> Period:
        if period is not None:
            if not isinstance(period, Period):
                raise ArgumentError(self._type("period", period, "period"))
            return period
        return self.period(fiscal_year, as_of=as_of)

    # -- scope: aliases, checks, what a result covers ---------------------------------------
    def _widest(self) -> list[str]:
        """The viewer's widest units: those of the perimeter whose parent is not in it, in org order."""
        state = self._current()
        units = state.snapshot.directory.units
        perimeter = state.viewer.perimeter
        inside = units[units.index.isin(perimeter)]
        return [u for u, parent in zip(inside.index, inside["parent_id"], strict=True) if parent not in perimeter]

    def _units(self, unit) -> list[str] | None:
        """The unit ids a ``unit`` argument names (None: Mes affaires), checked."""
        if unit is None or unit == "mine":
            return None
        if not isinstance(unit, str):
            raise ArgumentError(self._type("unit", unit, "text", example='"perimeter"'))
        state = self._current()
        viewer, directory = state.viewer, state.snapshot.directory
        if unit == "perimeter":
            if not viewer.can_validate_offers:
                raise self._denied("api.no_filters")
            top = self._widest()
            if not top:
                raise self._denied("api.no_perimeter", unit=unit)
            if self._within is not None:  # a view within a unit: its subtree is the perimeter it reads
                return [self._within]
            return top
        if unit == "firm":
            roots = directory.units.index[directory.units["kind"] == "firm"]
            if len(roots) and roots[0] in viewer.perimeter:
                return [str(roots[0])]
            if viewer.can_validate_offers and viewer.perimeter:  # narrower than the firm: the alias that fits
                raise AccessDenied.already_said(self._say("api.unit_outside", unit=unit)
                                                + self._say("api.did_you_mean", options='"perimeter"'))
        self._check_unit(viewer, directory, unit)
        return [unit]

    def _check_unit(self, viewer: Viewer, directory: Directory, unit) -> None:
        """Refuse a unit the viewer may not filter on (:func:`scoping.check_filters`, the one
        rule), suggesting close matches among theirs (the same sentence whether the unit
        exists or not: a hidden unit is never revealed)."""
        if not isinstance(unit, str):
            raise ArgumentError(self._type("unit", unit, "text", example='"perimeter"'))

        def choices() -> dict[str, str]:
            units = directory.units[directory.units.index.isin(viewer.perimeter)]
            out = {u: f"{u} ({n})" for u, n in zip(units.index, units["name"], strict=True)}
            out.update({n: f"{u} ({n})" for u, n in zip(units.index, units["name"], strict=True)})
            if viewer.perimeter:
                out["perimeter"] = "perimeter"
                if "firm" in set(units["kind"]):
                    out["firm"] = "firm"
            return out

        self._checked(viewer, directory, Filters(unit=unit), unit, choices)

    def _check_collaborator(self, viewer: Viewer, directory: Directory, login) -> None:
        """Refuse a collaborator outside the perimeter (:func:`scoping.check_filters`), with close matches."""
        if not isinstance(login, str):
            raise ArgumentError(self._type("collaborator", login, "text", example='"jdupont"'))

        def choices() -> dict[str, str]:
            people = filter_options(viewer, directory)["collaborators"]
            out = {x: f"{x} ({n})" for x, n in zip(people["login"], people["full_name"], strict=True)}
            out.update({n: f"{x} ({n})" for x, n in zip(people["login"], people["full_name"], strict=True)})
            return out

        self._checked(viewer, directory, Filters(collaborator=login), login, choices)

    def _checked(self, viewer: Viewer, directory: Directory, filters: Filters, typed: str,
                 choices: Callable[[], dict[str, str]]) -> None:
        """:func:`scoping.check_filters`, its refusal said in the session's language; outside
        the perimeter, with close matches among what the viewer may choose."""
        try:
            check_filters(viewer, directory, filters)
        except AccessDenied as exc:
            if not viewer.can_validate_offers:  # no filter at all: nothing to suggest
                raise exc.in_locale(self._locale) from None
            raise AccessDenied.already_said(exc.say(self._locale) + self._suggest(typed, choices())) from None

    def _suggest(self, typed: str, choices: dict[str, str]) -> str:
        """" ; vouliez-vous dire …" with up to three close matches (case and accents ignored), or nothing."""
        folded = {drilldown.fold(k): v for k, v in choices.items()}
        close = difflib.get_close_matches(drilldown.fold(typed), list(folded), n=5, cutoff=0.5)
        shown = list(dict.fromkeys(folded[c] for c in close))[:3]
        if not shown:
            return ""
        return self._say("api.did_you_mean", options=", ".join(shown))

    def _scope(self, units: list[str] | None, collaborator: str | None) -> Scope:
        state = self._current()
        v, directory = state.viewer, state.snapshot.directory
        names = tuple(str(directory.units.at[u, "name"]) for u in units or ())
        cname = None
        if collaborator is not None:
            cid = directory.login_to_id(collaborator)
            cname = str(directory.collaborators.at[cid, "full_name"]) if cid else None
        mine = not units and collaborator is None
        return Scope(v.login, v.full_name, v.function, tuple(units or ()), names, collaborator, cname,
                     confidential_excluded=not mine, locale=self._locale, currency=self._firm.settings.currency)

    def _scoped(self, ds: Dataset, units: list[str] | None, collaborator: str | None) -> np.ndarray:
        """The deal mask of some units (their union; None: Mes affaires) and collaborator.

        *Mes affaires* of a viewer with a perimeter that holds no deal is said (a
        :class:`Notice` naming ``unit="perimeter"``): zeros there mean "look wider", not "nothing".
        """
        if units is None:
            mask = self._mask(ds, None, collaborator)
            if collaborator is None and self._within is None and not mask.any():
                self._warn_empty_mine()
            return mask
        mask = self._mask(ds, units[0], collaborator)
        for u in units[1:]:
            mask |= self._mask(ds, u, collaborator)
        return mask

    def _warn_empty_mine(self) -> None:
        state = self._current()
        v = state.viewer
        if not (v.can_validate_offers and v.perimeter):
            return
        units = state.snapshot.directory.units
        roots = units.index[units["kind"] == "firm"]
        firm = self._say("api.empty_mine_firm") if len(roots) and roots[0] in v.perimeter else ""
        _notice(self._say("api.empty_mine", login=v.login, firm=firm))

    # -- checked arguments -----------------------------------------------------------------
    def _type(self, name: str, value: object, expected: str, example: str = "") -> str:
        return _type_sentence(name, value, expected, self._locale, example)

    def _year(self, name: str, value) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ArgumentError(self._type(name, value, "int"))
        return int(value)

    def _day(self, name: str, value) -> dt.date | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime | pd.Timestamp):
            return value.date()
        if not isinstance(value, str | dt.date):
            raise ArgumentError(self._type(name, value, "date"))
        try:
            return parse_date(value, name)
        except ValueError:
            raise ArgumentError(self._type(name, value, "date")) from None

    # -- periods -------------------------------------------------------------------------
    def period(self, fiscal_year: int | None = None, *, previous: bool = False, as_of: str | dt.date | None = None) -> Period:
        """The period of a fiscal year (default: the current one) up to its as-of date.

        Examples
        --------
        >>> me.period()                      # FY containing today, as of today
        >>> me.period(2025)                  # a past FY, as of its last day
        >>> me.period(as_of="2026-06-30")
        """
        fiscal_year = self._year("fiscal_year", fiscal_year)
        if not isinstance(previous, bool):
            raise ArgumentError(self._type("previous", previous, "bool"))
        s = self._firm.settings
        try:
            return period_for(
                s.today,
                start_month=s.fiscal_year_start_month,
                fiscal_year=fiscal_year,
                previous=previous,
                as_of=self._day("as_of", as_of),
            )
        except PeriodError as exc:
            raise exc.in_locale(self._locale) from None

    # -- figures ---------------------------------------------------------------------
    @_one_version
    def figures(
        self,
        *,
        unit: str | None = None,
        collaborator: str | None = None,
        fiscal_year: int | None = None,
        as_of: str | dt.date | None = None,
        period: Period | None = None,
    ) -> figures.Figures:
        """Every figure of the metric dictionary, with N-1 at the same date.

        Parameters
        ----------
        unit : str, optional
            An org unit of the perimeter (its whole subtree), ``"perimeter"`` (every unit
            of it), ``"firm"`` (the firm's root) or ``"mine"``/None (*Mes affaires*).
        collaborator : str, optional
            A login of the perimeter: the deals where that person is on the team.
        fiscal_year, as_of, period
            Which period (default: the current fiscal year as of today).

        Returns
        -------
        Figures
            ``indicators`` (counts; fees as ``{"recurring", "one_off", "total"}`` in cents;
            ``win_rate``; ``median_days_to_sign``), ``monthly``, ``ageing``, ``previous``,
            ``scope`` (what they cover); ``to_frame(compare="N-1")`` for a frame.

        Examples
        --------
        >>> figs = me.figures(unit="R-IDF")
        >>> figs.indicators["signed_budget"]["total"] / 100   # euros
        >>> figs.to_frame(compare="N-1")
        """
        p = self._resolve(period, fiscal_year, as_of)
        ds = self._rows()
        units = self._units(unit)
        figs = figures.compute(ds, self._scoped(ds, units, collaborator), p)
        scope = self._scope(units, collaborator)
        words = {"scope": scope, "locale": self._locale, "currency": self._firm.settings.currency}
        previous = dataclasses.replace(figs.previous, **words) if figs.previous else None
        return dataclasses.replace(figs, **words, previous=previous)

    @_one_version
    def metrics(
        self,
        metrics: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        unit: str | Sequence[str] | None = None,
        collaborator: str | None = None,
        fiscal_year: int | None = None,
        as_of: str | dt.date | None = None,
        compare: str | None = None,
        fiscal_years: Sequence[int] | None = None,
        freq: str | None = None,
    ) -> pd.DataFrame:
        """A table of metrics by any dimension and period, in one call: one long, tidy frame.

        Every metric is computed by the code of the dashboard's cells (the same selections,
        the same rates and median; docs/metrics.md defines them), over the deals this
        viewer may see, grouped in one vectorised pass.

        Parameters
        ----------
        metrics : str or list of str
            Codes of the metric dictionary: ``prospects_without_document``,
            ``offers_in_progress``, ``potential_fees``, ``signed_offers``, ``signed_budget``,
            ``refused_offers``, ``refused_fees``, ``decided_offers``, ``abandoned_prospects``,
            ``converted_prospects``, ``win_rate``, ``refusal_rate``, ``median_days_to_sign``,
            ``aged_offers>N`` (offers in progress older than N days); ``code.component`` for
            one component (``win_rate.by_value``, ``signed_budget.total``).
        by : str or list of str, optional
            ``region``, ``agency``, ``team``, ``partner``, ``manager``, ``client_manager``
            (every metric), ``doc_type``, ``template``, ``signatory`` (metrics of
            documents); a list cuts by every combination found. Groups are only those found
            on the deals (and documents) in scope; a deal above a level (a region's own
            deal, by team) is in the group whose id is empty, so that groups add up.
        unit : str or list of str, optional
            As for :meth:`figures` (``"perimeter"``, ``"firm"``, a unit id, None for *Mes
            affaires*); a list gives one block of rows per entry (``unit_id``, ``unit_name``).
        collaborator : str, optional
            A login of the perimeter.
        fiscal_year, as_of : optional
            The fiscal year N and its as-of date (default: the current one, today).
        compare : {None, "N-1"}
            Also N-1 at the same point (as the dashboard's "N-1 à date").
        fiscal_years : list of int, optional
            Several fiscal years instead (each as of its last day, the current one as of today).
        freq : {None, "M", "Q"}
            Cut each fiscal year by month or fiscal quarter: flows (signed, refused,
            abandoned, converted…) are the sub-period's own, states (offers in progress,
            potential fees, aged offers) those of its last day (or the as-of date).

        Returns
        -------
        DataFrame
            ``unit_id``, ``unit_name``, the dimensions of ``by`` (``region_id``, ``region``,
            ``partner_id``, ``partner``, ``doc_type``…), ``fiscal_year``, ``as_of``,
            ``period`` (a pandas Period: the fiscal year, a month or a quarter), ``metric``,
            ``component`` (``count``; ``recurring``, ``one_off``, ``total`` in cents;
            ``by_count``, ``by_value``; ``days``) and ``value`` (float64, exact for every
            count and amount below 2**53 cents; NaN for an empty rate or median).
            ``frame.attrs["scope"]`` says what it covers; ``frame.money.euros()`` converts
            the amounts.

        Examples
        --------
        >>> me.metrics(["win_rate.by_value", "median_days_to_sign"], by="region", unit="perimeter", compare="N-1")
        >>> me.metrics("aged_offers>90.total", by="partner", unit="perimeter")
        >>> me.metrics("signed_budget.total", unit="perimeter", fiscal_years=[2024, 2025, 2026], freq="M")
        >>> me.metrics("refusal_rate", by=["template", "doc_type"], unit="perimeter")
        """
        names = [metrics] if isinstance(metrics, str) else metrics
        if not isinstance(names, Sequence) or not names or not all(isinstance(x, str) for x in names):
            raise ArgumentError(self._type("metrics", metrics, "texts", example='["signed_budget", "win_rate.by_value"]'))
        dims = () if by is None else (by,) if isinstance(by, str) else by
        if not isinstance(dims, Sequence) or not all(isinstance(x, str) for x in dims):
            raise ArgumentError(self._type("by", by, "texts", example='"region"'))
        if freq not in analysis.FREQUENCIES:
            raise ArgumentError(self._say("api.unknown_freq", freq=i18n.shown(freq)))
        try:
            asked = analysis.parse(list(names))
        except analysis.MetricsError as exc:
            raise ArgumentError(self._metrics_sentence(exc)) from None
        periods = self._periods(fiscal_year, as_of, compare, fiscal_years)
        entries = [unit] if unit is None or isinstance(unit, str) else list(unit)
        if not entries or not all(e is None or isinstance(e, str) for e in entries):
            raise ArgumentError(self._type("unit", unit, "texts", example='"perimeter"'))
        ds = self._rows()
        frames, covered = [], []
        for entry in entries:  # a few units at most: each is one vectorised table
            units = self._units(entry)
            covered += units or []
            mask = self._scoped(ds, units, collaborator)
            try:
                t = analysis.table(ds, mask, periods, asked, tuple(dims), freq)
            except analysis.MetricsError as exc:
                raise ArgumentError(self._metrics_sentence(exc)) from None
            names_of = self._current().snapshot.directory.units["name"]
            t.insert(0, "unit_id", pd.Series(["+".join(units)] * len(t) if units else [None] * len(t), dtype=object))
            t.insert(1, "unit_name", pd.Series([" + ".join(str(names_of[u]) for u in units) if units
                                                else i18n.label("mine", self._locale)] * len(t), dtype=object))
            frames.append(t)
        out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        out.attrs["scope"] = self._scope(list(dict.fromkeys(covered)) or None, collaborator)
        return out

    def _periods(self, fiscal_year, as_of, compare, fiscal_years) -> list[Period]:
        if compare not in (None, "N-1"):
            raise ArgumentError(self._say("api.unknown_compare", compare=i18n.shown(compare)))
        if fiscal_years is None:
            p = self.period(fiscal_year, as_of=as_of)
            return [p, p.previous()] if compare == "N-1" else [p]
        if compare is not None or fiscal_year is not None:
            raise ArgumentError(self._say("api.years_and_compare"))
        if as_of is not None:
            raise ArgumentError(self._say("api.years_and_as_of"))
        years = [fiscal_years] if isinstance(fiscal_years, int | np.integer) else fiscal_years
        if (isinstance(years, str) or not isinstance(years, Sequence) or not years
                or any(isinstance(y, bool) or not isinstance(y, int | np.integer) for y in years)):
            raise ArgumentError(self._type("fiscal_years", fiscal_years, "ints"))
        return [self.period(int(y)) for y in years]

    def _metrics_sentence(self, exc: analysis.MetricsError) -> str:
        values = {k: i18n.shown(v, 200) for k, v in exc.values.items()}
        if exc.key == "unknown_metric":
            close = difflib.get_close_matches(str(exc.values["metric"]), analysis.metric_names(), n=3, cutoff=0.5)
            tail = (self._say("api.did_you_mean", options=", ".join(close)) if close
                    else self._say("api.metric_list", options=", ".join(analysis.METRICS)))
            return self._say("api.unknown_metric", **values) + tail
        if exc.key == "unknown_freq":
            return self._say("api.unknown_freq", **values)
        return self._say(f"api.{exc.key}", **values)

    @_one_version
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

        Every row carries the ids beside the names of its units and people (``unit_id``,
        ``region_id`` … ``partner_id`` …, ``signatory_id``) and ``age_days``: the age at
        the as-of date of what the row is — a document since it was sent (else created),
        a deal since it was created.

        For a deal cell (``prospects_without_document``, ``abandoned_prospects``,
        ``converted_prospects``, a month's ``won_prospects``) the documents of each deal are
        those that make it count in the cell (:mod:`prospects.drilldown`);
        :func:`prospects.drilldown.footer_words` says what the amounts are.

        Parameters
        ----------
        indicator : str
            A cell code (``signed_budget``, ``offers_in_progress``, …) or ``won_prospects``.
        by : {"deal", "document"}
            "Par affaire" or "Par document".
        month : str or Period, optional
            ``YYYY-MM`` (or a ``pandas.Period``): one bar of the chart (``won_prospects``,
            ``signed_offers``, ``signed_budget``).
        bucket : str, optional
            An ageing bucket of the offers in progress (``0-30``, ``31-90``, ``91-180``, ``>180``).
        unit, collaborator, fiscal_year, as_of, period
            As for :meth:`figures`.
        lines : bool
            By document, add each document's lines (mission, billing, amount).

        Examples
        --------
        >>> me.drilldown("signed_budget", by="document", unit="R-IDF", month="2026-03")
        >>> me.drilldown("offers_in_progress", by="document", bucket=">180")
        """
        if not isinstance(lines, bool):
            raise ArgumentError(self._type("lines", lines, "bool"))
        rows = self._drill_rows(indicator, by=by, month=month, bucket=bucket, unit=unit, collaborator=collaborator,
                                fiscal_year=fiscal_year, as_of=as_of, period=period)
        frame = drilldown.with_ids(rows.frame(), drilldown.identities(rows))
        frame = self.with_lines(frame) if lines and by == "document" else frame
        frame.attrs["scope"] = self._scope(self._units(unit), collaborator)
        return frame

    @_one_version
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
        month = self._check_drill(indicator, by, month, bucket, p)
        ds = self._rows()
        sel = figures.selections(ds, self._scoped(ds, self._units(unit), collaborator), p)
        return drilldown.rows_of(ds, sel, indicator, by, month=month, bucket=bucket)

    def _check_drill(self, indicator, by, month, bucket, p: Period) -> str | None:
        """The drill-down's arguments checked (one sentence each); the month as ``YYYY-MM``."""
        known = (*figures.DOCUMENT_CELLS, *figures.DEAL_CELLS, "won_prospects")
        if not isinstance(indicator, str) or indicator not in known:
            if not isinstance(indicator, str):
                raise ArgumentError(self._type("indicator", indicator, "text", example='"signed_budget"'))
            close = difflib.get_close_matches(indicator, known, n=3, cutoff=0.5)
            tail = self._say("api.did_you_mean", options=", ".join(close)) if close else ""
            raise ArgumentError(self._say("api.unknown_indicator", indicator=i18n.shown(indicator),
                                          options=", ".join(known)) + tail)
        if by not in ("deal", "document"):
            raise ArgumentError(self._say("api.unknown_view", by=i18n.shown(by)))
        if bucket is not None:
            labels = [b[2] for b in figures.AGEING_BUCKETS]
            if bucket not in labels:
                raise ArgumentError(self._say("api.unknown_bucket", bucket=i18n.shown(bucket), options=", ".join(labels)))
        if month is None:
            return None
        if isinstance(month, pd.Period | dt.date | pd.Timestamp):
            month = f"{month.year:04d}-{month.month:02d}"
        if not isinstance(month, str):
            raise ArgumentError(self._type("month", month, "text", example='"2026-03"'))
        if indicator not in figures.MONTH_CELLS and indicator != "converted_prospects":
            raise ArgumentError(self._say("api.month_cells", indicator=indicator, options=", ".join(figures.MONTH_CELLS)))
        months = p.months()
        if month not in months:
            raise ArgumentError(self._say("api.unknown_month", month=i18n.shown(month), fiscal_year=p.fiscal_year,
                                          as_of=i18n.date(p.as_of, self._locale), first=months[0], last=months[-1]))
        return month

    @_one_version
    def with_lines(self, frame: pd.DataFrame) -> pd.DataFrame:
        """By-document drill-down rows with a ``lines`` column (mission, billing, amount_cents).

        Only documents the viewer may see have lines: any other ``document_id`` is refused
        (``AccessDenied``), whatever frame it comes from.
        """
        if not isinstance(frame, pd.DataFrame) or "document_id" not in frame.columns:
            raise ArgumentError(self._type("frame", frame, "frame"))
        ids = pd.unique(frame["document_id"].to_numpy(dtype=object))
        state = self._current()
        ds = state.dataset
        found = store.find_text(state.snapshot.documents, "id", [str(i) for i in ids])
        pos = ds.doc_positions(found)
        pos = pos[visible_mask(state.viewer, state.snapshot.directory, ds)[ds.doc_deal[pos]]]
        if len(pos) < len(ids):
            raise self._denied("api.documents_outside", count=len(ids) - len(pos))
        out = drilldown.attach_lines(frame, ds.lines(np.sort(pos)))
        out.attrs = dict(frame.attrs)
        return out

    @_one_version
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
        unit, collaborator
            As for :meth:`figures`.

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
        units = self._units(unit)
        mask = self._scoped(ds, units, collaborator)
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
        out = pd.DataFrame(rows)
        out.attrs["scope"] = self._scope(units, collaborator)
        return out

    @_one_version
    def filter_options(self) -> dict[str, pd.DataFrame]:
        """What the Organisation and Collaborateurs filters may offer (empty without the right)."""
        state = self._current()
        return filter_options(state.viewer, state.snapshot.directory)

    # -- scoped frames for exploration -----------------------------------------------
    @_one_version
    def deals(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The scoped prospect deals created by the period's as-of date, as they stood then.

        Columns: the deal's own (id, name, kind, prospect_name, unit_id, partner_id, …,
        status, created_on, abandoned_on, abandon_reason), ``converted_on``, the ids and
        names of its region, agency and team (``region_id``, ``region``…), the names of its
        ``partner``, ``manager``, ``client_manager``, and ``age_days`` (since creation).
        ``status``, ``abandoned_on`` and ``converted_on`` are those of the as-of date: a
        deal abandoned or converted later is still open then.
        """
        p = self._resolve(period, None, None)
        ds = self._rows()
        units = self._units(unit)
        a = day_number(p.as_of)
        pos = np.flatnonzero(self._scoped(ds, units, collaborator) & (ds.deal_created <= a))
        ids = lambda table, codes: _ids(ds.directory, table, codes)  # noqa: E731
        abandoned = np.where(ds.deal_abandoned[pos] <= a, ds.deal_abandoned[pos], store.NEVER)
        converted = np.where(ds.deal_converted[pos] <= a, ds.deal_converted[pos], store.NEVER)
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
            "status": pd.Series(np.where(abandoned != store.NEVER, "abandoned", "open"), dtype=object),
            "created_on": store.dates_of(ds.deal_created[pos]),
            "abandoned_on": store.dates_of(abandoned),
            "abandon_reason": pd.Series(np.where(abandoned != store.NEVER, ds.deal_text("abandon_reason", pos), None),
                                        dtype=object),
            "converted_on": store.dates_of(converted),
        })
        names = ds.display(pos)
        units_ids = drilldown.deal_identities(ds, pos)
        for level in ("region", "agency", "team"):
            out[f"{level}_id"] = pd.Series(units_ids[f"{level}_id"], dtype=object)
            out[level] = names[level]
        for role in ("partner", "manager", "client_manager"):
            out[role] = names[role]
        out["age_days"] = np.maximum(a - ds.deal_created[pos].astype(np.int64), 0)
        out.attrs["scope"] = self._scope(units, collaborator)
        return out

    @_one_version
    def documents(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The scoped documents created by the period's as-of date, as they stood then.

        Columns: the document's own (id, deal_id, doc_type, template, title, status,
        created_on, sent_on, decided_on, signatory_id, entity_id), ``recurring``,
        ``one_off``, ``total`` (cents) and ``prospect``; the ids and names of the deal's
        units and people (``unit_id``, ``region_id``, ``region`` … ``partner_id``,
        ``partner`` …), the ``signatory`` and ``signatory_entity`` names, and ``age_days``
        (days since sent, else created, at the as-of date: the ageing of the offers).
        ``status`` and ``decided_on`` are those of the as-of date: a document decided
        later is ``in_progress`` then, so N-1 at its own date reads right.
        """
        p = self._resolve(period, None, None)
        ds = self._rows()
        units = self._units(unit)
        a = day_number(p.as_of)
        m = self._scoped(ds, units, collaborator)[ds.doc_deal] & (ds.doc_created <= a)
        pos = np.flatnonzero(m)
        rec, one = ds.doc_recurring[pos].astype(np.int64), ds.doc_one_off[pos].astype(np.int64)
        pending = ds.doc_decided[pos] > a
        decided_on = ds.doc_dates("decided_on", pos)
        decided_on[pending] = np.datetime64("NaT")
        deal_pos = ds.doc_deal[pos]
        out = pd.DataFrame({
            "id": pd.Series(ds.doc_text("id", pos), dtype=object),
            "deal_id": pd.Series(ds.deal_text("id", deal_pos), dtype=object),
            "doc_type": pd.Series(ds.doc_text("doc_type", pos), dtype=object),
            "template": pd.Series(ds.doc_text("template", pos), dtype=object),
            "title": pd.Series(ds.doc_text("title", pos), dtype=object),
            "status": pd.Series(np.where(pending, "in_progress", ds.doc_status_names(pos)), dtype=object),
            "created_on": ds.doc_dates("created_on", pos),
            "sent_on": ds.doc_dates("sent_on", pos),
            "decided_on": decided_on,
            "signatory_id": _ids(ds.directory, "collaborators", ds.doc_signatory[pos]),
            "entity_id": _ids(ds.directory, "entities", ds.doc_entity[pos]),
            "recurring": rec,
            "one_off": one,
            "total": rec + one,
            "prospect": pd.Series(ds.deal_text("prospect_name", deal_pos), dtype=object),
        })
        names = ds.display(deal_pos)
        ids = drilldown.deal_identities(ds, deal_pos)
        out["unit_id"] = pd.Series(ids["unit_id"], dtype=object)
        for col in ("region", "agency", "team", "partner", "manager", "client_manager"):
            out[f"{col}_id"] = pd.Series(ids[f"{col}_id"], dtype=object)
            out[col] = names[col]
        out["signatory"] = pd.Series(ds.people(ds.doc_signatory[pos]), dtype=object)
        out["signatory_entity"] = pd.Series(ds.entities(ds.doc_entity[pos]), dtype=object)
        out["age_days"] = figures.offer_ages(ds, a, pos)
        out.attrs["scope"] = self._scope(units, collaborator)
        return out

    @_one_version
    def lines(self, *, unit: str | None = None, collaborator: str | None = None, period: Period | None = None) -> pd.DataFrame:
        """The lines (document_id, line_no, mission, billing, amount_cents) of the scoped documents."""
        p = self._resolve(period, None, None)
        ds = self._rows()
        units = self._units(unit)
        m = self._scoped(ds, units, collaborator)[ds.doc_deal] & (ds.doc_created <= day_number(p.as_of))
        out = ds.lines(np.flatnonzero(m))
        out.attrs["scope"] = self._scope(units, collaborator)
        return out


def _ids(directory: Directory, table: str, codes: np.ndarray) -> pd.Series:
    """Directory ids of store codes (None for -1)."""
    index = getattr(directory, table).index.to_numpy(dtype=object)
    codes = np.asarray(codes, dtype=np.int64)
    out = np.empty(len(codes), dtype=object)
    ok = codes >= 0
    out[ok] = index[codes[ok]]
    return pd.Series(out, dtype=object)


def _locale(settings: Settings | None) -> str:
    if settings is not None:
        return settings.locale
    loc = os.environ.get("PROSPECTS_LOCALE", "fr")
    return loc if loc in i18n.LABELS else "fr"


def _type_sentence(name: str, value: object, expected: str, locale: str, example: str = "") -> str:
    """"fiscal_year attend un entier, par exemple fiscal_year=2025 ; reçu '2025' (str)"."""
    wanted = i18n.sentence(f"api.expect.{expected}", locale, name=name, example=example)
    got = f"{i18n.shown(repr(value), 40)} ({type(value).__name__})"
    return i18n.sentence("api.type", locale, name=name, expected=wanted, got=got)


def _notice(message: str) -> None:
    """Say a :class:`Notice` to whoever called the API from outside the package (a notebook, a
    script), pointing at their line; the package's own front ends (dashboard, reports, command
    line) say their scope on screen and get none."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    caller = "" if frame is None else str(frame.f_globals.get("__name__", ""))
    if caller == "prospects" or caller.startswith("prospects."):
        return
    warnings.warn(Notice(message), stacklevel=level)
