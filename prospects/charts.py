"""The monthly chart "Nombre de prospects transformés par date".

Bars of the fees signed each month, recurring and one-off stacked in two distinguishable
colours (and hatching, for print), with the number of prospects won that month on a
second axis. Two drawings of the same ``Figures.monthly`` frame:

* :func:`monthly_chart`: a matplotlib figure, for the reports (HTML and PDF) and notebooks;
* :func:`monthly_svg`: the same chart as a few hundred bytes of SVG written directly,
  for the dashboard, where drawing it with matplotlib (importing it, then rendering a PNG)
  was about half a second of each page's CPU.

matplotlib is imported by the first call of :func:`monthly_chart`, not with this module, and
only through its object-oriented API (``matplotlib.figure.Figure``): drawing a chart never
selects a backend, changes ``rcParams`` or registers a figure with pyplot, so a notebook's
own ``plt.show()`` keeps working. The figure shows itself in Jupyter (``_repr_png_``)
without pyplot.
"""

from __future__ import annotations

import html
import io
import math
from typing import TYPE_CHECKING

from . import i18n

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Colours with a contrast of at least 4.5:1 on white (text and lines), 3:1 for the one-off bars
#: (which also carry a hatching: never told apart by colour alone).
RECURRING_COLOUR = "#1f4e79"
ONE_OFF_COLOUR = "#c0631b"
WON_COLOUR = "#1b7a6e"
TEXT_COLOUR = "#1d2733"


_FIGURE_CLASS: type | None = None


def _figure_class() -> type:
    """``matplotlib.figure.Figure`` with a PNG representation for Jupyter (defined on first use)."""
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        from matplotlib.figure import Figure

        class ChartFigure(Figure):
            """A matplotlib figure that Jupyter displays as PNG, pyplot or not."""

            def _repr_png_(self) -> bytes:
                return to_png(self)

        _FIGURE_CLASS = ChartFigure
    return _FIGURE_CLASS


def monthly_chart(monthly, locale: str = "fr", *, currency: str, title: bool = True,
                  size: tuple[float, float] = (9.0, 3.6)) -> Figure:
    """The chart of a ``Figures.monthly`` frame (amounts in minor units of ``currency``, the firm's)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    labels = [i18n.month(m, locale) for m in monthly["month"]]
    x = list(range(len(labels)))
    unit = 10 ** i18n.minor_digits(currency)
    rec = [v / unit for v in monthly["recurring"]]  # display only: the currency's units as floats for plotting
    one = [v / unit for v in monthly["one_off"]]
    won = [int(v) for v in monthly["won_prospects"]]
    fig = _figure_class()(figsize=size, dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(x, rec, color=RECURRING_COLOUR, label=i18n.label("recurring", locale).capitalize())
    ax.bar(x, one, bottom=rec, color=ONE_OFF_COLOUR, hatch="//", edgecolor="white", linewidth=0,
           label=i18n.label("one_off", locale).capitalize())
    ax.set_xticks(x, labels, rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center", fontsize=8)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: i18n.money(round(v * unit), locale, currency)))
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylim(bottom=0, top=max([r + o for r, o in zip(rec, one, strict=True)] + [1000]) * 1.15)  # an empty year still reads in money
    ax.spines[["top"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(x, won, color=WON_COLOUR, marker="o", linewidth=2, label=i18n.label("won_prospects", locale))
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_ylim(bottom=0, top=max([*won, 1]) * 1.25)
    ax2.tick_params(axis="y", labelsize=8, colors=WON_COLOUR)
    ax2.spines[["top"]].set_visible(False)
    for xi, w in zip(x, won, strict=True):
        if w:
            ax2.annotate(str(w), (xi, w), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8, color=WON_COLOUR)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    names = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(handles, names, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, fontsize=8, frameon=False)
    if title:
        ax.set_title(i18n.label("chart", locale), fontsize=11, loc="left", pad=22)
    return fig


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (for widgets and self-contained HTML); no backend is selected."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def to_svg(fig: Figure) -> str:
    """The figure as an inline SVG string; no backend is selected."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def _nice_step(top: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^k) giving about ``ticks`` intervals up to ``top``."""
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover


#: Horizontal room of one month in the SVG chart, in CSS pixels: the chart is drawn at its natural
#: width (months × this) and never shrunk below it (its container scrolls), so its text stays
#: at least :data:`SVG_FONT_PX` on any screen.
SVG_SLOT_PX = 56
SVG_FONT_PX = 12
SVG_MIN_WIDTH = 480


def svg_width(months: int) -> int:
    """The natural width of the SVG chart of ``months`` months, in CSS pixels."""
    return max(SVG_MIN_WIDTH, 78 + 44 + SVG_SLOT_PX * max(1, months))


