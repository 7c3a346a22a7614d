"""Loading and exporting the canonical CSV extract (docs/data.md: bad input, round trip, atomicity)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from prospects import db, loading
from prospects.cli import main
from prospects.loading import UnusableExtract, read_extract, validate_tables
from prospects.schema import TABLE_ORDER, TABLES

from .hostile import make_hostile

SAMPLE = Path(__file__).parent / "data" / "sample_extract"
SAMPLE_COUNTS = {
    "org_units": 10,
    "entities": 2,
    "collaborators": 9,
    "groups": 2,
    "group_units": 3,
    "group_members": 4,
    "deals": 11,
    "documents": 15,
    "document_lines": 25,
}

#: A valid new row per table: appended to the sample, it is loaded; each rule test
#: breaks one field of it.
GOOD = {
    "org_units": {"id": "T-NEW", "name": "Équipe nouvelle", "kind": "team", "parent_id": "A-VER"},
    "entities": {"id": "E-NEW", "name": "Nouvelle entité SAS"},
    "collaborators": {
        "id": "C100",
        "login": "nvenu",
        "full_name": "Nina Venu",
        "function": "staff",
        "unit_id": "T-VER",
        "entity_id": "E-LA",
        "can_validate_offers": "false",
        "active": "true",
        "email": "nina.venu@cabinet-exemple.fr",
    },
    "groups": {"id": "G-NEW", "name": "Nouveau groupe"},
    "group_units": {"group_id": "G-LYO", "unit_id": "T-VER"},
    "group_members": {"group_id": "G-LYO", "collaborator_id": "C001"},
    "deals": {
        "id": "D99",
        "name": "Tenue comptable Librairie Vauban",
        "kind": "prospect",
        "prospect_name": "Librairie Vauban",
        "unit_id": "T-VER",
        "partner_id": "C001",
        "manager_id": "C009",
        "client_manager_id": "",
        "group_id": "",
        "status": "open",
        "created_on": "2025-07-01",
        "abandoned_on": "",
        "abandon_reason": "",
    },
    "documents": {
        "id": "DOC099",
        "deal_id": "D11",
        "doc_type": "Proposition commerciale",
        "template": "",
        "title": "",
        "status": "in_progress",
        "created_on": "2025-09-05",
        "sent_on": "",
        "decided_on": "",
        "signatory_id": "C006",
        "entity_id": "E-LAA",
    },
    "document_lines": {
        "document_id": "DOC013",
        "line_no": "1",
        "mission": "Conseil",
        "billing": "one_off",
        "amount_cents": "10000",
    },
}


# ---------------------------------------------------------------------------
# helpers


@pytest.fixture
def extract(tmp_path) -> Path:
    """A private copy of the sample extract."""
    folder = tmp_path / "extract"
    shutil.copytree(SAMPLE, folder)
    return folder


def csv_line(table: str, values: dict[str, str]) -> str:
    """One CSV line of ``table`` in contract order."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([values[c] for c in TABLES[table].column_names])
    return buffer.getvalue().removesuffix("\n")


def append(folder: Path, table: str, *lines: str) -> list[int]:
    """Append raw CSV lines to ``table``; returns their line numbers in the file."""
    path = folder / f"{table}.csv"
    text = path.read_text("utf-8")
    if not text.endswith("\n"):
        text += "\n"
    first = text.count("\n") + 1
    path.write_text(text + "".join(f"{line}\n" for line in lines), "utf-8")
    return [first + i for i in range(len(lines))]


def append_row(folder: Path, table: str, **changes: str) -> int:
    """Append the GOOD row of ``table`` with some fields changed; returns its line number."""
    return append(folder, table, csv_line(table, {**GOOD[table], **changes}))[0]


def rewrite(folder: Path, table: str, row_id: str, **changes: str) -> int:
    """Change fields of the row whose first column is ``row_id``; returns its line number."""
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = TABLES[table].column_names[0]
    index = next(i for i, r in enumerate(rows) if r[first] == row_id)
    rows[index].update(changes)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return index + 2


def assert_balanced(counts) -> None:
    for table, c in counts.items():
        assert c.read == c.loaded + c.rejected, table


def rejected_rows(validated, table: str) -> set[int]:
    r = validated.rejects
    return set(r.loc[r["table"] == table, "line"])


