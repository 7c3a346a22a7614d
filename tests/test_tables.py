"""Drill-down values as people read them (prospects.tables.cell_text / drill_table), on Cabinet Exemple."""

from __future__ import annotations

import pandas as pd
import pytest

from prospects import drilldown, i18n
from prospects.api import open_firm
from prospects.tables import cell_text, drill_table

NNBSP = i18n.NNBSP


@pytest.fixture(scope="module")
def director(sample_url):
    return open_firm(sample_url, today="2026-11-29").as_viewer("dir")


def test_cell_text_in_each_locale():
    lines = [{"mission": "Audit", "billing": "recurring", "amount_cents": 1_200_050}]
    assert cell_text("total", 1_450_000, "fr") == f"14{NNBSP}500{NNBSP}€"
    assert cell_text("total", 1_450_000, "en") == "€14,500"
    assert cell_text("documents", 1234, "fr") == f"1{NNBSP}234"
    assert cell_text("decided_on", pd.Timestamp("2026-03-15"), "fr") == "15/03/2026"
    assert cell_text("last_decision_on", pd.NaT, "fr") == ""
    assert cell_text("status", "refused", "fr") == "Refusée" and cell_text("last_decision", "cancelled", "en") == "Cancelled"
    assert cell_text("lines", lines, "fr") == f"Audit (récurrent) 12{NNBSP}001{NNBSP}€"
    assert cell_text("manager", None, "fr") == ""


def test_drill_table_is_in_the_screen_order_with_the_locale_headers(director):
    frame = director.drilldown("prospects_without_document", by="deal", unit="F")
    shown = drill_table(frame, "deal", "en")
    labels = i18n.COLUMN_LABELS["en"]
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
