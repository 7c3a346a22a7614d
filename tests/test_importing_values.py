"""Values (prospects.importing.values, .evaluate): constants, templates, maps, dates,
amounts, lookups."""

from __future__ import annotations

import pandas as pd
import pytest

from prospects import i18n
from prospects import importing as im
from prospects.importing.values import parse_money

from .importing_cases import (
    HEADER,
    MAPPING,
    ROWS,
    column,
    doc_example,
    rejects,
    setup,
)


def test_constants_defaults_coalesced_columns_and_templates(tmp_path):
    rows = [r + ";" + extra for r, extra in zip(ROWS, ["Tenue;{x}", ";", "Conseil;", "Social;Note", ";"], strict=True)]
    mapping = MAPPING.replace(
        'doc_type = { value = "Proposition" }',
        'doc_type = { column = "Type", default = "Proposition commerciale" }\n'
        'title = { template = "{Affaire} – {Client} {{{Note}}}" }\n'
        'template = { column = ["Note", "Type"] }',
    )
    result = im.prepare(setup(tmp_path, rows, mapping, header=HEADER + ";Type;Note"))
    assert result.rejected == 0
    assert column(result, "documents", "doc_type") == {"D1": "Tenue", "D2": "Proposition commerciale", "D4": "Social"}
    assert column(result, "documents", "template") == {"D1": "{x}", "D2": None, "D4": "Note"}
    assert column(result, "documents", "title") == {"D1": "Tenue Alpha – Alpha SAS {{x}}", "D2": "Audit Beta – Beta SA {}", "D4": "Social Delta – Delta {Note}"}
    assert set(column(result, "deals", "kind").values()) == {"prospect"}


def test_a_template_of_empty_fields_is_empty(tmp_path):
    mapping = MAPPING.replace('prospect_name = "Client"', 'prospect_name = { template = "{Client} {Manager}" }')
    rows = [*ROWS[:4], "D5;Juridique Eps;;Nord;;Jean Dupont;;Abandonné;01/03/2026;20/03/2026;"]
    result = im.prepare(setup(tmp_path, rows, mapping))
    assert column(result, "deals", "prospect_name")["D1"] == "Alpha SAS Paul Roux"
    assert rejects(result, table="deals", column="prospect_name")["reason"].tolist() == ["prospect_name is required but empty (Client, Manager: empty)"]
    assert rejects(result, table="deals")["row"].tolist() == [6]


def test_lookup_in_another_source_by_key(tmp_path):
    (tmp_path / "people.csv").write_text("Nom complet,Bureau,Code\nJEAN dupont ,Lille,C1\nMarie Curie,Nice,C2\nPaul Roux,Lille,C3\n", "utf-8")
    mapping = MAPPING.replace('[org]', '[sources.people]\nfile = "people.csv"\n\n[lookups.who]\nsource = "people"\nkey = "Nom complet"\nvalue = "Code"\n\n[org]')
    mapping = mapping.replace('partner_id = { person = "Associé" }', 'partner_id = { lookup = "who", match = "Associé" }\nclient_manager_id = { lookup = "people", match = "Manager", key = "Nom complet", value = "Code", on_miss = "empty" }')
    mapping = mapping.replace('manager_id = { person = "Manager" }\n', "")
    mapping = mapping.replace('signatory_id = { person = "Associé" }', 'signatory_id = { lookup = "who", match = "Associé" }')
    mapping += '\n[tables.collaborators]\nsource = "people"\n[tables.collaborators.columns]\nid = "Code"\nlogin = "Code"\nfull_name = "Nom complet"\nfunction = { value = "partner" }\nunit_id = { unit = { agency = "Bureau" } }\ncan_validate_offers = { value = true }\n'
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert result.rejected == 0, result.rejects.to_string()
    assert column(result, "deals", "partner_id") == {"D1": "C1", "D2": "C2", "D3": "C1", "D4": "C2", "D5": "C1"}  # case, spaces
    assert column(result, "deals", "client_manager_id")["D1"] == "C3"
    assert column(result, "collaborators", "unit_id") == {"C1": "A-nord.lille", "C2": "A-sud.nice", "C3": "A-nord.lille"}  # agency by name


