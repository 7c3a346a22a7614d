"""Metrics tables (prospects.analysis, View.metrics): hand-computed on Cabinet Exemple, the
same numbers as the dashboard's cells, months that add up to the year, the money accessor.

The expected numbers were worked out by hand from prospects/sample.py (see tests/test_figures.py
for the rows behind each cell); random firms are in tests/test_properties.py.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import prospects
from prospects import analysis, db, demo
from prospects.api import ArgumentError, open_firm

TODAY = "2026-11-29"
ALL = ["prospects_without_document", "offers_in_progress", "potential_fees", "signed_offers", "signed_budget",
       "refused_offers", "refused_fees", "decided_offers", "abandoned_prospects", "converted_prospects",
       "win_rate", "refusal_rate", "median_days_to_sign", "aged_offers>90"]


@pytest.fixture(scope="module")
def firm(sample_url):
    return open_firm(sample_url, today=TODAY)


def value(frame, metric, component, **where):
    rows = frame[(frame["metric"] == metric) & (frame["component"] == component)]
    for col, v in where.items():
        rows = rows[rows[col].isna()] if v is None else rows[rows[col] == v]
    assert len(rows) == 1, (metric, component, where, rows)
    return rows["value"].iloc[0]


def test_one_call_by_region_hand_computed(firm):
    """The director, firm-wide, by region: R1 holds everything he may see; Lille's D12 is confidential."""
    m = firm.as_viewer("dir").metrics(ALL, by="region", unit="firm")
    assert list(m.columns) == ["unit_id", "unit_name", "region_id", "region", "fiscal_year", "as_of", "period",
                               "metric", "component", "value"]
    assert set(m["unit_id"]) == {"F"} and set(m["region_id"]) == {"R1", "R2"}  # D4 (A2) makes R2 a group
    assert set(m.loc[m["region_id"] == "R2", "region"]) == {"Hauts-de-France"}
    r1 = {"region_id": "R1"}
    # X1, X2, X9, X13 signed; X4 refused (200 000 recurring); X14/X15 on confidential D12 never count
    assert value(m, "signed_offers", "count", **r1) == 4
    assert value(m, "signed_budget", "total", **r1) == 1_850_000
    assert value(m, "refused_fees", "recurring", **r1) == 200_000
    assert value(m, "decided_offers", "count", **r1) == 5
    assert value(m, "decided_offers", "total", **r1) == 2_050_000
    assert value(m, "refusal_rate", "by_count", **r1) == pytest.approx(1 / 5)
    assert value(m, "refusal_rate", "by_value", **r1) == pytest.approx(200_000 / 2_050_000)
    assert value(m, "median_days_to_sign", "days", **r1) == 41.0  # 12, 33, 49, 55
    # X3, sent 05/01/2026: 328 days old, 5 000 €; X8 (D6, confidential) is not the director's
    assert value(m, "aged_offers>90", "count", **r1) == 1 and value(m, "aged_offers>90", "total", **r1) == 500_000
    assert value(m, "abandoned_prospects", "count", region_id="R2") == 1  # D4
    assert value(m, "signed_budget", "total", region_id="R2") == 0
    assert np.isnan(value(m, "win_rate", "by_value", region_id="R2"))  # nothing decided: an empty rate
    assert np.isnan(value(m, "median_days_to_sign", "days", region_id="R2"))
    assert (m["fiscal_year"] == 2026).all() and (m["as_of"] == pd.Timestamp(TODAY)).all()
    assert m["period"].dtype == pd.PeriodDtype("Y-DEC") and set(m["period"].astype(str)) == {"2026"}


def test_every_metric_is_the_dashboards_cell(firm):
    """Ungrouped, every metric equals Figures' indicator (the same selections, rates and median)."""
    for login, unit in (("dir", "F"), ("part1", "R1"), ("part2", "R2"), ("man2", None)):
        view = firm.as_viewer(login)
        for fy in (2025, 2026):
            figs = view.figures(unit=unit, fiscal_year=fy)
            ind = figs.indicators
            m = view.metrics(ALL, unit=unit, fiscal_year=fy)
            for (metric, component), expected in zip(analysis.FIGURE_ROWS, figs.to_frame()["N"], strict=True):
                got = value(m, metric, component)
                assert got == expected or (np.isnan(got) and np.isnan(expected)), (login, fy, metric, component)
            for part in ("count", "recurring", "one_off", "total"):
                signed = ind["signed_offers"] if part == "count" else ind["signed_budget"][part]
                refused = value(m, "refused_offers", "count") if part == "count" else value(m, "refused_fees", part)
                assert value(m, "decided_offers", part) == signed + refused
            for part in ("by_count", "by_value"):
                rate = ind["win_rate"][part]
                got = value(m, "refusal_rate", part)
                assert (rate is None and np.isnan(got)) or got == pytest.approx(1 - rate)
            older = figs.ageing[figs.ageing["bucket"].isin(["91-180", ">180"])]
            assert value(m, "aged_offers>90", "count") == older["offers"].sum()
            assert value(m, "aged_offers>90", "total") == older["total"].sum()