def reasons(validated, table: str, line: int) -> list[tuple[str | None, str]]:
    r = validated.rejects
    sub = r[(r["table"] == table) & (r["line"] == line)]
    return list(zip(sub["column"], sub["reason"], strict=True))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def same_frames(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in TABLE_ORDER:
        pd.testing.assert_frame_equal(a[table].reset_index(drop=True), b[table].reset_index(drop=True), obj=table)


def sorted_by_key(frames) -> dict[str, pd.DataFrame]:
    return {t: f.sort_values(list(TABLES[t].key)).reset_index(drop=True) for t, f in frames.items()}


# ---------------------------------------------------------------------------
# the sample extract and the round trip


def test_sample_extract_is_valid_canonical_and_rewritten_byte_for_byte(tmp_path):
    validated = read_extract(SAMPLE)
    # valid; the director and a manager validate offers in no group: named (issue 21)
    assert validated.rejected == 0 and validated.notes == (
        "collaborator C002 'mmartin' (Marie Martin): validates offers but is in no group: no perimeter, only their own deals; "
        "add them to a group covering the units they answer for (group_members, group_units)",
        "collaborator C009 'agirard' (Antoine Girard): validates offers but is in no group: no perimeter, only their own deals; "
        "add them to a group covering the units they answer for (group_members, group_units)",
    )
    assert {t: c.read for t, c in validated.counts.items()} == SAMPLE_COUNTS
    assert_balanced(validated.counts)
    for table, frame in validated.frames.items():
        assert list(frame.columns) == list(TABLES[table].column_names)
        for col in TABLES[table].columns:
            expected = {"date": "datetime64[s]", "bool": "bool", "int": "int64"}.get(col.type, "object")
            assert str(frame[col.name].dtype) == expected, (table, col.name)
    docs = validated.frames["documents"].set_index("id")
    assert docs.loc["DOC013", "template"] is None and docs.loc["DOC013", "decided_on"] == pd.Timestamp("2025-06-09")
    loading.write_extract(validated.frames, tmp_path / "out")
    for table in TABLE_ORDER:
        assert (tmp_path / "out" / f"{table}.csv").read_bytes() == (SAMPLE / f"{table}.csv").read_bytes(), table


def _add_tricky_rows(folder: Path) -> None:
    """Values that a careless CSV writer or reader would damage."""
    append_row(
        folder,
        "deals",
        id="D-TRICKY",
        name='Affaire "spéciale", avec virgule',
        prospect_name="  Œuvre – ½ ✓  ",
        status="abandoned",
        created_on="1900-01-01",
        abandoned_on="9999-12-31",
        abandon_reason="Raison\nsur deux lignes",
    )
    append_row(folder, "documents", id="DOC-T", deal_id="D11", title="   ", template="modèle; « v2 »")
    append_row(folder, "documents", id="DOC-U", deal_id="D11", title="C:\\dossiers\\offre\t1 \\N", template="NULL")
    append_row(folder, "document_lines", document_id="DOC-T", line_no="7", amount_cents="10000000000000")  # the bound (docs/data.md)
    append_row(folder, "document_lines", document_id="DOC-T", line_no="8", amount_cents="0")


def test_round_trip_load_export_load_is_lossless(db_url, extract, tmp_path):
    _add_tricky_rows(extract)
    validated = read_extract(extract)
    assert validated.rejected == 0, validated.rejects.to_string()
    engine = db.make_engine(db_url)
    loading.load_extract(engine, extract)
    first = db.read_all(engine)
    same_frames(first, sorted_by_key(validated.frames))  # the database holds what the files said
    deal = first["deals"].set_index("id").loc["D-TRICKY"]
    assert deal["name"] == 'Affaire "spéciale", avec virgule'
    assert deal["prospect_name"] == "  Œuvre – ½ ✓  "
    assert deal["abandon_reason"] == "Raison\nsur deux lignes"
    assert deal["abandoned_on"] == pd.Timestamp("9999-12-31")
    lines = first["document_lines"]
    assert lines.loc[lines["document_id"] == "DOC-T", "amount_cents"].tolist() == [10_000_000_000_000, 0]

    out = tmp_path / "exported"
    assert loading.export_extract(engine, out) == {t: len(first[t]) for t in TABLE_ORDER}
    loading.load_extract(engine, out)
    again = db.read_all(engine)
    same_frames(first, again)
    out2 = tmp_path / "exported-again"
    loading.export_extract(engine, out2)
    for table in TABLE_ORDER:
        assert (out / f"{table}.csv").read_bytes() == (out2 / f"{table}.csv").read_bytes(), table
    assert db.read_extract_info(engine)["source"] == str(out.resolve())


def test_a_firm_alone_with_empty_tables_loads_and_exports(db_url, tmp_path):
    folder = tmp_path / "minimal"
    folder.mkdir()
    for table in TABLE_ORDER:
        (folder / f"{table}.csv").write_text(",".join(TABLES[table].column_names) + "\n", "utf-8")
    append(folder, "org_units", "F,Cabinet Seul,firm,")
    engine = db.make_engine(db_url)
    report = loading.load_extract(engine, folder)
    assert report.rejected == 0 and report.loaded == 1
    loading.export_extract(engine, tmp_path / "out")
    for table in TABLE_ORDER:
        assert (tmp_path / "out" / f"{table}.csv").read_bytes() == (folder / f"{table}.csv").read_bytes()
    empty = db.read_all(engine)["documents"]
    assert len(empty) == 0 and str(empty["created_on"].dtype) == "datetime64[s]"


def test_load_replaces_the_previous_content(sqlite_url, extract):
    engine = db.make_engine(sqlite_url)
    loading.load_extract(engine, extract)
    loading.load_extract(engine, extract)  # twice: replaced, not appended
    assert db.table_counts(engine) == SAMPLE_COUNTS
    append_row(extract, "deals")
    loading.load_extract(engine, extract)
    assert db.table_counts(engine)["deals"] == SAMPLE_COUNTS["deals"] + 1


# ---------------------------------------------------------------------------
# one test per rule: the bad row is rejected with table, line, column, reason; nothing
# else is lost

RULES = [
    # org_units
    ("org_units", {"id": ""}, "id", "id is required but empty"),
    ("org_units", {"id": "   "}, "id", "id is required but empty"),
    ("org_units", {"id": "X" * 201}, "id", "id is longer than 200 characters"),
    ("org_units", {"name": ""}, "name", "name is required but empty"),
    ("org_units", {"kind": "division"}, "kind", "kind 'division' is not one of firm, region, agency, team"),
    ("org_units", {"kind": ""}, "kind", "kind is required but empty"),
    ("org_units", {"parent_id": "A-NOPE"}, "parent_id", "parent_id 'A-NOPE' does not exist in org_units"),
    ("org_units", {"kind": "region", "parent_id": ""}, "parent_id", "parent_id is required for a region (only the firm row has none)"),
    ("org_units", {"parent_id": "R-IDF"}, "parent_id", "a team must be under an agency, but its parent 'R-IDF' is a region"),
    ("org_units", {"parent_id": "T-VER"}, "parent_id", "a team must be under an agency, but its parent 'T-VER' is a team"),
    ("org_units", {"kind": "agency", "parent_id": "FIRM"}, "parent_id", "an agency must be under a region, but its parent 'FIRM' is a firm"),
    ("org_units", {"kind": "region", "parent_id": "R-IDF"}, "parent_id", "a region must be under a firm, but its parent 'R-IDF' is a region"),
    ("org_units", {"kind": "firm", "parent_id": "FIRM"}, "parent_id", "the firm row must have an empty parent_id (it is the root)"),
    ("org_units", {"name": "nul\x00"}, "name", "name contains a NUL character, which cannot be stored"),
    # entities
    ("entities", {"id": ""}, "id", "id is required but empty"),
    ("entities", {"name": ""}, "name", "name is required but empty"),
    # collaborators
    ("collaborators", {"login": ""}, "login", "login is required but empty"),
    ("collaborators", {"full_name": ""}, "full_name", "full_name is required but empty"),
    ("collaborators", {"function": "associé"}, "function", "function 'associé' is not one of partner, director, manager, staff"),
    ("collaborators", {"unit_id": ""}, "unit_id", "unit_id is required but empty"),
    ("collaborators", {"unit_id": "T-NOPE"}, "unit_id", "unit_id 'T-NOPE' does not exist in org_units"),
    ("collaborators", {"entity_id": "E-NOPE"}, "entity_id", "entity_id 'E-NOPE' does not exist in entities"),
    ("collaborators", {"can_validate_offers": "peut-être"}, "can_validate_offers", "can_validate_offers 'peut-être' is not a boolean (true/false, 1/0, yes/no, oui/non)"),
    ("collaborators", {"email": "nina venu@cabinet-exemple.fr"}, "email", "email 'nina venu@cabinet-exemple.fr' is not a plain address (name@domain)"),
    ("collaborators", {"email": "nina.venu"}, "email", "email 'nina.venu' is not a plain address (name@domain)"),
    ("collaborators", {"email": "a@b@c.fr"}, "email", "email 'a@b@c.fr' is not a plain address (name@domain)"),
    # the mailer's own check (one pattern, prospects.schema.PLAIN_ADDRESS): what loads can be sent to
    ("collaborators", {"email": "nina(venu)@cabinet-exemple.fr"}, "email",
     "email 'nina(venu)@cabinet-exemple.fr' is not a plain address (name@domain)"),
    ("collaborators", {"can_validate_offers": ""}, "can_validate_offers", "can_validate_offers is required but empty"),
    ("collaborators", {"active": ""}, "active", "active is required but empty"),
    ("collaborators", {"active": "2"}, "active", "active '2' is not a boolean"),
    # groups, group_units, group_members
    ("groups", {"name": ""}, "name", "name is required but empty"),
    ("group_units", {"group_id": "G-NOPE"}, "group_id", "group_id 'G-NOPE' does not exist in groups"),
    ("group_units", {"unit_id": "T-NOPE"}, "unit_id", "unit_id 'T-NOPE' does not exist in org_units"),
    ("group_units", {"unit_id": ""}, "unit_id", "unit_id is required but empty"),
    ("group_members", {"collaborator_id": "C999"}, "collaborator_id", "collaborator_id 'C999' does not exist in collaborators"),
    ("group_members", {"group_id": ""}, "group_id", "group_id is required but empty"),
    # deals
    ("deals", {"id": ""}, "id", "id is required but empty"),
    ("deals", {"name": ""}, "name", "name is required but empty"),
    ("deals", {"kind": "lead"}, "kind", "kind 'lead' is not one of prospect, client"),
    ("deals", {"prospect_name": ""}, "prospect_name", "prospect_name is required but empty"),
    ("deals", {"unit_id": "T-NOPE"}, "unit_id", "unit_id 'T-NOPE' does not exist in org_units"),
    ("deals", {"unit_id": ""}, "unit_id", "unit_id is required but empty"),
    ("deals", {"partner_id": "C999"}, "partner_id", "partner_id 'C999' does not exist in collaborators"),
    ("deals", {"manager_id": "C999"}, "manager_id", "manager_id 'C999' does not exist in collaborators"),
    ("deals", {"client_manager_id": "C999"}, "client_manager_id", "client_manager_id 'C999' does not exist in collaborators"),
    ("deals", {"group_id": "G-NOPE"}, "group_id", "group_id 'G-NOPE' does not exist in groups"),
    ("deals", {"status": "won"}, "status", "status 'won' is not one of open, abandoned"),
    ("deals", {"created_on": ""}, "created_on", "created_on is required but empty"),
    ("deals", {"created_on": "01/07/2025"}, "created_on", "created_on '01/07/2025' is not a date of the form YYYY-MM-DD"),
    ("deals", {"created_on": "2025-02-30"}, "created_on", "created_on '2025-02-30' is not a date of the form YYYY-MM-DD"),
    ("deals", {"created_on": "2025-7-1"}, "created_on", "created_on '2025-7-1' is not a date of the form YYYY-MM-DD"),
    ("deals", {"status": "abandoned"}, "abandoned_on", "abandoned_on is required when status is abandoned"),
    ("deals", {"abandoned_on": "2025-08-01"}, "abandoned_on", "abandoned_on must be empty when status is open"),
    ("deals", {"status": "abandoned", "abandoned_on": "2025-06-30"}, "abandoned_on", "abandoned_on 2025-06-30 is before created_on 2025-07-01"),
    ("deals", {"status": "abandoned", "abandoned_on": "30/07/2025"}, "abandoned_on", "abandoned_on '30/07/2025' is not a date of the form YYYY-MM-DD"),
    # documents
    ("documents", {"deal_id": "D-NOPE"}, "deal_id", "deal_id 'D-NOPE' does not exist in deals"),
    ("documents", {"deal_id": ""}, "deal_id", "deal_id is required but empty"),
    ("documents", {"doc_type": ""}, "doc_type", "doc_type is required but empty"),
    ("documents", {"status": "won"}, "status", "status 'won' is not one of in_progress, signed, refused, cancelled"),
    ("documents", {"created_on": "hier"}, "created_on", "created_on 'hier' is not a date of the form YYYY-MM-DD"),
    ("documents", {"sent_on": "2025-09-01"}, "sent_on", "sent_on 2025-09-01 is before created_on 2025-09-05"),
    ("documents", {"sent_on": "2025-13-01"}, "sent_on", "sent_on '2025-13-01' is not a date of the form YYYY-MM-DD"),
    ("documents", {"decided_on": "2025-09-10"}, "decided_on", "decided_on must be empty while status is in_progress"),
    ("documents", {"status": "signed"}, "decided_on", "decided_on is required when status is signed"),
    ("documents", {"status": "refused"}, "decided_on", "decided_on is required when status is refused"),
    ("documents", {"status": "cancelled"}, "decided_on", "decided_on is required when status is cancelled"),
    ("documents", {"status": "signed", "decided_on": "2025-09-01"}, "decided_on", "decided_on 2025-09-01 is before created_on 2025-09-05"),
    ("documents", {"signatory_id": "C999"}, "signatory_id", "signatory_id 'C999' does not exist in collaborators"),
    ("documents", {"entity_id": "E-NOPE"}, "entity_id", "entity_id 'E-NOPE' does not exist in entities"),
    # document_lines
    ("document_lines", {"document_id": "DOC-NOPE"}, "document_id", "document_id 'DOC-NOPE' does not exist in documents"),
    ("document_lines", {"line_no": "un"}, "line_no", "line_no 'un' is not a whole number"),
    ("document_lines", {"line_no": "0"}, "line_no", "line_no 0 is less than 1"),
    ("document_lines", {"line_no": "-2"}, "line_no", "line_no -2 is less than 1"),
    ("document_lines", {"line_no": ""}, "line_no", "line_no is required but empty"),
    ("document_lines", {"mission": ""}, "mission", "mission is required but empty"),
    ("document_lines", {"billing": "mensuel"}, "billing", "billing 'mensuel' is not one of recurring, one_off"),
    ("document_lines", {"amount_cents": "-100"}, "amount_cents", "amount_cents -100 is negative"),
    ("document_lines", {"amount_cents": "125.50"}, "amount_cents", "amount_cents '125.50' is not a whole number"),
    ("document_lines", {"amount_cents": "1 000"}, "amount_cents", "amount_cents '1 000' is not a whole number"),
    ("document_lines", {"amount_cents": "99999999999999999999"}, "amount_cents", "amount_cents '99999999999999999999' is too large (more than 10,000,000,000,000 cents)"),
    ("document_lines", {"amount_cents": ""}, "amount_cents", "amount_cents is required but empty"),
]


def _rule_id(case) -> str:
    table, changes, column, _ = case
    return f"{table}-{column}-" + "-".join(f"{k}={v[:12]!r}" for k, v in changes.items())


def test_good_rows_are_loaded(extract):
    for table in TABLE_ORDER:
        append_row(extract, table)
    validated = read_extract(extract)
    assert validated.rejected == 0, validated.rejects.to_string()
    assert {t: c.loaded for t, c in validated.counts.items()} == {t: n + 1 for t, n in SAMPLE_COUNTS.items()}


@pytest.mark.parametrize("case", RULES, ids=[_rule_id(c) for c in RULES])
def test_rule_rejects_the_bad_row_only(extract, case):
    table, changes, column, reason = case
    line = append_row(extract, table, **changes)
    validated = read_extract(extract)
    assert_balanced(validated.counts)
    expected = {t: (n, n, 0) for t, n in SAMPLE_COUNTS.items()}
    expected[table] = (SAMPLE_COUNTS[table] + 1, SAMPLE_COUNTS[table], 1)
    assert dict(validated.counts) == expected
    assert set(validated.rejects["table"]) == {table}
    assert rejected_rows(validated, table) == {line}
    found = reasons(validated, table, line)
    assert any(c == column and reason in r for c, r in found), found


DUPLICATES = [
    ("org_units", [{"name": "Équipe A"}, {"name": "Équipe B"}], "id", "id 'T-NEW' is used by 2 rows (lines {0}, {1}); ids must be unique"),
    ("entities", [{}, {}], "id", "id 'E-NEW' is used by 2 rows"),
    ("collaborators", [{"id": "C100"}, {"id": "C101"}], "login", "login 'nvenu' is used by 2 rows (lines {0}, {1}); logins must be unique"),
    ("collaborators", [{"login": "a"}, {"login": "b"}], "id", "id 'C100' is used by 2 rows"),
    ("groups", [{}, {}], "id", "id 'G-NEW' is used by 2 rows"),
    ("group_units", [{}, {}], "group_id, unit_id", "group_id 'G-LYO' with unit_id 'T-VER' is used by 2 rows (lines {0}, {1}); each combination must be unique"),
    ("group_members", [{}, {}], "group_id, collaborator_id", "group_id 'G-LYO' with collaborator_id 'C001' is used by 2 rows"),
    ("deals", [{}, {"name": "Autre"}, {"name": "Encore"}], "id", "id 'D99' is used by 3 rows (lines {0}, {1}, …); ids must be unique"),
    ("documents", [{}, {"title": "Autre"}], "id", "id 'DOC099' is used by 2 rows"),
    ("document_lines", [{"amount_cents": "1"}, {"line_no": "01", "amount_cents": "2"}], "document_id, line_no", "document_id 'DOC013' with line_no '1' is used by 2 rows (lines {0}, {1})"),
]


@pytest.mark.parametrize("case", DUPLICATES, ids=[f"{c[0]}-{c[2]}" for c in DUPLICATES])
def test_keys_and_logins_must_be_unique_every_copy_is_rejected(extract, case):
    table, variants, column, reason = case
    lines = [append_row(extract, table, **v) for v in variants]
    validated = read_extract(extract)
    assert_balanced(validated.counts)
    assert validated.counts[table] == (SAMPLE_COUNTS[table] + len(lines), SAMPLE_COUNTS[table], len(lines))
    assert validated.rejected == len(lines)
    assert rejected_rows(validated, table) == set(lines)
    for line in lines:
        assert (column, reason.format(*lines)) in [(c, r) for c, r in reasons(validated, table, line)] or any(
            c == column and reason.format(*lines) in r for c, r in reasons(validated, table, line)
        ), reasons(validated, table, line)


def test_a_row_breaking_several_rules_is_listed_once_per_rule_and_counted_once(extract):
    line = append_row(extract, "deals", kind="lead", status="won", created_on="demain", partner_id="C999")
    validated = read_extract(extract)
    assert validated.counts["deals"].rejected == 1
    assert {c for c, _ in reasons(validated, "deals", line)} == {"kind", "status", "created_on", "partner_id"}


# ---------------------------------------------------------------------------
# cascades: rows depending on a rejected row are rejected too


def test_documents_and_lines_of_a_rejected_deal_are_rejected(extract):
    line = rewrite(extract, "deals", "D01", status="won")
    validated = read_extract(extract)
    assert_balanced(validated.counts)
    assert reasons(validated, "deals", line) == [("status", "status 'won' is not one of open, abandoned")]
    r = validated.rejects
    docs = r[r["table"] == "documents"]
    assert list(docs["line"]) == [2, 3]
    assert set(docs["reason"]) == {"parent rejected: deals D01"} and set(docs["column"]) == {"deal_id"}
    lines = r[r["table"] == "document_lines"]
    assert list(lines["line"]) == [2, 3, 4, 5, 6]
    assert list(lines["reason"]) == ["parent rejected: documents DOC001"] * 3 + ["parent rejected: documents DOC002"] * 2
    assert validated.counts["deals"] == (11, 10, 1)
    assert validated.counts["documents"] == (15, 13, 2)
    assert validated.counts["document_lines"] == (25, 20, 5)
    assert validated.counts["collaborators"] == (9, 9, 0)


def test_a_rejected_unit_takes_its_subtree_and_everything_hanging_from_it(extract):
    rewrite(extract, "org_units", "A-LYO", kind="agence")
    validated = read_extract(extract)
    assert_balanced(validated.counts)
    r = validated.rejects

    def rejected_ids(table):
        frame = pd.read_csv(extract / f"{table}.csv", dtype=str, keep_default_na=False)
        lines = set(r.loc[r["table"] == table, "line"])
        return {frame.iloc[i - 2, 0] for i in lines}

    assert rejected_ids("org_units") == {"A-LYO", "T-LYO"}
    assert reasons(validated, "org_units", 11) == [("parent_id", "parent rejected: org_units A-LYO")]
    assert rejected_ids("collaborators") == {"C007", "C008"}
    assert rejected_ids("group_units") == {"G-LYO"}
    assert rejected_ids("group_members") == {"G-LYO"}  # C007's membership
    assert validated.counts["group_members"] == (4, 3, 1)
    assert rejected_ids("deals") == {"D06", "D07", "D08", "D11"}
    assert rejected_ids("documents") == {"DOC008", "DOC009", "DOC010", "DOC011"}
    assert validated.counts["document_lines"].rejected == 7
    assert "C006" in set(validated.frames["collaborators"]["id"])  # the region's partner stays
    assert set(validated.frames["org_units"]["id"]) == {
        "FIRM", "R-IDF", "R-ARA", "A-PAR", "A-VER", "T-PAR-EC", "T-PAR-SOC", "T-VER",
    }


def test_an_optional_reference_to_a_rejected_row_rejects_the_row(extract):
    """Design choice: a deal whose manager, or a document whose signatory, was rejected is
    rejected too (keeping it with the reference emptied would change who sees it)."""
    rewrite(extract, "collaborators", "C009", function="associé")
    rewrite(extract, "collaborators", "C002", active="peut-être")
    validated = read_extract(extract)
    assert_balanced(validated.counts)
    r = validated.rejects
    deals = r[r["table"] == "deals"]
    assert set(zip(deals["column"], deals["reason"], strict=True)) == {
        ("manager_id", "parent rejected: collaborators C009"),
        ("client_manager_id", "parent rejected: collaborators C009"),
        ("partner_id", "parent rejected: collaborators C002"),
    }
    assert validated.counts["deals"] == (11, 8, 3)  # D04, D05 (C009) and D10 (C002)
    docs = r[r["table"] == "documents"]
    # DOC006, DOC007: deals D04, D05; DOC014: deal D10 and signatory C002
    assert validated.counts["documents"] == (15, 12, 3)
    assert ("signatory_id", "parent rejected: collaborators C002") in set(zip(docs["column"], docs["reason"], strict=True))


def test_a_rejected_entity_rejects_its_collaborators_and_documents(extract):
    rewrite(extract, "entities", "E-LAA", name="")
    validated = read_extract(extract)
    assert_balanced(validated.counts)
    r = validated.rejects
    docs = r[(r["table"] == "documents") & (r["column"] == "entity_id")]
    assert set(docs["reason"]) == {"parent rejected: entities E-LAA"}
    assert validated.counts["collaborators"] == (9, 6, 3)
    assert "E-LAA" not in set(validated.frames["documents"]["entity_id"].dropna())


def test_lines_of_a_document_stay_when_a_sibling_line_is_rejected(extract):
    line = append_row(extract, "document_lines", document_id="DOC001", line_no="4", billing="mensuel")
    validated = read_extract(extract)
    assert validated.rejected == 1 and rejected_rows(validated, "document_lines") == {line}
    assert validated.counts["documents"] == (15, 15, 0)


# ---------------------------------------------------------------------------
# reading the files: BOM, order, extra columns, spellings, line numbers


def test_bom_any_column_order_extra_columns_crlf_and_boolean_spellings(extract):
    path = extract / "collaborators.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    spellings = {"true": ["TRUE", "Oui", "yes", "1", "True", "OUI", "Yes", "1", "true"], "false": ["False", "non", "NO", "0", "Non"]}
    used = {"true": 0, "false": 0}

    def spell(value: str) -> str:
        word = spellings[value][used[value] % len(spellings[value])]
        used[value] += 1
        return word

    for col in ("can_validate_offers", "active"):
        frame[col] = [spell(v) for v in frame[col]]
    frame["commentaire"] = "à ignorer, vraiment"
    frame = frame[["commentaire", *reversed(TABLES["collaborators"].column_names)]]
    path.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8"))
    validated = read_extract(extract)
    assert validated.rejected == 0, validated.rejects.to_string()
    same_frames(dict(validated.frames), dict(read_extract(SAMPLE).frames))


def test_header_names_are_trimmed_and_case_insensitive(extract):
    path = extract / "entities.csv"
    path.write_text(path.read_text("utf-8").replace("id,name", " ID , Name "), "utf-8")
    validated = read_extract(extract)
    assert validated.rejected == 0
    assert list(validated.frames["entities"]["name"]) == ["Lemaire & Associés SAS", "Lemaire Audit SARL"]


def test_spaces_around_codes_dates_and_numbers_are_ignored_text_is_kept(extract):
    line = append_row(
        extract, "documents", status=" signed ", created_on=" 2025-09-05", decided_on="2025-09-20 ", title="  Offre  "
    )
    append_row(extract, "document_lines", line_no=" 2 ", amount_cents=" 1500", billing="one_off ")
    validated = read_extract(extract)
    assert validated.rejected == 0, validated.rejects.to_string()
    doc = validated.frames["documents"].set_index("id").loc["DOC099"]
    assert (doc["status"], doc["decided_on"], doc["title"]) == ("signed", pd.Timestamp("2025-09-20"), "  Offre  ")
    assert line == 17


def test_enums_are_case_sensitive(extract):
    line = append_row(extract, "deals", status="Open")
    validated = read_extract(extract)
    assert reasons(validated, "deals", line) == [("status", "status 'Open' is not one of open, abandoned")]


def test_missing_optional_column_is_read_as_empty_and_noted(extract):
    path = extract / "documents.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["template", "signatory_id"])
    frame.to_csv(path, index=False)
    validated = read_extract(extract)
    assert validated.rejected == 0
    assert validated.frames["documents"]["template"].isna().all()
    assert validated.frames["documents"]["signatory_id"].isna().all()
    assert any("template" in note and "documents.csv" in note for note in validated.notes)


def test_line_numbers_are_lines_of_the_file_despite_quoted_breaks_and_blank_lines(extract):
    rewrite(extract, "documents", "DOC001", title="Proposition\nsur\ntrois lignes")
    path = extract / "documents.csv"
    text = path.read_text("utf-8")
    path.write_text(text.replace("\nDOC004,", "\n\n,,,,,,,,,,\nDOC004,", 1), "utf-8")
    line = append_row(extract, "documents", status="won")
    assert path.read_text("utf-8").splitlines()[line - 1].startswith("DOC099,")
    validated = read_extract(extract)
    assert validated.counts["documents"] == (16, 15, 1)  # empty lines are not rows
    assert rejected_rows(validated, "documents") == {line}
    assert validated.frames["documents"].set_index("id").loc["DOC001", "title"] == "Proposition\nsur\ntrois lignes"


def test_a_line_with_more_fields_than_the_header_is_rejected(extract):
    good = csv_line("documents", GOOD["documents"])
    lines = append(extract, "documents", good + ",en trop", csv_line("documents", {**GOOD["documents"], "id": "DOC100"}))
    validated = read_extract(extract)
    assert_balanced(validated.counts)
    assert validated.counts["documents"] == (17, 16, 1)
    assert reasons(validated, "documents", lines[0]) == [(None, "the line has 12 fields but the header has 11")]


def test_a_short_line_gets_empty_fields(extract):
    line = append(extract, "entities", "E-SHORT")[0]
    validated = read_extract(extract)
    assert reasons(validated, "entities", line) == [("name", "name is required but empty")]


def test_validate_tables_takes_text_frames_without_files():
    raw = {}
    for table in TABLE_ORDER:
        frame = pd.read_csv(SAMPLE / f"{table}.csv", dtype=str, keep_default_na=False).astype(object)
        raw[table] = frame.where(frame != "", None)  # None for empty, as a CRM mapping might give
    raw["deals"].loc[3, "status"] = "won"
    raw["documents"]["created_on"] = pd.to_datetime(raw["documents"]["created_on"])  # dates as dates
    validated = validate_tables(raw, line_numbers={"deals": [100 + i for i in range(len(raw["deals"]))]})
    assert reasons(validated, "deals", 103) == [("status", "status 'won' is not one of open, abandoned")]
    assert validated.counts["documents"] == (15, 14, 1)  # DOC006 of D04, line numbered from the row
    assert rejected_rows(validated, "documents") == {7}
    with pytest.raises(TypeError):
        validated.frames["deals"] = None  # type: ignore[index]
    with pytest.raises(AttributeError):
        validated.rejects = None  # type: ignore[misc]
    del raw["groups"]
    with pytest.raises(UnusableExtract, match="missing table"):
        validate_tables(raw)


# ---------------------------------------------------------------------------
# unusable extracts: exit 2, one clear line, the database untouched


def _drop_column(table: str, column: str):
    def change(folder: Path) -> None:
        path = folder / f"{table}.csv"
        pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=[column]).to_csv(path, index=False)

    return change