def test_value_maps_otherwise_keep_unmapped_and_lists(tmp_path):
    mapping = MAPPING.replace('kind = { value = "prospect" }', 'kind = { column = "Client", map = { "Alpha SAS" = "client" }, otherwise = "prospect" }')
    mapping = mapping.replace('name = "Affaire"', 'name = { column = "Affaire", map = { "tenue ALPHA" = "Tenue comptable Alpha" }, keep_unmapped = true }')
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert column(result, "deals", "kind") == {"D1": "client", "D2": "prospect", "D3": "prospect", "D4": "prospect", "D5": "prospect"}
    assert column(result, "deals", "name")["D1"] == "Tenue comptable Alpha" and column(result, "deals", "name")["D2"] == "Audit Beta"


def test_status_map_keys_ignore_case_and_spaces(tmp_path):
    rows = [ROWS[0].replace("Gagné", " GAGNÉ "), ROWS[1].replace("En cours", "en  cours")]
    result = im.prepare(setup(tmp_path, rows))
    assert column(result, "documents", "status") == {"D1": "signed", "D2": "in_progress"}


def test_enum_without_map_must_hold_contract_values(tmp_path):
    mapping = MAPPING.replace('kind = { value = "prospect" }', 'kind = "Client"')
    result = im.prepare(setup(tmp_path, [ROWS[0]], mapping))
    assert rejects(result, table="deals")["reason"].tolist() == ["Client 'Alpha SAS' is not one of prospect, client: add a map"]


@pytest.mark.parametrize(
    ("formats", "text", "expected"),
    [
        ('"dd/mm/yyyy"', "29/11/2026", "2026-11-29"),
        ('"dd/mm/yyyy"', "1/2/2026", "2026-02-01"),
        ('"dd/mm/yyyy"', "29/11/2026 14:35", "2026-11-29"),
        ('"dd/mm/yyyy"', "2026-11-29", "2026-11-29"),  # ISO always
        ('"dd/mm/yyyy"', "2026-11-29T08:00:00", "2026-11-29"),
        ('"dd.mm.yy"', "29.11.26", "2026-11-29"),
        ('"mm/dd/yyyy"', "11/29/2026", "2026-11-29"),
        ('["dd/mm/yyyy", "excel"]', "46355", "2026-11-29"),
        ('["dd/mm/yyyy", "excel"]', "46355,5", "2026-11-29"),
        ('"%Y%m%d"', "20261129", "2026-11-29"),
        # US exports (issue 21): single-letter day and month, a time written in the format (ignored)
        ('"m/d/yyyy"', "3/4/2026", "2026-03-04"),
        ('"m/d/yyyy"', "12/31/2026", "2026-12-31"),
        ('"M/D/YYYY"', "3/14/2026 2:05 PM", "2026-03-14"),
        ('"mm/dd/yyyy hh:mm"', "03/14/2026 14:05", "2026-03-14"),
        ('"mm/dd/yyyy hh:mm"', "3/14/2026", "2026-03-14"),  # the time may be missing
        ('"m/d/yyyy h:mm am/pm"', "11/29/2026 11:59:58 p.m.", "2026-11-29"),
        ('"dd.mm.yyyy hh:mm:ss"', "29.11.2026 08:00:01", "2026-11-29"),
    ],
)
def test_date_formats(tmp_path, formats, text, expected):
    mapping = MAPPING.replace('date = "dd/mm/yyyy"', f"date = {formats}")
    result = im.prepare(setup(tmp_path, [ROWS[1].replace("15/01/2026", text)], mapping))
    assert result.rejected == 0, result.rejects.to_string()
    assert column(result, "deals", "created_on")["D2"] == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1 234,50 €", "123450"),
        ("1\u00a0234,50\u00a0€", "123450"),
        ("1\u202f234,5 EUR", "123450"),
        ("1.234.567,89", "123456789"),
        ("€ 12", "1200"),
        ("0,07", "7"),
        ("12,", "1200"),
        ("1 234,500", "123450"),
        ("100 000 000 000,00", "10000000000000"),  # the bound of docs/data.md, exactly
        ("-15,00 €", "-1500"),
        ("0", "0"),
    ],
)
def test_amounts_are_parsed_exactly_to_cents(text, cents):
    got, reason = parse_money(pd.Series([text], dtype="str"), ",", ("€", "EUR"), "euros")
    assert reason.isna().all(), reason.iloc[0]
    assert got.iloc[0] == cents


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1 234,567", "more than 2 decimals"),
        ("12,3,4", "not an amount"),
        ("1.23,00", "not an amount"),
        ("douze", "not an amount"),
        ("12 $", "not an amount"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text, why):
    got, reason = parse_money(pd.Series([text], dtype="str"), ",", ("€", "EUR"), "euros")
    assert got.isna().all() and why in reason.iloc[0]


