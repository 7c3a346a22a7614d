"""The monthly chart "Nombre de prospects transformés par date" (matplotlib).

One plotting function, used by the dashboard, the reports and notebooks: bars of the
fees signed each month, recurring and one-off stacked in two distinguishable colours
(and hatching, for print), with the number of prospects won that month on a second axis.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no screen needed; callers embed PNG/SVG or display the figure
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import i18n

RECURRING_COLOUR = "#1f4e79"
ONE_OFF_COLOUR = "#f4a261"
WON_COLOUR = "#2a9d8f"


def monthly_chart(monthly, locale: str = "fr", *, title: bool = True, size: tuple[float, float] = (9.0, 3.6)) -> Figure:
    """The chart of a ``Figures.monthly`` frame (amounts in cents)."""
    labels = [i18n.month(m, locale) for m in monthly["month"]]
    x = list(range(len(labels)))
    rec = [v / 100 for v in monthly["recurring"]]  # display only: euros as floats for plotting
    one = [v / 100 for v in monthly["one_off"]]
    won = [int(v) for v in monthly["won_prospects"]]
    fig = Figure(figsize=size, dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(x, rec, color=RECURRING_COLOUR, label=i18n.label("recurring", locale).capitalize())
    ax.bar(x, one, bottom=rec, color=ONE_OFF_COLOUR, hatch="//", edgecolor="white", linewidth=0,
           label=i18n.label("one_off", locale).capitalize())
    ax.set_xticks(x, labels, rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center", fontsize=8)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: i18n.money(round(v * 100), locale)))
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylim(bottom=0, top=max([r + o for r, o in zip(rec, one, strict=True)] + [1000]) * 1.15)  # an empty year still reads in euros
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
    """The figure as PNG bytes (for widgets and self-contained HTML)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def to_svg(fig: Figure) -> str:
    """The figure as an inline SVG string."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    return buf.getvalue()
