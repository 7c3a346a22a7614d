"""The monthly chart renders, with both billing natures and the won prospects."""

import pandas as pd

from prospects import charts


def test_monthly_chart_renders_png_and_svg():
    monthly = pd.DataFrame(
        {"month": ["2026-01", "2026-02", "2026-03"], "won_prospects": [1, 0, 2],
         "recurring": [20_000, 0, 1_200_000], "one_off": [0, 0, 250_000], "total": [20_000, 0, 1_450_000]}
    )
    fig = charts.monthly_chart(monthly, currency="EUR")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Nombre de prospects transformés par date"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["janv. 2026", "févr. 2026", "mars 2026"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Récurrent", "Exceptionnel", "Prospects gagnés"]
    heights = [p.get_height() for p in ax.patches]
    assert heights[:3] == [200.0, 0.0, 12000.0] and heights[3:] == [0.0, 0.0, 2500.0]
    png = charts.to_png(fig)
    assert png.startswith(b"\x89PNG")
    svg = charts.to_svg(charts.monthly_chart(monthly, "en", currency="EUR"))
    assert "<svg" in svg


def test_empty_year_still_draws():
    monthly = pd.DataFrame({"month": ["2026-01"], "won_prospects": [0], "recurring": [0], "one_off": [0], "total": [0]})
    assert charts.to_png(charts.monthly_chart(monthly, currency="EUR")).startswith(b"\x89PNG")


def test_the_dashboard_chart_is_svg_without_matplotlib():
    import subprocess
    import sys

    code = (
        "import sys, pandas as pd; from prospects import charts\n"
        "m = pd.DataFrame({'month': ['2026-01', '2026-02', '2026-03'], 'won_prospects': [1, 0, 2],"
        " 'recurring': [20_000, 0, 1_200_000], 'one_off': [0, 0, 250_000], 'total': [20_000, 0, 1_450_000]})\n"
        "svg = charts.monthly_svg(m, currency='EUR')\n"
        "print('matplotlib' in sys.modules)\n"
        "print(svg)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, svg = out.split("\n", 1)
    assert loaded == "False"  # the dashboard's kernel never imports matplotlib
    assert svg.startswith("<svg") and svg.count('class="pr-bar"') == 3
    for label in ("janv. 2026", "févr. 2026", "mars 2026", "Récurrent", "Exceptionnel", "Prospects gagnés"):
        assert label in svg
    assert "mars 2026 : Budget signé 14\u202f500\u202f€ (récurrent 12\u202f000\u202f€, exceptionnel 2\u202f500\u202f€)" in svg
    assert "mars 2026 : Prospects gagnés 2" in svg
    # bars to scale: March's recurring bar is 60 times January's
    heights = [float(h) for h in __import__("re").findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)" fill="#1f4e79"', svg)]
    assert heights[1] == 0 and abs(heights[2] / heights[0] - 60) < 1


def test_the_svg_chart_of_an_empty_year_reads_in_euros():
    monthly = pd.DataFrame({"month": ["2026-01"], "won_prospects": [0], "recurring": [0], "one_off": [0], "total": [0]})
    svg = charts.monthly_svg(monthly, "en", currency="EUR")
    assert "<svg" in svg and "€" in svg and "Recurring" in svg


def test_charts_leave_matplotlib_global_state_alone():
    """A notebook's own plots keep working: no backend switch, no rcParams change, no pyplot figure left."""
    import subprocess
    import sys

    code = (
        "import matplotlib\n"
        "matplotlib.use('svg')\n"  # stands for the kernel's own backend (inline, widget…)
        "import matplotlib.pyplot as plt\n"
        "import pandas as pd\n"
        "from prospects import charts\n"
        "before = (matplotlib.get_backend(), dict(matplotlib.rcParams), plt.get_fignums())\n"
        "m = pd.DataFrame({'month': ['2026-01', '2026-02'], 'won_prospects': [1, 0], 'recurring': [20_000, 0],"
        " 'one_off': [0, 5_000], 'total': [20_000, 5_000]})\n"
        "png = charts.to_png(charts.monthly_chart(m, currency='EUR'))\n"
        "svg = charts.to_svg(charts.monthly_chart(m, 'en', currency='EUR'))\n"
        "fig = charts.monthly_chart(m, currency='EUR')\n"
        "after = (matplotlib.get_backend(), dict(matplotlib.rcParams), plt.get_fignums())\n"
        "assert png.startswith(b'\\x89PNG') and '<svg' in svg\n"
        "assert before[0] == after[0], (before[0], after[0])\n"
        "changed = {k for k in before[1] if before[1][k] != after[1][k]}\n"
        "assert not changed, changed\n"
        "assert before[2] == after[2] == [], (before[2], after[2])\n"
        "assert fig._repr_png_().startswith(b'\\x89PNG')\n"  # shows itself in Jupyter without pyplot
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**__import__("os").environ, "MPLBACKEND": ""})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
def test_the_svg_chart_keeps_its_text_legible_and_its_months_clickable():
    """Never shrunk below its natural width (its container scrolls): 12 px text on any screen;
    every bar and every point of the won line is a labelled button with its month."""
    import re

    months = [f"2026-{m:02d}" for m in range(1, 13)]
    monthly = pd.DataFrame({"month": months, "won_prospects": [1] * 12, "recurring": [100_000] * 12,
                            "one_off": [0] * 12, "total": [100_000] * 12})
    svg = charts.monthly_svg(monthly, currency="EUR")
    width = charts.svg_width(12)
    assert width >= 12 * charts.SVG_SLOT_PX
    assert f'viewBox="0 0 {width} 300"' in svg and f"min-width: {width}px" in svg
    assert f'font-size="{charts.SVG_FONT_PX}"' in svg and charts.SVG_FONT_PX >= 11
    assert 'role="img"' not in svg  # its bars are controls, not part of a picture
    bars = re.findall(r'<g class="pr-bar" data-month="([^"]+)" role="button" tabindex="-1" aria-label="([^"]+)"', svg)
    points = re.findall(r'<g class="pr-point" data-month="([^"]+)" role="button" tabindex="-1" aria-label="([^"]+)"', svg)
    assert [m for m, _ in bars] == months and [m for m, _ in points] == months
    assert bars[0][1] == "janv. 2026 : Budget signé 1\u202f000\u202f€ (récurrent 1\u202f000\u202f€, exceptionnel 0\u202f€) — ouvrir le détail"
    assert points[0][1] == "janv. 2026 : Prospects gagnés 1 — ouvrir le détail"
    assert "rotate(" not in svg.replace('patternTransform="rotate(45)"', "")  # months on two lines, never rotated


def test_chart_colours_read_on_white():
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    def contrast(colour: str) -> float:
        return 1.05 / (luminance(colour) + 0.05)

    for text in (charts.TEXT_COLOUR, charts.WON_COLOUR, charts.RECURRING_COLOUR):
        assert contrast(text) >= 4.5, text  # text and the won line's values
    assert contrast(charts.ONE_OFF_COLOUR) >= 3  # a graphical object (WCAG 1.4.11), hatched as well
