"""Rows made from names (prospects.importing.names): the org tree, people, entities,
people beside a directory."""

from __future__ import annotations

import pytest

from prospects import importing as im

from .importing_cases import (
    MAPPING,
    ROWS,
    column,
    doc_example,
    frames,
    rejects,
    setup,
)


def test_org_ids_are_stable_and_hash_ids_are_an_option(tmp_path):
    first = frames(im.prepare(setup(tmp_path)))["org_units"]
    shuffled = [ROWS[3], ROWS[1], ROWS[0], ROWS[2], ROWS[4]]
    second = frames(im.prepare(setup(tmp_path, shuffled)))["org_units"]
    assert set(first["id"]) == set(second["id"])
    hashed = frames(im.prepare(setup(tmp_path, mapping=MAPPING.replace('firm = "Cabinet Test"', 'firm = "Cabinet Test"\nids = "hash"'))))["org_units"]
    again = frames(im.prepare(setup(tmp_path, shuffled, MAPPING.replace('firm = "Cabinet Test"', 'firm = "Cabinet Test"\nids = "hash"'))))["org_units"]
    assert set(hashed["id"]) == set(again["id"])
    assert all(i == "FIRM" or (i[:2] in ("R-", "A-") and len(i) == 12) for i in hashed["id"])


def test_org_names_differing_by_case_and_accents_are_one_unit(tmp_path):
    rows = [ROWS[0].replace("Nord;Lille", "Île-de-France;Paris"), ROWS[1].replace("Nord;Lille", "ILE DE FRANCE;paris")]
    result = im.prepare(setup(tmp_path, rows))
    units = frames(result)["org_units"]
    assert units["id"].tolist() == ["FIRM", "R-ile-de-france", "A-ile-de-france.paris"]
    assert units["name"].tolist()[1:] == ["Île-de-France", "Paris"]  # as first written


def test_an_org_level_given_without_the_level_above_is_rejected(tmp_path):
    result = im.prepare(setup(tmp_path, [*ROWS[:4], ROWS[4].replace(";Nord;;", ";;Roubaix;")]))
    bad = rejects(result, table="deals")
    assert bad["column"].tolist() == ["unit_id"] and bad["row"].tolist() == [6]
    assert "agency 'Roubaix' is given without its region (Région is empty)" in bad["reason"].iloc[0]
    assert bad["source_column"].iloc[0] == "Région, Agence"
    assert "D5" not in set(frames(result)["documents"]["deal_id"])