def monthly_svg(monthly, locale: str = "fr", *, currency: str, height: int = 300) -> str:
    """The chart of a ``Figures.monthly`` frame as inline SVG (amounts in minor units of ``currency``), without matplotlib.

    Same content as :func:`monthly_chart`: stacked recurring and one-off bars in the firm's currency (left
    axis), prospects won as a line with its values (right axis), the legend above. Drawn at
    its natural width (:func:`svg_width`, set as the SVG's ``min-width``: wider screens
    scale it up, narrower ones scroll it), months on two lines (month, year), never rotated.

    Each month's bar (``g.pr-bar``) and point of the won line (``g.pr-point``) is a button
    for assistive technologies (``role="button"``, a label with its figures) carrying its
    month in ``data-month``; the page's script makes them open the month's drill-down
    (signed budget, prospects won) by clicking the dashboard's own button for it.
    """
    months = list(monthly["month"])
    rec = [int(v) for v in monthly["recurring"]]
    one = [int(v) for v in monthly["one_off"]]
    won = [int(v) for v in monthly["won_prospects"]]
    n = max(1, len(months))
    width = svg_width(len(months))
    left, right, top, bottom = 78, 44, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    money_top = max([r + o for r, o in zip(rec, one, strict=True)] + [100_000]) * 1.15  # minor units; an empty year still reads in money
    step = _nice_step(money_top)
    money_top = step * math.ceil(money_top / step)
    won_top = max([*won, 1]) * 1.25
    won_step = max(1, math.ceil(won_top / 4))
    won_top = won_step * math.ceil(won_top / won_step)
    slot = plot_w / n
    bar = slot * 0.62

    def y_money(cents: float) -> float:
        return top + plot_h - plot_h * cents / money_top

    def y_won(count: float) -> float:
        return top + plot_h - plot_h * count / won_top

    def esc(text: str) -> str:
        return html.escape(text, quote=True)

    lab = i18n.LABELS[locale]
    colon = " : " if locale == "fr" else ": "
    rec_label = lab["recurring"].capitalize()
    one_label = lab["one_off"].capitalize()
    won_label = lab["won_prospects"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pr-chart-svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="min-width: {width}px" role="group" aria-label="{esc(lab["chart"])}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif" font-size="{SVG_FONT_PX}">',
        f'<defs><pattern id="pr-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{ONE_OFF_COLOUR}"/><line x1="0" y1="0" x2="0" y2="6" stroke="white" stroke-width="1.5"/>'
        "</pattern></defs>",
    ]
    # grid and the money axis
    value = 0.0
    while value <= money_top + 1e-6:
        y = y_money(value)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dee4" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT_COLOUR}">{esc(i18n.money(round(value), locale, currency))}</text>')
        value += step
    # the won axis
    count = 0
    while count <= won_top:
        parts.append(f'<text x="{left + plot_w + 6}" y="{y_won(count) + 4:.1f}" fill="{WON_COLOUR}">{count}</text>')
        count += won_step
    # bars (each a button over its whole column) and month labels
    points = []
    for i, month in enumerate(months):
        x0 = left + slot * i
        x = x0 + (slot - bar) / 2
        label = i18n.month(month, locale)
        total = rec[i] + one[i]
        tip = (f"{label}{colon}{lab['signed_budget']} {i18n.money(total, locale, currency)} ({lab['recurring']} {i18n.money(rec[i], locale, currency)}, "
               f"{lab['one_off']} {i18n.money(one[i], locale, currency)})")
        y_rec, y_all = y_money(rec[i]), y_money(total)
        parts.append(f'<g class="pr-bar" data-month="{esc(month)}" role="button" tabindex="-1" aria-label="{esc(tip)} — {esc(lab["open_detail"])}">'
                     f'<title>{esc(tip)}</title>'
                     f'<rect class="pr-bar-area" x="{x0 + 1:.1f}" y="{top:.1f}" width="{slot - 2:.1f}" height="{plot_h:.1f}" fill="transparent"/>'
                     f'<rect x="{x:.1f}" y="{y_rec:.1f}" width="{bar:.1f}" height="{top + plot_h - y_rec:.1f}" fill="{RECURRING_COLOUR}"/>'
                     f'<rect x="{x:.1f}" y="{y_all:.1f}" width="{bar:.1f}" height="{y_rec - y_all:.1f}" fill="url(#pr-hatch)"/></g>')
        cx = left + slot * (i + 0.5)
        points.append((cx, y_won(won[i])))
        name, year = label.rsplit(" ", 1)
        parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="{TEXT_COLOUR}" aria-hidden="true">'
                     f'{esc(name)}<tspan x="{cx:.1f}" dy="14">{esc(year)}</tspan></text>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#8a97a6" stroke-width="1"/>')
    # the won line, its points (buttons too) and values
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{WON_COLOUR}" stroke-width="2"/>')
        for (x, y), w, month in zip(points, won, months, strict=True):
            tip = f"{i18n.month(month, locale)}{colon}{won_label} {w}"
            parts.append(f'<g class="pr-point" data-month="{esc(month)}" role="button" tabindex="-1" '
                         f'aria-label="{esc(tip)} — {esc(lab["open_detail"])}"><title>{esc(tip)}</title>'
                         f'<circle class="pr-point-area" cx="{x:.1f}" cy="{y:.1f}" r="12" fill="transparent"/>'
                         f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{WON_COLOUR}"/></g>')
            if w:
                parts.append(f'<text x="{x:.1f}" y="{y - 10:.1f}" text-anchor="middle" fill="{WON_COLOUR}" stroke="white" '
                             f'stroke-width="3" paint-order="stroke" font-weight="600" aria-hidden="true">{w}</text>')
    # legend, above the plot
    lx = left
    for swatch, text in ((f'fill="{RECURRING_COLOUR}"', rec_label), ('fill="url(#pr-hatch)"', one_label)):
        parts.append(f'<rect x="{lx}" y="8" width="14" height="10" {swatch}/><text x="{lx + 19}" y="17" fill="{TEXT_COLOUR}">{esc(text)}</text>')
        lx += 28 + 7 * len(text)
    parts.append(f'<line x1="{lx}" x2="{lx + 16}" y1="13" y2="13" stroke="{WON_COLOUR}" stroke-width="2"/>'
                 f'<circle cx="{lx + 8}" cy="13" r="3.5" fill="{WON_COLOUR}"/>'
                 f'<text x="{lx + 21}" y="17" fill="{TEXT_COLOUR}">{esc(won_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
