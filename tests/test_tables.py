"""The formatted tables every front end shows (prospects.tables): the change against N-1,
drill-down values as people read them (cell_text / drill_table) and the reports' totals rows."""

from __future__ import annotations

import pandas as pd
import pytest

from prospects import drilldown, i18n
from prospects.api import open_firm
from prospects.tables import beside_table, cell_text, change, drill_table, indicator_table

NNBSP = N = i18n.NNBSP
MINUS = "\u2212"


@pytest.fixture(scope="module")
def director(sample_url):
    return open_firm(sample_url, today="2026-11-29").as_viewer("dir")


def test_cell_text_in_each_locale():
    lines = [{"mission": "Audit", "billing": "recurring", "amount_cents": 1_200_050}]
    assert cell_text("total", 1_450_000, "fr", "EUR") == f"14{NNBSP}500{NNBSP}€"
    assert cell_text("total", 1_450_000, "en", "EUR") == "€14,500"
    assert cell_text("documents", 1234, "fr", "EUR") == f"1{NNBSP}234"
    assert cell_text("decided_on", pd.Timestamp("2026-03-15"), "fr", "EUR") == "15/03/2026"
    assert cell_text("last_decision_on", pd.NaT, "fr", "EUR") == ""
    assert cell_text("status", "refused", "fr", "EUR") == "Refusée" and cell_text("last_decision", "cancelled", "en", "EUR") == "Cancelled"
    assert cell_text("lines", lines, "fr", "EUR") == f"Audit (récurrent) 12{NNBSP}001{NNBSP}€"
    assert cell_text("manager", None, "fr", "EUR") == ""


def test_drill_table_is_in_the_screen_order_with_the_locale_headers(director):
    frame = director.drilldown("prospects_without_document", by="deal", unit="F")
    shown = drill_table(frame, "deal", "en", "EUR")
    labels = i18n.column_labels("en", "EUR")
    assert list(shown.columns) == [labels[c] for c in drilldown.display_columns("deal", "prospects_without_document")]
    assert shown.iloc[0][labels["deal_created_on"]] == "2026-06-01"
    assert shown.iloc[0][labels["last_decision"]] == "" and shown.iloc[0][labels["total"]] == "€0"


@pytest.mark.parametrize("as_of", ["2026-11-29", "2026-05-20", "2026-03-14", "2026-01-01"])
@pytest.mark.parametrize("unit", ["F", "R1", "R2"])
def test_totals_rows_equal_the_indicators(director, unit, as_of):
    from prospects.tables import ageing_totals, monthly_totals

    figs = director.figures(unit=unit, as_of=as_of)
    ind = figs.indicators
    months = monthly_totals(figs)
    assert months["won_prospects"] == ind["converted_prospects"]
    assert {k: months[k] for k in ("recurring", "one_off", "total")} == ind["signed_budget"]
    ages = ageing_totals(figs)
    assert ages["offers"] == ind["offers_in_progress"]
    assert {k: ages[k] for k in ("recurring", "one_off", "total")} == ind["potential_fees"]
    assert all(type(v) is int for v in (*months.values(), *ages.values()))


@pytest.mark.parametrize(
    ("current", "previous", "locale", "text", "direction", "words"),
    [
        (4, 1, "fr", f"+300{N}%", "up", "en hausse"),
        (1_850_000, 3_700_000, "fr", f"{MINUS}50{N}%", "down", "en baisse"),
        (5, 5, "fr", f"0{N}%", "flat", "stable"),
        (1001, 1000, "fr", f"0{N}%", "flat", "stable"),  # +0.1 % rounds to 0: stable
        (3, 0, "fr", "n.s.", "ns", "N-1 nul"),
        (0, 0, "fr", "n.s.", "ns", "N-1 nul"),
        (None, 2, "fr", "n.s.", "ns", "N-1 nul"),
        (4, 1, "en", "+300%", "up", "up"),
        (1, 2, "en", f"{MINUS}50%", "down", "down"),
        (2, 0, "en", "n.s.", "ns", "last year was zero"),
        (3, 2, "fr", f"+50{N}%", "up", "en hausse"),  # exactly half: away from zero
        (1, 3, "fr", f"{MINUS}67{N}%", "down", "en baisse"),
    ],
)
def test_change_against_n1_in_percent(current, previous, locale, text, direction, words):
    c = change(current, previous, locale)
    assert (c.text, c.direction) == (text, direction)
    assert words in c.words
    assert c.arrow == {"up": "▲", "down": "▼", "flat": "=", "ns": ""}[direction]
    assert c.tone == "neutral" if direction in ("flat", "ns") else c.tone == "better" if direction == "up" else c.tone == "worse"


def test_change_of_a_rate_in_points_and_lower_is_better():
    c = change(0.8, 1.0, "fr", points=True)
    assert (c.text, c.direction) == (f"{MINUS}20{N}pts", "down")
    assert change(0.9, 0.85, "en", points=True).text == "+5 pts"
    assert change(0.5, None, "fr", points=True).direction == "ns"
    assert change(0.5, 0.0, "fr", points=True).text == f"+50{N}pts"  # a rate of 0 is a value, not a void
    worse = change(41, 27, "fr", lower_is_better=True)  # median days to sign: longer is worse
    assert (worse.direction, worse.tone) == ("up", "worse")
    assert change(2, 4, "fr", lower_is_better=True).tone == "better"
    assert change(2, 4, "fr", lower_is_better=None).tone == "neutral"  # no judgement for this figure


def test_the_tables_carry_the_change_of_every_figure(sample_url):
    figs = open_firm(sample_url, today="2026-11-29").as_viewer("dir").figures(unit="F")
    table = indicator_table(figs)
    signed = table[(table.code == "signed_offers")].iloc[0]
    assert (signed.value, signed.previous, signed.change.text) == ("4", "1", f"+300{N}%")
    budget = table[(table.code == "signed_budget") & (table.part == "total")].iloc[0]
    assert budget.change.direction == "up"  # 18 500 € against 4 000 €: +363 %
    assert budget.change.text == f"+363{N}%"
    refused = table[table.code == "refused_offers"].iloc[0]
    assert (refused.change.text, refused.change.tone) == ("n.s.", "neutral")  # N-1: 0 refused
    without = table[table.code == "prospects_without_document"].iloc[0]
    assert (without.change.text, without.change.tone) == (f"{MINUS}50{N}%", "neutral")
    beside = beside_table(figs).set_index("code")
    assert beside.loc["win_rate.by_count", "change"].text == f"{MINUS}20{N}pts"  # 80 % against 100 %
    days = beside.loc["median_days_to_sign", "change"]
    assert (days.direction, days.tone) == ("up", "worse")  # 41 days against 27