def test_an_agency_named_alone_must_be_in_the_tree(tmp_path):
    mapping = MAPPING.replace('[tables.deals]', '[sources.bureaux]\nfile = "bureaux.csv"\n\n[tables.deals]')
    mapping += '\n[tables.entities]\nsource = "bureaux"\ncolumns = { id = "Bureau", name = { unit = { agency = "Bureau" } } }\n'
    with pytest.raises(im.MappingError, match="'unit' makes org unit ids"):
        im.read_mapping(setup(tmp_path, mapping=mapping))
    mapping = MAPPING.replace('manager_id = { person = "Manager" }', "")
    mapping = mapping.replace('unit_id = { unit = { region = "Région", agency = "Agence" } }', 'unit_id = { unit = { agency = "Agence" } }')
    mapping = mapping.replace('[tables.deals]', '[sources.bureaux]\nfile = "bureaux.csv"\n\n[tables.entities]\nsource = "bureaux"\ncolumns = { id = "Code", name = "Bureau" }\n\n[tables.deals]')
    mapping = mapping.replace('[tables.document_lines]', '[tables.group_units]\nsource = "bureaux"\ncolumns = { group_id = { value = "G" }, unit_id = { unit = { region = "Région", agency = "Bureau" } } }\n\n[tables.groups]\nrows = [{ id = "G", name = "Tous" }]\n\n[tables.document_lines]')
    (tmp_path / "bureaux.csv").write_text("Code,Région,Bureau\nB1,Nord,Lille\nB2,Sud,Nice\nB3,Est,Nice\n", "utf-8")
    rows = [*ROWS[:4], ROWS[4], ROWS[1].replace("D2;", "D6;").replace("Lille", "Roubaix")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    bad = rejects(result, table="deals")
    assert dict(zip(bad["row"], bad["reason"], strict=True)) == {
        4: "agency 'Nice' is in several places of the organisation tree: name its region too",
        5: "agency 'Nice' is in several places of the organisation tree: name its region too",
        6: "unit_id is required but empty (Agence: empty)",  # no agency given
        7: "agency 'Roubaix' is not in the organisation tree",
    }
    assert column(result, "deals", "unit_id") == {"D1": "A-nord.lille", "D2": "A-nord.lille"}


def test_collaborators_from_names_with_function_and_rights_by_rule(tmp_path):
    result = im.prepare(setup(tmp_path))
    people = frames(result)["collaborators"].set_index("id")
    assert people.index.tolist() == ["jean.dupont", "marie.curie", "paul.roux"]
    assert people["login"].tolist() == ["jean.dupont", "marie.curie", "paul.roux"]
    assert people.loc["jean.dupont", "full_name"] == "Jean Dupont"  # 'jean  DUPONT' is the same person
    assert people["function"].to_dict() == {"jean.dupont": "partner", "marie.curie": "partner", "paul.roux": "manager"}
    assert people["can_validate_offers"].all() and people["active"].all()
    # home unit: the unit of most of their deals (Jean: Lille, Nice, Nord → first seen)
    assert people["unit_id"].to_dict() == {"jean.dupont": "A-nord.lille", "marie.curie": "A-nord.lille", "paul.roux": "A-nord.lille"}


def test_collaborators_from_names_with_rules_and_a_side_table(tmp_path):
    (tmp_path / "fonctions.csv").write_text("Nom,Fonction,Droit\nPaul Roux,Collaborateur,non\nMarie Curie,Directrice,oui\n", "utf-8")
    mapping = MAPPING.replace('[org]', '[sources.fonctions]\nfile = "fonctions.csv"\n\n[org]')
    mapping += (
        '\n[people]\nroles = { manager_id = "staff" }\nvalidators = ["partner"]\n'
        '[people.columns]\nfunction = { lookup = "fonctions", match = "name", key = "Nom", value = "Fonction", on_miss = "empty", map = { Directrice = "director", Collaborateur = "staff" } }\n'
        'can_validate_offers = { lookup = "fonctions", match = "name", key = "Nom", value = "Droit", on_miss = "empty" }\n'
    )
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert result.rejected == 0, result.rejects.to_string()
    people = frames(result)["collaborators"].set_index("id")
    assert people["function"].to_dict() == {"jean.dupont": "partner", "marie.curie": "director", "paul.roux": "staff"}
    assert people["can_validate_offers"].to_dict() == {"jean.dupont": True, "marie.curie": True, "paul.roux": False}


# ---------------------------------------------------------------------------
# a directory from several parts, literal rows, and people named beside it

TEAM = "Agent,Manager,Bureau,Mail\nJean Dupont,Anne Martin,Nord,jean.dupont@cabinet.fr\nMarie Curie,Anne Martin,Nord,\nPaul Roux,Luc Petit,Sud,paul.roux@cabinet.fr\n"
DIRECTORY = '''
[tables.collaborators]                 # the agents: one per row of the team sheet
source = "equipe"
rows = [{ id = "dir", login = "direction", full_name = "Claire Direction", function = "director", unit_id = "FIRM", can_validate_offers = "true", active = "true", email = "direction@cabinet.fr" }]
[tables.collaborators.columns]
id = { column = "Agent", slug = true }
login = { column = "Agent", slug = true }
full_name = "Agent"
function = { value = "staff" }
unit_id = { unit = { region = "Bureau" } }
can_validate_offers = { value = false }
email = "Mail"

[[tables.collaborators.from]]          # their managers, named only in the Manager column
source = "equipe"
distinct = "Manager"
[tables.collaborators.from.columns]
id = { column = "Manager", slug = true }
login = { column = "Manager", slug = true }
full_name = "Manager"
function = { value = "manager" }
unit_id = { unit = { region = "Bureau" } }
can_validate_offers = { value = true }
'''


def directory_mapping(tmp_path, team: str = TEAM) -> str:
    (tmp_path / "equipe.csv").write_text(team, "utf-8")
    return MAPPING.replace("[org]", '[sources.equipe]\nfile = "equipe.csv"\n\n[org]') + DIRECTORY


def test_a_directory_from_several_parts_with_literal_rows(tmp_path):
    rows = [*ROWS[:3], ROWS[3].replace("Marie Curie", "Zoé Nouvelle"), ROWS[4]]
    result = im.prepare(setup(tmp_path, rows, directory_mapping(tmp_path)))
    assert result.rejected == 0, result.rejects.to_string()
    people = frames(result)["collaborators"].set_index("id")
    assert people.index.tolist() == ["jean.dupont", "marie.curie", "paul.roux", "anne.martin", "luc.petit", "dir", "zoe.nouvelle"]
    assert people.loc["anne.martin", ["login", "full_name", "function", "unit_id"]].tolist() == ["anne.martin", "Anne Martin", "manager", "R-nord"]
    assert people.loc["luc.petit", "unit_id"] == "R-sud" and bool(people.loc["luc.petit", "can_validate_offers"])
    assert people.loc["dir", ["function", "unit_id", "email"]].tolist() == ["director", "FIRM", "direction@cabinet.fr"]
    assert people["email"].to_dict() == {
        "jean.dupont": "jean.dupont@cabinet.fr", "marie.curie": None, "paul.roux": "paul.roux@cabinet.fr",
        "anne.martin": None, "luc.petit": None, "dir": "direction@cabinet.fr", "zoe.nouvelle": None,
    }
    # 'person' finds the directory's people by name (case and spaces ignored); Zoé is not in it:
    # she is made from her name by the rules of [people] (a partner, home unit of her deals)
    assert column(result, "deals", "partner_id") == {"D1": "jean.dupont", "D2": "marie.curie", "D3": "jean.dupont", "D4": "zoe.nouvelle", "D5": "jean.dupont"}
    assert column(result, "deals", "manager_id") == {"D1": "paul.roux", "D2": "paul.roux", "D3": None, "D4": "paul.roux", "D5": None}
    assert people.loc["zoe.nouvelle", ["function", "unit_id", "email"]].tolist() == ["partner", "A-sud.nice", None]
    assert result.source_counts["equipe"] == im.SourceCount(3, 3, 0, 0)
    assert any("1 person named in deals.partner_id" in n and "not in the directory, made from their names: Zoé Nouvelle" in n for n in result.notes)
    report = im.check_report(result)
    assert "Table collaborators: one row per row of equipe; one row per distinct column 'Manager' of equipe; 1 literal row of the mapping" in report
    assert "from[1]              ← rows of equipe" in report and "+ people" in report


def test_a_name_held_by_two_people_of_the_directory_is_ambiguous(tmp_path):
    mapping = directory_mapping(tmp_path, TEAM + "jean DUPONT,Luc Petit,Sud,\n")
    mapping = mapping.replace('id = { column = "Agent", slug = true }\nlogin = { column = "Agent", slug = true }', 'id = { template = "{Agent} {Bureau}", slug = true }\nlogin = { template = "{Agent} {Bureau}", slug = true }')
    result = im.prepare(setup(tmp_path, [ROWS[0], ROWS[1]], mapping))
    bad = rejects(result, table="deals")
    assert bad[["row", "column"]].values.tolist() == [[2, "partner_id"]]
    assert bad["reason"].iloc[0] == "Associé 'Jean Dupont' names several collaborators of the directory (ids jean.dupont.nord, jean.dupont.sud)"
    assert column(result, "deals", "partner_id") == {"D2": "marie.curie.nord"}


def test_a_home_unit_from_a_spec_in_people(tmp_path):
    (tmp_path / "fonctions.csv").write_text("Nom,Région\nMarie Curie,Sud\nJean Dupont,Est\n", "utf-8")
    mapping = MAPPING + "\n" + doc_example("people-home-unit")
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert result.rejected == 0, result.rejects.to_string()
    people = frames(result)["collaborators"].set_index("id")
    # Marie's deals are in Lille and Nice, her home comes from the side table; Jean's names a
    # region no deal names (it joins the tree); Paul is not in it: the rule (his deals)
    assert people["unit_id"].to_dict() == {"jean.dupont": "R-est", "marie.curie": "R-sud", "paul.roux": "A-nord.lille"}
    assert "R-est" in set(frames(result)["org_units"]["id"])
    assert people["email"].to_dict() == {"jean.dupont": "jean.dupont@cabinet.fr", "marie.curie": "marie.curie@cabinet.fr", "paul.roux": "paul.roux@cabinet.fr"}
    assert [(i.value, i.rejected) for i in result.issues()] == [("Paul Roux", False)]  # listed, kept by the rule


# ---------------------------------------------------------------------------
# logins of people made from names follow the directory's convention (issue 21 point 8)


def _login_directory(tmp_path, logins: dict[str, str]) -> str:
    team = "Agent,Manager,Bureau,Mail,Login\n" + "".join(f"{name},Anne Martin,Nord,,{login}\n" for name, login in logins.items())
    return directory_mapping(tmp_path, team).replace('login = { column = "Agent", slug = true }', 'login = "Login"')


def test_people_made_from_names_get_e_mail_logins_when_the_directory_has_them(tmp_path):
    mapping = _login_directory(tmp_path, {"Jean Dupont": "jean.dupont@contoso.com", "Marie Curie": "Marie.Curie@contoso.com", "Paul Roux": "p.roux@contoso.com"})
    rows = [ROWS[0], ROWS[3].replace("Marie Curie", "Zoé Nouvelle-Vague"), ROWS[4].replace("Jean Dupont", "Léo Faure")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    assert result.rejected == 0, result.rejects.to_string()
    people = frames(result)["collaborators"].set_index("id")
    assert people.loc[["zoe.nouvelle.vague", "leo.faure"], "login"].tolist() == ["zoe.nouvelle.vague@contoso.com", "leo.faure@contoso.com"]
    assert people.loc["leo.faure", "email"] is None  # a login is no address: nothing is sent to a guess
    # the directory: three agents (e-mail logins), their manager anne.martin and the literal row "direction"
    note = next(n for n in result.notes if "logins" in n)
    assert note == ("logins of the 2 people made from names follow the directory's convention first.last@contoso.com "
                    "(of its 5 logins, 3 are first.last, 3 at contoso.com): zoe.nouvelle.vague@contoso.com, leo.faure@contoso.com")
    assert "← the directory's convention first.last@contoso.com" in im.check_report(result)


def test_people_made_from_names_follow_an_initial_and_surname_convention_without_clashes(tmp_path):
    mapping = _login_directory(tmp_path, {"Jean Dupont": "jdupont", "Marie Curie": "mcurie", "Paul Roux": "proux"})
    rows = [ROWS[0], ROWS[3].replace("Marie Curie", "Julie Dupont"), ROWS[4].replace("Jean Dupont", "Léo Faure")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    assert result.rejected == 0, result.rejects.to_string()
    logins = frames(result)["collaborators"].set_index("full_name")["login"]
    assert logins["Léo Faure"] == "lfaure"
    assert logins["Julie Dupont"] == "jdupont2"  # jdupont is Jean Dupont's
    note = next(n for n in result.notes if "logins" in n)
    assert note == ("logins of the 2 people made from names follow the directory's convention flast "
                    "(of its 5 logins, 3 are flast): jdupont2 (jdupont is taken), lfaure")


def test_without_a_convention_the_import_says_what_it_chose(tmp_path):
    mapping = _login_directory(tmp_path, {"Jean Dupont": "u1042", "Marie Curie": "u2077", "Paul Roux": "u3001"})
    rows = [ROWS[0], ROWS[3].replace("Marie Curie", "Zoé Nouvelle")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    assert frames(result)["collaborators"].set_index("id").loc["zoe.nouvelle", "login"] == "zoe.nouvelle"
    note = next(n for n in result.notes if "logins" in n)
    assert note == ("the directory's logins follow no convention of the names found (of its 5 logins, at most 1 "
                    "is first.last, flast, f.last, firstlast, first_last, first-last, last.first or lastf): "
                    "people made from names get first.last logins: zoe.nouvelle")
