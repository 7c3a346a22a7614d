"""What an import says (prospects.importing.report): the --check report and the summary,
with every value not mapped — or looked up in vain and kept empty — counted."""

from __future__ import annotations

import pytest

from prospects import importing as im

from .importing_cases import MAPPING, ROWS, setup


def test_the_summary_lists_values_not_mapped_and_values_kept_empty(tmp_path):
    (tmp_path / "people.csv").write_text("Nom,Code\nJean Dupont,C1\n", "utf-8")
    mapping = MAPPING.replace("[org]", '[sources.people]\nfile = "people.csv"\n\n[org]')
    mapping = mapping.replace('abandoned_on = {', 'abandon_reason = { lookup = "people", match = "Associé", key = "Nom", value = "Code", on_miss = "empty" }\nabandoned_on = {')
    rows = [*ROWS[:3], ROWS[3].replace("Perdu", "Gelé"), ROWS[4]]
    result = im.prepare(setup(tmp_path, rows, mapping))
    text = im.summary(result, "sqlite:///x.db")
    not_mapped, kept = text.split("Values not found, kept empty or at their default (on_miss = \"empty\": not a rejection):")
    assert "Values not mapped (their rows are rejected):\n  unmapped    deals.status ← Statut: 'Gelé' (1 row) — Statut 'Gelé' is not in map statut" in not_mapped
    # Marie Curie twice (D2, and D4 rejected for its status: still counted), not Jean Dupont
    assert "  not found   deals.abandon_reason ← Associé → people: 'Marie Curie' (2 rows) — Associé 'Marie Curie' not found in people (Nom)" in kept
    assert "Jean" not in kept.split("\nnote: ")[0]


def test_a_long_list_of_values_is_cut_in_the_summary_not_in_check(tmp_path):
    rows = [f"D{i};A;B;Nord;Lille;Jean Dupont;;Statut {i};01/01/2026;;" for i in range(40)]
    result = im.prepare(setup(tmp_path, rows))
    assert len([i for i in result.issues() if i.kind == "unmapped" and i.target == "deals.status"]) == 40
    assert "… and 50 more (see the rejects file)" in im.summary(result, "sqlite:///x.db")  # deals.status and documents.status: 80 values
    report = im.check_report(result)
    assert "Statut 39" in report and "more (see" not in report


def test_rejections_of_the_contract_name_the_empty_source_column_and_count_parents_once(tmp_path):
    """Issue 21 point 7: no "could not map: none" above rejections; the empty source column
    named; "parent rejected" once per parent table, not once per row."""
    lost = [f"L{i};Perte {i};Client {i};Nord;Lille;Jean Dupont;;Perdu;01/02/2026;;1 000 €" for i in range(1, 6)]
    result = im.prepare(setup(tmp_path, [ROWS[0], *lost]))
    report = im.check_report(result)
    assert "Values it could not map: none" not in report
    assert "Every value was mapped; the rows below break the rules of the data contract (docs/data.md)" in report
    rejections = report.split("Rejections (", 1)[1]
    assert "deals.abandoned_on × 5: abandoned_on is required when status is abandoned (Décidée le: empty)" in rejections
    assert "documents.decided_on × 5: decided_on is required when status is refused (Décidée le: empty)" in rejections
    assert "documents.deal_id × 5: parent rejected: deals L1, L2, L3, … (" in rejections
    assert "document_lines.document_id × 5: parent rejected: documents L1, L2, L3, … (" in rejections
    assert rejections.count("parent rejected") == 2
    # the rejects file keeps one line per row, with its own parent
    parents = result.rejects[result.rejects["reason"].str.startswith("parent rejected")]
    assert len(parents) == 10 and "parent rejected: deals L5" in parents["reason"].tolist()
    assert "decided_on is required when status is refused (Décidée le: empty)" in result.rejects["reason"].tolist()


def test_an_empty_value_made_by_a_condition_is_not_called_empty_in_the_source(tmp_path):
    mapping = MAPPING.replace('decided_on = { column = "Décidée le", only_if = { status = ["signed", "refused", "cancelled"] } }',
                              'decided_on = { column = "Décidée le", only_if = { status = "signed" } }')
    result = im.prepare(setup(tmp_path, [ROWS[3]], mapping))
    reasons = result.rejects.loc[result.rejects["column"] == "decided_on", "reason"].tolist()
    assert reasons == ["decided_on is required when status is refused (Décidée le holds '15/04/2026' but only_if documents.status is signed does not hold)"]


# ---------------------------------------------------------------------------
# the firm's currency (issue 21, point 6): amounts read in it, the summary says them in it


def _priced(amounts: list[str]) -> list[str]:
    """ROWS with these amounts (D1, D2, D4 carry one)."""
    rows = list(ROWS)
    for i, amount in zip((0, 1, 3), amounts, strict=True):
        rows[i] = rows[i].rsplit(";", 1)[0] + ";" + amount
    return rows


@pytest.mark.parametrize(
    ("currency", "amounts", "cents", "total"),
    [
        ("EUR", ["1 000,00 €", "2 500 €", "800 EUR"], [100_000, 250_000, 80_000], "€4,300.00"),
        ("USD", ["1 000,00 $", "2 500 USD", "800 $US"], [100_000, 250_000, 80_000], "$4,300.00"),
        ("CHF", ["CHF 1 000,00", "2 500 CHF", "800"], [100_000, 250_000, 80_000], "CHF\u00a04,300.00"),
        # the yen has no minor unit: 1 000 yen are stored as 1000 in amount_cents
        ("JPY", ["1 000 ¥", "2 500 JPY", "800"], [1_000, 2_500, 800], "¥4,300"),
    ],
)
def test_amounts_are_read_and_summed_in_the_firms_currency(tmp_path, currency, amounts, cents, total):
    result = im.prepare(setup(tmp_path, _priced(amounts)), currency=currency)
    lines = result.validated.frames["document_lines"].set_index("document_id")["amount_cents"]
    assert [int(lines[d]) for d in ("D1", "D2", "D4")] == cents
    digits = "cents" if currency != "JPY" else "whole units (the currency has no minor unit)"
    said = f"Amounts: 3 document lines, total {total} (currency {currency}, the setting `currency`; stored as integer {digits} in amount_cents)"
    assert said in im.check_report(result)
    assert said in im.summary(result, "sqlite:///x.db")


def test_a_yen_amount_with_decimals_is_rejected_with_the_reason(tmp_path):
    result = im.prepare(setup(tmp_path, _priced(["1 000,50 ¥", "2 500", "800"])), currency="JPY")
    [reason] = result.rejects.loc[result.rejects["column"] == "amount_cents", "reason"].unique()
    assert "has decimals: the firm's currency has no minor unit" in reason
    # and a euro sign is no yen: refused as not an amount, never read as yen
    euros = im.prepare(setup(tmp_path, _priced(["1 000 €", "2 500", "800"])), currency="JPY")
    assert "is not an amount" in euros.rejects.loc[euros.rejects["column"] == "amount_cents", "reason"].iloc[0]


def test_import_check_says_the_amounts_in_the_setting_currency(tmp_path, capsys, monkeypatch):
    from prospects.cli import main

    path = setup(tmp_path, _priced(["1 000,00 $", "2 500 $", "800 $"]))
    monkeypatch.setenv("PROSPECTS_CURRENCY", "USD")
    code = main(["--db", f"sqlite:///{tmp_path / 'x.db'}", "import", "--mapping", str(path), "--check"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Amounts: 3 document lines, total $4,300.00 (currency USD" in out