def test_aged_offers_take_any_threshold(firm):
    part1 = firm.as_viewer("part1")  # a member of G_CONF: sees X8, sent 20/11, 9 days old at as-of
    m = part1.metrics(["aged_offers>0", "aged_offers>8", "aged_offers>9", "aged_offers>328", "aged_offers>327"], unit="R1")
    counts = m.set_index("metric").loc[lambda f: f["component"] == "count", "value"].to_dict()
    assert counts == {"aged_offers>0": 2, "aged_offers>8": 2, "aged_offers>9": 1, "aged_offers>327": 1, "aged_offers>328": 0}


def test_months_and_quarters_add_up_to_the_year_and_match_the_chart(firm):
    view = firm.as_viewer("dir")
    figs = view.figures(unit="F")
    monthly = view.metrics(["signed_budget", "converted_prospects", "refused_offers", "offers_in_progress"],
                           unit="F", freq="M")
    assert monthly["period"].dtype == pd.PeriodDtype("M")
    assert list(monthly["period"].drop_duplicates().astype(str)) == list(figs.monthly["month"])
    chart = figs.monthly.set_index("month")
    for part in ("recurring", "one_off", "total"):
        got = monthly[(monthly["metric"] == "signed_budget") & (monthly["component"] == part)]
        assert got.set_index(got["period"].astype(str))["value"].to_dict() == chart[part].astype(float).to_dict()
    won = monthly[monthly["metric"] == "converted_prospects"]
    assert list(won["value"]) == list(chart["won_prospects"].astype(float))
    # a state is that of the sub-period's last day: November's ends on the as-of date
    in_progress = monthly[monthly["metric"] == "offers_in_progress"]
    assert in_progress["value"].iloc[-1] == figs.indicators["offers_in_progress"]
    assert in_progress["as_of"].iloc[-1] == pd.Timestamp(TODAY) and in_progress["as_of"].iloc[0] == pd.Timestamp("2026-01-31")
    quarters = view.metrics(["signed_budget.total", "refused_offers"], unit="F", freq="Q")
    assert list(quarters["period"].drop_duplicates().astype(str)) == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert quarters.loc[quarters["metric"] == "signed_budget", "value"].sum() == figs.indicators["signed_budget"]["total"]


def test_fiscal_quarters_follow_the_fiscal_year(tmp_path):
    """A fiscal year starting in October: FY 2026 is Oct 2025 … Sep 2026, its first quarter 2026Q1."""
    frames = demo.generate("small", 3, today=dt.date(2026, 11, 29), fiscal_year_start_month=10)
    url = f"sqlite:///{tmp_path / 'fy10.db'}"
    db.replace_all(db.make_engine(url), frames)
    firm = open_firm(url, settings=prospects.load_settings(db=url, today=TODAY).with_(fiscal_year_start_month=10))
    director = next(x["login"] for x in demo.demo_logins(frames) if x["what"].startswith("the whole firm"))
    view = firm.as_viewer(director)
    m = view.metrics("signed_budget.total", unit="firm", fiscal_year=2026, freq="Q")
    assert list(m["period"].astype(str)) == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert m["period"].dtype == pd.PeriodDtype("Q-SEP")
    assert list(m["as_of"].dt.date) == [dt.date(2025, 12, 31), dt.date(2026, 3, 31), dt.date(2026, 6, 30), dt.date(2026, 9, 30)]
    assert m["value"].sum() == view.figures(unit="firm", fiscal_year=2026).indicators["signed_budget"]["total"]
    year = view.metrics("signed_budget.total", unit="firm", fiscal_year=2026)
    assert year["period"].dtype == pd.PeriodDtype("Y-SEP") and str(year["period"].iloc[0]) == "2026"


def test_by_document_dimensions_and_combinations(firm):
    part1 = firm.as_viewer("part1")
    m = part1.metrics("refusal_rate.by_count", by="template", unit="R1")
    rates = dict(zip(m["template"].fillna("(none)"), m["value"], strict=True))
    # decided in 2026: X1, X2, X9 signed, X4 refused, X13 signed without a template; X3, X8 undecided
    assert rates["Proposition social"] == 1.0 and rates["LM CAC 6 exercices"] == 0.0 and rates["(none)"] == 0.0
    assert np.isnan(rates["Proposition tenue"])  # X3: still in progress
    both = part1.metrics("decided_offers.count", by=["doc_type", "template"], unit="R1")
    assert list(both.columns[:4]) == ["unit_id", "unit_name", "doc_type", "template"]
    assert both["value"].sum() == 5
    assert set(zip(both["doc_type"], both["template"], strict=True)) >= {("Avenant", "Avenant LM"),
                                                                        ("Proposition commerciale", "Proposition social")}
    with pytest.raises(ArgumentError, match="compte des affaires"):
        part1.metrics("converted_prospects", by="template", unit="R1")


