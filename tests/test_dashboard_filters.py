"""The dashboard's filters (prospects.dashboard.filters): the Organisation cascade within the perimeter,
*Collaborateurs*, the Exercice switch; figures hand-computed on Cabinet Exemple.
"""

from __future__ import annotations

from . import dashboard_helpers as helpers
from .dashboard_helpers import FIRM_WIDE, eur, fresh, shown, text, value

director = helpers.director  # a fixture
firm = helpers.firm  # a fixture
firm_url = helpers.firm_url  # a fixture


def test_region_cascade_limited_to_the_perimeter(firm):
    d = fresh(firm, "part1")
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


def test_filters_that_can_do_nothing_are_not_shown_and_one_sentence_says_why(firm):
    d = fresh(firm, "man1")  # a validator in no group: an empty perimeter
    assert d.region is None and d.filters.collaborator_box is None
    assert {"pr-filter-region", "pr-filter-collaborator"}.isdisjoint(helpers.classes(d.widget))
    assert "pr-filter-fy" in helpers.classes(d.widget)
    note = text(d.filters.note.value)
    assert note.startswith("Les filtres Organisation et Collaborateurs ne vous sont pas proposés")
    assert "aucun périmètre" in note
    assert text(fresh(firm, "part1").filters.note.value) == ""  # a perimeter: no sentence


def test_agency_and_team_lists_with_nothing_to_choose_are_hidden(director):
    # "Mes affaires" of a firm-wide director: every agency sits under a region offered above
    assert director.filters.agency.layout.display == "none" and director.filters.team.layout.display == "none"
    director.region.value = "R1"
    assert director.filters.agency.layout.display is None  # Paris
    assert director.filters.team.layout.display == "none"  # no team until an agency is chosen
    director.filters.agency.value = "A1"
    assert director.filters.team.layout.display is None


def test_collaborators_say_how_many_match_and_never_keep_an_old_choice_silently(director):
    box = director.filters.collaborator_box
    director.region.value = "F"
    box.value = "Marie Manager (man1)"
    assert director.collaborator == "man1" and shown(director)["signed_offers"] == "3"
    box.value = "Mar"  # another name being typed: Marie's figures are not kept behind it
    assert director.collaborator is None and shown(director) == FIRM_WIDE
    assert text(director.filters.collaborator_hint.value) == "2 collaborateurs correspondent à « Mar » : choisissez dans la liste."
    assert "Marie Manager" not in text(director.tiles.period_html.value)
    box.value = "zzz"
    assert text(director.filters.collaborator_hint.value) == "Aucun collaborateur ne correspond à « zzz »."
    assert 'role="status"' in director.filters.collaborator_hint.value  # read out by screen readers
    box.value = "sophie"
    assert text(director.filters.collaborator_hint.value) == "1 collaborateur correspond à « sophie » : choisissez-le dans la liste."
    box.value = "  marie MANAGER (man1) "  # the same name, case and spaces aside
    assert director.collaborator == "man1" and director.filters.collaborator_hint.value == ""
    box.value = "helene <b>"  # typed text is shown escaped
    assert "&lt;b&gt;" in director.filters.collaborator_hint.value


def test_accents_do_not_hide_a_match(firm):
    d = fresh(firm, "dir")
    d.filters.collaborator_box.value = "Paul Associe (part1)"  # typed without the accent
    assert d.collaborator == "part1"


def test_the_switch_to_the_perimeter_reaches_an_agency_when_no_region_is_offered(tmp_path):
    import pandas as pd

    from prospects import db
    from prospects.api import open_firm
    from prospects.sample import sample_firm

    frames = sample_firm()
    members = frames["group_members"]  # man1 joins the Île-de-France group: a manager, capped at his agency
    frames["group_members"] = pd.concat([members, pd.DataFrame([("G_R1", "C4")], columns=members.columns)],
                                        ignore_index=True)
    url = f"sqlite:///{tmp_path / 'agency.db'}"
    db.replace_all(db.make_engine(url), frames)
    d = fresh(open_firm(url, today=helpers.TODAY), "man1")
    assert [v for _, v in d.region.options] == ["__mine__"]  # no region, Paris under "Mes affaires"
    assert d.filters.perimeter_top() == ("A1", "Paris")
    d.filters.switch.click()
    assert d.unit == "A1" and d.filters.agency.value == "A1" and d.region.value == "__mine__"
