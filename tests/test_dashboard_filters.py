"""The dashboard's filters (prospects.dashboard.filters): the Organisation cascade within the perimeter,
*Collaborateurs*, the Exercice switch; figures hand-computed on Cabinet Exemple.
"""

from __future__ import annotations

from prospects.dashboard import Dashboard

from . import dashboard_helpers as helpers
from .dashboard_helpers import FIRM_WIDE, eur, shown, text, value

director = helpers.director  # a fixture
firm = helpers.firm  # a fixture
firm_url = helpers.firm_url  # a fixture


def test_region_cascade_limited_to_the_perimeter(firm):
    d = Dashboard(firm, "part1")
    assert [v for _, v in d.region.options] == ["__mine__", "R1"]  # no firm, no R2
    assert set(d.filters.collaborator_box.options) == {
        "Gaston Parti (gone)", "Marie Manager (man1)", "Paul Associé (part1)", "Sophie Collaboratrice (staff1)",
    }
    d.region.value = "R1"
    assert [v for _, v in d.filters.agency.options] == ["", "A1"]
    assert [v for _, v in d.filters.team.options] == [""]
    # part1's region holds the confidential D6 (he is in its group): X8 in progress
    assert shown(d) == {
        "prospects_without_document": "1", "offers_in_progress": "2", "potential_fees": eur("6 500"),
        "signed_offers": "4", "signed_budget": eur("18 500"), "refused_offers": "1", "abandoned_prospects": "0",
    }
    d.filters.agency.value = "A1"
    assert [v for _, v in d.filters.team.options] == ["", "T1"]
    d.filters.team.value = "T1"
    assert d.unit == "T1"
    d.region.value = "__mine__"  # back to "Mes affaires": the cascade empties
    assert d.unit is None and d.filters.agency.value == "" and d.filters.team.value == ""
    assert value(d, "offers_in_progress") == "1"  # X3 only: part1 is not on D6's team


def test_director_cascade_and_region_figures(director):
    director.region.value = "R2"
    assert [v for _, v in director.filters.agency.options] == ["", "A2"]
    assert shown(director) == {
        "prospects_without_document": "0", "offers_in_progress": "0", "potential_fees": eur("0"),
        "signed_offers": "0", "signed_budget": eur("0"), "refused_offers": "0", "abandoned_prospects": "1",
    }
    director.region.value = "F"
    assert [v for _, v in director.filters.agency.options] == ["", "A2", "A1"]  # by name: Lille, Paris


def test_collaborator_filter(director):
    director.region.value = "F"
    director.filters.collaborator_box.value = "Marie"  # still typing: nothing changes
    assert director.collaborator is None and shown(director) == FIRM_WIDE
    director.filters.collaborator_box.value = "Marie Manager (man1)"
    assert director.collaborator == "man1"
    # D1, D2, D7 (not the confidential D6): X1, X2, X9 signed; X3 in progress; X4 refused
    assert shown(director) == {
        "prospects_without_document": "0", "offers_in_progress": "1", "potential_fees": eur("5 000"),
        "signed_offers": "3", "signed_budget": eur("18 300"), "refused_offers": "1", "abandoned_prospects": "0",
    }
    assert "Marie Manager" in text(director.tiles.period_html.value)
    director.filters.clear_collaborator.click()
    assert director.collaborator is None and shown(director) == FIRM_WIDE


def test_fiscal_year_switch(director):
    director.region.value = "F"
    director.set_fiscal_year("previous")
    assert "31/12/2025" in text(director.header.value)
    assert list(director.chart.months) == [f"2025-{m:02d}" for m in range(1, 13)]
    # FY 2025 to 31/12/2025: X11 and X12 signed; X3 and X13 in progress; D8 abandoned
    assert shown(director) == {
        "prospects_without_document": "0", "offers_in_progress": "2", "potential_fees": eur("5 200"),
        "signed_offers": "2", "signed_budget": eur("4 100"), "refused_offers": "0", "abandoned_prospects": "1",
    }
    director.set_fiscal_year("current")
    assert shown(director) == FIRM_WIDE