@pytest.mark.parametrize(
    ("text", "cents"),
    [("6.000,00 EUR", "600000"), ("€ 12", "1200"), ("1.5", None), ("12 $", None)],
)
def test_amount_table_of_the_docs(text, cents):
    got, reason = parse_money(pd.Series([text], dtype="str"), ",", ("€", "EUR"), "euros")
    assert (got.iloc[0] if cents else reason.notna().iloc[0]) == (cents or True)


def test_decimal_point_sources_and_amounts_in_cents(tmp_path):
    mapping = MAPPING.replace('delimiter = ";"', 'delimiter = ";"\ndecimal = "."').replace('amount = "Montant"', 'amount = { column = "Montant", money = "cents" }')
    rows = [ROWS[0].replace("1 000,00 €", "150"), ROWS[1].replace("2 500 €", "1,234")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    assert column(result, "document_lines", "amount_cents", "document_id") == {"D1": 150, "D2": 1234}
    got, _ = parse_money(pd.Series(["1,234.50 €", "1'000.5"], dtype="str"), ".", ("€",), "euros")
    assert got.tolist() == ["123450", "100050"]


def test_lookup_miss_and_ambiguous_lookup_are_rejected(tmp_path):
    (tmp_path / "people.csv").write_text("Nom,Code\nJean Dupont,C1\nMarie Curie,C2\nmarie curie,C9\nPaul Roux,C3\n", "utf-8")
    mapping = MAPPING.replace('[org]', '[sources.people]\nfile = "people.csv"\n\n[org]')
    mapping = mapping.replace('abandoned_on = {', 'abandon_reason = { lookup = "people", match = "Associé", key = "Nom", value = "Code" }\nabandoned_on = {')
    rows = [ROWS[0], ROWS[1], ROWS[3].replace("Marie Curie", "Zoé Inconnue")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    bad = rejects(result, table="deals")
    assert bad[["row", "column", "value"]].values.tolist() == [[3, "abandon_reason", "Marie Curie"], [4, "abandon_reason", "Zoé Inconnue"]]
    assert bad["source_column"].tolist() == ["Associé → people"] * 2
    assert column(result, "deals", "abandon_reason") == {"D1": "C1"}
    assert bad["reason"].tolist() == [
        "Associé 'Marie Curie' matches several rows of people with different values (rows 3, 4)",
        "Associé 'Zoé Inconnue' not found in people (Nom)",
    ]
    assert [(i.kind, i.value, i.rows) for i in result.issues()] == [("ambiguous", "Marie Curie", 1), ("not found", "Zoé Inconnue", 1)]


# ---------------------------------------------------------------------------
# fallbacks: a default is a value or a value spec, chained (issue 21 point 4)


def test_a_default_is_a_value_spec_chained(tmp_path):
    rows = [r + ";" + extra for r, extra in zip(ROWS, ["Lettre;LM v1", ";PC v2", ";", "Offre;", ";"], strict=True)]
    mapping = MAPPING.replace(
        'doc_type = { value = "Proposition" }',
        'doc_type = { column = "Type", default = { column = "Modèle", default = "Proposition" } }',
    ).replace('prospect_name = "Client"', 'prospect_name = { column = "Nobody", default = { template = "{Client} ({Région})" } }')
    result = im.prepare(setup(tmp_path, rows, mapping, header=HEADER + ";Type;Modèle;Nobody"))
    assert result.rejected == 0, result.rejects.to_string()
    assert column(result, "documents", "doc_type") == {"D1": "Lettre", "D2": "PC v2", "D4": "Offre"}
    assert column(result, "deals", "prospect_name")["D1"] == "Alpha SAS (Nord)"
    described = dict(result.built.described["documents"])
    assert described["doc_type"] == "column 'Type', default column 'Modèle', default 'Proposition'"


def test_a_default_applies_where_a_lookup_comes_back_empty_and_its_failures_only_where_used(tmp_path):
    (tmp_path / "people.csv").write_text("Nom,Code,Note\nJean Dupont,C1,\nMarie Curie,,Curie\n", "utf-8")
    mapping = MAPPING.replace("[org]", '[sources.people]\nfile = "people.csv"\n\n[org]')
    mapping = mapping.replace('created_on = "Créée le"\nabandoned_on', 'created_on = { column = "Créée le", default = { column = "Décidée le" } }\nabandoned_on')
    mapping = mapping.replace(
        'abandoned_on = {',
        'abandon_reason = { lookup = "people", match = "Associé", key = "Nom", value = "Code", on_miss = "empty", '
        'default = { lookup = "people", match = "Associé", key = "Nom", value = "Note", on_miss = "empty", default = "?" } }\n'
        'abandoned_on = {',
    )
    rows = [
        ROWS[0].replace("20/02/2026", "pas une date"),  # the default is not needed: its bad date is no failure of deals
        ROWS[1].replace("15/01/2026", ""),  # no creation date, no decision date either: rejected as required
        ROWS[2].replace("01/02/2026", "").replace("jean  DUPONT", "Zoé Inconnue") + "",
        ROWS[3].replace("01/03/2026", ""),  # creation date from the decision date
    ]
    rows[2] = rows[2].replace(";;À qualifier;;;", ";;À qualifier;;pas une date;")
    result = im.prepare(setup(tmp_path, rows, mapping))
    assert column(result, "deals", "abandon_reason") == {"D1": "C1", "D4": "Curie"}  # found, empty → the next lookup
    assert column(result, "deals", "created_on")["D4"] == pd.Timestamp("2026-04-15")
    bad = rejects(result, table="deals")
    assert bad[["row", "column", "value"]].values.tolist() == [[3, "created_on", None], [4, "created_on", "pas une date"]]
    assert "Décidée le 'pas une date' is not a date" in bad["reason"].iloc[1]
    assert column(result, "deals", "created_on")["D1"] == pd.Timestamp("2026-01-10")  # row 2: its default unread
    kept = [i for i in result.issues() if not i.rejected]
    assert [(i.target, i.value) for i in kept] == [("deals.abandon_reason", "Zoé Inconnue")] * 1


def test_a_default_spec_cannot_be_conditional(tmp_path):
    mapping = MAPPING.replace('prospect_name = "Client"', 'prospect_name = { column = "Client", default = { column = "Affaire", only_if = { status = "open" } } }')
    with pytest.raises(im.MappingError, match=r"tables\.deals\.columns\.prospect_name\.default\.only_if: only a column of a target table can be conditional"):
        im.read_mapping(setup(tmp_path, mapping=mapping))


def test_docs_fallback_chain_own_region_else_the_managers_else_the_firm(tmp_path):
    example = doc_example("fallback-chain")
    sources, column_line = example.split("# in [tables.deals.columns]", 1)
    column_line = column_line.split("\n", 1)[1]
    (tmp_path / "people.csv").write_text("Nom,Région,Manager\nJean Dupont,Nord,\nMarie Curie,,Jean Dupont\nPaul Roux,,\n", "utf-8")
    mapping = MAPPING.replace("[org]", sources + "\n[org]").replace('unit_id = { unit = { region = "Région", agency = "Agence" } }\n', column_line)
    rows = [ROWS[0], ROWS[1], ROWS[3].replace("Marie Curie", "Zoé Inconnue"), ROWS[4].replace("Jean Dupont", "Paul Roux")]
    result = im.prepare(setup(tmp_path, rows, mapping))
    assert result.rejected == 0, result.rejects.to_string()
    # D1: Jean Dupont's own region; D2: Marie Curie has none, her manager Jean Dupont's;
    # D4: not in the sheet (listed, kept), nor a manager: the firm; D5: Paul Roux, neither
    assert column(result, "deals", "unit_id") == {"D1": "R-nord", "D2": "R-nord", "D4": "FIRM", "D5": "FIRM"}
    assert set(result.validated.frames["org_units"]["id"]) == {"FIRM", "R-nord"}
    assert [(i.target, i.value) for i in result.issues() if not i.rejected] == [("deals.unit_id", "Zoé Inconnue")]


# ---------------------------------------------------------------------------
# exports without ids: an id from a hash of named columns (issue 21 point 2)

NO_ID_HEADER = HEADER.replace("Réf;", "", 1)


def _without_ids(rows):
    return [r.split(";", 1)[1] for r in rows]


def _hash_mapping() -> str:
    example = doc_example("hash-ids")
    return MAPPING.replace('id = "Réf"\nname', example.split("# [tables.deals.columns]\n", 1)[1].split("\n# [tables.documents.columns]", 1)[0] + "\nname").replace(
        'id = "Réf"\ndeal_id = "Réf"', example.split("# [tables.documents.columns]\n", 1)[1].rstrip("\n"))


def test_ids_from_a_hash_of_named_columns_are_short_and_stable_across_re_exports(tmp_path):
    mapping = _hash_mapping()
    first = im.prepare(setup(tmp_path, _without_ids(ROWS), mapping, header=NO_ID_HEADER))
    assert first.rejected == 0, first.rejects.to_string()
    ids = column(first, "deals", "name")
    assert all(len(i) == 12 and set(i) <= set("0123456789abcdef") for i in ids)
    # the next export: another order, statuses moved on, amounts changed, spaces and case as a CRM may print them
    later = [ROWS[3], ROWS[0].replace("Tenue Alpha", " tenue  ALPHA "), ROWS[4], ROWS[2].replace("À qualifier", "En cours"), ROWS[1].replace("2 500 €", "3 000 €")]
    (tmp_path / "next").mkdir()
    second = im.prepare(setup(tmp_path / "next", _without_ids(later), mapping, header=NO_ID_HEADER))
    assert second.rejected == 0, second.rejects.to_string()
    by_name = {n.strip().lower().replace("  ", " "): i for i, n in column(second, "deals", "name").items()}
    assert {n.lower(): i for i, n in ids.items()} == by_name
    assert set(column(second, "documents", "deal_id", "deal_id")) <= set(ids)  # documents point at the same ids
    described = dict(first.built.described["deals"])
    assert described["id"] == "hash of column 'Affaire', column 'Client', column 'Créée le' (12 hex digits)"


def test_rows_alike_in_every_hashed_column_are_rejected_naming_both(tmp_path):
    rows = _without_ids([ROWS[0], ROWS[1], ROWS[1].replace("En cours", "Gagné").replace(";;2 500", ";20/02/2026;2 500")])
    result = im.prepare(setup(tmp_path, rows, _hash_mapping(), header=NO_ID_HEADER))
    bad = rejects(result, table="deals", column="id")
    assert bad["row"].tolist() == [3, 4]
    reason = bad["reason"].iloc[0]
    assert "is used by 2 rows (" in reason and "opps.csv row 3, " in reason and "opps.csv row 4)" in reason
    assert "rows alike in Affaire, Client, Créée le: add a column that tells them apart to the hash" in reason
    assert result.source_counts["opps"] == im.SourceCount(3, 1, 2, 0)


def test_a_hash_needs_columns(tmp_path):
    for spec, message in (('{ hash = [] }', "expected a column name or a list of value specs"), ('{ hash = "Affaire", map = "statut" }', "unknown key")):
        mapping = MAPPING.replace('name = "Affaire"', f"name = {spec}")
        with pytest.raises(im.MappingError, match=message):
            im.read_mapping(setup(tmp_path, mapping=mapping))


@pytest.mark.parametrize(
    ("code", "digits", "text", "why"),
    [
        ("USD", 2, "100,000,000,000.01 $", "is too large (at most 100,000,000,000 USD per line)"),
        ("JPY", 0, "10,000,000,000,001 ¥", "is too large (at most 10,000,000,000,000 JPY per line)"),
        ("USD", 2, "twelve", "is not an amount (decimal point, e.g. 1,234.55 USD)"),
        ("JPY", 0, "douze", "is not an amount (decimal point, e.g. 1,234 JPY)"),
    ],
)
def test_refusals_speak_the_firms_currency(code, digits, text, why):
    """A dollar firm is not told of euros (issue 21.6)."""
    got, reason = parse_money(pd.Series([text], dtype="str"), ".", ("$", "¥", code), "euros", code)
    assert i18n.minor_digits(code) == digits
    assert got.isna().all() and reason.iloc[0] == why
