"""ACCESS.md on Cabinet Exemple: who sees which deals, filters, refusals."""

from __future__ import annotations

import pytest

from prospects.api import open_firm
from prospects.sample import sample_firm
from prospects.scoping import (
    AccessDenied,
    Filters,
    build_directory,
    resolve_viewer,
    scope_mask,
    visible_mask,
)
from tests.reconcile import visible_literally

TODAY = "2026-11-29"


@pytest.fixture(scope="module")
def firm(sample_url):
    return open_firm(sample_url, today=TODAY)


def deal_ids(view, **filters):
    return sorted(view.deals(**filters)["id"])


def test_default_view_is_my_deals_for_everyone(firm):
    assert deal_ids(firm.as_viewer("dir")) == []  # the director is on no deal team
    assert deal_ids(firm.as_viewer("part1")) == ["D1", "D10", "D11", "D2", "D3", "D7", "D8", "D9"]
    assert deal_ids(firm.as_viewer("man1")) == ["D1", "D2", "D6", "D7"]  # D6 confidential: on its team
    assert deal_ids(firm.as_viewer("staff1")) == ["D1"]
    assert deal_ids(firm.as_viewer("man2")) == ["D4"]


def test_perimeters(firm):
    assert firm.as_viewer("dir").viewer.perimeter == {"F", "R1", "R2", "A1", "A2", "T1", "T2"}
    assert firm.as_viewer("part1").viewer.perimeter == {"R1", "A1", "T1"}
    # part2's group grants the whole firm but a partner is capped at his region
    assert firm.as_viewer("part2").viewer.perimeter == {"R2", "A2", "T2"}
    # a validator without any group has an empty perimeter
    assert firm.as_viewer("man1").viewer.perimeter == frozenset()
    assert firm.as_viewer("staff1").viewer.perimeter == frozenset()


def test_unit_filter_shows_visible_deals_of_the_subtree(firm):
    director = firm.as_viewer("dir")
    # D6 is confidential (G_CONF): the director is neither on its team nor in its group
    assert deal_ids(director, unit="F") == ["D1", "D10", "D11", "D2", "D3", "D4", "D7", "D8", "D9"]
    assert deal_ids(director, unit="R2") == ["D4"]
    assert deal_ids(director, unit="A1") == ["D1", "D10", "D11", "D2", "D3", "D7", "D8", "D9"]
    assert deal_ids(director, unit="T2") == []


def test_confidential_deal_seen_by_team_and_group_members_only(firm):
    assert "D6" in deal_ids(firm.as_viewer("part1"), unit="R1")  # member of G_CONF, perimeter covers T1
    assert "D6" in deal_ids(firm.as_viewer("man1"))  # on the deal's team
    assert "D6" not in deal_ids(firm.as_viewer("dir"), unit="F")
    assert "D6" not in deal_ids(firm.as_viewer("staff1"))


def test_collaborator_filter(firm):
    director = firm.as_viewer("dir")
    assert deal_ids(director, collaborator="man1") == ["D1", "D2", "D7"]  # not D6 (confidential)
    assert deal_ids(director, collaborator="man1", unit="R2") == []
    assert deal_ids(firm.as_viewer("part1"), collaborator="man1") == ["D1", "D2", "D6", "D7"]


@pytest.mark.parametrize(
    ("login", "filters", "message"),
    [
        ("part2", {"unit": "R1"}, "hors de votre périmètre"),  # capped below its groups
        ("part1", {"unit": "F"}, "hors de votre périmètre"),
        ("part1", {"unit": "NOPE"}, "hors de votre périmètre"),
        ("part1", {"collaborator": "man2"}, "hors de votre périmètre"),  # man2's home unit is in R2
        ("part1", {"collaborator": "nobody"}, "hors de votre périmètre"),
        ("man1", {"unit": "T1"}, "hors de votre périmètre"),  # validator with no group
        ("staff1", {"unit": "T1"}, "réservés"),  # no right to filter
        ("man2", {"collaborator": "man2"}, "réservés"),
    ],
)
def test_refusals_return_no_data(firm, login, filters, message):
    view = firm.as_viewer(login)
    with pytest.raises(AccessDenied, match=message):
        view.figures(**filters)
    with pytest.raises(AccessDenied, match=message):
        view.drilldown("signed_budget", **filters)
    with pytest.raises(AccessDenied, match=message):
        view.deals(**filters)


@pytest.mark.parametrize(("login", "message"), [("gone", "inactif"), ("nobody", "inconnu"), ("", "aucun")])
def test_inactive_or_unknown_login_is_refused(firm, login, message):
    with pytest.raises(AccessDenied, match=message):
        firm.as_viewer(login)


