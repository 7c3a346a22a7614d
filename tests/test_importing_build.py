"""Building the tables (prospects.importing.build): opportunities into deals, documents and
lines, several parts and literal rows, conditions, distinct rows, merges."""

from __future__ import annotations

import pandas as pd

from prospects import importing as im

from .importing_cases import (
    HEADER,
    MAPPING,
    ROWS,
    assert_reconciled,
    column,
    doc_example,
    frames,
    rejects,
    setup,
)


def test_one_row_per_opportunity_becomes_deals_documents_and_lines(tmp_path):
    result = im.prepare(setup(tmp_path))
    assert result.exit_code == 0 and result.rejected == 0
    assert_reconciled(result)
    f = frames(result)
    assert f["org_units"]["id"].tolist() == ["FIRM", "R-nord", "A-nord.lille", "R-sud", "A-sud.nice"]
    assert column(result, "deals", "unit_id") == {
        "D1": "A-nord.lille", "D2": "A-nord.lille", "D3": "A-sud.nice", "D4": "A-sud.nice", "D5": "R-nord",
    }
    assert column(result, "deals", "status") == {"D1": "open", "D2": "open", "D3": "open", "D4": "abandoned", "D5": "abandoned"}
    assert column(result, "deals", "abandoned_on")["D4"] == pd.Timestamp("2026-04-15")
    assert column(result, "documents", "status") == {"D1": "signed", "D2": "in_progress", "D4": "refused"}  # D3, D5: none
    assert pd.isna(column(result, "documents", "decided_on")["D2"])
    assert column(result, "document_lines", "amount_cents", "document_id") == {"D1": 100_000, "D2": 250_000, "D4": 80_000}


def test_lines_billing_by_column_or_by_rule_and_zero_amounts(tmp_path):
    header = "Réf;Affaire;Client;Région;Agence;Associé;Manager;Statut;Créée le;Décidée le;Montant;Nature;Mission;Frais"
    rows = [
        ROWS[0] + ";Récurrent;Tenue comptable;0,00",
        ROWS[1] + ";ponctuel;Audit;150",
        ROWS[3] + ";;Création;",
    ]
    mapping = MAPPING.replace(
        '[[tables.document_lines.lines]]\namount = "Montant"\nbilling = { value = "recurring" }\nmission = { value = "Mission" }',
        '[[tables.document_lines.lines]]\namount = "Montant"\nbilling = { column = "Nature", map = { "Récurrent" = "recurring", "Ponctuel" = "one_off" }, default = "one_off" }\nmission = "Mission"\n'
        '[[tables.document_lines.lines]]\namount = "Frais"\nbilling = { column = "Mission", map = { "Tenue comptable" = "recurring" }, otherwise = "one_off" }\nmission = { value = "Frais" }\nkeep_zero = true\n',
    )
    result = im.prepare(setup(tmp_path, rows, mapping, header=header))
    assert result.rejected == 0, result.rejects.to_string()
    lines = frames(result)["document_lines"]
    assert lines[["document_id", "line_no", "mission", "billing", "amount_cents"]].values.tolist() == [
        ["D1", 1, "Tenue comptable", "recurring", 100_000],
        ["D1", 2, "Frais", "recurring", 0],  # keep_zero
        ["D2", 1, "Audit", "one_off", 250_000],
        ["D2", 2, "Frais", "one_off", 15_000],
        ["D4", 1, "Création", "one_off", 80_000],  # billing by default
    ]


def test_an_amount_on_a_row_without_document_is_rejected_not_dropped(tmp_path):
    result = im.prepare(setup(tmp_path, [ROWS[0], ROWS[2].replace(";;À qualifier", ";;À qualifier").removesuffix(";") + ";300 €"]))
    bad = rejects(result, table="document_lines")
    assert bad["row"].tolist() == [3] and bad["column"].tolist() == ["amount_cents"]
    assert bad["reason"].iloc[0] == "Montant '300 €' is given but Statut 'À qualifier' means no document: the amount is not imported"
    assert column(result, "deals", "status")["D3"] == "open"  # the deal itself is imported
    assert result.source_counts["opps"] == im.SourceCount(2, 1, 1, 1)  # partly imported
    assert_reconciled(result)


