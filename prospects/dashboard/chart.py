"""The chart card "Nombre de prospects transformés par date": the SVG chart of
:func:`prospects.charts.monthly_svg` (drawn inline, no matplotlib) and a button per month that
opens the month's drill-down.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

import ipywidgets as w

from .. import charts, i18n
from ..dictionary import definition
from ..tables import monthly_table
from .labels import Words
from .widgets import Shared, boxed, esc, html_block

if TYPE_CHECKING:
    from ..figures import Figures

#: Charts kept drawn (one per period and filter seen), the oldest dropped first.
KEPT_CHARTS = 24


class Chart:
    """The chart card; ``months`` maps ``YYYY-MM`` to its button."""

    def __init__(self, words: Words, shared: Shared, open_month: Callable[[str], None]):
        self.words, self.shared, self._open_month = words, shared, open_month
        sh, lab = shared, words.label
        self.svg = html_block("", "pr-chart", shared=sh)
        self.months: dict[str, w.Button] = {}
        self.months_box = boxed([], "pr-months", shared=sh)
        self._drawn: OrderedDict[Hashable, str] = OrderedDict()
        self.box = boxed(
            [
                html_block(
                    f'<div class="pr-card-title" title="{esc(definition("won_prospects", words.locale))}">'
                    f'{esc(lab("chart"))}</div>',
                    shared=sh,
                ),
                self.svg,
                html_block(f'<div class="pr-hint">{esc(words.ui("months"))}</div>', shared=sh),
                self.months_box,
            ],
            "pr-card", "pr-chart-card", vertical=True, shared=sh,
        )

    def show(self, figs: Figures, key: Hashable) -> None:
        """The chart and month buttons of ``figs``; ``key`` names the filters (charts are kept per key)."""
        loc, sh = self.words.locale, self.shared
        svg = self._drawn.get(key)
        if svg is None:
            svg = charts.monthly_svg(figs.monthly, loc)
            self._drawn[key] = svg
            while len(self._drawn) > KEPT_CHARTS:
                self._drawn.popitem(last=False)
        self.svg.value = svg
        table = monthly_table(figs, loc)
        months = list(figs.monthly["month"])
        new = months != list(self.months)
        if new:
            self.months = {}
        for m, r, won in zip(months, table.itertuples(index=False), figs.monthly["won_prospects"], strict=True):
            tip = self.words.ui("month_tip", month=r.month, won=r.won_prospects, total=r.total, recurring=r.recurring,
                                one_off=r.one_off)
            classes = (f"pr-month-{m}", "pr-has") if r.total != i18n.money(0, loc) or int(won) else (f"pr-month-{m}",)
            if new:  # everything at creation: one message per button
                b = w.Button(description=r.month, tooltip=tip, layout=sh.auto, style=sh.button, _dom_classes=classes)
                b.on_click(lambda _b, m=m: self._open_month(m))
                self.months[m] = b
                continue
            b = self.months[m]  # the same months, other figures: only what changed is sent
            b.description, b.tooltip = r.month, tip
            if tuple(b._dom_classes) != classes:
                b._dom_classes = classes
        if new:
            self.months_box.children = list(self.months.values())
