"""The Voilà dashboard "Suivi Business › Prospects": ipywidgets 8 wired to the package API.

Widgets only wire. Every figure comes from :class:`prospects.api.View` (``figures`` and
``drilldown``, which scope through :func:`prospects.scoping.scope_mask`), every formatted
value from :mod:`prospects.tables` and :mod:`prospects.i18n`, every definition from
:mod:`prospects.dictionary`, the chart from :mod:`prospects.charts`, the exports from
:mod:`prospects.exports` and the drill-down footers and sort orders from :class:`prospects.drilldown.Rows`
(whose text is materialised only for the rows on screen, or all of them for a download).
Nothing is computed here: a filter change asks the view again, which recomputes from the
firm's memory-mapped figure store (no row read from the database, whatever the filter or
fiscal year: only its version stamp, to follow a new load).

Opening a page is cheap by construction (``prospects serve`` opens thirty at once on Monday
morning): the figures and the chart (inline SVG, :func:`prospects.charts.monthly_svg`, no
matplotlib) come with the first view, the drill-down panel is built the first time a figure
is clicked, and widgets that are never restyled share one layout and one style model (each
widget model is a message from the kernel through the server to the browser).

The viewer's login is a constructor argument, injected into the notebook by
``prospects serve`` (Voilà's prelaunch hook, :mod:`prospects.serving`); no widget and no
part of the URL can change it. The filters offered are those of
:meth:`~prospects.api.View.filter_options`, and the view refuses anything else anyway.

Key widgets carry stable CSS classes for browser tests and styling: ``pr-root``,
``pr-header``, ``pr-viewer``, ``pr-asof``, ``pr-status``, ``pr-message``,
``pr-filter-fy``, ``pr-filter-region``, ``pr-filter-agency``, ``pr-filter-team``,
``pr-filter-collaborator``, ``pr-cell-<code>`` (the seven cells and
``converted_prospects``), ``pr-bucket-<slug>``, ``pr-chart``, ``pr-month-<YYYY-MM>``,
``pr-drill``, ``pr-drill-title``, ``pr-drill-by``, ``pr-drill-sort``,
``pr-drill-order``, ``pr-drill-table``, ``pr-drill-footer``, ``pr-drill-close``,
``pr-download-csv``, ``pr-download-xlsx``.
"""

from __future__ import annotations

import base64
import html
import logging
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import wraps
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd
from ipywidgets.widgets.widget_string import HTMLStyle

from . import charts, exports, i18n
from .dictionary import definition
from .drilldown import Rows
from .drilldown import columns as drill_columns
from .figures import TABLE_CELLS
from .scoping import AccessDenied
from .tables import ageing_table, beside_table, indicator_table, monthly_table, scope_label

if TYPE_CHECKING:
    from .api import Firm, View
    from .figures import Figures
    from .fiscal import Period

__all__ = ["Dashboard", "build_dashboard", "dashboard_from_settings", "warm_up"]

log = logging.getLogger("prospects.dashboard")

#: Rows shown on screen in a drill-down; the downloads always hold every row.
MAX_ROWS = 300
#: Up to this many rows the CSV and Excel files are ready when the drill-down opens; above,
#: a button prepares them on demand (they travel to the browser inside the page).
EAGER_DOWNLOAD_ROWS = 1000

#: Labels of the dashboard's own controls (the figures' labels live in :mod:`prospects.i18n`).
UI: dict[str, dict[str, str]] = {
    "fr": {
        "region": "Région",
        "agency": "Agence",
        "team": "Équipe",
        "all_agencies": "Toutes les agences",
        "all_teams": "Toutes les équipes",
        "whole_firm": "{name} (tout le cabinet)",
        "search_collaborator": "Rechercher un collaborateur…",
        "clear": "Effacer",
        "sort_by": "Trier par",
        "ascending": "Croissant",
        "descending": "Décroissant",
        "default_order": "Ordre par défaut",
        "deal": "affaire",
        "deals": "affaires",
        "document": "document",
        "documents": "documents",
        "no_rows": "Aucune ligne pour ce chiffre.",
        "first_rows": "{shown} premières lignes sur {n} ; les téléchargements contiennent toutes les lignes.",
        "prepare": "Préparer CSV et Excel ({n} lignes)",
        "hint": "Cliquez sur un chiffre, un mois ou une tranche d'ancienneté pour en voir le détail.",
        "months": "Détail par mois",
        "month_fees": "Budget signé du mois",
        "month_won": "Prospects gagnés du mois",
        "rates": "Transformation",
        "period": "Exercice {fy} : du {start} au {as_of}",
        "prev_short": "N-1 à date :",
        "month_tip": "{month} : {won} prospect(s) gagné(s), budget signé {total} (récurrent {recurring}, exceptionnel {one_off})",
        "bucket_tip": "Offres en cours depuis {bucket} : cliquez pour le détail",
        "fy_current": "{label} ({fy})",
        "fy_previous": "{label} ({fy})",
        "detail": "Détail",
        "denied_hint": "Votre identifiant n'ouvre aucun droit sur ce tableau de bord. Contactez l'administrateur du référentiel.",
    },
    "en": {
        "region": "Region",
        "agency": "Agency",
        "team": "Team",
        "all_agencies": "All agencies",
        "all_teams": "All teams",
        "whole_firm": "{name} (whole firm)",
        "search_collaborator": "Search a collaborator…",
        "clear": "Clear",
        "sort_by": "Sort by",
        "ascending": "Ascending",
        "descending": "Descending",
        "default_order": "Default order",
        "deal": "deal",
        "deals": "deals",
        "document": "document",
        "documents": "documents",
        "no_rows": "No rows behind this figure.",
        "first_rows": "First {shown} rows of {n}; the downloads hold every row.",
        "prepare": "Prepare CSV and Excel ({n} rows)",
        "hint": "Click a figure, a month or an ageing bucket to see its detail.",
        "months": "Detail by month",
        "month_fees": "Budget signed that month",
        "month_won": "Prospects won that month",
        "rates": "Conversion",
        "period": "Fiscal year {fy}: {start} to {as_of}",
        "prev_short": "Last year to date:",
        "month_tip": "{month}: {won} prospect(s) won, signed budget {total} (recurring {recurring}, one-off {one_off})",
        "bucket_tip": "Offers in progress for {bucket}: click for the detail",
        "fy_current": "{label} ({fy})",
        "fy_previous": "{label} ({fy})",
        "detail": "Detail",
        "denied_hint": "Your login gives no access to this dashboard. Please contact the administrator of the directory.",
    },
}

_MINE = "__mine__"  # the "Mes affaires" choice of the Organisation filter
_ALL = ""  # "Toutes les agences" / "Toutes les équipes"