def _latin1(folder: Path) -> None:
    path = folder / "org_units.csv"
    path.write_bytes(path.read_text("utf-8").encode("latin-1"))


def _cycle(folder: Path) -> None:
    rewrite(folder, "org_units", "R-IDF", parent_id="T-PAR-EC")


def _self_parent(folder: Path) -> None:
    rewrite(folder, "org_units", "T-VER", parent_id="T-VER")


def _no_firm(folder: Path) -> None:
    rewrite(folder, "org_units", "FIRM", kind="region", parent_id="")


def _two_firms(folder: Path) -> None:
    append(folder, "org_units", "FIRM2,Autre cabinet,firm,")


def _bad_firm(folder: Path) -> None:
    rewrite(folder, "org_units", "FIRM", name="")


def _missing_file(folder: Path) -> None:
    (folder / "groups.csv").unlink()


def _empty_file(folder: Path) -> None:
    (folder / "entities.csv").write_bytes(b"")


def _twice(folder: Path) -> None:
    path = folder / "entities.csv"
    path.write_text(path.read_text("utf-8").replace("id,name", "id,name,id"), "utf-8")


def _broken_quote(folder: Path) -> None:
    append(folder, "entities", 'E-Q,"jamais fermé')


def _replaced_by(kind: str):
    """deals.csv replaced by a folder, /dev/zero, a pipe (reading it would wait) or 50 GB of holes."""

    def change(folder: Path) -> None:
        (folder / "deals.csv").unlink()
        make_hostile(folder / "deals.csv", kind)

    return change


