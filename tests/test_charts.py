"""The monthly chart renders, with both billing natures and the won prospects."""

import pandas as pd

from prospects import charts


def test_monthly_chart_renders_png_and_svg():
    monthly = pd.DataFrame(
        {"month": ["2026-01", "2026-02", "2026-03"], "won_prospects": [1, 0, 2],
         "recurring": [20_000, 0, 1_200_000], "one_off": [0, 0, 250_000], "total": [20_000, 0, 1_450_000]}
    )
    fig = charts.monthly_chart(monthly)
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
    svg = charts.to_svg(charts.monthly_chart(monthly, "en"))
    assert "<svg" in svg


def test_empty_year_still_draws():
    monthly = pd.DataFrame({"month": ["2026-01"], "won_prospects": [0], "recurring": [0], "one_off": [0], "total": [0]})
    assert charts.to_png(charts.monthly_chart(monthly)).startswith(b"\x89PNG")


def test_the_dashboard_chart_is_svg_without_matplotlib():
    import subprocess
    import sys

    code = (
        "import sys, pandas as pd; from prospects import charts\n"
        "m = pd.DataFrame({'month': ['2026-01', '2026-02', '2026-03'], 'won_prospects': [1, 0, 2],"
        " 'recurring': [20_000, 0, 1_200_000], 'one_off': [0, 0, 250_000], 'total': [20_000, 0, 1_450_000]})\n"
        "svg = charts.monthly_svg(m)\n"
        "print('matplotlib' in sys.modules)\n"
        "print(svg)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, svg = out.split("\n", 1)
    assert loaded == "False"  # the dashboard's kernel never imports matplotlib
    assert svg.startswith("<svg") and svg.count('class="pr-bar"') == 3
    for label in ("janv. 2026", "févr. 2026", "mars 2026", "Récurrent", "Exceptionnel", "Prospects gagnés"):
        assert label in svg
    assert "mars 2026 : Récurrent 12\u202f000\u202f€, Exceptionnel 2\u202f500\u202f€, Prospects gagnés 2" in svg
    # bars to scale: March's recurring bar is 60 times January's
    heights = [float(h) for h in __import__("re").findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)" fill="#1f4e79"', svg)]
    assert heights[1] == 0 and abs(heights[2] / heights[0] - 60) < 1


def test_the_svg_chart_of_an_empty_year_reads_in_euros():
    monthly = pd.DataFrame({"month": ["2026-01"], "won_prospects": [0], "recurring": [0], "one_off": [0], "total": [0]})
    svg = charts.monthly_svg(monthly, "en")
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
        "png = charts.to_png(charts.monthly_chart(m))\n"
        "svg = charts.to_svg(charts.monthly_chart(m, 'en'))\n"
        "fig = charts.monthly_chart(m)\n"
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
