"""Hand-computed figures on Cabinet Exemple (prospects.sample), every rule of docs/metrics.md.

The expected numbers below were worked out by hand from the rows of prospects/sample.py;
each comment says which rows make the figure.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from prospects.api import open_firm
from prospects.dataset import day_number

from .reconcile import assert_reconciles

TODAY = "2026-11-29"


@pytest.fixture(scope="module")
def firm_url(sample_url):
    return sample_url


@pytest.fixture(scope="module")
def director(firm_url):
    return open_firm(firm_url, today=TODAY).as_viewer("dir")


def ids(frame, col):
    return sorted(frame[col])


def test_current_year_firm_wide(director):
    f = director.figures(unit="F")
    ind = f.indicators
    p = f.period
    assert (p.fiscal_year, p.start, p.end, p.as_of) == (2026, dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2026, 11, 29))
    # D3 is open with no document; D2 is open but holds X3 in progress
    assert ind["prospects_without_document"] == 1
    # X3 only: X5 sits on D4, abandoned before as-of; X8 is confidential (D6); X9 decided on as-of day
    assert ind["offers_in_progress"] == 1
    assert ind["potential_fees"] == {"recurring": 500_000, "one_off": 0, "total": 500_000}
    # X1, X2 (second signature of D1), X9 (decided on the as-of day), X13 (first day of the FY)
    assert ind["signed_offers"] == 4
    assert ind["signed_budget"] == {"recurring": 1_520_000, "one_off": 330_000, "total": 1_850_000}
    assert ind["refused_offers"] == 1  # X4; X6 is cancelled and never counted
    assert ind["abandoned_prospects"] == 1  # D4; D8 was abandoned in the previous FY
    assert ind["converted_prospects"] == 3  # D1 (first signature 15/03), D7, D11; D10 converted 31/12/2025
    assert ind["win_rate"]["by_count"] == pytest.approx(4 / 5)
    assert ind["win_rate"]["by_value"] == pytest.approx(1_850_000 / 2_050_000)
    # days to sign: X13 12, X1 33 (from sent_on), X2 49, X9 55 → median 41
    assert ind["median_days_to_sign"] == 41.0


def test_client_deals_never_count(director):
    # D5 is a client deal with a signed offer X7 of 9 999 €: in no figure, no drill-down
    f = director.figures(unit="F")
    assert 999_900 not in f.monthly["recurring"].tolist()
    rows = director.drilldown("signed_budget", by="document", unit="F")
    assert "X7" not in set(rows["document_id"])
    assert "D5" not in set(director.deals(unit="F")["id"])


def test_monthly_chart_and_months_with_nothing(director):
    f = director.figures(unit="F")
    m = f.monthly.set_index("month")
    assert list(m.index) == [f"2026-{i:02d}" for i in range(1, 12)]  # January to the month of as-of
    assert m.loc["2026-01"].tolist() == [1, 20_000, 0, 20_000]
    assert m.loc["2026-03"].tolist() == [1, 1_200_000, 250_000, 1_450_000]
    assert m.loc["2026-05"].tolist() == [0, 300_000, 0, 300_000]  # D1's second signature: fees, no new win
    assert m.loc["2026-11"].tolist() == [1, 0, 80_000, 80_000]
    for empty in ("2026-02", "2026-04", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"):
        assert m.loc[empty].tolist() == [0, 0, 0, 0]
    assert m["won_prospects"].sum() == f.indicators["converted_prospects"]
    for part in ("recurring", "one_off", "total"):
        assert m[part].sum() == f.indicators["signed_budget"][part]


def test_ageing(director):
    a = director.figures(unit="F").ageing.set_index("bucket")
    # X3 sent 05/01/2026: 328 days at 29/11/2026
    assert a.loc[">180"].tolist() == [1, 500_000, 0, 500_000]
    assert a.drop(">180")["offers"].sum() == 0


def test_previous_year_same_date(director):
    prev = director.figures(unit="F").previous
    assert prev.period.as_of == dt.date(2025, 11, 29)
    ind = prev.indicators
    assert ind["prospects_without_document"] == 2  # D2 and D8 (abandoned only on 15/12/2025)
    assert ind["offers_in_progress"] == 0  # X3 created 01/12/2025, after 29/11/2025
    assert ind["signed_offers"] == 1 and ind["signed_budget"]["total"] == 400_000  # X11
    assert ind["converted_prospects"] == 1 and ind["abandoned_prospects"] == 0
    assert ind["median_days_to_sign"] == 27.0


def test_decided_on_as_of_day_and_day_after(director):
    # as-of 28/11: X9 (decided 29/11) is still in progress and D7 not yet converted
    f = director.figures(unit="F", as_of="2026-11-28")
    ind = f.indicators
    assert ind["offers_in_progress"] == 2
    assert ind["potential_fees"] == {"recurring": 500_000, "one_off": 80_000, "total": 580_000}
    assert ind["signed_offers"] == 3
    assert ind["converted_prospects"] == 2
    assert ind["prospects_without_document"] == 1  # D7 is open but has X9 in progress
    rows = director.drilldown("offers_in_progress", by="document", unit="F", as_of="2026-11-28")
    status = dict(zip(rows["document_id"], rows["status"], strict=True))
    assert status == {"X3": "in_progress", "X9": "in_progress"}  # status at A, not today's


def test_offer_left_in_progress_on_abandoned_deal(director):
    # X5 is in progress on D4; before D4's abandonment (10/09) it counts, after it does not
    before = director.figures(unit="R2", as_of="2026-09-09").indicators
    after = director.figures(unit="R2", as_of="2026-09-10").indicators
    assert before["offers_in_progress"] == 1 and before["potential_fees"]["total"] == 150_000
    assert after["offers_in_progress"] == 0 and after["abandoned_prospects"] == 1
    assert before["abandoned_prospects"] == 0


def test_fiscal_year_edge_days(director):
    # X12 decided 31/12/2025 (last day of FY 2025), X13 decided 01/01/2026 (first day of FY 2026)
    fy25 = director.figures(unit="F", fiscal_year=2025)
    assert fy25.period.as_of == dt.date(2025, 12, 31)  # a past FY runs to its last day
    docs25 = set(director.drilldown("signed_offers", by="document", unit="F", fiscal_year=2025)["document_id"])
    docs26 = set(director.drilldown("signed_offers", by="document", unit="F")["document_id"])
    assert "X12" in docs25 and "X12" not in docs26
    assert "X13" in docs26 and "X13" not in docs25


def test_non_january_start_month(firm_url):
    firm = open_firm(firm_url, today=TODAY)
    firm.settings = firm.settings.with_(fiscal_year_start_month=10)
    me = firm.as_viewer("dir")
    assert me.period().fiscal_year == 2027  # 29/11/2026 is in 01/10/2026 … 30/09/2027
    f = me.figures(unit="F", fiscal_year=2026)
    p = f.period
    assert (p.start, p.end, p.as_of) == (dt.date(2025, 10, 1), dt.date(2026, 9, 30), dt.date(2026, 9, 30))
    ind = f.indicators
    assert ind["signed_offers"] == 4  # X12, X13, X1, X2 (X9 is after 30/09)
    assert ind["signed_budget"] == {"recurring": 1_530_000, "one_off": 250_000, "total": 1_780_000}
    assert ind["converted_prospects"] == 3  # D10, D11, D1
    assert ind["abandoned_prospects"] == 2  # D8 (15/12/2025), D4 (10/09/2026)
    assert ind["refused_offers"] == 1
    assert ind["offers_in_progress"] == 1 and ind["prospects_without_document"] == 1
    assert f.monthly["month"].tolist()[0] == "2025-10" and len(f.monthly) == 12
    prev = f.previous.indicators
    assert f.previous.period.as_of == dt.date(2025, 9, 30)
    assert prev["signed_offers"] == 1 and prev["prospects_without_document"] == 1  # X11; D8 open


def test_29_february_moves_to_28(firm_url):
    firm = open_firm(firm_url, today="2028-03-01")
    f = firm.as_viewer("dir").figures(unit="F", as_of="2028-02-29")
    assert f.previous.period.as_of == dt.date(2027, 2, 28)


def test_future_fiscal_year_is_an_error(director):
    from prospects.fiscal import PeriodError

    with pytest.raises(PeriodError, match="après aujourd'hui"):
        director.figures(unit="F", fiscal_year=2027)


# ---------------------------------------------------------------------------
# drill-downs reconcile with every cell, hand data


@pytest.mark.parametrize("as_of", ["2026-11-29", "2026-11-28", "2026-09-10", "2026-03-15"])
@pytest.mark.parametrize("unit", ["F", "R1", "R2", "T1"])
def test_every_cell_reconciles(director, unit, as_of):
    period = director.period(as_of=as_of)
    ds = director._rows()
    mask = director._mask(ds, unit)
    assert_reconciles(ds, mask, period)


def test_by_deal_signatory_is_the_most_recent_document(director):
    rows = director.drilldown("signed_budget", by="deal", unit="F").set_index("deal_id")
    # D1 holds X1 (signed by Paul Associé, E1) and X2 (more recent, Marie Manager, E2)
    assert rows.loc["D1", "documents"] == 2
    assert rows.loc["D1", "signatory"] == "Marie Manager"
    assert rows.loc["D1", "signatory_entity"] == "Exemple Audit SA"
    assert rows.loc["D1", "total"] == 1_750_000


def test_deal_cell_document_view_is_what_was_at_stake(director):
    # docs/metrics.md, "Deal cells": D4's documents undecided when it was abandoned (10/09/2026):
    # X5 (in progress) only; X6 was cancelled on 01/04 and no longer at stake
    deals = director.drilldown("abandoned_prospects", by="deal", unit="F")
    docs = director.drilldown("abandoned_prospects", by="document", unit="F")
    assert deals["deal_id"].tolist() == ["D4"]
    assert sorted(docs["document_id"]) == ["X5"]
    assert deals.loc[0, "documents"] == 1 and deals.loc[0, "signatory"] == "Pierre Associé"  # X5's
    assert deals.loc[0, "region"] == "Hauts-de-France" and deals.loc[0, "agency"] == "Lille" and deals.loc[0, "team"] is None


def test_month_drilldown_outside_period_is_refused(director):
    with pytest.raises(ValueError, match="n'est pas dans l'exercice 2026"):
        director.drilldown("signed_budget", by="document", unit="F", month="2026-12")


def test_unknown_indicator(director):
    with pytest.raises(ValueError, match="indicateur de détail inconnu « nope »"):
        director.drilldown("nope", unit="F")


def test_lines_are_attached_by_document(director):
    rows = director.drilldown("signed_budget", by="document", unit="F", lines=True).set_index("document_id")
    assert rows.loc["X1", "lines"] == [
        {"mission": "Commissariat aux comptes", "billing": "recurring", "amount_cents": 1_200_000},
        {"mission": "Commissariat aux comptes", "billing": "one_off", "amount_cents": 250_000},
    ]
    for doc_id, row in rows.iterrows():
        assert sum(ln["amount_cents"] for ln in row["lines"]) == row["total"], doc_id


def test_day_numbers():
    assert day_number(dt.date(1970, 1, 2)) == 1
    assert np.iinfo(np.int32).max > day_number(dt.date(2100, 1, 1))


def test_offers_decided_this_year_on_a_deal_abandoned_two_years_ago(firm_url):
    """D12 (Lille, confidential G_LILLE) was abandoned on 30/06/2024 and came back in 2026:
    X14 signed on 10/04/2026 (6 000 € recurring), X15 refused on 15/06/2026 (700 € one-off).
    docs/metrics.md counts both; the deal is converted in 2026 and was abandoned in FY 2024."""
    part2 = open_firm(firm_url, today=TODAY).as_viewer("part2")
    f = part2.figures(unit="R2")
    ind = f.indicators
    assert ind["signed_offers"] == 1 and ind["signed_budget"] == {"recurring": 600_000, "one_off": 0, "total": 600_000}
    assert ind["refused_offers"] == 1  # X15; X6 (D4) is cancelled
    assert ind["converted_prospects"] == 1  # D12, first signature 10/04/2026
    assert ind["abandoned_prospects"] == 1  # D4 (10/09/2026); D12's abandonment is in FY 2024
    assert ind["offers_in_progress"] == 0 and ind["prospects_without_document"] == 0  # X5 sits on abandoned D4
    assert ind["win_rate"]["by_count"] == pytest.approx(1 / 2)
    assert ind["win_rate"]["by_value"] == pytest.approx(600_000 / 670_000)
    assert ind["median_days_to_sign"] == 67.0  # 02/02 → 10/04/2026, no sent_on
    assert f.monthly.set_index("month").loc["2026-04"].tolist() == [1, 600_000, 0, 600_000]
    rows = part2.drilldown("signed_budget", by="document", unit="R2")
    assert rows["document_id"].tolist() == ["X14"] and rows["deal_id"].tolist() == ["D12"]
    assert part2.drilldown("refused_offers", by="deal", unit="R2")["deal_id"].tolist() == ["D12"]
    # N-1 at the same date: nothing (D4 did not exist; D12 had been abandoned in 2024)
    prev = f.previous.indicators
    assert (prev["signed_offers"], prev["refused_offers"], prev["abandoned_prospects"], prev["converted_prospects"]) == (0, 0, 0, 0)
    # FY 2024: the abandonment; at 31/05/2024, an open prospect without document
    assert part2.figures(unit="R2", fiscal_year=2024).indicators["abandoned_prospects"] == 1
    assert part2.figures(unit="R2", fiscal_year=2024, as_of="2024-05-31").indicators["prospects_without_document"] == 1
    # confidential: the director sees none of it
    director = open_firm(firm_url, today=TODAY).as_viewer("dir")
    assert "X14" not in set(director.drilldown("signed_offers", by="document", unit="F")["document_id"])
    for as_of in ("2026-11-29", "2026-04-10", "2026-04-09", "2024-06-30"):
        period = part2.period(as_of=as_of) if as_of.startswith("2026") else part2.period(2024, as_of=as_of)
        assert_reconciles(part2._rows(), part2._mask(part2._rows(), "R2"), period)


def test_rates_and_medians_per_group_are_those_of_one_group():
    """The grouped rate and median (figures.ratio, win_rates, medians_by) agree with Python and numpy."""
    import numpy as np

    from prospects.figures import medians_by, ratio, win_rates

    index = np.array([2, 0, 2, 2, 0, 3, 3, 3, 3])
    values = np.array([5, 1, 9, 7, 4, 10, 2, 8, 6])
    got = medians_by(index, values, 5)
    assert got[0] == np.median([1, 4]) and got[2] == np.median([5, 9, 7]) and got[3] == np.median([10, 2, 8, 6])
    assert np.isnan(got[1]) and np.isnan(got[4])
    assert np.isnan(medians_by(np.zeros(0, dtype=np.int64), np.zeros(0), 1)[0])
    big = np.array([3 * 10**18, 2**62], dtype=object)  # sums of cents past float64's exact integers
    assert list(ratio(big, np.array([7 * 10**18, 2**63], dtype=object))) == [3 * 10**18 / (7 * 10**18), 0.5]
    by_count, by_value = win_rates(np.array([3, 0]), np.array([1, 0]), np.array([300, 0]), np.array([100, 0]))
    assert by_count[0] == 0.75 and by_value[0] == 0.75 and np.isnan(by_count[1]) and np.isnan(by_value[1])