UNUSABLE = [
    ("csv-is-a-folder", _replaced_by("folder"), ["deals.csv: not a file but a folder"]),
    ("csv-is-dev-zero", _replaced_by("device"), ["deals.csv: not a file but a device or a pipe"]),
    ("csv-is-a-pipe", _replaced_by("pipe"), ["deals.csv: not a file but a device or a pipe"]),
    ("csv-is-huge", _replaced_by("sparse"), ["deals.csv: 50,000.0 MB, more than the load limit of 1,000.0 MB (setting load_max_mb)"]),
    ("missing-required-column", _drop_column("deals", "status"), ["deals.csv", "missing column 'status'"]),
    ("missing-conditional-column", _drop_column("documents", "decided_on"), ["documents.csv", "missing column 'decided_on'"]),
    ("missing-parent-column", _drop_column("org_units", "parent_id"), ["org_units.csv", "missing column 'parent_id'"]),
    ("missing-file", _missing_file, ["groups.csv", "file missing"]),
    ("empty-file", _empty_file, ["entities.csv", "empty file"]),
    ("not-utf8", _latin1, ["org_units.csv", "not UTF-8", "line 2"]),
    ("cycle", _cycle, ["org_units.csv", "cycle", "'R-IDF'", "'T-PAR-EC'", "'A-PAR'"]),
    ("self-parent", _self_parent, ["org_units.csv", "cycle", "'T-VER' → 'T-VER'"]),
    ("no-firm", _no_firm, ["org_units.csv", "no firm row"]),
    ("two-firms", _two_firms, ["org_units.csv", "2 firm rows (lines 2, 12)"]),
    ("firm-rejected", _bad_firm, ["org_units.csv", "firm row (line 2) cannot be loaded", "name is required"]),
    ("column-twice", _twice, ["entities.csv", "'id' appears twice"]),
    ("broken-quote", _broken_quote, ["entities.csv", "not a readable CSV"]),
]


