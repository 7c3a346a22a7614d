"""Rows made from names (prospects.importing.names): the org tree, people, entities,
people beside a directory."""

from __future__ import annotations

import pytest

from prospects import importing as im

from .importing_cases import (
    MAPPING,
    ROWS,
    column,
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
        6: "unit_id is required but empty",  # no agency given
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
