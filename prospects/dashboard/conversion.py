"""The "Transformation" card beside the tiles: prospects converted, win rates, median days to
sign (each with N-1 and the change), and the ageing of offers in progress by bucket (each
bucket opens its drill-down).

Values come formatted from :func:`prospects.tables.beside_table` and
:func:`prospects.tables.ageing_table`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..dictionary import definition
from ..tables import ageing_table, beside_table
from .labels import Words
from .tiles import change_html, change_words
from .widgets import Clickable, Shared, boxed, esc, html_block, slug

if TYPE_CHECKING:
    from ..figures import Figures


class Conversion:
    """The side card; ``converted`` is the clickable "Prospects transformés" line, ``buckets`` the ageing lines."""

    def __init__(self, words: Words, shared: Shared, open_cell: Callable[[str], None],
                 open_bucket: Callable[[str], None]):
        self.words, self.shared, self._open_bucket = words, shared, open_bucket
        sh, lab, loc = shared, words.label, words.locale
        code = "converted_prospects"
        self.converted = Clickable(("pr-line", "pr-click", f"pr-cell-{code}"), lab(code), definition(code, loc),
                                   lambda: open_cell(code), sh)
        self.rates_html = html_block(shared=sh)
        self.ageing_head = html_block("", "pr-line-head", shared=sh)
        self.ageing_rows = boxed([], "pr-ageing", vertical=True, shared=sh)
        self.buckets: dict[str, Clickable] = {}
        self.box = boxed(
            [
                html_block(f'<h2 class="pr-card-title">{esc(words.ui("rates"))}</h2>', shared=sh),
                self.converted.box,
                self.rates_html,
                html_block(
                    f'<h2 class="pr-card-title pr-card-title-next" title="{esc(definition("ageing", loc))}">'
                    f'{esc(lab("ageing"))}</h2>', shared=sh,
                ),
                self.ageing_head,
                self.ageing_rows,
            ],
            "pr-card", "pr-side-card", vertical=True, shared=sh,
        )

    def show(self, figs: Figures) -> None:
        """The conversion figures and the ageing buckets of ``figs``."""
        u, lab, loc = self.words.ui, self.words.label, self.words.locale
        side = beside_table(figs, loc).set_index("code")
        conv = side.loc["converted_prospects"]
        self.converted.show(
            f'<div class="pr-line-in" title="{esc(conv["definition"])}"><span class="pr-line-label">{esc(conv["label"])}</span>'
            f'<span class="pr-num pr-value-small">{esc(conv["value"])}</span>'
            f'<span class="pr-line-prev">{esc(u("prev_short"))} {esc(conv["previous"])} · {change_html(conv["change"])}</span></div>',
            u("figure_name", label=conv["label"], value=conv["value"], previous=conv["previous"],
              change=change_words(conv["change"])),
        )
        lines = []
        for code in ("win_rate.by_count", "win_rate.by_value", "median_days_to_sign"):
            r = side.loc[code]
            css = "pr-" + code.replace(".", "-").replace("_", "-")
            lines.append(
                f'<div class="pr-line"><div class="pr-line-in {css}" title="{esc(r["definition"])}">'
                f'<span class="pr-line-label">{esc(r["label"])}</span><span class="pr-num">{esc(r["value"])}</span>'
                f'<span class="pr-line-prev">{esc(u("prev_short"))} {esc(r["previous"])} · {change_html(r["change"])}</span>'
                "</div></div>"
            )
        self.rates_html.value = "".join(lines)
        table = ageing_table(figs, loc)
        self.ageing_head.value = (
            f'<div class="pr-bucket-in" aria-hidden="true"><span>{esc(lab("bucket"))}</span><span>{esc(lab("offers"))}</span>'
            f'<span>{esc(lab("total"))}</span></div>'
        )
        codes = list(figs.ageing["bucket"])
        if set(codes) != set(self.buckets):
            self.buckets = {
                b: Clickable(("pr-line", "pr-click", f"pr-bucket-{slug(b)}"), label, definition("ageing", loc),
                             lambda b=b: self._open_bucket(b), self.shared)
                for b, label in zip(codes, table["bucket"], strict=True)
            }
            self.ageing_rows.children = [c.box for c in self.buckets.values()]
        for b, r, n in zip(codes, table.itertuples(index=False), figs.ageing["offers"], strict=True):
            self.buckets[b].show(
                f'<div class="pr-bucket-in"><span>{esc(r.bucket)}</span><span class="pr-num">{esc(r.offers)}</span>'
                f'<span class="pr-num">{esc(r.total)}</span></div>',
                u("bucket_name", bucket=r.bucket, offers=r.offers, offer_word=u("offer") if int(n) == 1 else lab("offers"),
                  total=r.total),
            )