CSS = """
<style>
.pr-root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1d2733; max-width: 1280px; margin: 0 auto; gap: 14px; }
.pr-root.pr-busy .pr-body { opacity: .55; transition: opacity .15s; pointer-events: none; }
.pr-header { background: #1f4e79; color: #fff; border-radius: 8px; padding: 12px 18px; }
.pr-header .widget-html, .pr-header .widget-html-content { width: 100%; margin: 0; }
.pr-filter-fy .widget-toggle-button { width: auto; padding: 0 12px; }
.pr-header .pr-title { font-size: 20px; font-weight: 600; letter-spacing: .2px; color: #fff; }
.pr-header .pr-title span { opacity: .75; font-weight: 400; }
.pr-header .pr-who { text-align: right; font-size: 13px; line-height: 1.45; color: #e8eef5; }
.pr-header .pr-who b { color: #fff; font-size: 14px; }
.pr-filters { background: #f5f7fa; border: 1px solid #dde3ea; border-radius: 8px; padding: 10px 14px;
  align-items: flex-end; flex-wrap: wrap; gap: 8px 22px; }
.pr-filters .pr-group-label { font-size: 12px; font-weight: 600; color: #5b6b7c; text-transform: uppercase;
  letter-spacing: .5px; margin-bottom: 2px; }
.pr-filters .widget-dropdown, .pr-filters .widget-combobox { width: auto; margin: 0; }
.pr-filters .pr-group { flex: 0 0 auto; }
.pr-status { position: fixed; top: 14px; right: 18px; z-index: 1100; margin: 0; }
.pr-status .pr-busy-text { display: inline-block; background: #fff7e0; color: #7a5400; border: 1px solid #f0d48a;
  border-radius: 14px; padding: 4px 12px; font-size: 13px; font-weight: 600; box-shadow: 0 2px 8px rgba(0,0,0,.15); }
.pr-message .pr-error { color: #a4262c; background: #fde7e9; border: 1px solid #f1b7bc; border-radius: 6px;
  padding: 8px 12px; font-size: 14px; }
.pr-card { background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 12px 16px;
  box-shadow: 0 1px 2px rgba(16, 24, 40, .05); }
.pr-card-title { font-size: 15px; font-weight: 600; color: #1f4e79; margin: 0 0 8px 0; }
.pr-period { font-size: 12.5px; color: #5b6b7c; }
.pr-hint { font-size: 12px; color: #7a8896; }
.pr-grid { display: grid; grid-template-columns: repeat(4, minmax(150px, 1fr)); gap: 10px; }
.pr-tile { position: relative; border: 1px solid #dde3ea; border-radius: 8px; padding: 10px 12px;
  background: #fbfcfd; min-height: 98px; overflow: hidden; }
.pr-tile:hover { border-color: #1f4e79; background: #f2f6fb; box-shadow: 0 2px 6px rgba(31, 78, 121, .15); }
.pr-tile.pr-wide { grid-column: span 2; }
.pr-tile .widget-html, .pr-tile .widget-html-content { margin: 0; width: 100%; }
.pr-tile-label { font-size: 13px; color: #44546a; font-weight: 600; line-height: 1.25; }
.pr-value { font-size: 26px; font-weight: 700; color: #10243a; margin: 4px 0 2px; white-space: nowrap;
  font-variant-numeric: tabular-nums; }
.pr-split { font-size: 12.5px; color: #44546a; white-space: nowrap; }
.pr-split b { font-variant-numeric: tabular-nums; color: #10243a; }
.pr-split .pr-dot-rec { color: #1f4e79; } .pr-split .pr-dot-one { color: #f4a261; }
.pr-prev { font-size: 12px; line-height: 1.35; color: #6b7a89; margin-top: 3px; }
.pr-hit.jupyter-button, .pr-hit { position: absolute !important; inset: 0; width: 100% !important; height: 100% !important;
  margin: 0 !important; opacity: 0; cursor: pointer; z-index: 2; }
.pr-side { gap: 10px; }
.pr-org, .pr-controls, .pr-sortbox { gap: 6px; }
.pr-top, .pr-body { gap: 14px; }
.pr-rows .pr-row { position: relative; display: flex; justify-content: space-between; gap: 8px;
  padding: 5px 6px; border-bottom: 1px solid #eef1f4; font-size: 13px; }
.pr-line { position: relative; border-bottom: 1px solid #eef1f4; }
.pr-line.pr-click:hover { background: #f2f6fb; }
.pr-line .widget-html, .pr-line .widget-html-content { margin: 0; width: 100%; }
.pr-line-in { display: grid; grid-template-columns: 1fr auto auto; gap: 10px; padding: 5px 6px; font-size: 13px;
  align-items: baseline; }
.pr-line-in .pr-num { text-align: right; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pr-line-in .pr-num-prev { text-align: right; color: #6b7a89; font-size: 12px; white-space: nowrap; }
.pr-line-head .pr-line-in { font-size: 11.5px; color: #6b7a89; text-transform: uppercase; letter-spacing: .4px; }
.pr-chart, .pr-chart .widget-html-content { width: 100%; max-width: 1000px; margin: 0; }
.pr-chart svg { display: block; width: 100%; height: auto; }
.pr-months { flex-wrap: wrap; gap: 4px; }
.pr-months .widget-button { font-size: 12px; height: 26px; padding: 0 8px; border-radius: 13px;
  background: #eef3f8; color: #1f4e79; border: 1px solid #cfdbe8; width: auto; }
.pr-months .widget-button:hover { background: #1f4e79; color: #fff; }
.pr-months .pr-has { font-weight: 700; }
/* Voilà's lab template puts outputs in Lumino panels with `contain: strict`, which would make
   the fixed overlay relative to the panel: lift the containment on the dashboard's ancestors. */
.lm-Widget:has(.pr-root) { contain: none !important; }
.pr-drill-backdrop { position: fixed; inset: 0; background: rgba(16, 24, 40, .45); z-index: 1000;
  align-items: center; justify-content: flex-start; padding: 3vh 2vw; overflow: auto; }
.pr-drill { background: #fff; border-radius: 10px; padding: 14px 18px; width: 96vw; max-width: 1500px;
  box-shadow: 0 12px 40px rgba(16, 24, 40, .35); gap: 8px; }
.pr-drill-head { justify-content: space-between; align-items: flex-start; }
.pr-drill-title .pr-t1 { font-size: 18px; font-weight: 700; color: #1f4e79; }
.pr-drill-title .pr-t2 { font-size: 12.5px; color: #5b6b7c; margin-top: 2px; }
.pr-drill-title .pr-t3 { font-size: 12px; color: #6b7a89; margin-top: 4px; max-width: 900px; }
.pr-drill-tools { align-items: center; flex-wrap: wrap; gap: 8px 16px; }
.pr-dl a { display: inline-block; margin-left: 8px; padding: 5px 12px; border-radius: 6px; font-size: 13px;
  text-decoration: none; font-weight: 600; border: 1px solid #1f4e79; color: #1f4e79; background: #fff; }
.pr-dl a:hover { background: #1f4e79; color: #fff; }
.pr-download-prepare { border: 1px solid #1f4e79 !important; color: #1f4e79 !important; background: #fff !important;
  border-radius: 6px !important; font-weight: 600; }
.pr-table-wrap { max-height: 58vh; overflow: auto; border: 1px solid #dde3ea; border-radius: 6px; }
table.pr-table { border-collapse: collapse; font-size: 12.5px; width: max-content; min-width: 100%; }
table.pr-table th { position: sticky; top: 0; background: #eef3f8; color: #1d2733; text-align: left;
  padding: 6px 8px; border-bottom: 2px solid #cfdbe8; white-space: nowrap; z-index: 1; }
table.pr-table td { padding: 5px 8px; border-bottom: 1px solid #eef1f4; white-space: nowrap; vertical-align: top; }
table.pr-table td.pr-clip { max-width: 360px; overflow: hidden; text-overflow: ellipsis; }
table.pr-table tr:nth-child(even) td { background: #fafbfc; }
table.pr-table td.pr-money, table.pr-table th.pr-money, table.pr-table td.pr-int, table.pr-table th.pr-int {
  text-align: right; font-variant-numeric: tabular-nums; }
table.pr-table th.pr-sorted { color: #1f4e79; }
.pr-drill-footer { font-size: 13.5px; background: #f5f7fa; border: 1px solid #dde3ea; border-radius: 6px;
  padding: 8px 12px; }
.pr-drill-footer b { font-variant-numeric: tabular-nums; }
.pr-note { font-size: 12px; color: #6b7a89; }
.pr-denied { font-size: 16px; }
.pr-denied .pr-denied-title { font-size: 22px; font-weight: 700; color: #a4262c; margin-bottom: 6px; }
</style>
"""


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _slug(text: str) -> str:
    """A CSS-class-safe form of an ageing bucket (``>180`` → ``180plus``)."""
    if text.startswith(">"):
        return text[1:] + "plus"
    return re.sub(r"[^0-9A-Za-z_-]", "", text)


