"""The drill-down dialog: what is behind a figure, a month or an ageing bucket.

*Par affaire* / *Par document*, a table of the first :data:`MAX_ROWS` rows (sortable by any
column, in the package's on-screen order :func:`prospects.drilldown.display_columns`), a
footer whose count and totals are those of every row (from
:meth:`prospects.drilldown.Rows.totals`) and which says what its amounts are
(:func:`prospects.drilldown.footer_words`), and the CSV / Excel downloads in the order on
screen (:mod:`prospects.dashboard.downloads`). Only the rows on screen are materialised as text.
The panel is built the first time something is opened: opening a page stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd

from .. import i18n
from ..dictionary import definition
from ..drilldown import MONEY_COLUMNS, Rows, display_columns, empty_words, footer_words
from ..tables import cell_text
from .labels import Words
from .widgets import ALL, Shared, boxed, bridge, esc, html_block

if TYPE_CHECKING:
    from ..fiscal import Period

#: Rows shown on screen in a drill-down; the downloads always hold every row.
MAX_ROWS = 300


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

    def column(self, rows: Rows) -> str | None:
        """The column sorted by, if ``rows`` have it (else the drill-down's own order)."""
        return self.sort if self.sort in rows.columns else None

    @property
    def definition_code(self) -> str:
        """The dictionary entry that says what these rows are."""
        if self.bucket is not None:
            return "ageing"
        return self.indicator


class DrillDialog:
    """The drill-down panel over the page; ``backdrop`` is its widget (hidden until opened)."""

    def __init__(self, words: Words, shared: Shared, *, on_close: Callable[[], None],
                 on_month_kind: Callable[[Any], None], on_by: Callable[[Any], None], on_sort: Callable[[Any], None],
                 on_column: Callable[[str], None], on_prepare: Callable[[], None]):
        self.words, self.shared = words, shared
        sh, u, lab = shared, words.ui, words.label
        self.title = html_block("", "pr-drill-title", shared=sh)
        self.about = html_block("", "pr-drill-about", shared=sh)  # when, what scope, what the rows are
        self.close = w.Button(description=lab("close"), layout=sh.auto, style=sh.button,
                              _dom_classes=("pr-drill-close",))
        self.close.on_click(lambda _b: on_close())
        self.month_kind = w.ToggleButtons(
            options=[(u("month_fees"), "signed_budget"), (u("month_won"), "won_prospects")],
            value="signed_budget", _dom_classes=("pr-drill-month-kind",),
        )
        self.month_kind.observe(on_month_kind, names="value")
        self.by = w.ToggleButtons(options=[(lab("by_deal"), "deal"), (lab("by_document"), "document")],
                                  value="deal", _dom_classes=("pr-drill-by",))
        self.by.observe(on_by, names="value")
        # the sort select and its direction stay for touch screens; a column header sorts too
        self.sort = w.Dropdown(options=[(u("default_order"), ALL)], value=ALL, description=u("sort_by"),
                               style={"description_width": "initial"}, layout=sh.auto,
                               _dom_classes=("pr-drill-sort",))
        self.sort.observe(on_sort, names="value")
        self.order = w.ToggleButtons(options=[(f"↑ {u('ascending')}", True), (f"↓ {u('descending')}", False)], value=True,
                                     style={"button_width": "auto"}, _dom_classes=("pr-drill-order",))
        self.order.observe(on_sort, names="value")
        self.downloads = html_block("", "pr-dl", shared=sh)
        self.prepare = w.Button(description="", layout=w.Layout(width="auto"), _dom_classes=("pr-download-prepare",))
        self.prepare.on_click(lambda _b: on_prepare())
        self.table = html_block("", "pr-drill-table", shared=sh)
        self.note = html_block(shared=sh)
        self.footer = html_block("", "pr-drill-footer", shared=sh)
        columns = dict.fromkeys([*display_columns("deal", "prospects_without_document"), *display_columns("document")])
        self.columns = {c: bridge(f"pr-sortcol-{c}", lambda c=c: on_column(c), sh) for c in columns}
        sort_box = boxed([self.sort, self.order], "pr-sortbox", shared=sh)
        tools = boxed([self.by, sort_box], "pr-drill-tools", shared=sh)
        actions = boxed([self.prepare, self.downloads, self.close], "pr-drill-actions", shared=sh)
        self.month_row = boxed([self.month_kind], "pr-drill-month-row")  # a layout of its own: shown or hidden
        self.panel = boxed(
            [boxed([self.title, actions], "pr-drill-head", shared=sh), self.about, self.month_row, tools,
             self.table, self.note, self.footer, boxed(list(self.columns.values()), "pr-bridges", shared=sh)],
            "pr-drill", vertical=True, shared=sh,
        )
        self.backdrop = boxed([self.panel], "pr-drill-backdrop", vertical=True)
        self.backdrop.layout.display = "none"

    def show(self, state: DrillState, rows: Rows, period: Period, scope: str,
             with_lines: Callable[[pd.DataFrame], pd.DataFrame], links: str | None) -> None:
        """Show ``rows`` as ``state`` says; ``links`` are the downloads, ``None`` until prepared."""
        u, loc = self.words.ui, self.words.locale
        cols = display_columns(state.by, state.indicator)
        with self.shared.quiet():  # controls mirror the state without re-triggering callbacks
            self.by.value = state.by
            if state.month is not None:
                self.month_kind.value = state.indicator
            self.sort.options = [(u("default_order"), ALL), *[(self.words.columns()[c], c) for c in cols]]
            self.sort.value = state.sort or ALL
            self.order.value = state.ascending
        self.month_row.layout.display = None if state.month is not None else "none"
        # title: what, when, scope
        what = self.words.label(state.indicator)
        if state.month is not None:
            what += f" — {i18n.month(state.month, loc)}"
        if state.bucket is not None:
            what += f" — {state.bucket} {self.words.label('days')}"
        sub = u("period", fy=period.fiscal_year, start=i18n.date(period.start, loc),
                as_of=i18n.date(period.as_of, loc)) + " · " + scope
        self.title.value = f'<h2 class="pr-t1" id="pr-drill-heading" tabindex="-1">{esc(what)}</h2>'
        self.about.value = (f'<p class="pr-t2">{esc(sub)}</p>'
                            f'<p class="pr-t3">{esc(definition(state.definition_code, loc))}</p>')
        # only the rows on screen are materialised (text, lines); sorting needs no text but the sorted column's
        head = rows.frame(rows.order(state.column(rows), state.ascending), MAX_ROWS)
        if state.by == "document":
            head = with_lines(head)
        self.table.value = self.table_html(head, state)
        self.note.value = (
            f'<div class="pr-note">{esc(u("first_rows", shown=MAX_ROWS, n=i18n.number(len(rows), loc)))}</div>'
            if len(rows) > MAX_ROWS else ""
        )
        self.footer.value = self.footer_html(rows.totals(), state)
        self.show_links(links, len(rows))
        self.backdrop.layout.display = "flex"

    def show_links(self, links: str | None, n: int) -> None:
        """The download links, or the button that prepares them (``links`` is ``None``)."""
        self.downloads.value = links or ""
        self.prepare.description = self.words.ui("prepare", n=i18n.number(n, self.words.locale))
        self.prepare.layout.display = "none" if links is not None else None

    def hide(self) -> None:
        """Hide the panel."""
        self.backdrop.layout.display = "none"

    def table_html(self, frame: pd.DataFrame, state: DrillState) -> str:
        """The rows of ``frame`` as an HTML table (headers marked with the sort)."""
        loc = self.words.locale
        cols = display_columns(state.by, present=list(frame.columns))
        if frame.empty:
            return f'<div class="pr-note" style="padding:10px">{esc(empty_words(state.indicator, state.by, locale=loc))}</div>'
        heads, names = [], self.words.columns()
        for c in cols:
            css = "pr-money" if c in MONEY_COLUMNS else ("pr-int" if c == "documents" else "")
            label = esc(names[c])
            if c not in self.columns:  # the lines of a document: not a sort key
                heads.append(f'<th class="{css}" data-col="{c}" scope="col">{label}</th>')
                continue
            mark, sort = "", ""
            if c == state.sort:
                css += " pr-sorted"
                mark = f'<span class="pr-sort-mark" aria-hidden="true"> {"▲" if state.ascending else "▼"}</span>'
                sort = f' aria-sort="{"ascending" if state.ascending else "descending"}"'
            heads.append(f'<th class="{css}" data-col="{c}" scope="col"{sort}>'
                         f'<button type="button" class="pr-sort" data-col="{c}">{label}{mark}</button></th>')
        body = []
        for rec in frame[cols].to_dict("records"):
            cells = []
            for c in cols:
                text = cell_text(c, rec[c], loc, self.words.currency)
                css = "pr-money" if c in MONEY_COLUMNS else "pr-int" if c == "documents" else "pr-clip" if c == "lines" else ""
                tip = f' title="{esc(text)}"' if css == "pr-clip" else ""
                cells.append(f'<td class="{css}" data-col="{c}"{tip}>{esc(text)}</td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
        return (
            '<div class="pr-table-wrap"><table class="pr-table"><thead><tr>' + "".join(heads) + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></div>"
        )

    def footer_html(self, t: dict[str, int], state: DrillState) -> str:
        """The count and totals of every row (not only those on screen)."""
        lab, u, loc = self.words.label, self.words.ui, self.words.locale
        money = (
            f'{esc(lab("recurring"))} <b class="pr-foot-recurring">{esc(self.words.money(t["recurring"]))}</b> · '
            f'{esc(lab("one_off"))} <b class="pr-foot-one_off">{esc(self.words.money(t["one_off"]))}</b> · '
            f'{esc(lab("total"))} <b class="pr-foot-total">{esc(self.words.money(t["total"]))}</b>'
        )
        deals = u("deal" if t["rows"] == 1 else "deals")
        docs = u("document" if t["documents"] == 1 else "documents")
        if state.by == "deal":
            count = (
                f'<b class="pr-foot-rows">{esc(i18n.number(t["rows"], loc))}</b> {esc(deals)} · '
                f'<b class="pr-foot-documents">{esc(i18n.number(t["documents"], loc))}</b> {esc(docs)}'
            )
        else:
            count = f'<b class="pr-foot-rows pr-foot-documents">{esc(i18n.number(t["rows"], loc))}</b> {esc(docs)}'
        words = footer_words(state.indicator, month=state.month, bucket=state.bucket, locale=loc)
        what = f"{i18n.DRILL_WORDS[loc]['amounts']}{i18n.colon(loc)}{words}"
        return f'<div>{count} · {money}</div><div class="pr-foot-words">{esc(what)}</div>'

