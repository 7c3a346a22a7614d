"""Validation and reconciliation (prospects.importing.result): rejected rows and what
hangs from them, reasons naming the source, read = imported + rejected."""

from __future__ import annotations

from prospects import importing as im

from .importing_cases import (
    ROWS,
    assert_reconciled,
    frames,
    rejects,
    setup,
)


def test_unknown_status_rejects_the_row_and_is_listed_with_counts(tmp_path):
    rows = [ROWS[0], ROWS[1].replace("En cours", "Gelé"), ROWS[3].replace("Perdu", "gelé")]
    result = im.prepare(setup(tmp_path, rows))
    assert result.exit_code == 1
    bad = rejects(result, table="deals")
    assert bad[["row", "column", "value"]].values.tolist() == [[3, "status", "Gelé"], [4, "status", "gelé"]]
    assert bad["reason"].iloc[0] == "Statut 'Gelé' is not in map statut"
    assert set(rejects(result, table="document_lines")["reason"]) == {"parent rejected: documents D2", "parent rejected: documents D4"}
    issues = [(i.kind, i.target, i.value, i.rows) for i in result.issues()]
    assert ("unmapped", "deals.status", "Gelé", 1) in issues and ("unmapped", "deals.status", "gelé", 1) in issues
    assert result.source_counts["opps"] == im.SourceCount(3, 1, 2, 0)
    assert_reconciled(result)


def test_bad_date_rejects_the_deal_and_what_hangs_from_it(tmp_path):
    result = im.prepare(setup(tmp_path, [ROWS[0], ROWS[1].replace("15/01/2026", "31/02/2026")]))
    r = rejects(result, row=3)
    assert r[["table", "column"]].values.tolist() == [
        ["deals", "created_on"], ["documents", "deal_id"], ["documents", "created_on"], ["document_lines", "document_id"],
    ]
    assert r["reason"].tolist()[1:] == [
        "parent rejected: deals D2", "Créée le '31/02/2026' is not a date (dd/mm/yyyy)", "parent rejected: documents D2",
    ]
    assert r["reason"].iloc[0] == "Créée le '31/02/2026' is not a date (dd/mm/yyyy)"
    assert r["file"].iloc[0] == str(tmp_path / "opps.csv")
    assert result.counts["deals"].loaded == 1


def test_bad_amount_rejects_the_line_only(tmp_path):
    result = im.prepare(setup(tmp_path, [ROWS[0].replace("1 000,00 €", "1 000,005 €"), ROWS[1]]))
    bad = rejects(result)
    assert bad[["row", "table", "column", "value"]].values.tolist() == [[2, "document_lines", "amount_cents", "1 000,005 €"]]
    assert bad["reason"].iloc[0] == "Montant '1 000,005 €' has more than 2 decimals (not whole cents)"
    assert set(frames(result)["documents"]["id"]) == {"D1", "D2"}
    assert result.source_counts["opps"] == im.SourceCount(2, 1, 1, 1)


def test_duplicate_ids_reject_every_copy_naming_the_source_rows(tmp_path):
    result = im.prepare(setup(tmp_path, [ROWS[0], ROWS[1].replace("D2;", "D1;"), ROWS[3]]))
    bad = rejects(result, table="deals")
    assert bad["row"].tolist() == [2, 3]
    opps = tmp_path / "opps.csv"
    assert bad["reason"].iloc[0] == f"id 'D1' is used by 2 rows ({opps} row 2, {opps} row 3); ids must be unique"
    assert result.counts["deals"] == (3, 1, 2)
    assert_reconciled(result)