class _Shared:
    """Layout and style models shared by the widgets that never change theirs (one model each, not one per widget)."""

    def __init__(self) -> None:
        self.layout = w.Layout()
        self.auto = w.Layout(width="auto")
        self.html = HTMLStyle()
        self.button = w.ButtonStyle()


def _boxed(children: list[w.Widget], *classes: str, vertical: bool = False, shared: _Shared | None = None,
           **layout: Any) -> w.Box:
    cls = w.VBox if vertical else w.HBox
    if layout:
        return cls(children, layout=w.Layout(**layout), _dom_classes=classes)
    if shared is not None:
        return cls(children, layout=shared.layout, _dom_classes=classes)
    return cls(children, _dom_classes=classes)


def _html(value: str = "", *classes: str, shared: _Shared | None = None) -> w.HTML:
    """An HTML widget with its CSS classes from the start (one message to the page, not one per class)."""
    if shared is not None:
        return w.HTML(value, layout=shared.layout, style=shared.html, _dom_classes=classes)
    return w.HTML(value, _dom_classes=classes)


@dataclass(frozen=True)
class DrillState:
    """What the drill-down panel shows: a cell, a month bar or an ageing bucket, one view, one order."""

    indicator: str
    month: str | None = None
    bucket: str | None = None
    by: str = "deal"
    sort: str | None = None  # column code, None = the drill-down's own order
    ascending: bool = True

    @property
    def key(self) -> tuple:
        return (self.indicator, self.month, self.bucket, self.by)


class _Clickable:
    """A rich HTML block made clickable by a transparent button laid over it (with the tooltip)."""

    def __init__(self, css: tuple[str, ...], description: str, tooltip: str, on_click: Callable[[], None],
                 shared: _Shared):
        self.html = _html(shared=shared)
        self.button = w.Button(description=description, tooltip=tooltip, layout=shared.layout, style=shared.button,
                               _dom_classes=("pr-hit",))
        self.button.on_click(lambda _b: on_click())
        self.box = w.Box([self.html, self.button], layout=shared.layout, _dom_classes=css)

    def click(self) -> None:
        """Simulate a click (tests, keyboard shortcuts)."""
        self.button.click()