def test_literal_rows_and_several_sources_for_one_table(tmp_path):
    (tmp_path / "more.csv").write_text(HEADER.replace(";", ",") + "\nD9,Tenue Omega,Omega,Nord,Lille,Jean Dupont,,En cours,01/06/2026,,\"1 000,00 €\"\n", "utf-8")
    mapping = MAPPING.replace('[org]', '[sources.more]\nfile = "more.csv"\n\n[org]')
    for table in ("deals", "documents"):
        mapping = mapping.replace(f'[tables.{table}]\nsource = "opps"', f'[tables.{table}]\nsource = ["opps", "more"]')
    mapping += '\n[tables.groups]\nrows = [{ id = "G1", name = "Direction" }, { id = "G2", name = "Nord" }]\n[tables.group_units]\nrows = [{ group_id = "G2", unit_id = "R-nord" }]\n'
    result = im.prepare(setup(tmp_path, mapping=mapping))
    assert result.rejected == 0
    assert column(result, "groups", "name") == {"G1": "Direction", "G2": "Nord"}
    assert frames(result)["group_units"].values.tolist() == [["G2", "R-nord"]]
    assert column(result, "document_lines", "amount_cents", "document_id")["D9"] == 100_000
    assert result.source_counts["more"] == im.SourceCount(1, 1, 0, 0)


def test_an_export_with_one_row_per_line_merges_its_documents(tmp_path):
    (tmp_path / "deals.csv").write_text("ref,nom,unite,cree\nD1,Alpha,A1,2026-01-10\nD2,Beta,A9,2026-01-11\n", "utf-8")
    (tmp_path / "units.csv").write_text("code,libellé,niveau,parent\nF,Cabinet,Cabinet,\nR1,Nord,Région,F\nA1,Lille,Agence,R1\nA9,Orphelin,Agence,R7\n", "utf-8")
    lines = [
        "offre,affaire,statut,mission,nature,montant",
        'O1,D1,signé,Tenue,R,"1 000,00"',  # O1: two lines, rows that agree → one document
        "O1,D1,signé,Conseil,P,200",
        "O2,D2,signé,Tenue,R,50",  # O2: its deal is rejected (unit under a missing parent)
        "O2,D2,signé,Social,R,60",
        "O3,D1,signé,Tenue,R,10",  # O3: rows disagree on the status
        "O3,D1,perdu,Tenue,R,20",
    ]
    (tmp_path / "lignes.csv").write_text("\n".join(lines) + "\n", "utf-8")
    mapping = """
[defaults]
date = "iso"
[sources.units]
file = "units.csv"
[sources.deals]
file = "deals.csv"
[sources.lignes]
file = "lignes.csv"
[tables.org_units]
source = "units"
columns = { id = "code", name = "libellé", kind = { column = "niveau", map = { Cabinet = "firm", "Région" = "region", Agence = "agency" } }, parent_id = "parent" }
[tables.deals]
source = "deals"
columns = { id = "ref", name = "nom", kind = { value = "prospect" }, prospect_name = "nom", unit_id = "unite", status = { value = "open" }, created_on = "cree" }
[tables.documents]
source = "lignes"
merge = true
columns = { id = "offre", deal_id = "affaire", doc_type = { value = "Offre" }, status = { column = "statut", map = { "signé" = "signed", perdu = "refused" } }, created_on = { value = "2026-02-01" }, decided_on = { value = "2026-03-01" } }
[tables.document_lines]
source = "lignes"
columns = { document_id = "offre", mission = "mission", billing = { column = "nature", map = { R = "recurring", P = "one_off" } }, amount_cents = "montant" }
"""
    path = tmp_path / "mapping.toml"
    path.write_text(mapping, "utf-8")
    result = im.prepare(path)
    assert_reconciled(result)
    assert frames(result)["documents"]["id"].tolist() == ["O1"]
    assert frames(result)["document_lines"][["document_id", "line_no", "amount_cents"]].values.tolist() == [["O1", 1, 100_000], ["O1", 2, 20_000]]
    reasons = rejects(result, source="lignes").groupby("row")["reason"].apply(list).to_dict()
    assert reasons[4] == ["parent rejected: deals D2", "parent rejected: documents O2"]
    assert reasons[5] == [f"merged into {tmp_path / 'lignes.csv'} row 4, which is rejected", "parent rejected: documents O2"]
    assert any("they differ in status" in r for r in reasons[6])
    assert result.source_counts["lignes"] == im.SourceCount(6, 2, 4, 0)
    lines[6] = "O3,D1,signé,Tenue,R,10"  # O3 rows now agree; the O2 rows too, but their deal is rejected
    lines[3:5] = ["O2,D2,signé,Tenue,R,50", "O2,D2,signé,Tenue,R,50"]
    (tmp_path / "lignes.csv").write_text("\n".join(lines) + "\n", "utf-8")
    path.write_text(mapping.replace('[tables.document_lines]\nsource = "lignes"', '[tables.document_lines]\nsource = "deals"').replace('document_id = "offre"', 'document_id = { value = "O1" }').replace('mission = "mission"', 'mission = "nom"').replace('billing = { column = "nature", map = { R = "recurring", P = "one_off" } }', 'billing = { value = "one_off" }').replace('amount_cents = "montant"', 'amount_cents = { value = "1" }'), "utf-8")
    result = im.prepare(path)
    assert_reconciled(result)
    assert set(frames(result)["documents"]["id"]) == {"O1", "O3"}
    r5 = rejects(result, source="lignes", row=5)
    assert r5["reason"].tolist() == [f"merged into {tmp_path / 'lignes.csv'} row 4, which is rejected"]