@pytest.mark.parametrize(("change", "words"), [u[1:] for u in UNUSABLE], ids=[u[0] for u in UNUSABLE])
def test_unusable_extract_exits_2_with_one_clear_line_and_keeps_the_database(
    capsys, sqlite_url, extract, tmp_path, change, words, monkeypatch
):
    monkeypatch.setenv("PROSPECTS_PROGRESS", "0")  # a 50 GB file would show the progress of a big extract
    assert run_cli(capsys, "--db", sqlite_url, "load", str(SAMPLE))[0] == 0
    engine = db.make_engine(sqlite_url)
    before = db.read_all(engine)
    change(extract)
    code, out, err = run_cli(capsys, "--db", sqlite_url, "load", str(extract))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("prospects: unusable extract")
    for word in words:
        assert word in err, err
    same_frames(before, db.read_all(engine))
    assert db.read_extract_info(engine)["source"] == str(SAMPLE.resolve())
    assert not (extract / "rejects.csv").exists()


def test_missing_folder_is_unusable(capsys, sqlite_url, tmp_path):
    code, _, err = run_cli(capsys, "--db", sqlite_url, "load", str(tmp_path / "nowhere"))
    assert code == 2 and "nowhere: no such folder" in err
    code, _, err = run_cli(capsys, "--db", sqlite_url, "load", "/dev/zero")
    assert code == 2 and err == "prospects: unusable extract, nothing loaded: /dev/zero: not a folder but a device or a pipe\n"
    (tmp_path / "a-file").write_text("x")
    code, _, err = run_cli(capsys, "--db", sqlite_url, "load", str(tmp_path / "a-file"))
    assert code == 2 and err.endswith("a-file: not a folder but a file\n")


