"""docs/access.md on Cabinet Exemple: who sees which deals, filters, refusals."""

from __future__ import annotations

import pandas as pd
import pytest

from prospects.api import open_firm
from prospects.sample import sample_firm
from prospects.scoping import (
    AccessDenied,
    Filters,
    build_directory,
    check_filters,
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
    """The vectorised rule on store codes equals docs/access.md read literally on the rows."""
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
    """docs/access.md: a home unit above the cap level gives no perimeter, only one's own deals."""
    from prospects.scoping import empty_perimeters

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
    # the ones a load warns about: active validators above their cap (and man1, in no group)
    named = empty_perimeters(directory).set_index("login")
    above = named[named["why"] == "home_above_cap"]
    assert sorted(above.index) == ["manfirm", "manreg", "partfirm"]
    assert above.loc[["manreg", "manfirm", "partfirm"], "cap"].tolist() == ["agency", "agency", "region"]
    assert above.loc[["manreg", "manfirm", "partfirm"], "home_kind"].tolist() == ["region", "firm", "firm"]
    assert list(empty_perimeters(directory, caps).query("why == 'home_above_cap'")["login"]) == ["manfirm"]


# ---------------------------------------------------------------------------
# validators whose perimeter is only their own deals, and why (issue 21 point 1)


def _no_perimeter_cases():
    from prospects.sample import frame

    tables = _with_people(
        ("C8", "manreg", "Régis Manager", "manager", "R1", "E1", True, True),  # capped at agency, home a region
        ("C12", "stafval", "Sam Valideur", "staff", "T1", None, True, True),  # staff: capped at none
        ("C13", "partvide", "Vera Associée", "partner", "A1", "E1", True, True),  # in a group covering nothing
        ("C14", "manlille", "Léo Manager", "manager", "A2", "E2", True, True),  # groups cover R1 only, capped at Lille
        ("C15", "manok", "Olga Manager", "manager", "A1", "E1", True, True),  # in G_FIRM: her agency
    )
    members = tables["group_members"]
    members = members[~members["collaborator_id"].isin(["C13", "C14"])]  # _with_people put everyone in G_FIRM
    tables["groups"] = pd.concat([tables["groups"], frame("groups", [("G_VIDE", "Groupe vide")])], ignore_index=True)
    tables["group_members"] = pd.concat([members, frame("group_members", [("G_VIDE", "C13"), ("G_R1", "C14")])], ignore_index=True)
    return tables


def test_every_validator_without_perimeter_is_named_with_why():
    from prospects.scoping import empty_perimeters

    tables = _no_perimeter_cases()
    directory = build_directory(tables)
    empty = empty_perimeters(directory).set_index("login")
    assert empty["why"].to_dict() == {
        "man1": "no_group", "manreg": "home_above_cap", "stafval": "cap_none", "partvide": "groups_without_units", "manlille": "outside_cap",
    }
    assert empty.loc["manreg", ["cap", "home_kind"]].tolist() == ["agency", "region"]
    assert empty.loc["manlille", "cap_unit"] == "A2" and empty.loc["partvide", "groups"] == "G_VIDE"
    # the same people as resolve_viewer: listed exactly when the perimeter is empty
    people = directory.collaborators
    for login in people.loc[people["can_validate_offers"] & people["active"], "login"]:
        assert (login in empty.index) == (resolve_viewer(directory, login).perimeter == frozenset()), login
    caps = {"director": "firm", "partner": "firm", "manager": "region", "staff": None}
    assert "manreg" not in set(empty_perimeters(directory, caps)["login"])


@pytest.mark.parametrize(
    ("login", "filters", "message"),
    [
        ("man1", {"unit": "T1"}, "Accès refusé : l'unité « T1 » est hors de votre périmètre, qui est vide : vous n'êtes membre d'aucun groupe"),
        ("stafval", {"unit": "T1"}, "Accès refusé : l'unité « T1 » est hors de votre périmètre, qui est vide : votre fonction (Collaborateur) ne donne aucun périmètre"),
        ("partvide", {"unit": "A1"}, "Accès refusé : l'unité « A1 » est hors de votre périmètre, qui est vide : vos groupes ne couvrent aucune unité"),
        ("manreg", {"unit": "R1"}, "Accès refusé : l'unité « R1 » est hors de votre périmètre, qui est vide : votre fonction (Manager) s'arrête à une agence et votre unité de rattachement est au-dessus"),
        ("manlille", {"unit": "R1"}, "Accès refusé : l'unité « R1 » est hors de votre périmètre, qui est vide : vos groupes ne couvrent rien dans votre agence, où votre fonction (Manager) vous limite"),
        ("part1", {"unit": "F"}, "Accès refusé : l'unité « F » est hors de votre périmètre, qui couvre : Île-de-France"),
        ("part2", {"unit": "R1"}, "Accès refusé : l'unité « R1 » est hors de votre périmètre, qui couvre : Hauts-de-France"),
        ("part1", {"collaborator": "man2"}, "Accès refusé : le collaborateur « man2 » est hors de votre périmètre, qui couvre : Île-de-France"),
        ("man1", {"collaborator": "part1"}, "Accès refusé : le collaborateur « part1 » est hors de votre périmètre, qui est vide : vous n'êtes membre d'aucun groupe"),
    ],
)
def test_a_refusal_says_why_the_unit_is_outside_in_one_line(login, filters, message):
    tables = _no_perimeter_cases()
    directory = build_directory(tables)
    viewer = resolve_viewer(directory, login)
    with pytest.raises(AccessDenied) as caught:
        check_filters(viewer, directory, Filters(**filters))
    assert str(caught.value) == message


def test_a_refusal_never_tells_an_existing_unit_from_an_unknown_one(firm):
    """The reason is about the viewer's perimeter only: the same sentence for R2 and for a made-up id."""
    messages = {}
    for unit in ("R2", "NOPE", "R2\nforged"):
        with pytest.raises(AccessDenied) as caught:
            firm.as_viewer("part1").figures(unit=unit)
        messages[unit] = str(caught.value)
        with pytest.raises(AccessDenied) as within:
            firm.as_viewer("part1", within=unit).figures()
        assert str(within.value) == messages[unit]
    # the suggestions depend on what was typed only, and name only the viewer's own units
    reasons = {unit: m.split(" ; vouliez-vous dire")[0] for unit, m in messages.items()}
    assert messages["R2"].endswith("vouliez-vous dire R1 (Île-de-France) ?")
    assert reasons["NOPE"] == reasons["R2"].replace("« R2 »", "« NOPE »")
    assert reasons["R2\nforged"] == reasons["R2"].replace("« R2 »", "« R2\\nforged »") and "\n" not in messages["R2\nforged"]