# ---------------------------------------------------------------------------
# conditions (only_if): in lines, on another table's column, on a source column

PRICED_HEADER = HEADER + ";Produit;Valeur"
PRICED_ROWS = [
    ROWS[0].removesuffix("1 000,00 €") + ";GTX Pro;1 000",  # won: its close value
    ROWS[1].removesuffix("2 500 €") + ";GTXPro;",  # open: the list price, but the name is spelt differently
    ROWS[2] + ";GTXPro;",  # no document yet: no line, so no miss
    ROWS[3].removesuffix("800 €") + ";MG Special;0",  # lost
    "D6;Conseil Zeta;Zeta;Nord;Lille;Jean Dupont;;En cours;01/05/2026;;;MG Special;",  # open: 55 €
]
PRICED_LINES = '''[[tables.document_lines.lines]]
amount = "Valeur"
billing = { value = "one_off" }
mission = "Produit"
only_if = { "documents.status" = "signed" }

[[tables.document_lines.lines]]
amount = { lookup = "prix", match = "Produit", key = "Produit", value = "Prix" }
billing = { value = "one_off" }
mission = "Produit"
only_if = { "documents.status" = "in_progress" }
'''


def priced(tmp_path, lines: str = PRICED_LINES, rows=PRICED_ROWS):
    (tmp_path / "prix.csv").write_text("Produit;Prix\nGTX Pro;4 821\nMG Special;55\n", "utf-8")
    mapping = MAPPING.replace("[org]", '[sources.prix]\nfile = "prix.csv"\ndelimiter = ";"\n\n[org]')
    mapping = mapping.split("[[tables.document_lines.lines]]")[0] + lines
    return im.prepare(setup(tmp_path, rows, mapping, header=PRICED_HEADER))


def test_a_line_conditional_on_the_status_counts_and_lists_a_real_miss(tmp_path):
    result = priced(tmp_path)
    assert column(result, "document_lines", "amount_cents", "document_id") == {"D1": 100_000, "D6": 5_500}
    bad = rejects(result, table="document_lines")
    assert bad[["row", "column", "value", "source_column"]].values.tolist() == [[3, "amount_cents", "GTXPro", "Produit → prix"]]
    assert bad["reason"].tolist() == ["Produit 'GTXPro' not found in prix (Produit)"]
    # the row without document names the same product: absent by condition, not a miss
    assert [(i.kind, i.target, i.value, i.rows, i.rejected) for i in result.issues()] == [
        ("not found", "document_lines.amount_cents", "GTXPro", 1, True),
    ]
    assert result.exit_code == 1 and result.source_counts["opps"] == im.SourceCount(5, 4, 1, 1)
    assert_reconciled(result)
    report = im.check_report(result)
    assert "not found   document_lines.amount_cents ← Produit → prix: 'GTXPro' (1 row)" in report
    assert "only if documents.status is in_progress" in report