def test_filter_options(firm):
    opts = firm.as_viewer("part1").filter_options()
    assert list(opts["units"]["id"]) == ["R1", "A1", "T1"]  # cascade order: region, agency, team
    assert set(opts["collaborators"]["login"]) == {"part1", "man1", "staff1", "gone"}
    none = firm.as_viewer("staff1").filter_options()
    assert none["units"].empty and none["collaborators"].empty


def test_every_visible_deal_and_nothing_else_reaches_the_view(firm):
    """The vectorised rule on store codes equals ACCESS.md read literally on the rows."""
    tables = sample_firm()
    directory = build_directory(tables)
    deals = tables["deals"]
    for login in ("dir", "part1", "part2", "man1", "man2", "staff1"):
        viewer = resolve_viewer(directory, login)
        expected = visible_literally(viewer, deals)
        view = firm.as_viewer(login)
        ds = view._rows()
        assert set(ds.deal_ids(visible_mask(view.viewer, firm.directory, ds))) == expected, login
        # what the API hands over: every visible deal of the perimeter, nothing else
        shown = set(view.deals(period=view.period(fiscal_year=2026))["id"])
        for unit in view.viewer.perimeter:
            shown |= set(view.deals(unit=unit, period=view.period(fiscal_year=2026))["id"])
        assert shown <= expected, login


def test_scope_mask_never_leaks_whatever_the_filters(firm):
    for login in ("dir", "part1", "part2", "man1", "staff1"):
        view = firm.as_viewer(login)
        ds = view._rows()
        visible = visible_mask(view.viewer, firm.directory, ds)
        candidates = [Filters()] + [Filters(unit=u) for u in view.viewer.perimeter]
        candidates += [Filters(collaborator=c) for c in ("dir", "part1", "man1", "staff1")]
        for f in candidates:
            try:
                mask = scope_mask(view.viewer, firm.directory, ds, f)
            except AccessDenied:
                continue
            assert not (mask & ~visible).any()
            kinds = sample_firm()["deals"].set_index("id")["kind"]
            assert (kinds.loc[list(ds.deal_ids(mask))] == "prospect").all()


def _with_people(*rows: tuple) -> dict:
    """Cabinet Exemple with more collaborators, members of the firm-wide group."""
    import pandas as pd

    from prospects.sample import frame

    tables = sample_firm()
    tables["collaborators"] = pd.concat([tables["collaborators"], frame("collaborators", list(rows))], ignore_index=True)
    members = [(("G_FIRM", r[0])) for r in rows]
    tables["group_members"] = pd.concat([tables["group_members"], frame("group_members", members)], ignore_index=True)
    return tables


def test_a_function_cap_is_a_maximum_breadth_never_widened():
    """ACCESS.md: a home unit above the cap level gives no perimeter, only one's own deals."""
    from prospects.scoping import home_above_cap

    tables = _with_people(
        ("C8", "manreg", "Régis Manager", "manager", "R1", "E1", True, True),  # capped at agency, home a region
        ("C9", "manfirm", "Fanny Manager", "manager", "F", "E1", True, True),  # capped at agency, home the firm
        ("C10", "partfirm", "Félix Associé", "partner", "F", "E1", True, True),  # capped at region, home the firm
        ("C11", "managency", "Agnès Manager", "manager", "A1", "E1", True, True),  # at the cap level: its agency
    )
    directory = build_directory(tables)
    for login in ("manreg", "manfirm", "partfirm"):
        viewer = resolve_viewer(directory, login)
        assert viewer.perimeter == frozenset(), login
        with pytest.raises(AccessDenied, match="hors de votre périmètre"):
            scope_mask(viewer, directory, tables["deals"], Filters(unit="R1"))
    assert resolve_viewer(directory, "managency").perimeter == {"A1", "T1"}
    # a director's cap is the firm: homed at the firm, the whole firm
    assert resolve_viewer(directory, "dir").perimeter == {"F", "R1", "R2", "A1", "A2", "T1", "T2"}
    # the same people under other caps: a partner capped at the firm sees it all
    caps = {"director": "firm", "partner": "firm", "manager": "region", "staff": None}
    assert resolve_viewer(directory, "partfirm", caps).perimeter == {"F", "R1", "R2", "A1", "A2", "T1", "T2"}
    assert resolve_viewer(directory, "manreg", caps).perimeter == {"R1", "A1", "T1"}
    assert resolve_viewer(directory, "manfirm", caps).perimeter == frozenset()
    # the ones a load warns about: active validators above their cap
    named = home_above_cap(tables["org_units"], tables["collaborators"])
    assert list(named["login"]) == ["manreg", "manfirm", "partfirm"]
    assert list(named["cap"]) == ["agency", "agency", "region"]
    assert list(named["home_kind"]) == ["region", "firm", "firm"]
    assert list(home_above_cap(tables["org_units"], tables["collaborators"], caps)["login"]) == ["manfirm"]