class Dashboard:
    """The whole screen for one viewer. ``Dashboard(firm, login, locale).widget`` is what Voilà shows.

    ``firm`` is an opened :class:`~prospects.api.Firm`; ``login`` the viewer, decided by the
    server (never by the page). An unknown or inactive login gets an "Accès refusé" screen
    and no data.
    """

    def __init__(self, firm: Firm, login: str | None, locale: str = "fr"):
        self.firm = firm
        self.locale = locale if locale in i18n.LABELS else "fr"
        self.view: View | None = None
        self.figs: Figures | None = None
        self.period: Period | None = None
        self.unit: str | None = None
        self.collaborator: str | None = None
        self.drill_state: DrillState | None = None
        self.drill_rows: Rows | None = None
        self._frames: OrderedDict[tuple, Rows] = OrderedDict()
        self._downloads: OrderedDict[tuple, str] = OrderedDict()
        self._charts: OrderedDict[tuple, str] = OrderedDict()
        self._syncing = False
        self.month_kind = "signed_budget"  # what a month's button opens: its signed budget or its won prospects
        self.drill_backdrop: w.Box | None = None  # the drill-down panel, built when first opened
        self._shared = sh = _Shared()
        self.style = _html(CSS, shared=sh)
        self.header = _html("", "pr-header-html", shared=sh)
        self.status = _html("", "pr-status", shared=sh)
        self.message = _html("", "pr-message", shared=sh)
        self.root = _boxed([self.style], "pr-root", vertical=True, shared=sh)
        try:
            self.view = firm.as_viewer(login)  # type: ignore[arg-type]
        except AccessDenied as exc:
            self._show_denied(str(exc))
            return
        self._build()
        with self._busy(shown=False):
            self._refresh()

    # -- public -------------------------------------------------------------------
    @property
    def widget(self) -> w.Box:
        """The root widget to display."""
        return self.root

    # -- labels -------------------------------------------------------------------
    def _l(self, key: str) -> str:
        return i18n.label(key, self.locale)

    def _u(self, key: str, **kw: Any) -> str:
        text = UI[self.locale][key]
        return text.format(**kw) if kw else text

    # -- states: busy, errors, refusal ---------------------------------------------
    @contextmanager
    def _busy(self, shown: bool = True) -> Iterator[None]:
        """Show "Calcul en cours…" while a callback works; never let a traceback reach the page.

        ``shown=False`` when the dashboard is being built (nothing on screen yet: nothing to say).
        """
        if shown:
            self.status.value = f'<span class="pr-busy-text">{_esc(self._l("busy"))}</span>'
            self.root.add_class("pr-busy")
            self.message.value = ""
        try:
            yield
        except AccessDenied as exc:
            self._error(str(exc) or self._l("access_denied"))
        except Exception:  # a callback must never show a traceback: a short message, and the log
            log.exception("dashboard callback failed")
            self._error(self._l("error"))
        finally:
            if shown:
                self.root.remove_class("pr-busy")
                self.status.value = ""

    def _error(self, text: str) -> None:
        self.message.value = f'<div class="pr-error" role="alert">{_esc(text)}</div>'

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> None:
            if self._syncing:
                return
            with self._busy():
                fn(*args, **kwargs)

        return run

    def _show_denied(self, reason: str) -> None:
        title = self._l("access_denied")
        self.header.value = self._header_html(None)
        denied = _html(
            f'<div class="pr-denied"><div class="pr-denied-title">{_esc(title)}</div>'
            f'<div>{_esc(reason)}</div><div class="pr-note">{_esc(self._u("denied_hint"))}</div></div>',
            "pr-access-denied", shared=self._shared,
        )
        card = _boxed([denied], "pr-card", vertical=True, shared=self._shared)
        self.root.children = (self.style, self._header_box(), card)

    # -- layout -------------------------------------------------------------------
    def _header_html(self, period: Period | None) -> str:
        menu = _esc(self._l("menu")).replace("›", "<span>›</span>")
        who = ""
        if self.view is not None:
            v = self.view.viewer
            fn = i18n.FUNCTION_LABELS[self.locale].get(v.function, v.function)
            asof = f'{_esc(self._l("as_of"))} {_esc(i18n.date(period.as_of, self.locale))}' if period else ""
            firm = _esc(self.firm.directory.firm_name)
            who = (
                f'<div class="pr-who"><b class="pr-viewer">{_esc(v.full_name)}</b> · '
                f'<span class="pr-function">{_esc(fn)}</span><br>'
                f'<span class="pr-firm">{firm}</span> · <span class="pr-asof">{asof}</span></div>'
            )
        return (
            '<div style="display:flex;justify-content:space-between;align-items:center;gap:16px">'
            f'<div class="pr-title">{menu}</div>{who}</div>'
        )

    def _header_box(self) -> w.Box:
        return _boxed([self.header], "pr-header", vertical=True, shared=self._shared)

    def _build(self) -> None:
        assert self.view is not None
        loc = self.locale
        sh = self._shared
        current = self.view.period()
        previous = self.view.period(previous=True)
        # -- filters --------------------------------------------------------------
        self.fy = w.ToggleButtons(
            options=[
                (self._u("fy_current", label=self._l("current_year"), fy=current.fiscal_year), "current"),
                (self._u("fy_previous", label=self._l("previous_year"), fy=previous.fiscal_year), "previous"),
            ],
            value="current",
            tooltips=[
                f"{i18n.date(current.start, loc)} – {i18n.date(current.as_of, loc)}",
                f"{i18n.date(previous.start, loc)} – {i18n.date(previous.as_of, loc)}",
            ],
            _dom_classes=("pr-filter-fy",),
        )
        self.fy.observe(self._guard(self._on_fy), names="value")
        groups: list[w.Widget] = [self._group(self._l("fiscal_year"), self.fy, "pr-group-fy")]
        self.region = self.agency = self.team = None
        self.collaborator_box = None
        self._people: dict[str, str] = {}
        if self.view.viewer.has_filters:
            opts = self.view.filter_options()
            self._units = opts["units"].set_index("id", drop=False)
            people = opts["collaborators"]
            self._people = {
                f"{r.full_name} ({r.login})": r.login for r in people.itertuples(index=False)
            }
            first = [(self._l("mine"), _MINE)]
            for r in self._units.itertuples(index=False):
                if r.kind == "firm":
                    first.append((self._u("whole_firm", name=r.name), r.id))
            for r in self._units.itertuples(index=False):
                if r.kind == "region":
                    first.append((r.name, r.id))
            self.region = w.Dropdown(options=first, value=_MINE, description="", layout=w.Layout(width="210px"),
                                     _dom_classes=("pr-filter-region",))
            self.agency = w.Dropdown(options=[(self._u("all_agencies"), _ALL)], value=_ALL, layout=w.Layout(width="160px"),
                                     _dom_classes=("pr-filter-agency",))
            self.team = w.Dropdown(options=[(self._u("all_teams"), _ALL)], value=_ALL, layout=w.Layout(width="160px"),
                                   _dom_classes=("pr-filter-team",))
            self._cascade()
            for dd in (self.region, self.agency, self.team):
                dd.observe(self._guard(self._on_org), names="value")
            org = _boxed(
                [self._labelled(self._u("region"), self.region), self._labelled(self._u("agency"), self.agency),
                 self._labelled(self._u("team"), self.team)],
                "pr-org", shared=sh,
            )
            groups.append(self._group(self._l("organisation"), org, "pr-group-org"))
            self.collaborator_box = w.Combobox(
                options=list(self._people),
                value="",
                placeholder=self._u("search_collaborator"),
                ensure_option=False,
                continuous_update=True,
                layout=w.Layout(width="220px"),
                _dom_classes=("pr-filter-collaborator",),
            )
            self.collaborator_box.observe(self._guard(self._on_collaborator), names="value")
            self.clear_collaborator = w.Button(description="×", tooltip=self._u("clear"), layout=w.Layout(width="34px"),
                                               _dom_classes=("pr-filter-collaborator-clear",))
            self.clear_collaborator.on_click(lambda _b: setattr(self.collaborator_box, "value", ""))
            if not self._people:
                self.collaborator_box.disabled = self.clear_collaborator.disabled = True
            groups.append(
                self._group(self._l("collaborators"),
                            _boxed([self.collaborator_box, self.clear_collaborator], "pr-collab", shared=sh), "pr-group-collab")
            )
        filters = _boxed(groups, "pr-filters", shared=sh)
        # -- indicator table --------------------------------------------------------
        self.cells: dict[str, _Clickable] = {}
        for code in (*TABLE_CELLS, "converted_prospects"):
            css = ("pr-tile", f"pr-cell-{code}") if code != "converted_prospects" else ("pr-line", "pr-click", f"pr-cell-{code}")
            if code == "signed_budget":
                css = (*css, "pr-wide")
            self.cells[code] = _Clickable(
                css, self._l(code), definition(code, loc), lambda c=code: self._guard(self._open)(DrillState(c)), sh,
            )
        self.period_html = _html("", "pr-period", shared=sh)
        grid = w.Box([self.cells[c].box for c in TABLE_CELLS], layout=sh.layout, _dom_classes=("pr-grid",))
        hint = _html(f'<div class="pr-hint">{_esc(self._u("hint"))}</div>', shared=sh)
        table_card = _boxed(
            [_html(f'<div class="pr-card-title">{_esc(self._l("table"))}</div>', shared=sh), self.period_html, grid, hint],
            "pr-card", "pr-table-card", vertical=True, flex="3 1 640px",
        )
        # -- beside: conversion, rates, median, ageing ------------------------------
        self.rates_html = _html(shared=sh)
        self.ageing_head = _html("", "pr-line-head", shared=sh)
        self.ageing_rows = _boxed([], "pr-ageing", vertical=True, shared=sh)
        self.buckets: dict[str, _Clickable] = {}
        side = _boxed(
            [
                _html(f'<div class="pr-card-title">{_esc(self._u("rates"))}</div>', shared=sh),
                self.cells["converted_prospects"].box,
                self.rates_html,
                _html(
                    f'<div class="pr-card-title" style="margin-top:12px" title="{_esc(definition("ageing", loc))}">'
                    f'{_esc(self._l("ageing"))}</div>', shared=sh,
                ),
                self.ageing_head,
                self.ageing_rows,
            ],
            "pr-card", "pr-side-card", vertical=True, flex="2 1 340px",
        )
        # -- chart and months -------------------------------------------------------
        self.chart = _html("", "pr-chart", shared=sh)  # inline SVG (charts.monthly_svg)
        self.months: dict[str, w.Button] = {}
        self.months_box = _boxed([], "pr-months", shared=sh)
        chart_card = _boxed(
            [
                _html(
                    f'<div class="pr-card-title" title="{_esc(definition("won_prospects", loc))}">{_esc(self._l("chart"))}</div>',
                    shared=sh,
                ),
                self.chart,
                _html(f'<div class="pr-hint">{_esc(self._u("months"))}</div>', shared=sh),
                self.months_box,
            ],
            "pr-card", "pr-chart-card", vertical=True, shared=sh,
        )
        # the drill-down panel (an overlay) is built the first time a figure is clicked
        body = _boxed(
            [_boxed([table_card, side], "pr-top", flex_flow="row wrap", align_items="stretch"), chart_card],
            "pr-body", vertical=True, shared=sh,
        )
        top = _boxed([filters, self.status, self.message], "pr-controls", vertical=True, shared=sh)
        self.root.children = (self.style, self._header_box(), top, body)

    def _group(self, title: str, content: w.Widget, css: str) -> w.Box:
        sh = self._shared
        return _boxed([_html(f'<div class="pr-group-label">{_esc(title)}</div>', shared=sh), content], "pr-group", css,
                      vertical=True, shared=sh)

    def _labelled(self, title: str, content: w.Widget) -> w.Box:
        sh = self._shared
        return _boxed([_html(f'<div class="pr-note">{_esc(title)}</div>', shared=sh), content], "pr-labelled",
                      vertical=True, shared=sh)

    def _build_drill(self) -> None:
        """The drill-down panel, once, the first time a figure, a month or a bucket is opened."""
        if self.drill_backdrop is not None:
            return
        sh = self._shared
        self.drill_title = _html("", "pr-drill-title", shared=sh)
        self.drill_close = w.Button(description=f"{self._l('close')} ×", layout=sh.auto, style=sh.button,
                                    _dom_classes=("pr-drill-close",))
        self.drill_close.on_click(lambda _b: self.close_drill())
        self.drill_month_kind = w.ToggleButtons(
            options=[(self._u("month_fees"), "signed_budget"), (self._u("month_won"), "won_prospects")],
            value=self.month_kind, _dom_classes=("pr-drill-month-kind",),
        )
        self.drill_month_kind.observe(self._guard(self._on_month_kind), names="value")
        self.drill_by = w.ToggleButtons(options=[(self._l("by_deal"), "deal"), (self._l("by_document"), "document")],
                                        value="deal", _dom_classes=("pr-drill-by",))
        self.drill_by.observe(self._guard(self._on_by), names="value")
        self.drill_sort = w.Dropdown(options=[(self._u("default_order"), _ALL)], value=_ALL, layout=w.Layout(width="220px"),
                                     _dom_classes=("pr-drill-sort",))
        self.drill_sort.observe(self._guard(self._on_sort), names="value")
        self.drill_order = w.ToggleButtons(options=[("↑", True), ("↓", False)], value=True,
                                           tooltips=[self._u("ascending"), self._u("descending")],
                                           style={"button_width": "38px"}, _dom_classes=("pr-drill-order",))
        self.drill_order.observe(self._guard(self._on_sort), names="value")
        self.drill_downloads = _html("", "pr-dl", shared=sh)
        self.drill_prepare = w.Button(description="", icon="download", layout=w.Layout(width="auto"),
                                      _dom_classes=("pr-download-prepare",))
        self.drill_prepare.on_click(lambda _b: self._guard(self._prepare_downloads)())
        self.drill_table = _html("", "pr-drill-table", shared=sh)
        self.drill_note = _html(shared=sh)
        self.drill_footer = _html("", "pr-drill-footer", shared=sh)
        sort_box = _boxed([_html(f'<span class="pr-note">{_esc(self._u("sort_by"))}</span>', shared=sh), self.drill_sort,
                           self.drill_order], "pr-sortbox", align_items="center")
        tools = _boxed([self.drill_by, sort_box, self.drill_prepare, self.drill_downloads], "pr-drill-tools", shared=sh)
        self.drill_month_row = _boxed([self.drill_month_kind], "pr-drill-month-row")  # a layout of its own: shown or hidden
        panel = _boxed(
            [_boxed([self.drill_title, self.drill_close], "pr-drill-head", shared=sh), self.drill_month_row, tools,
             self.drill_table, self.drill_note, self.drill_footer],
            "pr-drill", vertical=True, shared=sh,
        )
        self.drill_panel = panel
        self.drill_backdrop = _boxed([panel], "pr-drill-backdrop", vertical=True)
        self.drill_backdrop.layout.display = "none"
        self.root.children = (*self.root.children, self.drill_backdrop)

    # -- the organisation cascade ---------------------------------------------------
    def _cascade(self) -> None:
        """Agency and team choices under the chosen region / agency, within the perimeter."""
        assert self.region is not None and self.agency is not None and self.team is not None
        units = self._units
        in_perimeter = set(units.index)
        top = self.region.value
        top_kind = units.at[top, "kind"] if top in in_perimeter else None
        agencies = units[units["kind"] == "agency"]
        if top_kind == "region":
            agencies = agencies[agencies["region"] == top]
        elif top_kind != "firm":  # "Mes affaires": agencies whose region is not offered above
            agencies = agencies[~agencies["region"].isin(in_perimeter)]
        self._syncing = True
        try:
            keep = self.agency.value if self.agency.value in set(agencies.index) else _ALL
            self.agency.options = [(self._u("all_agencies"), _ALL), *[(r.name, r.id) for r in agencies.itertuples(index=False)]]
            self.agency.value = keep
            self.agency.disabled = len(agencies) == 0
            teams = units[units["kind"] == "team"]
            if self.agency.value != _ALL:
                teams = teams[teams["parent_id"] == self.agency.value]
            else:
                teams = teams[~teams["parent_id"].isin(in_perimeter)]  # teams offered only under their agency
            keep = self.team.value if self.team.value in set(teams.index) else _ALL
            self.team.options = [(self._u("all_teams"), _ALL), *[(r.name, r.id) for r in teams.itertuples(index=False)]]
            self.team.value = keep
            self.team.disabled = len(teams) == 0
        finally:
            self._syncing = False

    def _chosen_unit(self) -> str | None:
        for dd in (self.team, self.agency):
            if dd is not None and dd.value != _ALL:
                return dd.value
        if self.region is not None and self.region.value != _MINE:
            return self.region.value
        return None

    # -- callbacks --------------------------------------------------------------------
    def _on_fy(self, _change: Any = None) -> None:
        self._refresh()

    def _on_org(self, _change: Any = None) -> None:
        self._cascade()
        self.unit = self._chosen_unit()
        self._refresh()

    def _on_collaborator(self, change: Any = None) -> None:
        text = (self.collaborator_box.value if self.collaborator_box is not None else "").strip()
        if text == "":
            login = None
        elif text in self._people:
            login = self._people[text]
        else:
            return  # still typing: nothing chosen yet
        if login == self.collaborator:
            return
        self.collaborator = login
        self._refresh()

    def _on_month_kind(self, _change: Any = None) -> None:
        self.month_kind = self.drill_month_kind.value
        if self.drill_state is not None and self.drill_state.month is not None:
            self._show_drill(replace(self.drill_state, indicator=self.drill_month_kind.value, sort=None))

    def _on_by(self, _change: Any = None) -> None:
        if self.drill_state is not None:
            self._show_drill(replace(self.drill_state, by=self.drill_by.value, sort=None))

    def _on_sort(self, _change: Any = None) -> None:
        if self.drill_state is not None:
            self._show_drill(replace(self.drill_state, sort=self.drill_sort.value or None, ascending=self.drill_order.value))

    def _open(self, state: DrillState) -> None:
        self._show_drill(state)

    # -- public actions (also used by tests) ------------------------------------------
    def set_fiscal_year(self, which: str) -> None:
        """``current`` or ``previous``, as the Exercice switch does."""
        self.fy.value = which

    def open_cell(self, code: str) -> None:
        """Open the drill-down of a cell, as a click does."""
        self.cells[code].click()

    def open_month(self, month: str) -> None:
        """Open the drill-down of a month of the chart, as a click does."""
        self.months[month].click()

    def open_bucket(self, bucket: str) -> None:
        """Open the drill-down of an ageing bucket, as a click does."""
        self.buckets[bucket].click()

    def close_drill(self) -> None:
        """Hide the drill-down panel."""
        self.drill_state = None
        self.drill_rows = None
        if self.drill_backdrop is not None:
            self.drill_backdrop.layout.display = "none"

    # -- figures ----------------------------------------------------------------------
    def _current_period(self) -> Period:
        assert self.view is not None
        return self.view.period(previous=self.fy.value == "previous")

    def _refresh(self) -> None:
        """Ask the view for the figures under the current filters and show them."""
        assert self.view is not None
        period = self._current_period()
        figs = self.view.figures(unit=self.unit, collaborator=self.collaborator, period=period)
        self.period, self.figs = period, figs
        self._frames.clear()
        self._downloads.clear()
        self.header.value = self._header_html(period)
        loc = self.locale
        self.period_html.value = _esc(
            self._u("period", fy=period.fiscal_year, start=i18n.date(period.start, loc), as_of=i18n.date(period.as_of, loc))
        ) + f' · <span class="pr-scope">{_esc(self._scope_label())}</span>'
        self._show_table(figs)
        self._show_side(figs)
        self._show_chart(figs)
        if self.drill_state is not None:
            state = self.drill_state
            if state.month is not None and state.month not in set(figs.monthly["month"]):
                self.close_drill()
            else:
                self._show_drill(state)

    def _scope_label(self) -> str:
        return scope_label(self.firm.directory, self.unit, self.collaborator, self.locale)

    def _show_table(self, figs: Figures) -> None:
        rows = indicator_table(figs, self.locale)
        prev_label = _esc(self._u("prev_short"))
        by_line = {(r.code, r.part if isinstance(r.part, str) else None): r for r in rows.itertuples(index=False)}
        for code in TABLE_CELLS:
            part = "total" if code in ("potential_fees", "signed_budget") else None
            r = by_line[(code, part)]
            body = (
                f'<div title="{_esc(r.definition)}"><div class="pr-tile-label">{_esc(self._l(code))}</div>'
                f'<div class="pr-value">{_esc(r.value)}</div>'
            )
            if code == "signed_budget":
                rec, one = by_line[(code, "recurring")], by_line[(code, "one_off")]
                body += (
                    '<div class="pr-split">'
                    f'<span class="pr-dot-rec">■</span> {_esc(self._l("recurring"))} <b class="pr-split-recurring">{_esc(rec.value)}</b>'
                    f' &nbsp; <span class="pr-dot-one">■</span> {_esc(self._l("one_off"))} <b class="pr-split-one_off">{_esc(one.value)}</b></div>'
                    f'<div class="pr-prev">{prev_label} <span class="pr-prev-value">{_esc(r.previous)}</span>'
                    f' ({_esc(self._l("recurring"))} {_esc(rec.previous)}, {_esc(self._l("one_off"))} {_esc(one.previous)})</div>'
                )
            else:
                body += f'<div class="pr-prev">{prev_label} <span class="pr-prev-value">{_esc(r.previous)}</span></div>'
            self.cells[code].html.value = body + "</div>"

    def _show_side(self, figs: Figures) -> None:
        side = beside_table(figs, self.locale).set_index("code")
        conv = side.loc["converted_prospects"]
        self.cells["converted_prospects"].html.value = (
            f'<div class="pr-line-in" title="{_esc(conv["definition"])}"><span>{_esc(conv["label"])}</span>'
            f'<span class="pr-num pr-value-small">{_esc(conv["value"])}</span>'
            f'<span class="pr-num-prev">{_esc(self._u("prev_short"))} {_esc(conv["previous"])}</span></div>'
        )
        lines = []
        for code in ("win_rate.by_count", "win_rate.by_value", "median_days_to_sign"):
            r = side.loc[code]
            css = "pr-" + code.replace(".", "-").replace("_", "-")
            lines.append(
                f'<div class="pr-line"><div class="pr-line-in {css}" title="{_esc(r["definition"])}"><span>{_esc(r["label"])}</span>'
                f'<span class="pr-num">{_esc(r["value"])}</span>'
                f'<span class="pr-num-prev">{_esc(self._u("prev_short"))} {_esc(r["previous"])}</span></div></div>'
            )
        self.rates_html.value = "".join(lines)
        # ageing
        table = ageing_table(figs, self.locale)
        self.ageing_head.value = (
            f'<div class="pr-line-in"><span>{_esc(self._l("bucket"))}</span><span>{_esc(self._l("offers"))}</span>'
            f'<span>{_esc(self._l("total"))}</span></div>'
        )
        codes = list(figs.ageing["bucket"])
        if set(codes) != set(self.buckets):
            self.buckets = {
                b: _Clickable(("pr-line", "pr-click", f"pr-bucket-{_slug(b)}"), b,
                              self._u("bucket_tip", bucket=label),
                              lambda b=b: self._guard(self._open)(DrillState("offers_in_progress", bucket=b)), self._shared)
                for b, label in zip(codes, table["bucket"], strict=True)
            }
            self.ageing_rows.children = [c.box for c in self.buckets.values()]
        for b, r in zip(codes, table.itertuples(index=False), strict=True):
            self.buckets[b].html.value = (
                f'<div class="pr-line-in"><span>{_esc(r.bucket)}</span><span class="pr-num">{_esc(r.offers)}</span>'
                f'<span class="pr-num">{_esc(r.total)}</span></div>'
            )

    def _show_chart(self, figs: Figures) -> None:
        key = (figs.period, self.unit, self.collaborator)
        svg = self._charts.get(key)
        if svg is None:
            svg = charts.monthly_svg(figs.monthly, self.locale)
            self._charts[key] = svg
            while len(self._charts) > 24:
                self._charts.popitem(last=False)
        self.chart.value = svg
        table = monthly_table(figs, self.locale)
        months = list(figs.monthly["month"])
        new = months != list(self.months)
        if new:
            self.months = {}
        for m, r, won in zip(months, table.itertuples(index=False), figs.monthly["won_prospects"], strict=True):
            tip = self._u("month_tip", month=r.month, won=r.won_prospects, total=r.total, recurring=r.recurring,
                          one_off=r.one_off)
            classes = (f"pr-month-{m}", "pr-has") if r.total != i18n.money(0, self.locale) or int(won) else (f"pr-month-{m}",)
            if new:  # everything at creation: one message per button
                b = w.Button(description=r.month, tooltip=tip, layout=self._shared.auto, style=self._shared.button,
                             _dom_classes=classes)
                b.on_click(lambda _b, m=m: self._guard(self._open)(DrillState(self.month_kind, month=m)))
                self.months[m] = b
                continue
            b = self.months[m]  # the same months, other figures: only what changed is sent
            b.description, b.tooltip = r.month, tip
            if tuple(b._dom_classes) != classes:
                b._dom_classes = classes
        if new:
            self.months_box.children = list(self.months.values())

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
            while len(self._frames) > 8:
                self._frames.popitem(last=False)
        return rows

    def _show_drill(self, state: DrillState) -> None:
        self._build_drill()
        rows = self._rows(state)
        self.drill_state, self.drill_rows = state, rows
        loc = self.locale
        # controls mirror the state without re-triggering callbacks
        self._syncing = True
        try:
            self.drill_by.value = state.by
            if state.month is not None:
                self.drill_month_kind.value = state.indicator
            cols = _display_columns(state.by)
            self.drill_sort.options = [(self._u("default_order"), _ALL),
                                       *[(i18n.COLUMN_LABELS[loc][c], c) for c in cols]]
            self.drill_sort.value = state.sort or _ALL
            self.drill_order.value = state.ascending
        finally:
            self._syncing = False
        self.drill_month_row.layout.display = None if state.month is not None else "none"
        # title: what, when, scope
        what = self._l(state.indicator)
        if state.month is not None:
            what += f" — {i18n.month(state.month, loc)}"
        if state.bucket is not None:
            what += f" — {state.bucket} {self._l('days')}"
        p = self.period
        assert p is not None
        sub = (
            self._u("period", fy=p.fiscal_year, start=i18n.date(p.start, loc), as_of=i18n.date(p.as_of, loc))
            + " · " + self._scope_label()
        )
        code = "won_prospects" if state.month is not None and state.indicator == "won_prospects" else state.indicator
        code = "ageing" if state.bucket is not None else code
        self.drill_title.value = (
            f'<div class="pr-t1">{_esc(what)}</div><div class="pr-t2">{_esc(sub)}</div>'
            f'<div class="pr-t3">{_esc(definition(code, loc))}</div>'
        )
        # only the rows on screen are materialised (text, lines); sorting needs no text but the sorted column's
        sort = state.sort if state.sort in cols else None
        head = rows.frame(rows.order(sort, state.ascending), MAX_ROWS)
        if state.by == "document":
            head = self._with_lines(head)
        self.drill_table.value = self._table_html(head, state)
        self.drill_note.value = (
            f'<div class="pr-note">{_esc(self._u("first_rows", shown=MAX_ROWS, n=i18n.number(len(rows), loc)))}</div>'
            if len(rows) > MAX_ROWS else ""
        )
        self.drill_footer.value = self._footer_html(rows.totals(), state)
        links = self._downloads.get(state.key)
        if links is None and len(rows) <= EAGER_DOWNLOAD_ROWS:
            links = self._downloads_html(rows, state)
        self.drill_downloads.value = links or ""
        self.drill_prepare.description = self._u("prepare", n=i18n.number(len(rows), loc))
        self.drill_prepare.layout.display = "none" if links is not None else None
        self.drill_backdrop.layout.display = "flex"

    def _prepare_downloads(self) -> None:
        """Build the CSV and Excel files of a large drill-down, on demand."""
        if self.drill_state is None or self.drill_rows is None:
            return
        self.drill_downloads.value = self._downloads_html(self.drill_rows, self.drill_state)
        self.drill_prepare.layout.display = "none"

    def _with_lines(self, frame: pd.DataFrame) -> pd.DataFrame:
        """By-document rows with every line (mission, billing, amount), for these rows only."""
        return self.view.with_lines(frame)

    def _table_html(self, frame: pd.DataFrame, state: DrillState) -> str:
        loc = self.locale
        cols = _display_columns(state.by) + (["lines"] if "lines" in frame.columns else [])
        if frame.empty:
            return f'<div class="pr-note" style="padding:10px">{_esc(self._u("no_rows"))}</div>'
        heads = []
        for c in cols:
            css = "pr-money" if c in ("recurring", "one_off", "total") else ("pr-int" if c == "documents" else "")
            mark = ""
            if c == state.sort:
                css += " pr-sorted"
                mark = " ▲" if state.ascending else " ▼"
            heads.append(f'<th class="{css}" data-col="{c}">{_esc(i18n.COLUMN_LABELS[loc][c])}{mark}</th>')
        body = []
        statuses = i18n.STATUS_LABELS[loc]
        for rec in frame[cols].to_dict("records"):
            cells = []
            for c in cols:
                v = rec[c]
                css = ""
                if c in ("recurring", "one_off", "total"):
                    text, css = i18n.money(v, loc), "pr-money"
                elif c == "documents":
                    text, css = i18n.number(v, loc), "pr-int"
                elif c in ("created_on", "sent_on", "decided_on"):
                    text = i18n.date(v, loc)
                elif c == "status":
                    text = statuses.get(v, v)
                elif c == "lines":
                    text = "; ".join(
                        f"{ln['mission']} ({statuses[ln['billing']].lower()}) {i18n.money(ln['amount_cents'], loc)}" for ln in v
                    )
                    css = "pr-clip"
                else:
                    text = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else v
                tip = f' title="{_esc(text)}"' if css == "pr-clip" else ""
                cells.append(f'<td class="{css}" data-col="{c}"{tip}>{_esc(text)}</td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
        return (
            '<div class="pr-table-wrap"><table class="pr-table"><thead><tr>' + "".join(heads) + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></div>"
        )

    def _footer_html(self, t: dict[str, int], state: DrillState) -> str:
        loc = self.locale
        money = (
            f'{_esc(self._l("recurring"))} <b class="pr-foot-recurring">{_esc(i18n.money(t["recurring"], loc))}</b> · '
            f'{_esc(self._l("one_off"))} <b class="pr-foot-one_off">{_esc(i18n.money(t["one_off"], loc))}</b> · '
            f'{_esc(self._l("total"))} <b class="pr-foot-total">{_esc(i18n.money(t["total"], loc))}</b>'
        )
        deals = self._u("deal" if t["rows"] == 1 else "deals")
        docs = self._u("document" if t["documents"] == 1 else "documents")
        if state.by == "deal":
            count = (
                f'<b class="pr-foot-rows">{_esc(i18n.number(t["rows"], loc))}</b> {_esc(deals)} · '
                f'<b class="pr-foot-documents">{_esc(i18n.number(t["documents"], loc))}</b> {_esc(docs)}'
            )
        else:
            count = f'<b class="pr-foot-rows pr-foot-documents">{_esc(i18n.number(t["rows"], loc))}</b> {_esc(docs)}'

        return f"<div>{count} · {money}</div>"

    def _downloads_html(self, rows: Rows, state: DrillState) -> str:
        cached = self._downloads.get(state.key)
        if cached is not None:
            return cached
        html_links = self._make_downloads(rows.frame(), state)  # a download writes every row
        self._downloads[state.key] = html_links
        while len(self._downloads) > 4:
            self._downloads.popitem(last=False)
        return html_links

    def _make_downloads(self, frame: pd.DataFrame, state: DrillState) -> str:
        loc = self.locale
        if state.by == "document":
            frame = self._with_lines(frame)
        assert self.period is not None
        stem = "_".join(
            x for x in ("prospects", state.indicator, state.month, _slug(state.bucket) if state.bucket else None,
                        state.by, self.period.as_of.isoformat()) if x
        )
        csv_text = exports.to_csv(frame, state.by, None, loc) or ""
        csv_b64 = base64.b64encode(("\ufeff" + csv_text).encode("utf-8")).decode("ascii")
        xlsx_b64 = base64.b64encode(exports.xlsx_bytes(frame, state.by, loc)).decode("ascii")
        xlsx_mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return (
            f'<a class="pr-download-csv" download="{stem}.csv" href="data:text/csv;charset=utf-8;base64,{csv_b64}">'
            f'↓ {_esc(self._l("download_csv"))}</a>'
            f'<a class="pr-download-xlsx" download="{stem}.xlsx" href="data:{xlsx_mime};base64,{xlsx_b64}">'
            f'↓ {_esc(self._l("download_xlsx"))}</a>'
        )


#: On-screen column order: what identifies the row, then the amounts, then the people and places
#: (every column of METRICS.md is shown; the exports keep METRICS.md's order).
_FIRST = {
    "deal": ("deal_id", "deal", "prospect", "documents", "recurring", "one_off", "total"),
    "document": ("document_id", "deal", "prospect", "status", "decided_on", "recurring", "one_off", "total",
                 "doc_type", "template", "title", "created_on", "sent_on", "deal_id"),
}


def _display_columns(by: str) -> list[str]:
    cols = list(drill_columns(by))
    first = [c for c in _FIRST[by] if c in cols]
    return first + [c for c in cols if c not in first]


def build_dashboard(firm: Firm, login: str | None, locale: str = "fr") -> w.Box:
    """The dashboard widget of one viewer (see :class:`Dashboard`)."""
    return Dashboard(firm, login, locale).widget


def _message_widget(title: str, text: str, css: str) -> w.Box:
    box = _boxed(
        [w.HTML(CSS), w.HTML(f'<div class="{css}"><div class="pr-denied-title">{_esc(title)}</div><div>{_esc(text)}</div></div>')],
        "pr-root", vertical=True,
    )
    return box


def _kernel_logging() -> None:
    """Log callback failures to the kernel process's real stderr (the server's log), never to the page."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("%(asctime)s prospects.dashboard %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


#: The firm a warm kernel opened ahead of its viewer (:func:`warm_up`), taken once.
_WARM: dict[str, Any] = {}


def warm_up(config: str | None = None) -> None:
    """Get this kernel ready for a viewer not known yet (``prospects serve``'s warm pool).

    Imports the dashboard's modules and opens the firm with the server's settings, as
    :func:`dashboard_from_settings` does, and keeps it for that call. No viewer, no viewer
    data: the login arrives later, injected into the notebook by the server.
    """
    from .api import open_firm
    from .config import load_settings

    _kernel_logging()
    settings = load_settings(config=config)
    firm = open_firm(settings=settings)
    _WARM["firm"] = (settings, firm.extract_info, firm)


def _firm_for(settings: Any) -> Firm:
    """The firm opened by :func:`warm_up` if it is still the one ``settings`` open, else a new one."""
    from .api import open_firm

    warm = _WARM.pop("firm", None)
    if warm is not None:
        warm_settings, info, firm = warm
        if warm_settings == settings and firm.extract_info == info:  # same settings and date, same load
            return firm
        log.info("warm firm not reused: the settings or the data changed since it was opened")
        firm.engine.dispose()
    return open_firm(settings=settings)


def dashboard_from_settings(login: str | None, *, config: str | None = None, locale: str | None = None) -> w.Box:
    """What the notebook displays: open the firm from the settings (environment, config file) and build.

    ``login`` is injected by the server (:mod:`prospects.serving`). Any failure to open the
    database shows a short message, never a traceback. In a warm kernel the firm was opened
    ahead (:func:`warm_up`) and is reused when the settings and the data are unchanged.
    """
    from .config import load_settings

    _kernel_logging()
    loc = locale if locale in i18n.LABELS else "fr"
    try:
        settings = load_settings(config=config, locale=locale)
        loc = settings.locale
        firm = _firm_for(settings)
        return Dashboard(firm, login, settings.locale).widget
    except AccessDenied as exc:
        return _message_widget(i18n.label("access_denied", loc), str(exc), "pr-denied pr-access-denied")
    except Exception:
        log.exception("the dashboard could not be built")
        return _message_widget(i18n.label("menu", loc), i18n.label("error", loc), "pr-denied pr-error")
