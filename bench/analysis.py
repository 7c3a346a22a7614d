"""Benchmark of ``view.metrics`` (one call) against the loops an analyst wrote before it.

    python bench/analysis.py                       # medium demo built in a temp folder
    python bench/analysis.py --sizes medium large --runs 7

On the demo firms (seed 42, as of 2026-11-29), as the demo's director (the whole firm), in
one process with the firm open and the viewer's rows mapped (what a notebook holds after its
first cell), each of the exploration notebook's first four questions is answered both ways:

* **metrics**: one ``view.metrics(...)`` call (this working copy);
* **loop**: what an analyst wrote with the API before it, the obvious way — one
  ``figures()`` per region and fiscal year, drill-downs of two cells concatenated and
  grouped with pandas, one ``figures()`` per fiscal year for the months.

Both answers are compared (they must be identical) and timed: the median of ``--runs``
warm runs, with the fastest and slowest. The load average before and after is recorded (the
machine is shared). Results go to the "## Analysis" section of docs/performance.md (between
its markers, unless ``--no-write``) and to standard output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from docs_section import write_section

TODAY = "2026-11-29"
SEED = 42


def build(size: str, folder: Path) -> str:
    from prospects import db, demo

    url = f"sqlite:///{folder / f'{size}.db'}"
    frames = demo.generate(size, SEED, today=dt.date.fromisoformat(TODAY))
    db.replace_all(db.make_engine(url), frames, {"source": f"demo size={size} seed={SEED}", "demo_today": TODAY})
    return url


def director(firm) -> str:
    """The demo's director (the whole firm in his perimeter)."""
    from prospects.serving.command import demo_login_table

    return next(x["login"] for x in demo_login_table(firm.settings) if x["what"].startswith("the whole firm"))


# ---------------------------------------------------------------------------
# the four questions, both ways: each returns a comparable frame


def q1_metrics(me):
    m = me.metrics(["win_rate.by_value", "median_days_to_sign"], by="region", unit="perimeter", compare="N-1")
    return m.pivot_table(index="region_id", columns=["metric", "fiscal_year"], values="value", dropna=False)


def q1_loop(me):
    regions = me.filter_options()["units"].query("kind == 'region'")["id"]
    now = me.period()
    rows = []
    for region in regions:
        for period in (now, now.previous()):
            ind = me.figures(unit=region, period=period).indicators
            rows.append({"region_id": region, "fiscal_year": period.fiscal_year,
                         "win_rate": ind["win_rate"]["by_value"], "median_days_to_sign": ind["median_days_to_sign"]})
    frame = pd.DataFrame(rows).melt(["region_id", "fiscal_year"], var_name="metric").astype({"value": float})
    return frame.pivot_table(index="region_id", columns=["metric", "fiscal_year"], values="value", dropna=False)


def q2_metrics(me):
    m = me.metrics("aged_offers>90.total", by="partner", unit="perimeter")
    return m.dropna(subset=["partner_id"]).set_index("partner_id")["value"].pipe(lambda s: s[s > 0]).sort_index()


def q2_loop(me):
    firm = me.filter_options()["units"].query("kind == 'firm'")["id"].iloc[0]
    old = pd.concat([me.drilldown("offers_in_progress", by="document", unit=firm, bucket=b) for b in ("91-180", ">180")])
    deals = me.deals(unit=firm)[["id", "partner_id"]].rename(columns={"id": "deal_id"})
    fees = old[["deal_id", "total"]].merge(deals, on="deal_id").groupby("partner_id")["total"].sum().astype(float)
    return fees[fees > 0].rename("value").sort_index()


def q3_metrics(me):
    year = me.period().fiscal_year
    m = me.metrics("signed_budget.total", unit="perimeter", fiscal_years=[year - 2, year - 1, year], freq="M")
    return m.assign(month=m["period"].dt.month).pivot_table(index="month", columns="fiscal_year", values="value")


def q3_loop(me):
    firm = me.filter_options()["units"].query("kind == 'firm'")["id"].iloc[0]
    year = me.period().fiscal_year
    parts = []
    for fy in (year - 2, year - 1, year):
        monthly = me.figures(unit=firm, fiscal_year=fy).monthly
        parts.append(pd.DataFrame({"fiscal_year": fy, "month": monthly["month"].str[5:].astype(int),
                                   "value": monthly["total"].astype(float)}))
    return pd.concat(parts).pivot_table(index="month", columns="fiscal_year", values="value")


def q4_metrics(me):
    m = me.metrics(["refusal_rate.by_count", "decided_offers.count"], by=["doc_type", "template"], unit="perimeter")
    out = m.pivot_table(index=["doc_type", "template"], columns="metric", values="value")
    return out[out["decided_offers"] > 0]


