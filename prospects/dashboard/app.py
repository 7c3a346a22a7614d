"""The dashboard of one viewer: the parts wired together, the busy state, errors and refusals,
and the scope: the viewer's last Organisation / Collaborateurs choice, remembered by login.

Nothing is computed here: a filter change asks the view again (:meth:`prospects.api.View.figures`,
scoped by :func:`prospects.scoping.scope_mask`) and hands the figures to each part; a click
asks the view's drill-down rows and hands them to the drill-down dialog. The remembered
choice is read and written through :mod:`prospects.db` (``dashboard_choices``) by the
server's login, and used only if the filters offer it today.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from functools import wraps
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .. import db, i18n
from ..figures import TABLE_CELLS
from ..scoping import AccessDenied
from ..tables import scope_label
from .chart import Chart
from .conversion import Conversion
from .downloads import Downloads
from .drill import DrillDialog, DrillState
from .filters import TYPING, Filters
from .labels import Words
from .tiles import Tiles
from .widgets import Clickable, Shared, boxed, esc, html_block, stylesheet

if TYPE_CHECKING:
    from ..api import Firm, View
    from ..drilldown import Rows
    from ..figures import Figures
    from ..fiscal import Period

log = logging.getLogger("prospects.dashboard")

#: Drill-down row sets kept (counted and summed, not materialised), the oldest dropped first.
KEPT_ROWS = 8


class Dashboard:
    """The whole screen for one viewer. ``Dashboard(firm, login, locale).widget`` is what Voilà shows.

    ``firm`` is an opened :class:`~prospects.api.Firm`; ``login`` the viewer, decided by the
    server (never by the page). An unknown or inactive login gets an "Accès refusé" screen
    and no data. The parts: :attr:`filters`, :attr:`tiles`, :attr:`conversion`, :attr:`chart`
    and, once something was opened, :attr:`drill`.
    """

    def __init__(self, firm: Firm, login: str | None, locale: str = "fr"):
        self.firm = firm
        self.words = Words(locale, firm.settings.currency)
        self.locale = self.words.locale
        self.view: View | None = None
        self.figs: Figures | None = None
        self.period: Period | None = None
        self.unit: str | None = None
        self.collaborator: str | None = None
        self.drill_state: DrillState | None = None
        self.drill_rows: Rows | None = None
        self.drill: DrillDialog | None = None  # built the first time a figure is opened
        self._frames: OrderedDict[tuple, Rows] = OrderedDict()
        self._saved: tuple[str | None, str | None] | None = None  # the choice the database holds
        self._note = ""  # a sentence for the next refresh (a restored or a lost choice)
        self._shared = sh = Shared()
        self.style = html_block(stylesheet(), shared=sh)
        self.header = html_block("", "pr-header-html", shared=sh)
        self.status = html_block("", "pr-status", shared=sh)
        self.message = html_block("", "pr-message", shared=sh)
        self.root = boxed([self.style], "pr-root", vertical=True, shared=sh)
        try:
            self.view = firm.as_viewer(login)  # type: ignore[arg-type]
        except AccessDenied as exc:
            self._show_denied(exc.say(self.locale))
            return
        self._build()
        with self._busy(shown=False):
            self._refresh()

    # -- public -------------------------------------------------------------------
    @property
    def widget(self) -> w.Box:
        """The root widget to display."""
        return self.root

    @property
    def region(self) -> w.Dropdown | None:
        """The Organisation filter's first level (``None`` for a viewer without filters)."""
        return self.filters.region

    @property
    def cells(self) -> dict[str, Clickable]:
        """Every clickable figure: the seven tiles and "Prospects transformés"."""
        return {**self.tiles.cells, "converted_prospects": self.conversion.converted}

    @property
    def drill_by(self) -> w.ToggleButtons:
        """The drill-down's *Par affaire* / *Par document* switch (after a first opening)."""
        assert self.drill is not None
        return self.drill.by

    @property
    def drill_downloads(self) -> w.HTML:
        """The drill-down's download links (after a first opening)."""
        assert self.drill is not None
        return self.drill.downloads

    def set_fiscal_year(self, which: str) -> None:
        """``current`` or ``previous``, as the Exercice switch does."""
        self.filters.fy.value = which

    def open_cell(self, code: str) -> None:
        """Open the drill-down of a cell, as a click does."""
        self.cells[code].click()

    def open_month(self, month: str, kind: str = "signed_budget") -> None:
        """Open the drill-down of a month of the chart, as a click on its bar (``signed_budget``)
        or on its point of the won line (``won_prospects``) does."""
        (self.chart.won if kind == "won_prospects" else self.chart.months)[month].click()

    def open_bucket(self, bucket: str) -> None:
        """Open the drill-down of an ageing bucket, as a click does."""
        self.conversion.buckets[bucket].click()

    def close_drill(self) -> None:
        """Hide the drill-down panel."""
        self.drill_state = None
        self.drill_rows = None
        if self.drill is not None:
            self.drill.hide()

    # -- states: busy, errors, refusal ---------------------------------------------
    @contextmanager
    def _busy(self, shown: bool = True) -> Iterator[None]:
        """Show "Calcul en cours…" while a callback works; never let a traceback reach the page.

        ``shown=False`` when the dashboard is being built (nothing on screen yet: nothing to say).
        """
        if shown:
            self.status.value = f'<span class="pr-busy-text">{esc(self.words.label("busy"))}</span>'
            self.root.add_class("pr-busy")
            self.message.value = ""
        try:
            yield
        except AccessDenied as exc:
            self._error(exc.say(self.locale) or self.words.label("access_denied"))
        except Exception:  # a callback must never show a traceback: a short message, and the log
            log.exception("dashboard callback failed")
            self._error(self.words.label("error"))
        finally:
            if shown:
                self.root.remove_class("pr-busy")
                self.status.value = ""

    def _error(self, text: str) -> None:
        self.message.value = f'<div class="pr-error" role="alert">{esc(text)}</div>'

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        """``fn`` as a callback: nothing while code sets the controls, busy state, errors as one sentence."""
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> None:
            if self._shared.syncing:
                return
            with self._busy():
                fn(*args, **kwargs)

        return run

    def _show_denied(self, reason: str) -> None:
        title = self.words.label("access_denied")
        self.header.value = self._header_html(None)
        denied = html_block(
            f'<div class="pr-denied"><div class="pr-denied-title">{esc(title)}</div>'
            f'<div>{esc(reason)}</div><div class="pr-note">{esc(self.words.ui("denied_hint"))}</div></div>',
            "pr-access-denied", shared=self._shared,
        )
        card = boxed([denied], "pr-card", vertical=True, shared=self._shared)
        self.root.children = (self.style, self._header_box(), card)

    # -- layout -------------------------------------------------------------------
    def _header_html(self, period: Period | None) -> str:
        """The page's banner: its title (the page's one ``h1``), who is looking, as of when, the
        extract's date and, when it is older than ``stale_after_days``, a plain warning (words and
        a sign, not colour alone)."""
        lab, loc = self.words.label, self.locale
        who = ""
        if self.view is not None:
            v = self.view.viewer
            fn = i18n.FUNCTION_LABELS[loc].get(v.function, v.function)
            asof = f'{esc(lab("as_of"))} {esc(i18n.date(period.as_of, loc))}' if period else ""
            firm = esc(self.firm.directory.firm_name)
            fresh = self.firm.freshness()
            who = (
                f'<p class="pr-who"><b class="pr-viewer">{esc(v.full_name)}</b> · '
                f'<span class="pr-function">{esc(fn)}</span><br>'
                f'<span class="pr-firm">{firm}</span> · <span class="pr-asof">{asof}</span><br>'
                f'<span class="pr-data-date">{esc(fresh.text(loc))}</span></p>'
            )
            warning = fresh.warning(loc)
            if warning:
                who += f'<p class="pr-stale" role="note"><span aria-hidden="true">⚠ </span>{esc(warning)}</p>'
        return f'<header class="pr-banner"><h1 class="pr-title">{esc(lab("menu"))}</h1>{who}</header>'

    def _header_box(self) -> w.Box:
        return boxed([self.header], "pr-header", vertical=True, shared=self._shared)

    def _build(self) -> None:
        assert self.view is not None
        sh, words = self._shared, self.words
        self.filters = Filters(self.view, words, sh, on_fy=self._guard(self._on_fy), on_org=self._guard(self._on_org),
                               on_collaborator=self._guard(self._on_collaborator),
                               on_back=self._guard(self._back_to_mine), on_switch=self._guard(self._switch_to_perimeter))
        self.tiles = Tiles(words, sh, lambda code: self._guard(self._open)(DrillState(code)))
        self.conversion = Conversion(
            words, sh, lambda code: self._guard(self._open)(DrillState(code)),
            lambda b: self._guard(self._open)(DrillState("offers_in_progress", bucket=b)),
        )
        self.chart = Chart(words, sh, lambda kind, m: self._guard(self._open)(DrillState(kind, month=m)))
        self.downloads = Downloads(words, self.view.with_lines)
        # the drill-down dialog (an overlay) is built the first time a figure is clicked
        body = boxed([boxed([self.tiles.box, self.conversion.box], "pr-top", shared=sh), self.chart.box],
                     "pr-body", vertical=True, shared=sh)
        top = boxed([self.filters.box, self.status, self.message], "pr-controls", vertical=True, shared=sh)
        self.root.children = (self.style, self._header_box(), top, body)
        self._restore_choice()

    def _build_drill(self) -> DrillDialog:
        if self.drill is None:
            self.drill = DrillDialog(
                self.words, self._shared, on_close=self.close_drill,
                on_month_kind=self._guard(self._on_month_kind), on_by=self._guard(self._on_by),
                on_sort=self._guard(self._on_sort), on_column=self._guard(self._on_sort_column),
                on_prepare=self._guard(self._prepare_downloads),
            )
            self.root.children = (*self.root.children, self.drill.backdrop)
        return self.drill

    # -- callbacks --------------------------------------------------------------------
    def _on_fy(self, _change: Any = None) -> None:
        self._refresh()

    def _on_org(self, _change: Any = None) -> None:
        self.filters.cascade()
        self.unit = self.filters.chosen_unit()
        self._refresh()
        self._remember()

    def _on_collaborator(self, _change: Any = None) -> None:
        login = self.filters.typed_collaborator()
        if login is TYPING:  # a name that is no one's (yet): never keep the previous person's figures
            login = None
        if login == self.collaborator:
            return
        self.collaborator = login  # type: ignore[assignment]
        self._refresh()
        self._remember()

    def _back_to_mine(self) -> None:
        """"Mes affaires" again: no unit, nobody."""
        self.filters.set_unit(None)
        self.filters.set_collaborator(None)
        self.unit = self.collaborator = None
        self._refresh()
        self._remember()

    def _switch_to_perimeter(self) -> None:
        """From an empty "Mes affaires" to the broadest unit of the perimeter, in one click."""
        top = self.filters.perimeter_top()
        if top is None:
            return
        self.filters.set_unit(top[0])
        self.unit = self.filters.chosen_unit()
        self._refresh()
        self._remember()

    def _on_month_kind(self, _change: Any = None) -> None:
        assert self.drill is not None
        if self.drill_state is not None and self.drill_state.month is not None:
            self._show_drill(replace(self.drill_state, indicator=self.drill.month_kind.value, sort=None))

    def _on_by(self, _change: Any = None) -> None:
        if self.drill is not None and self.drill_state is not None:
            self._show_drill(replace(self.drill_state, by=self.drill.by.value, sort=None))

    def _on_sort(self, _change: Any = None) -> None:
        if self.drill is not None and self.drill_state is not None:
            self._show_drill(replace(self.drill_state, sort=self.drill.sort.value or None,
                                     ascending=self.drill.order.value))

    def _on_sort_column(self, column: str) -> None:
        """A column header: sort by it, or the other way round if it is already the sort."""
        state = self.drill_state
        if state is None:
            return
        ascending = not state.ascending if state.sort == column else True
        self._show_drill(replace(state, sort=column, ascending=ascending))

    def _open(self, state: DrillState) -> None:
        self._show_drill(state)

    # -- figures ----------------------------------------------------------------------
    def _current_period(self) -> Period:
        assert self.view is not None
        return self.view.period(previous=self.filters.previous_year())

    def _refresh(self) -> None:
        """Ask the view for the figures under the current filters and show them."""
        assert self.view is not None
        period = self._current_period()
        figs = self.view.figures(unit=self.unit, collaborator=self.collaborator, period=period)
        self.period, self.figs = period, figs
        self._frames.clear()
        self.downloads.clear()
        self.header.value = self._header_html(period)
        loc = self.locale
        period_html = esc(
            self.words.ui("period", fy=period.fiscal_year, start=i18n.date(period.start, loc),
                          as_of=i18n.date(period.as_of, loc))
        ) + f' · <span class="pr-scope">{esc(self._scope_label())}</span>'
        self.tiles.show(figs, period_html)
        self.conversion.show(figs)
        self.chart.show(figs, (figs.period, self.unit, self.collaborator))
        self._say_scope(figs)
        if self.drill_state is not None:
            state = self.drill_state
            if state.month is not None and state.month not in set(figs.monthly["month"]):
                self.close_drill()
            else:
                self._show_drill(state)

    def _scope_label(self) -> str:
        return scope_label(self.firm.directory, self.unit, self.collaborator, self.locale)

    # -- the scope: remembered per login, said under the filters -----------------------------
    def _restore_choice(self) -> None:
        """The viewer's last Organisation / Collaborateurs choice, if still in their perimeter.

        Read from the database by login (the server's, never the page's) and checked against
        what the filters offer now; a choice no longer allowed falls back to "Mes affaires"
        and says so.
        """
        assert self.view is not None
        f = self.filters
        if f.region is None and f.collaborator_box is None:
            return
        try:
            saved = db.read_dashboard_choice(self.firm.engine, self.view.viewer.login)
        except db.DatabaseError as exc:
            log.warning("the last choice of %s could not be read: %s", self.view.viewer.login, exc)
            return
        self._saved = saved
        if saved is None or saved == (None, None):
            return
        unit, collaborator = saved
        units = set(f.units.index) if f.units is not None else set()
        if (unit is not None and unit not in units) or (collaborator is not None and collaborator not in f.people.values()):
            self._note = self.words.ui("choice_gone")
            self._remember()
            return
        f.set_unit(unit)
        f.set_collaborator(collaborator)
        self.unit, self.collaborator = f.chosen_unit(), collaborator
        self._note = self.words.ui("restored", scope=self._scope_label())

    def _remember(self) -> None:
        """Save the viewer's choice for their next visit (a failure is logged, never shown)."""
        assert self.view is not None
        choice = (self.unit, self.collaborator)
        if choice == self._saved:
            return
        try:
            db.save_dashboard_choice(self.firm.engine, self.view.viewer.login, *choice)
            self._saved = choice
        except db.DatabaseError as exc:
            log.warning("the choice of %s could not be saved: %s", self.view.viewer.login, exc)

    def _say_scope(self, figs: Figures) -> None:
        """Under the filters: what was restored, an empty "Mes affaires" and the switch to the
        perimeter, the way back to "Mes affaires"."""
        f = self.filters
        if f.region is None and f.collaborator_box is None:
            return
        scoped = self.unit is not None or self.collaborator is not None
        note, self._note = self._note, ""
        switch = None
        top = f.perimeter_top()
        if not note and not scoped and top is not None and _nothing(figs):
            note, switch = self.words.ui("own_empty"), top[1]
        f.say(note, back=scoped, switch=switch)

    # -- drill-down ---------------------------------------------------------------------
    def _rows(self, state: DrillState) -> Rows:
        """The drill-down's rows, counted and summed, not yet materialised (cached per state)."""
        assert self.view is not None
        rows = self._frames.get(state.key)
        if rows is None:
            rows = self.view._drill_rows(
                state.indicator, by=state.by, month=state.month, bucket=state.bucket, unit=self.unit,
                collaborator=self.collaborator, period=self.period,
            )
            self._frames[state.key] = rows
            while len(self._frames) > KEPT_ROWS:
                self._frames.popitem(last=False)
        return rows

    def _show_drill(self, state: DrillState) -> None:
        drill = self._build_drill()
        rows = self._rows(state)
        self.drill_state, self.drill_rows = state, rows
        assert self.view is not None and self.period is not None
        links = self.downloads.ready(rows, state, self.period.as_of)
        drill.show(state, rows, self.period, self._scope_label(), self.view.with_lines, links)

    def _prepare_downloads(self) -> None:
        """Build the CSV and Excel files of a large drill-down, on demand."""
        if self.drill is None or self.drill_state is None or self.drill_rows is None or self.period is None:
            return
        links = self.downloads.links(self.drill_rows, self.drill_state, self.period.as_of)
        self.drill.show_links(links, len(self.drill_rows))


def _nothing(figs: Figures) -> bool:
    """Whether every figure of the table is zero (an empty scope)."""
    ind = figs.indicators
    return all((ind[c]["total"] if isinstance(ind[c], Mapping) else ind[c]) == 0 for c in TABLE_CELLS)


def build_dashboard(firm: Firm, login: str | None, locale: str = "fr") -> w.Box:
    """The dashboard widget of one viewer (see :class:`Dashboard`)."""
    return Dashboard(firm, login, locale).widget