def test_several_units_and_fiscal_years(firm):
    view = firm.as_viewer("dir")
    m = view.metrics("signed_offers", unit=["R1", "R2", "perimeter"], fiscal_years=[2025, 2026])
    assert list(m["unit_id"].drop_duplicates()) == ["R1", "R2", "F"]
    got = m.pivot_table(index="unit_id", columns="fiscal_year", values="value")
    assert got.loc["R1", 2026] == 4 and got.loc["R2", 2026] == 0 and got.loc["F", 2026] == 4
    assert got.loc["F", 2025] == view.figures(unit="F", fiscal_year=2025).indicators["signed_offers"]
    assert m.attrs["scope"].units == ("R1", "R2", "F")
    n_1 = view.metrics("signed_offers", unit="F", compare="N-1")
    assert list(n_1["fiscal_year"]) == [2026, 2025] and list(n_1["as_of"].dt.date) == [dt.date(2026, 11, 29), dt.date(2025, 11, 29)]
    assert n_1["value"].iloc[1] == view.figures(unit="F").previous.indicators["signed_offers"]


def test_mine_is_one_block_named_mine(firm):
    m = firm.as_viewer("man2").metrics(["signed_offers", "abandoned_prospects"])
    assert m["unit_id"].isna().all() and set(m["unit_name"]) == {"Mes affaires"}
    assert value(m, "abandoned_prospects", "count") == 1  # D4, where man2 is manager


def test_amounts_past_float_stay_exact():
    """Sums of cents past 2**53 keep every cent: the value column then holds Python integers."""
    big = np.array([2**60 + 1, 3], dtype=np.int64)
    values = analysis._values([big, np.array([0.5, np.nan])], 2)
    assert values.dtype == object and values[0] == 2**60 + 1 and values[1] == 0.5
    assert analysis._values([np.array([10, 20]), np.array([0.25, 0.5])], 2).dtype == np.float64


def test_metric_names_are_the_dictionarys():
    """Every metric of the table has a definition in the dictionary (and so in docs/metrics.md)."""
    from prospects.dictionary import BY_CODE

    for m in analysis.METRICS.values():
        codes = [f"{m.code}.{c}" for c in m.components] if m.code in ("win_rate", "refusal_rate") else [m.code]
        for code in codes:
            assert code in BY_CODE, code
    for name in analysis.metric_names():
        assert analysis.parse([name])


@pytest.fixture(scope="module")
def demo_director(tmp_path_factory):
    frames = demo.generate("small", 5, today=dt.date(2026, 11, 29))
    url = f"sqlite:///{tmp_path_factory.mktemp('analysis') / 'demo.db'}"
    db.replace_all(db.make_engine(url), frames)
    login = next(x["login"] for x in demo.demo_logins(frames) if x["what"].startswith("the whole firm"))
    return open_firm(url, today=TODAY).as_viewer(login)


@pytest.mark.parametrize("by", [(), ("region",), ("partner", "template")])
@pytest.mark.parametrize("freq", ["M", "Q"])
def test_flows_in_one_pass_are_a_selection_of_each_sub_period(demo_director, by, freq):
    """Months and quarters of flows come from one selection of the year, each row in the
    sub-period of its day: exactly what a selection of each sub-period gives."""
    from prospects import figures

    view = demo_director
    ds = view._rows()
    mask = view._mask(ds, view.filter_options()["units"]["id"].iloc[0])
    names = sorted(analysis.FLOWS - ({"abandoned_prospects", "converted_prospects"} if "template" in by else set()))
    asked = analysis.parse(names)
    g = analysis.groups(ds, mask, by)
    for period in (view.period(), view.period(2025)):
        subs = analysis.sub_periods(period, freq)
        edges = np.array([figures.day_number(sub.start) for _, sub in subs])
        fast = analysis.measure(ds, figures.selections(ds, mask, period), g, asked, edges)
        for j, (_, sub) in enumerate(subs):
            slow = analysis.measure(ds, figures.selections(ds, mask, sub), g, asked)
            for one_pass, own in zip(fast, slow, strict=True):
                np.testing.assert_array_equal(one_pass.reshape(g.n, len(subs))[:, j], own)


def test_pure_functions_say_their_errors_in_a_sentence(firm):
    with pytest.raises(analysis.MetricsError, match=r"^unknown dimension 'country'; dimensions: region"):
        analysis.groups(firm.as_viewer("dir")._rows(), np.zeros(0, dtype=bool), ["country"])
    figs = firm.as_viewer("dir").figures(unit="F")
    with pytest.raises(ValueError, match="compare « N-2 » inconnu"):
        figs.to_frame(compare="N-2")
