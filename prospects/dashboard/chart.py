"""The chart card "Nombre de prospects transformés par date": the SVG chart of
:func:`prospects.charts.monthly_svg` (drawn inline, no matplotlib, at its natural width in a
container that scrolls on narrow screens), whose bars and points open their month's drill-down.

A bar or a point of the SVG cannot speak to the kernel: each month has two buttons never
shown (:func:`~prospects.dashboard.widgets.bridge`), ``pr-month-<YYYY-MM>`` (the month's
signed budget) and ``pr-won-<YYYY-MM>`` (its prospects won), that the page's script clicks
for the bar or point clicked (or pressed with a keyboard).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

import ipywidgets as w

from .. import charts
from ..dictionary import definition
from .labels import Words
from .widgets import Shared, boxed, bridge, esc, html_block

if TYPE_CHECKING:
    from ..figures import Figures

#: Charts kept drawn (one per period and filter seen), the oldest dropped first.
KEPT_CHARTS = 24


class Chart:
    """The chart card; ``months`` and ``won`` map ``YYYY-MM`` to the month's two buttons."""

    def __init__(self, words: Words, shared: Shared, open_month: Callable[[str, str], None]):
        self.words, self.shared, self._open_month = words, shared, open_month
        sh, lab = shared, words.label
        self.svg = html_block("", "pr-chart", shared=sh)
        self.months: dict[str, w.Button] = {}
        self.won: dict[str, w.Button] = {}
        self.bridges = boxed([], "pr-bridges", shared=sh)
        self._drawn: OrderedDict[Hashable, str] = OrderedDict()
        self.box = boxed(
            [
                html_block(
                    f'<h2 class="pr-card-title" title="{esc(definition("won_prospects", words.locale))}">'
                    f'{esc(lab("chart"))}</h2>',
                    shared=sh,
                ),
                boxed([self.svg], "pr-chart-scroll", shared=sh),
                html_block(f'<p class="pr-hint">{esc(words.ui("chart_hint"))}</p>', shared=sh),
                self.bridges,
            ],
            "pr-card", "pr-chart-card", vertical=True, shared=sh,
        )

    def show(self, figs: Figures, key: Hashable) -> None:
        """The chart of ``figs``; ``key`` names the filters (charts are kept per key)."""
        svg = self._drawn.get(key)
        if svg is None:
            svg = charts.monthly_svg(figs.monthly, self.words.locale, currency=self.words.currency)
            self._drawn[key] = svg
            while len(self._drawn) > KEPT_CHARTS:
                self._drawn.popitem(last=False)
        self.svg.value = svg
        months = list(figs.monthly["month"])
        if months != list(self.months):  # another fiscal year: its months' buttons
            sh = self.shared
            self.months = {m: bridge(f"pr-month-{m}", lambda m=m: self._open_month("signed_budget", m), sh) for m in months}
            self.won = {m: bridge(f"pr-won-{m}", lambda m=m: self._open_month("won_prospects", m), sh) for m in months}
            self.bridges.children = [*self.months.values(), *self.won.values()]