def test_misses_kept_empty_on_purpose_are_still_counted_and_listed(tmp_path):
    lines = PRICED_LINES.replace('value = "Prix" }', 'value = "Prix", on_miss = "empty" }')
    result = priced(tmp_path, lines)
    assert result.exit_code == 0 and column(result, "document_lines", "amount_cents", "document_id") == {"D1": 100_000, "D6": 5_500}
    assert [(i.kind, i.value, i.rows, i.rejected) for i in result.issues()] == [("not found", "GTXPro", 1, False)]
    report = im.check_report(result)
    assert "Values it could not map: none" in report
    assert "Values not found, kept empty or at their default" in report
    assert "not found   document_lines.amount_cents ← Produit → prix: 'GTXPro' (1 row) — Produit 'GTXPro' not found in prix (Produit)" in report


def test_only_if_inside_a_lines_entry_works(tmp_path):
    header = HEADER + ";Nature"
    rows = [ROWS[0] + ";Récurrent", ROWS[1] + ";Ponctuel", ROWS[3] + ";récurrent"]
    mapping = MAPPING.split("[[tables.document_lines.lines]]")[0] + doc_example("line-only-if")
    result = im.prepare(setup(tmp_path, rows, mapping, header=header))
    assert result.rejected == 0
    assert column(result, "document_lines", "amount_cents", "document_id") == {"D1": 100_000, "D4": 80_000}  # D2 is one-off


def test_a_condition_on_a_source_column_and_a_whole_part(tmp_path):
    header = HEADER + ";Confidentiel"
    rows = [ROWS[0] + ";Oui", ROWS[1] + ";", ROWS[2] + "; OUI ", ROWS[3] + ";oui", ROWS[4] + ";non"]
    mapping = MAPPING.replace('abandoned_on = {', 'group_id = { value = "G-CONF", only_if = { "{Confidentiel}" = "oui" } }\nabandoned_on = {')  # as the docs say
    mapping += '''
[tables.groups]
rows = [{ id = "G-CONF", name = "Confidentiel" }]
source = "opps"
distinct = "Région"
columns = { id = { template = "G-{Région}" }, name = { template = "Région {Région}" } }

[tables.group_units]
rows = [{ group_id = "G-CONF", unit_id = "FIRM" }]
source = "opps"
distinct = "Région"
columns = { group_id = { template = "G-{Région}" }, unit_id = { unit = { region = "Région" } } }
''' + doc_example("confidential-members")
    result = im.prepare(setup(tmp_path, rows, mapping, header=header))
    assert result.rejected == 0, result.rejects.to_string()
    f = frames(result)
    assert f["groups"].values.tolist() == [["G-Nord", "Région Nord"], ["G-Sud", "Région Sud"], ["G-CONF", "Confidentiel"]]
    assert f["group_units"].values.tolist() == [["G-Nord", "R-nord"], ["G-Sud", "R-sud"], ["G-CONF", "FIRM"]]
    # D1, D3 and D4 are confidential; 'jean  DUPONT' (D3) is Jean Dupont (D1): one member each
    assert f["group_members"].values.tolist() == [["G-CONF", "jean.dupont"], ["G-CONF", "marie.curie"]]
    assert column(result, "deals", "group_id") == {"D1": "G-CONF", "D2": None, "D3": "G-CONF", "D4": "G-CONF", "D5": None}
    assert result.source_counts["opps"] == im.SourceCount(5, 5, 0, 0)
    report = im.check_report(result)
    assert "Table group_members: one row per distinct column 'Associé' of opps where {Confidentiel} is oui → 2 rows" in report
    assert "Table groups: one row per distinct column 'Région' of opps; 1 literal row of the mapping → 3 rows" in report


