"""The drill-down dialog: what is behind a figure, a month or an ageing bucket.

*Par affaire* / *Par document*, a table of the first :data:`MAX_ROWS` rows (sortable by any
column), a footer whose count and totals are those of every row (from
:meth:`prospects.drilldown.Rows.totals`), and the CSV / Excel downloads
(:mod:`prospects.dashboard.downloads`). Only the rows on screen are materialised as text.
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
from ..drilldown import Rows
from ..drilldown import columns as drill_columns
from .labels import Words
from .widgets import ALL, Shared, boxed, esc, html_block

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

    @property
    def definition_code(self) -> str:
        """The dictionary entry that says what these rows are."""
        if self.bucket is not None:
            return "ageing"
        return self.indicator


#: On-screen column order: what identifies the row, then the amounts, then the people and places
#: (every column of METRICS.md is shown; the exports keep METRICS.md's order).
_FIRST = {
    "deal": ("deal_id", "deal", "prospect", "documents", "recurring", "one_off", "total"),
    "document": ("document_id", "deal", "prospect", "status", "decided_on", "recurring", "one_off", "total",
                 "doc_type", "template", "title", "created_on", "sent_on", "deal_id"),
}


def display_columns(by: str) -> list[str]:
    """The drill-down's columns in their on-screen order (``by`` is ``deal`` or ``document``)."""
    cols = list(drill_columns(by))
    first = [c for c in _FIRST[by] if c in cols]
    return first + [c for c in cols if c not in first]


class DrillDialog:
    """The drill-down panel over the page; ``backdrop`` is its widget (hidden until opened)."""

    def __init__(self, words: Words, shared: Shared, month_kind: str, *, on_close: Callable[[], None],
                 on_month_kind: Callable[[Any], None], on_by: Callable[[Any], None], on_sort: Callable[[Any], None],
                 on_prepare: Callable[[], None]):
        self.words, self.shared = words, shared
        sh, u, lab = shared, words.ui, words.label
        self.title = html_block("", "pr-drill-title", shared=sh)
        self.close = w.Button(description=f"{lab('close')} ×", layout=sh.auto, style=sh.button,
                              _dom_classes=("pr-drill-close",))
        self.close.on_click(lambda _b: on_close())
        self.month_kind = w.ToggleButtons(
            options=[(u("month_fees"), "signed_budget"), (u("month_won"), "won_prospects")],
            value=month_kind, _dom_classes=("pr-drill-month-kind",),
        )
        self.month_kind.observe(on_month_kind, names="value")
        self.by = w.ToggleButtons(options=[(lab("by_deal"), "deal"), (lab("by_document"), "document")],
                                  value="deal", _dom_classes=("pr-drill-by",))
        self.by.observe(on_by, names="value")
        self.sort = w.Dropdown(options=[(u("default_order"), ALL)], value=ALL, layout=w.Layout(width="220px"),
                               _dom_classes=("pr-drill-sort",))
        self.sort.observe(on_sort, names="value")
        self.order = w.ToggleButtons(options=[("↑", True), ("↓", False)], value=True,
                                     tooltips=[u("ascending"), u("descending")],
                                     style={"button_width": "38px"}, _dom_classes=("pr-drill-order",))
        self.order.observe(on_sort, names="value")
        self.downloads = html_block("", "pr-dl", shared=sh)
        self.prepare = w.Button(description="", icon="download", layout=w.Layout(width="auto"),
                                _dom_classes=("pr-download-prepare",))
        self.prepare.on_click(lambda _b: on_prepare())
        self.table = html_block("", "pr-drill-table", shared=sh)
        self.note = html_block(shared=sh)
        self.footer = html_block("", "pr-drill-footer", shared=sh)
        sort_box = boxed([html_block(f'<span class="pr-note">{esc(u("sort_by"))}</span>', shared=sh), self.sort,
                          self.order], "pr-sortbox", align_items="center")
        tools = boxed([self.by, sort_box, self.prepare, self.downloads], "pr-drill-tools", shared=sh)
        self.month_row = boxed([self.month_kind], "pr-drill-month-row")  # a layout of its own: shown or hidden
        self.panel = boxed(
            [boxed([self.title, self.close], "pr-drill-head", shared=sh), self.month_row, tools,
             self.table, self.note, self.footer],
            "pr-drill", vertical=True, shared=sh,
        )
        self.backdrop = boxed([self.panel], "pr-drill-backdrop", vertical=True)
        self.backdrop.layout.display = "none"

    def show(self, state: DrillState, rows: Rows, period: Period, scope: str,
             with_lines: Callable[[pd.DataFrame], pd.DataFrame], links: str | None) -> None:
        """Show ``rows`` as ``state`` says; ``links`` are the downloads, ``None`` until prepared."""
        u, loc = self.words.ui, self.words.locale
        cols = display_columns(state.by)
        with self.shared.quiet():  # controls mirror the state without re-triggering callbacks
            self.by.value = state.by
            if state.month is not None:
                self.month_kind.value = state.indicator
            self.sort.options = [(u("default_order"), ALL), *[(i18n.COLUMN_LABELS[loc][c], c) for c in cols]]
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
        self.title.value = (
            f'<div class="pr-t1">{esc(what)}</div><div class="pr-t2">{esc(sub)}</div>'
            f'<div class="pr-t3">{esc(definition(state.definition_code, loc))}</div>'
        )
        # only the rows on screen are materialised (text, lines); sorting needs no text but the sorted column's
        sort = state.sort if state.sort in cols else None
        head = rows.frame(rows.order(sort, state.ascending), MAX_ROWS)
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
        cols = display_columns(state.by) + (["lines"] if "lines" in frame.columns else [])
        if frame.empty:
            return f'<div class="pr-note" style="padding:10px">{esc(self.words.ui("no_rows"))}</div>'
        heads = []
        for c in cols:
            css = "pr-money" if c in ("recurring", "one_off", "total") else ("pr-int" if c == "documents" else "")
            mark = ""
            if c == state.sort:
                css += " pr-sorted"
                mark = " ▲" if state.ascending else " ▼"
            heads.append(f'<th class="{css}" data-col="{c}">{esc(i18n.COLUMN_LABELS[loc][c])}{mark}</th>')
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
            f'{esc(lab("recurring"))} <b class="pr-foot-recurring">{esc(i18n.money(t["recurring"], loc))}</b> · '
            f'{esc(lab("one_off"))} <b class="pr-foot-one_off">{esc(i18n.money(t["one_off"], loc))}</b> · '
            f'{esc(lab("total"))} <b class="pr-foot-total">{esc(i18n.money(t["total"], loc))}</b>'
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
        return f"<div>{count} · {money}</div>"