def test_the_load_limit_per_file_comes_from_the_settings(capsys, sqlite_url, extract, monkeypatch):
    monkeypatch.setenv("PROSPECTS_LOAD_MAX_MB", "1")
    append(extract, "entities", *[f"E-{i},{'x' * 100}" for i in range(10_000)])
    code, _, err = run_cli(capsys, "--db", sqlite_url, "load", str(extract))
    assert code == 2 and "entities.csv: 1.1 MB, more than the load limit of 1.0 MB (setting load_max_mb)" in err, err
    assert not db.has_schema(db.make_engine(sqlite_url))


# ---------------------------------------------------------------------------
# the command: summary, exit codes, rejects.csv


def test_load_command_clean_extract_exits_0(capsys, db_url, extract):
    (extract / "rejects.csv").write_text("stale\n", "utf-8")
    code, out, err = run_cli(capsys, "--db", db_url, "load", str(extract))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].split() == ["table", "read", "=", "loaded", "+", "rejected"]
    assert "document_lines 25 = 25 + 0" in " ".join(out.split())
    assert "total 81 = 81 + 0" in " ".join(out.split())
    assert "No row rejected." in out
    assert not (extract / "rejects.csv").exists()  # the stale one is gone
    assert db.table_counts(db.make_engine(db_url)) == SAMPLE_COUNTS


def test_load_command_with_rejects_exits_1_and_writes_rejects_csv(capsys, db_url, extract):
    deal_line = append_row(extract, "deals", status="won")
    doc_line = append_row(extract, "documents", deal_id="D99")
    code, out, err = run_cli(capsys, "--db", db_url, "load", str(extract))
    assert code == 1, err
    flat = " ".join(out.split())
    assert "deals 12 = 11 + 1" in flat and "documents 16 = 15 + 1" in flat and "total 83 = 81 + 2" in flat
    path = (extract / "rejects.csv").resolve()
    assert f"2 rows rejected; reasons in {path}" in out
    assert path.read_bytes().startswith(b"\xef\xbb\xbftable,line,column,value,reason\n")
    rejects = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rejects.to_dict("records") == [
        {"table": "deals", "line": str(deal_line), "column": "status", "value": "won",
         "reason": "status 'won' is not one of open, abandoned"},
        {"table": "documents", "line": str(doc_line), "column": "deal_id", "value": "D99",
         "reason": "parent rejected: deals D99"},
    ]
    assert db.table_counts(db.make_engine(db_url)) == SAMPLE_COUNTS
    # fixed, loaded again: exit 0 and the rejects file is removed
    rewrite(extract, "deals", "D99", status="open")
    assert run_cli(capsys, "--db", db_url, "load", str(extract))[0] == 0
    assert not path.exists()


def test_export_command(capsys, db_url, tmp_path):
    assert run_cli(capsys, "--db", db_url, "load", str(SAMPLE))[0] == 0
    code, out, _ = run_cli(capsys, "--db", db_url, "export", str(tmp_path / "out"))
    assert code == 0
    assert "deals 11 rows" in " ".join(out.split())
    exported = read_extract(tmp_path / "out")
    assert exported.rejected == 0
    same_frames(sorted_by_key(exported.frames), sorted_by_key(read_extract(SAMPLE).frames))


@pytest.mark.parametrize("target", ["dev-full", "a-file", "a-pipe"])
def test_export_to_something_that_is_not_a_folder_says_so(capsys, sqlite_url, tmp_path, target):
    """`export /dev/full` said "File exists" (through a link of the test's own: never the device itself)."""
    import os

    assert run_cli(capsys, "--db", sqlite_url, "load", str(SAMPLE))[0] == 0
    if target == "a-file":
        (tmp_path / target).write_text("x")
    elif target == "a-pipe":
        os.mkfifo(tmp_path / target)
    else:
        (tmp_path / target).symlink_to("/dev/full")
    path = str(tmp_path / target)
    code, out, err = run_cli(capsys, "--db", sqlite_url, "export", path)
    what = "a file" if target == "a-file" else "a device or a pipe"
    assert code == 2 and out == "" and err == f"prospects: cannot write the extract to {path}: not a folder but {what}\n"


def test_export_names_the_file_it_cannot_write(capsys, sqlite_url, tmp_path):
    assert run_cli(capsys, "--db", sqlite_url, "load", str(SAMPLE))[0] == 0
    (tmp_path / "out" / "deals.csv").mkdir(parents=True)
    code, _, err = run_cli(capsys, "--db", sqlite_url, "export", str(tmp_path / "out"))
    assert code == 2 and err == f"prospects: cannot write the extract to {tmp_path / 'out'}: {tmp_path / 'out' / 'deals.csv'}: is a folder\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["deals.csv"]  # nothing written


def test_export_of_an_empty_database_fails_clearly(capsys, sqlite_url, tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "prospects.db").close()  # a database without the tables
    code, _, err = run_cli(capsys, "--db", sqlite_url, "export", str(tmp_path / "out"))
    assert code == 2 and "no prospects tables" in err


def test_export_of_a_missing_database_creates_nothing(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--db", f"sqlite:///{tmp_path / 'typo' / 'b.db'}", "export", str(tmp_path / "out"))
    assert code == 2 and f"no database at {tmp_path / 'typo' / 'b.db'}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# limits (issue 13): amounts, document totals, lengths, NUL, warnings, shrinking


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("10000000000001", "amount_cents '10000000000001' is too large (more than 10,000,000,000,000 cents)"),
        ("999999999999999999", "amount_cents '999999999999999999' is too large (more than 10,000,000,000,000 cents)"),
        ("99999999999999999999", "amount_cents '99999999999999999999' is too large (more than 10,000,000,000,000 cents)"),
        (" 123456789012345678901234567890 ", "amount_cents '123456789012345678901234567890' is too large"),
        ("-99999999999999999999", "is too large"),
    ],
)
def test_amounts_beyond_the_bound_are_too_large_not_malformed(extract, amount, reason):
    line = append_row(extract, "document_lines", amount_cents=amount)
    validated = read_extract(extract)
    assert [(c, r) for c, r in reasons(validated, "document_lines", line)] == [("amount_cents", reason)] or any(
        c == "amount_cents" and reason in r for c, r in reasons(validated, "document_lines", line)
    ), reasons(validated, "document_lines", line)
    assert all("not a whole number" not in r for _, r in reasons(validated, "document_lines", line))


def test_the_bound_itself_and_leading_zeros_load(extract):
    append_row(extract, "document_lines", amount_cents="10000000000000")
    append_row(extract, "document_lines", line_no="0000000000000000000002", amount_cents="000000000000000000000007")
    validated = read_extract(extract)
    assert validated.rejected == 0, validated.rejects.to_string()
    lines = validated.frames["document_lines"]
    got = lines.loc[lines["document_id"] == "DOC013"].sort_values("line_no")
    assert got["amount_cents"].tolist()[-2:] == [10_000_000_000_000, 7] and got["line_no"].tolist()[-1] == 2


