"""The figure tiles: "Indicateurs prospects sur l'exercice", seven figures with N-1 and their definitions.

Each tile is a :class:`~prospects.dashboard.widgets.Clickable` (``pr-cell-<code>``) that opens
its drill-down; values, N-1 and the change between them come formatted from
:func:`prospects.tables.indicator_table`. The change is told by an arrow and words as well
as by colour; the tile's accessible name holds the figure, its value, N-1 and the change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as w

from ..dictionary import definition
from ..figures import TABLE_CELLS
from ..tables import Change, indicator_table
from .labels import Words
from .widgets import Clickable, Shared, boxed, esc, html_block

if TYPE_CHECKING:
    from ..figures import Figures


def change_html(change: Change) -> str:
    """A change against N-1 as shown: arrow, ``±x %`` and words, coloured by its tone."""
    arrow = f'<span class="pr-arrow">{esc(change.arrow)}</span> ' if change.arrow else ""
    return (f'<span class="pr-change pr-{change.direction} pr-{change.tone}">{arrow}'
            f'<span class="pr-change-value">{esc(change.text)}</span> '
            f'<span class="pr-change-words">{esc(change.words)}</span></span>')


def change_words(change: Change) -> str:
    """A change against N-1 for an accessible name: ``+300 %, en hausse``."""
    return change.words if change.direction == "ns" else f"{change.text}, {change.words}"


class Tiles:
    """The indicator card: a period line, the seven tiles, a hint; ``box`` is its widget."""

    def __init__(self, words: Words, shared: Shared, open_cell: Callable[[str], None]):
        self.words = words
        sh = shared
        self.cells: dict[str, Clickable] = {}
        for code in TABLE_CELLS:
            css = ("pr-tile", f"pr-cell-{code}", *(("pr-wide",) if code == "signed_budget" else ()))
            self.cells[code] = Clickable(
                css, words.label(code), definition(code, words.locale), lambda c=code: open_cell(c), sh,
            )
        self.period_html = html_block("", "pr-period", shared=sh)
        grid = w.Box([self.cells[c].box for c in TABLE_CELLS], layout=sh.layout, _dom_classes=("pr-grid",))
        hint = html_block(f'<p class="pr-hint">{esc(words.ui("hint"))}</p>', shared=sh)
        self.box = boxed(
            [html_block(f'<h2 class="pr-card-title">{esc(words.label("table"))}</h2>', shared=sh), self.period_html,
             grid, hint],
            "pr-card", "pr-table-card", vertical=True, shared=sh,
        )

    def show(self, figs: Figures, period_html: str) -> None:
        """The figures of ``figs`` in the tiles; ``period_html`` above them (what and when)."""
        lab, u = self.words.label, self.words.ui
        self.period_html.value = period_html
        rows = indicator_table(figs, self.words.locale)
        prev_label = esc(u("prev_short"))
        by_line = {(r.code, r.part if isinstance(r.part, str) else None): r for r in rows.itertuples(index=False)}
        for code in TABLE_CELLS:
            part = "total" if code in ("potential_fees", "signed_budget") else None
            r = by_line[(code, part)]
            value = r.value
            body = (
                f'<div class="pr-tile-in" title="{esc(r.definition)}"><div class="pr-tile-label">{esc(lab(code))}</div>'
                f'<div class="pr-value">{esc(r.value)}</div>'
            )
            if code == "signed_budget":
                rec, one = by_line[(code, "recurring")], by_line[(code, "one_off")]
                body += (
                    '<div class="pr-split">'
                    f'<span class="pr-dot-rec">■</span> {esc(lab("recurring"))} <b class="pr-split-recurring">{esc(rec.value)}</b>'
                    f' &nbsp; <span class="pr-dot-one">■</span> {esc(lab("one_off"))} <b class="pr-split-one_off">{esc(one.value)}</b></div>'
                    f'<div class="pr-prev">{prev_label} <span class="pr-prev-value">{esc(r.previous)}</span>'
                    f' ({esc(lab("recurring"))} {esc(rec.previous)}, {esc(lab("one_off"))} {esc(one.previous)})</div>'
                )
                value = f"{r.value} ({lab('recurring')} {rec.value}, {lab('one_off')} {one.value})"
            else:
                body += f'<div class="pr-prev">{prev_label} <span class="pr-prev-value">{esc(r.previous)}</span></div>'
            body += f'<div class="pr-prev">{change_html(r.change)}</div></div>'
            name = u("figure_name", label=lab(code), value=value, previous=r.previous, change=change_words(r.change))
            self.cells[code].show(body, name)