def q4_loop(me):
    firm = me.filter_options()["units"].query("kind == 'firm'")["id"].iloc[0]
    signed = me.drilldown("signed_offers", by="document", unit=firm).assign(refused=0)
    refused = me.drilldown("refused_offers", by="document", unit=firm).assign(refused=1)
    decided = pd.concat([signed, refused])
    out = decided.groupby(["doc_type", "template"]).agg(decided_offers=("refused", "size"), refusal_rate=("refused", "mean"))
    return out.astype(float).rename_axis(columns="metric")[["decided_offers", "refusal_rate"]]


QUESTIONS = [
    ("win rate by value and median days to sign, per region, N vs N-1", q1_metrics, q1_loop,
     "one `figures()` per region and fiscal year"),
    ("fees in offers older than 90 days, per partner", q2_metrics, q2_loop,
     "two ageing-bucket drill-downs concatenated, merged with `deals()` for the partner's id, grouped"),
    ("monthly signed budget over three fiscal years", q3_metrics, q3_loop, "one `figures()` per fiscal year, months concatenated"),
    ("refusal rate by document type and template", q4_metrics, q4_loop,
     "drill-downs of signed and refused offers concatenated and grouped"),
]


def same(a: pd.DataFrame | pd.Series, b: pd.DataFrame | pd.Series) -> bool:
    if isinstance(a, pd.DataFrame):
        a, b = a.sort_index(axis=1), b.sort_index(axis=1)
        a.columns, b.columns = a.columns.to_flat_index(), b.columns.to_flat_index()
    try:
        pd.testing.assert_frame_equal(a, b, check_names=False, check_dtype=False, check_freq=False, check_index_type=False,
                                      check_column_type=False, rtol=1e-12) if isinstance(a, pd.DataFrame) else \
            pd.testing.assert_series_equal(a, b, check_names=False, check_dtype=False, rtol=1e-12, check_index_type=False)
    except AssertionError as exc:
        print(f"  DIFFERENT: {str(exc)[:300]}", file=sys.stderr)
        return False
    return True


def timed(fn, me, runs: int) -> tuple[float, float, float]:
    fn(me)  # warm: the first call of a notebook pays nothing the others do not
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(me)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["medium"], help="demo sizes (small, medium, large)")
    parser.add_argument("--db", help="a demo database instead of building one (its size given by --sizes, one)")
    parser.add_argument("--runs", type=int, default=7, help="warm runs of each way (median shown)")
    parser.add_argument("--no-write", action="store_true", help="print only, do not touch docs/performance.md")
    args = parser.parse_args()
    import prospects

    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp:
        for size in args.sizes:
            url = args.db or build(size, Path(tmp))
            firm = prospects.open_firm(url, today=TODAY)
            me = firm.as_viewer(director(firm))
            n_deals = me.metrics("signed_offers", unit="perimeter")  # maps the viewer's rows
            regions = int((firm.units["kind"] == "region").sum())
            for label, new, old, how in QUESTIONS:
                identical = same(new(me), old(me))
                t_new, t_old = timed(new, me, args.runs), timed(old, me, args.runs)
                rows.append((size, regions, label, how, t_new, t_old, identical))
                print(f"{size}: {label}: metrics {t_new[0] * 1000:.1f} ms, loop {t_old[0] * 1000:.1f} ms, "
                      f"identical {identical}", file=sys.stderr)
            del n_deals
    load_after = os.getloadavg()

    def ms(t):
        return f"{t[0] * 1000:,.1f} ({t[1] * 1000:,.1f}–{t[2] * 1000:,.1f}) ms"

    lines = [
        "## Analysis",
        "",
        f"`python bench/analysis.py --sizes {' '.join(args.sizes)} --runs {args.runs}` on {dt.date.today().isoformat()}: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}; "
        f"load average {load_before[0]:.2f} before and {load_after[0]:.2f} after (the machine is shared: other work "
        "slows both ways alike). Demo firms of `prospects demo --size …` (seed 42, as of 2026-11-29), as the demo's "
        "director (the whole firm), the firm open and the viewer's rows mapped, as in a notebook after its first cell.",
        "",
        "**metrics**: one `view.metrics(...)` call, the exploration notebook's own; **loop**: the same answer with "
        "the API as an analyst used it before, the obvious way (how, in the table). Medians of the warm runs, "
        "(fastest–slowest); both answers compared.",
        "",
        "| firm | question | metrics | loop (how) | loop | loop / metrics | same answer |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, regions, label, how, t_new, t_old, identical in rows:
        lines.append(f"| {size} ({regions} regions) | {label} | {ms(t_new)} | {how} | {ms(t_old)} | "
                     f"{t_old[0] / t_new[0]:.1f}× | {'yes' if identical else '**no**'} |")
    lines += ["", "Reading: every metric is counted over the same selections as the dashboard's cells, but grouped in "
              "one vectorised pass (a group index per deal or document, `bincount` and exact integer sums) instead of "
              "one full figure computation per group and period, or drill-down rows materialised as Python objects "
              "and grouped again; the months of three fiscal years are 36 selections over arrays already mapped."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("analysis.py", text)


if __name__ == "__main__":
    main()