def test_line_no_beyond_int64_is_too_large(extract):
    line = append_row(extract, "document_lines", line_no="99999999999999999999")
    assert reasons(read_extract(extract), "document_lines", line) == [
        ("line_no", "line_no '99999999999999999999' is too large (more than 18 digits)")
    ]


def test_a_document_whose_lines_pass_the_document_bound_is_rejected_with_its_lines(extract):
    """A document's total is at most 1,000,000,000,000,000 cents (101 lines at the line bound pass it)."""
    rows = [csv_line("document_lines", {**GOOD["document_lines"], "document_id": "DOC099", "line_no": str(i),
                                         "amount_cents": "10000000000000"}) for i in range(1, 102)]
    doc_line = append_row(extract, "documents")
    line_lines = append(extract, "document_lines", *rows)
    # exactly at the bound: 100 lines, kept
    append_row(extract, "documents", id="DOC100")
    append(extract, "document_lines", *[r.replace("DOC099", "DOC100", 1) for r in rows[:100]])
    validated = read_extract(extract)
    assert_balanced(validated.counts)
    assert reasons(validated, "documents", doc_line) == [
        (None, "document too large: its lines add up to 1,010,000,000,000,000 cents (more than 1,000,000,000,000,000)")
    ]
    assert rejected_rows(validated, "document_lines") == set(line_lines)
    assert set(validated.rejects.loc[validated.rejects["table"] == "document_lines", "reason"]) == {
        "parent rejected: documents DOC099"
    }
    assert validated.counts["documents"] == (SAMPLE_COUNTS["documents"] + 2, SAMPLE_COUNTS["documents"] + 1, 1)
    assert validated.counts["document_lines"] == (SAMPLE_COUNTS["document_lines"] + 201, SAMPLE_COUNTS["document_lines"] + 100, 101)
    assert "DOC100" in set(validated.frames["documents"]["id"])


@pytest.mark.parametrize(
    ("table", "changes", "column", "reason"),
    [
        ("collaborators", {"login": "x" * 201}, "login", "login is longer than 200 characters"),
        ("collaborators", {"login": "x" * 10_000}, "login", "login is longer than 200 characters"),
        ("deals", {"id": "D" * 201}, "id", "id is longer than 200 characters"),
        ("deals", {"partner_id": "C" * 201}, "partner_id", "partner_id is longer than 200 characters"),
        ("deals", {"name": "n" * 2_001}, "name", "name is longer than 2,000 characters"),
        ("documents", {"title": "t" * 2_001}, "title", "title is longer than 2,000 characters"),
        ("collaborators", {"email": "a" * 1_996 + "@b.fr"}, "email", "email is longer than 2,000 characters"),
    ],
)
def test_values_longer_than_the_contract_are_rejected_with_that_reason(extract, table, changes, column, reason):
    line = append_row(extract, table, **changes)
    assert (column, reason) in reasons(read_extract(extract), table, line)


def test_values_at_the_length_limits_load_on_both_backends(db_url, extract, capsys):
    append_row(extract, "collaborators", login="l" * 200, full_name="f" * 2_000)
    append_row(extract, "deals", id="D" * 200, name="n" * 2_000, abandon_reason="r" * 2_000)
    code, out, err = run_cli(capsys, "--db", db_url, "load", str(extract))
    assert code == 0, err
    people = db.read_table(db.make_engine(db_url), "collaborators")
    assert "l" * 200 in set(people["login"])


@pytest.mark.postgres
def test_a_10000_character_login_is_rejected_not_an_index_error_on_postgresql(pg_url, extract, capsys):
    line = append_row(extract, "collaborators", login="x" * 10_000)
    code, out, err = run_cli(capsys, "--db", pg_url, "load", str(extract))
    assert code == 1, err
    assert err == ""
    rejects = pd.read_csv(extract / "rejects.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rejects[["line", "column", "reason"]].to_dict("records") == [
        {"line": str(line), "column": "login", "reason": "login is longer than 200 characters"}
    ]


def test_rejects_csv_never_holds_a_raw_nul_byte(capsys, sqlite_url, extract):
    line = append_row(extract, "deals", name="nul\x00 au milieu", created_on="2025\x00-01-01")
    code, _, err = run_cli(capsys, "--db", sqlite_url, "load", str(extract))
    assert code == 1, err
    raw = (extract / "rejects.csv").read_bytes()
    assert b"\x00" not in raw
    rejects = pd.read_csv(extract / "rejects.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    mine = rejects[rejects["line"] == str(line)]
    assert set(mine["value"]) == {"nul\\x00 au milieu", "2025\\x00-01-01"}
    assert "created_on '2025\\x00-01-01' is not a date of the form YYYY-MM-DD" in set(mine["reason"])


def test_load_warns_by_name_about_validators_above_their_cap_and_look_alike_logins(capsys, sqlite_url, extract, tmp_path):
    append_row(extract, "collaborators", id="C100", login="pregion", full_name="Pia Région", function="manager",
               unit_id="R-IDF", can_validate_offers="true")
    append_row(extract, "collaborators", id="C101", login=" jdupont ", full_name="Jean Dupont bis", function="director",
               unit_id="FIRM", can_validate_offers="true")
    append_row(extract, "collaborators", id="C102", login="JDupont", full_name="Jean Dupont ter")
    append_row(extract, "collaborators", id="C103", login="pfirm", full_name="Paul Firme", function="manager",
               unit_id="FIRM", can_validate_offers="false")  # not a validator: no perimeter anyway
    code, out, err = run_cli(capsys, "--db", sqlite_url, "load", str(extract))
    assert code == 0, err
    notes = [line for line in out.splitlines() if line.startswith("note: ")]
    no_group = "validates offers but is in no group: no perimeter, only their own deals; add them to a group covering the units they answer for (group_members, group_units)"
    assert notes == [
        "note: collaborator C100 'pregion' (Pia Région): manager capped at agency level but home unit R-IDF is a region, "
        "above it: no perimeter, only their own deals; fix their home unit or function",
        f"note: collaborator C002 'mmartin' (Marie Martin): {no_group}",
        f"note: collaborator C009 'agirard' (Antoine Girard): {no_group}",
        f"note: collaborator C101 ' jdupont ' (Jean Dupont bis): {no_group}",
        "note: collaborators C001 'jdupont' and C101 ' jdupont ' and C102 'JDupont': logins differ only by surrounding "
        "spaces or case; they are distinct people to prospects, but a sign-in hands over one spelling only",
    ]
    assert db.table_counts(db.make_engine(sqlite_url))["collaborators"] == SAMPLE_COUNTS["collaborators"] + 4
    # the configured caps decide: a manager capped at the region is fine at home in a region
    config = tmp_path / "prospects.toml"
    config.write_text('[function_caps]\nmanager = "region"\n', "utf-8")
    code, out, err = run_cli(capsys, "--db", sqlite_url, "--config", str(config), "load", str(extract))
    assert code == 0, err
    assert "'pregion' (Pia Région): manager capped" not in out and "C102 'JDupont'" in out
    assert f"C100 'pregion' (Pia Région): {no_group}" in out  # now her groups are what is missing


def test_a_load_removing_more_than_half_of_a_table_is_refused_unless_allowed(capsys, db_url, extract, tmp_path):
    assert run_cli(capsys, "--db", db_url, "load", str(extract))[0] == 0
    engine = db.make_engine(db_url)
    before = db.read_all(engine)
    info = db.read_extract_info(engine)
    header_only = tmp_path / "header_only"
    shutil.copytree(extract, header_only)
    for table in ("documents", "document_lines"):
        path = header_only / f"{table}.csv"
        path.write_text(path.read_text("utf-8").splitlines()[0] + "\n", "utf-8")
    code, out, err = run_cli(capsys, "--db", db_url, "load", str(header_only))
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "prospects: refused: the new data would remove more than half of the rows of documents (15 → 0), "
        "document_lines (25 → 0); the database is unchanged (--allow-shrink replaces it anyway)"
    ]
    same_frames(before, db.read_all(engine))
    assert db.read_extract_info(engine) == info
    assert not (header_only / "rejects.csv").exists()
    # when asked, anything goes
    code, out, err = run_cli(capsys, "--db", db_url, "load", "--allow-shrink", str(header_only))
    assert code == 0, err
    assert db.table_counts(engine)["documents"] == 0