def test_amounts_on_rows_without_document_give_one_true_reason_each(tmp_path):
    rows = [ROWS[0], *(f"D{i};Conseil;Client {i};Sud;Nice;Marie Curie;;À qualifier;01/02/2026;;300 €" for i in (7, 8, 9))]
    result = im.prepare(setup(tmp_path, rows))
    bad = rejects(result, table="document_lines")
    assert bad[["row", "column", "source_column", "value"]].values.tolist() == [[r, "amount_cents", "Montant", "300 €"] for r in (3, 4, 5)]
    assert set(bad["reason"]) == {"Montant '300 €' is given but Statut 'À qualifier' means no document: the amount is not imported"}
    assert result.counts["document_lines"] == (4, 1, 3) and len(result.rejects) == 3
    assert [(i.kind, i.target, i.value, i.rows) for i in result.issues()] == [("no document", "document_lines.amount_cents", "300 €", 3)]
    report = im.check_report(result)
    assert "document_lines.amount_cents × 3: Montant '300 €' is given but Statut" in report
    assert "unique" not in report and "document_id ←" not in report
    assert result.source_counts["opps"] == im.SourceCount(4, 1, 3, 3)
    assert_reconciled(result)


def test_a_line_may_depend_on_a_conditional_column_of_its_own(tmp_path):
    header = HEADER + ";Nature"
    rows = [ROWS[0] + ";Récurrent", ROWS[1] + ";Récurrent"]
    lines = doc_example("line-only-if").replace(
        'billing = { column = "Nature", map = { "Récurrent" = "recurring", "Ponctuel" = "one_off" } }',
        'billing = { column = "Nature", map = { "Récurrent" = "recurring", "Ponctuel" = "one_off" }, only_if = { mission = "Tenue" } }',
    ).replace('amount = { column = "Montant", only_if = { billing = "recurring" } }', 'amount = "Montant"\nonly_if = { billing = "recurring" }')
    lines = lines.replace('mission = { value = "Mission" }', 'mission = { column = "Affaire", map = { "Tenue Alpha" = "Tenue" }, keep_unmapped = true }')
    result = im.prepare(setup(tmp_path, rows, MAPPING.split("[[tables.document_lines.lines]]")[0] + lines, header=header))
    # D1: a "Tenue" mission, billed recurring → a line; D2: its billing is emptied by its own
    # condition (not a "Tenue" mission), so the line's condition does not hold → no line
    assert column(result, "document_lines", "amount_cents", "document_id") == {"D1": 100_000}
    assert result.rejected == 0


# ---------------------------------------------------------------------------
# the org tree from a table with parents (issue 21 point 3)

TERRITORIES = "Territory Name,Parent Territory\nContoso Advisory,\nEast,Contoso Advisory\nNew York,East\nNY Audit,New York\nWest,Contoso Advisory\nNY Audit Pod,NY Audit\nOrphan,Nowhere\n"
TREE = '''
[sources.territories]
file = "territories.csv"

[tables.org_units]
source = "territories"
[tables.org_units.columns]
id = { column = "Territory Name", slug = true }
name = "Territory Name"
parent_id = { column = "Parent Territory", slug = true }
'''


def test_the_kind_of_a_unit_comes_from_its_depth_when_the_table_has_none(tmp_path):
    (tmp_path / "territories.csv").write_text(TERRITORIES, "utf-8")
    mapping = MAPPING.split("[org]")[0] + TREE + "[maps" + MAPPING.split("[maps", 1)[1]
    mapping = mapping.replace('unit_id = { unit = { region = "Région", agency = "Agence" } }', 'unit_id = { value = "new.york" }')
    mapping = mapping.replace('partner_id = { person = "Associé" }\nmanager_id = { person = "Manager" }\n', "").replace('signatory_id = { person = "Associé" }\n', "")
    result = im.prepare(setup(tmp_path, mapping=mapping))
    units = frames(result)["org_units"].set_index("id")
    assert units["kind"].to_dict() == {"contoso.advisory": "firm", "east": "region", "new.york": "agency", "ny.audit": "team", "west": "region"}
    assert units.loc["ny.audit", "parent_id"] == "new.york"
    bad = rejects(result, table="org_units").set_index("value")
    assert bad.loc["ny.audit.pod", "reason"] == "'NY Audit Pod' sits below a team: the organisation has four levels (firm, region, agency, team)"
    assert rejects(result, table="org_units", row=8)["reason"].tolist() == [  # a parent not in the table: no depth either
        "kind is required but empty", "parent_id 'nowhere' does not exist in org_units"]
    assert dict(result.built.described["org_units"])["kind"] == "by depth in the tree (not mapped): the root firm, then region, agency, team"
    assert set(column(result, "deals", "unit_id").values()) == {"new.york"}
