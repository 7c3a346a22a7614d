"""The Voilà dashboard "Suivi Business › Prospects": ipywidgets 8 wired to the package API.

Widgets only wire. Every figure comes from :class:`prospects.api.View` (``figures`` and
``drill_rows``, which scope through :func:`prospects.scoping.scope_mask`), every formatted
value from :mod:`prospects.tables` and :mod:`prospects.i18n`, every definition from
:mod:`prospects.dictionary`, the chart from :mod:`prospects.charts`, the exports from
:mod:`prospects.exports` and the drill-down footers and sort orders from :class:`prospects.drilldown.Rows`
(whose text is materialised only for the rows on screen, or all of them for a download).
Nothing is computed here: a filter change asks the view again, which recomputes from the
firm's memory-mapped figure store (no row read from the database, whatever the filter or
fiscal year: only its version stamp, to follow a new load).

One module per part of the screen, and a thin app that wires them:

* :mod:`~prospects.dashboard.filters` — *Exercice*, *Organisation*, *Collaborateurs*;
* :mod:`~prospects.dashboard.tiles` — the seven figures with N-1;
* :mod:`~prospects.dashboard.conversion` — prospects converted, win rates, ageing;
* :mod:`~prospects.dashboard.chart` — the monthly chart and its months;
* :mod:`~prospects.dashboard.drill` — the drill-down dialog;
* :mod:`~prospects.dashboard.downloads` — its CSV and Excel files;
* :mod:`~prospects.dashboard.app` — :class:`Dashboard`, the wiring, busy state and errors;
* :mod:`~prospects.dashboard.session` — the kernel's entry points (:func:`dashboard_from_settings`,
  :func:`warm_up`);
* ``widgets.py`` (building blocks), ``labels.py`` (the controls' words) and ``dashboard.css``
  (the stylesheet, shipped as package data).

What ipywidgets cannot do — roles, the dialog's focus, the chart's keyboard, a click on an
SVG bar or a column header — is done by a small script the page carries itself
(``prospects/templates/page/dashboard.js``), which only clicks the dashboard's own buttons
(``pr-bridge``, never shown): the kernel decides what a click opens.

Opening a page is cheap by construction (``prospects serve`` opens thirty at once on Monday
morning): the figures and the chart (inline SVG, :func:`prospects.charts.monthly_svg`, no
matplotlib) come with the first view, the drill-down panel is built the first time a figure
is clicked, and widgets that are never restyled share one layout and one style model (each
widget model is a message from the kernel through the server to the browser).

The viewer's login is a constructor argument, injected into the notebook by
``prospects serve`` (Voilà's prelaunch hook); no widget and no part of the URL can change
it. The filters offered are those of :meth:`~prospects.api.View.filter_options`, and the
view refuses anything else anyway.

Key widgets carry stable CSS classes for browser tests and styling: ``pr-root``,
``pr-header``, ``pr-viewer``, ``pr-asof``, ``pr-data-date``, ``pr-stale``, ``pr-status``, ``pr-message``,
``pr-filter-fy``, ``pr-filter-region``, ``pr-filter-agency``, ``pr-filter-team``,
``pr-filter-collaborator``, ``pr-collab-hint``, ``pr-notice``, ``pr-back-to-mine``,
``pr-switch-perimeter``, ``pr-cell-<code>`` (the seven cells and ``converted_prospects``),
``pr-bucket-<slug>``, ``pr-chart`` (with ``pr-bar`` and ``pr-point`` per ``data-month``),
``pr-month-<YYYY-MM>`` and ``pr-won-<YYYY-MM>`` (their buttons), ``pr-drill``,
``pr-drill-title``, ``pr-drill-by``, ``pr-drill-sort``, ``pr-drill-order``,
``pr-drill-table`` (``pr-sort`` headers, ``pr-sortcol-<column>`` their buttons),
``pr-drill-footer``, ``pr-drill-close``, ``pr-download-csv``, ``pr-download-xlsx``.
"""

from .app import Dashboard, build_dashboard
from .session import _WARM as _WARM
from .session import dashboard_from_settings, warm_up

__all__ = ["Dashboard", "build_dashboard", "dashboard_from_settings", "warm_up"]