def test_losing_half_of_the_rows_exactly_is_not_refused(sqlite_url):
    from prospects.sample import sample_firm

    engine = db.make_engine(sqlite_url)
    tables = sample_firm()
    db.replace_all(engine, tables)
    lines = tables["document_lines"]
    kept = len(lines) - len(lines) // 2  # 17 → 9: just under half removed
    db.replace_all(engine, {**tables, "document_lines": lines.iloc[:kept]})
    assert db.table_counts(engine)["document_lines"] == kept
    with pytest.raises(db.ShrinkRefused, match=rf"document_lines \({kept} → 3\)"):
        db.replace_all(engine, {**tables, "document_lines": lines.iloc[:3]})


# ---------------------------------------------------------------------------
# atomicity: kill -9 in the middle of a load


def make_big_extract(folder: Path, n_documents: int) -> None:
    """The sample's directory with ``n_documents`` documents, as many lines, half as many deals."""
    folder.mkdir(parents=True)
    for table in ("org_units", "entities", "collaborators", "groups", "group_units", "group_members"):
        shutil.copy(SAMPLE / f"{table}.csv", folder / f"{table}.csv")
    i = np.arange(n_documents // 2).astype(str)
    created = (pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(i)) % 600, unit="D")).strftime("%Y-%m-%d")
    pd.DataFrame(
        {
            "id": np.char.add("BD", i),
            "name": np.char.add("Affaire ", i),
            "kind": "prospect",
            "prospect_name": np.char.add("Société ", i),
            "unit_id": "T-LYO",
            "partner_id": "C006",
            "manager_id": "C007",
            "client_manager_id": "",
            "group_id": "",
            "status": "open",
            "created_on": created,
            "abandoned_on": "",
            "abandon_reason": "",
        }
    ).to_csv(folder / "deals.csv", index=False)
    j = np.arange(n_documents)
    status = np.array(["in_progress", "signed", "refused", "cancelled"])[j % 4]
    pd.DataFrame(
        {
            "id": np.char.add("BDOC", j.astype(str)),
            "deal_id": np.char.add("BD", (j // 2).astype(str)),
            "doc_type": "Proposition commerciale",
            "template": "PC v1",
            "title": "",
            "status": status,
            "created_on": "2025-01-02",
            "sent_on": "",
            "decided_on": np.where(status == "in_progress", "", "2025-02-03"),
            "signatory_id": "C006",
            "entity_id": "E-LAA",
        }
    ).to_csv(folder / "documents.csv", index=False)
    pd.DataFrame(
        {
            "document_id": np.char.add("BDOC", j.astype(str)),
            "line_no": 1,
            "mission": "Tenue comptable",
            "billing": np.where(j % 3 == 0, "one_off", "recurring"),
            "amount_cents": (j % 997) * 100,
        }
    ).to_csv(folder / "document_lines.csv", index=False)


@pytest.mark.slow
def test_make_big_extract_is_valid(tmp_path):
    make_big_extract(tmp_path / "big", 2_000)
    validated = read_extract(tmp_path / "big")
    assert validated.rejected == 0 and validated.counts["document_lines"].loaded == 2_000


@pytest.mark.slow
def test_kill_9_while_loading_leaves_the_previous_state(db_url, tmp_path):
    engine = db.make_engine(db_url)
    loading.load_extract(engine, SAMPLE)
    before = db.read_all(engine)
    info = db.read_extract_info(engine)
    big = tmp_path / "big"
    make_big_extract(big, 200_000)

    env = {**os.environ, "PROSPECTS_PROGRESS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "prospects.cli", "--db", db_url, "load", str(big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if "writing documents" in line:  # deals are written, documents being inserted
                time.sleep(0.2)
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        if proc.poll() is None:
            proc.wait(timeout=60)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the load ended before it could be killed:\n" + "".join(seen)

    engine.dispose()
    engine = db.make_engine(db_url)
    same_frames(before, db.read_all(engine))
    assert db.read_extract_info(engine) == info
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    # and usable: the next load goes through
    report = loading.load_extract(engine, big)
    assert report.rejected == 0
    assert db.table_counts(engine)["documents"] == 200_000
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM document_lines")).scalar_one()
    assert n == 200_000


def test_every_validator_without_perimeter_is_named_with_why_and_the_fix():
    """Issue 21: no group, groups covering no unit, a function cap — each said, by name, once per person;
    past ten people for one reason, a count."""
    from prospects.sample import frame, sample_firm

    tables = sample_firm()
    extra = [("C12", "stafval", "Sam Valideur", "staff", "T1", None, True, True),
             ("C13", "partvide", "Vera Associée", "partner", "A1", "E1", True, True),
             ("C14", "manlille", "Léo Manager", "manager", "A2", "E2", True, True)]
    extra += [(f"N{i:02d}", f"nogroup{i:02d}", f"Nadia Sansgroupe {i}", "manager", "A1", "E1", True, True) for i in range(11)]
    tables["collaborators"] = pd.concat([tables["collaborators"], frame("collaborators", extra)], ignore_index=True)
    tables["groups"] = pd.concat([tables["groups"], frame("groups", [("G_VIDE", "Groupe vide")])], ignore_index=True)
    tables["group_members"] = pd.concat([tables["group_members"], frame("group_members", [("G_VIDE", "C13"), ("G_R1", "C14"), ("G_FIRM", "C12")])],
                                        ignore_index=True)
    notes = loading.directory_warnings(tables)
    only = "no perimeter, only their own deals; "
    assert notes[0] == f"collaborator C12 'stafval' (Sam Valideur): validates offers but the function cap of staff is none: {only}change their function or the setting function_caps"
    assert notes[1] == f"collaborator C4 'man1' (Marie Manager): validates offers but is in no group: {only}add them to a group covering the units they answer for (group_members, group_units)"
    assert [n.split(":")[0] for n in notes[2:11]] == [f"collaborator N{i:02d} 'nogroup{i:02d}' (Nadia Sansgroupe {i})" for i in range(9)]
    assert notes[11] == "… and 2 more validators with no perimeter for the same reason (in no group)"
    assert notes[12] == f"collaborator C13 'partvide' (Vera Associée): validates offers but their groups (G_VIDE) cover no unit: {only}give the groups their units (group_units)"
    assert notes[13] == f"collaborator C14 'manlille' (Léo Manager): manager capped at agency level (A2) but their groups (G_R1) cover nothing in it: {only}fix their groups, home unit or function"
    assert len(notes) == 14


def test_an_extract_or_rejects_file_that_fails_mid_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    """A full disk while writing: files.replacing keeps the previous file and removes its temporary."""
    import errno

    from prospects import files
    from prospects.sample import sample_firm

    frames = sample_firm()
    loading.write_extract(frames, tmp_path)
    before = (tmp_path / "deals.csv").read_bytes()
    real = pd.DataFrame.to_csv

    def full_disk(self, target, *args, **kwargs):
        if getattr(target, "name", "").endswith(f"deals.csv.tmp-{os.getpid()}"):
            target.write(b"half a ro")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, target, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    with pytest.raises(files.FileRefused, match=r"deals\.csv: cannot be written \(No space left on device\)"):
        loading.write_extract(frames, tmp_path)
    assert (tmp_path / "deals.csv").read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]
