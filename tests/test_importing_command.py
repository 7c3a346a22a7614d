"""`prospects import` and loading (prospects.importing.command): exit codes, the rejects
file, atomic replacement, progress, and no traceback for hostile input."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from prospects import db
from prospects import importing as im

from .importing_cases import (
    HEADER,
    MAPPING,
    ROWS,
    run,
    setup,
)


def test_rejects_file_next_to_the_mapping_or_given_and_stale_one_removed(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path, [ROWS[0], ROWS[1].replace("En cours", "Gelé")])
    code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    default = tmp_path / "mapping.rejects.csv"
    assert code == 1 and default.exists() and f"reasons in {default}" in out
    assert "1 source rows rejected (3 target rows)" in out
    chosen = tmp_path / "out" / "r.csv"
    chosen.parent.mkdir()
    code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", path, "--rejects", chosen)
    assert code == 1 and chosen.exists()
    setup(tmp_path)
    code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 0 and "No row rejected." in out and not default.exists()


@pytest.mark.parametrize("kind", ["pipe", "folder"])
def test_a_rejects_target_that_is_not_a_file_is_refused_before_anything_is_imported(capsys, sqlite_url, tmp_path, kind):
    import os
    import stat

    path = setup(tmp_path, [ROWS[0], ROWS[1].replace("En cours", "Gelé")])
    target = tmp_path / "rejects"
    os.mkfifo(target) if kind == "pipe" else target.mkdir()
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path, "--rejects", target)
    what = "not a file but a device or a pipe" if kind == "pipe" else "is a folder"
    assert code == 2 and out == "" and err == f"prospects: --rejects {target}: {what}; give a file name\n"
    assert (stat.S_ISFIFO if kind == "pipe" else stat.S_ISDIR)(os.stat(target).st_mode)  # never renamed over
    assert not db.has_schema(db.make_engine(sqlite_url))


def test_the_rejects_file_never_holds_a_raw_nul(capsys, sqlite_url, tmp_path):
    """Whatever a source holds, the rejects file is written through loading's writer (NUL escaped)."""
    path = setup(tmp_path, [ROWS[0], ROWS[1].replace("En cours", "En\x00cours")])
    code, _, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    raw = (tmp_path / "mapping.rejects.csv").read_bytes()
    assert code == 1 and b"\x00" not in raw
    result = im.prepare(path)
    hostile = result.rejects.assign(value="a\x00b")
    written = tmp_path / "hostile.csv"
    im.write_rejects(hostile, written)
    assert b"\x00" not in written.read_bytes() and b"a\\x00b" in written.read_bytes()


def test_an_unusable_import_leaves_the_database_as_it_was(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path)
    assert run(capsys, "--db", sqlite_url, "import", "--mapping", path)[0] == 0
    before = db.read_all(db.make_engine(sqlite_url))
    setup(tmp_path, header=HEADER.replace("Client", "Société"))
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 2 and "no column 'Client'" in err
    after = db.read_all(db.make_engine(sqlite_url))
    for table, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[table])


def test_import_replaces_the_previous_content_atomically(db_url, tmp_path):
    engine = db.make_engine(db_url)
    im.import_crm(engine, setup(tmp_path))
    assert db.table_counts(engine)["deals"] == 5
    with pytest.raises(db.ShrinkRefused, match=r"deals \(5 → 1\)"):  # 4 of 5 deals would go
        im.import_crm(engine, setup(tmp_path, [ROWS[0]]))
    assert db.table_counts(engine)["deals"] == 5
    im.import_crm(engine, setup(tmp_path, [ROWS[0]]), allow_shrink=True)
    assert db.table_counts(engine)["deals"] == 1
    with engine.connect() as conn:
        info = dict(conn.execute(sa.text("select key, value from extract_info")).all())
    assert info["source"].startswith("import ") and info["rows_rejected"] == "0"


def _nested_lookups(depth: int) -> str:
    spec = '"Associé"'
    for _ in range(depth):
        spec = f'{{ lookup = "opps", match = {spec}, key = "Associé", value = "Associé" }}'
    return MAPPING.replace('prospect_name = "Client"', f"prospect_name = {spec}")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("date %Q", "defaults.date: '%Q' is not a date format"),
        ("date %", "defaults.date: '%' is not a date format"),
        ("nested lookups", "value specs nest more than 12 levels deep"),
        ("nested tables", "tables nest too deeply to be a mapping"),
        ("/dev/zero", "/dev/zero: not a file but a device or a pipe (mapping key sources.opps.file)"),
        ("too big", "more than the import limit of 1.0 MB (setting import_max_mb)"),
        ("mapping /dev/zero", "/dev/zero: not a mapping file"),
        ("out of memory", "not enough memory for these sources"),
    ],
)
def test_hostile_input_gives_one_line_and_exit_2(capsys, monkeypatch, sqlite_url, tmp_path, case, message):
    path = setup(tmp_path)
    args = ["--db", sqlite_url, "import", "--mapping", path]
    if case.startswith("date"):
        setup(tmp_path, mapping=MAPPING.replace('date = "dd/mm/yyyy"', f'date = "{case[5:]}"'))
    elif case == "nested lookups":
        setup(tmp_path, mapping=_nested_lookups(40))
    elif case == "nested tables":
        setup(tmp_path, mapping="x = " + "{ a = " * 5000 + "1" + " }" * 5000)
    elif case == "/dev/zero":
        args.append("opps=/dev/zero")
    elif case == "too big":
        setup(tmp_path, ROWS * 4000)
        assert (tmp_path / "opps.csv").stat().st_size > 1_000_000
        monkeypatch.setenv("PROSPECTS_IMPORT_MAX_MB", "1")
    elif case == "mapping /dev/zero":
        args[-1] = "/dev/zero"
    elif case == "out of memory":
        def exhausted(*_a, **_k):
            raise MemoryError

        monkeypatch.setattr("prospects.importing.command.prepare", exhausted)
    for check in ([], ["--check"]):
        code, out, err = run(capsys, *args, *check)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert err.startswith("prospects: unusable import") and message in err, err
    assert not db.has_schema(db.make_engine(sqlite_url))


def test_an_amount_beyond_the_bound_is_too_large_not_a_bad_number(capsys, sqlite_url, tmp_path):
    rows = [ROWS[0].replace("1 000,00 €", "123 456 789 012 345 678 €"), ROWS[1].replace("2 500 €", "100 000 000 000,01 €"), ROWS[3]]
    path = setup(tmp_path, rows)
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 1, err
    got = pd.read_csv(tmp_path / "mapping.rejects.csv", encoding="utf-8-sig", dtype=str)
    assert got[["row", "column", "reason"]].values.tolist() == [
        ["2", "amount_cents", "Montant '123 456 789 012 345 678 €' is too large (at most 100,000,000,000 EUR per line)"],
        ["3", "amount_cents", "Montant '100 000 000 000,01 €' is too large (at most 100,000,000,000 EUR per line)"],
    ]
    assert "not a whole number" not in out
    engine = db.make_engine(sqlite_url)
    assert db.table_counts(engine)["documents"] == 3 and db.table_counts(engine)["document_lines"] == 1


def test_check_exits_0_clean_1_with_rejections_2_unusable(capsys, sqlite_url, tmp_path):
    path = setup(tmp_path)
    code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", path, "--check")
    assert code == 0 and "Values it could not map: none" in out
    setup(tmp_path, [ROWS[0], ROWS[1].replace("En cours", "Gelé")])
    code, out, _ = run(capsys, "--db", sqlite_url, "import", "--mapping", path, "--check")
    assert code == 1 and "unmapped    deals.status ← Statut: 'Gelé' (1 row)" in out
    setup(tmp_path, header=HEADER.replace("Statut", "État"))
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path, "--check")
    assert code == 2 and out == "" and "no column 'Statut'" in err
    assert not db.has_schema(db.make_engine(sqlite_url)) and not (tmp_path / "mapping.rejects.csv").exists()


def test_the_export_date_on_the_command_line(capsys, sqlite_url, tmp_path):
    mapping = MAPPING.replace('created_on = "Créée le"\nabandoned_on', 'created_on = { column = "Créée le", default = { export_date = true } }\nabandoned_on')
    mapping = mapping.replace('date = "dd/mm/yyyy"', 'date = "dd/mm/yyyy"\nexport_date = "today"')
    path = setup(tmp_path, [ROWS[0], ROWS[2].replace("01/02/2026", "")], mapping)
    code, out, err = run(capsys, "--db", sqlite_url, "--today", "2026-11-29", "import", "--mapping", path, "--check")
    assert code == 0, err
    assert "Export date: 2026-11-29 (defaults.export_date = today)" in out
    assert "created_on           ← column 'Créée le', default the export date (2026-11-29)" in out
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path, "--export-date", "2026-10-31")
    assert code == 0, err
    deals = db.read_all(db.make_engine(sqlite_url))["deals"].set_index("id")
    assert str(deals.loc["D3", "created_on"])[:10] == "2026-10-31" and str(deals.loc["D1", "created_on"])[:10] == "2026-01-10"
    # the export date is the extract's date the dashboard, reports and mails show (issue 21 point 10)
    assert db.read_extract_info(db.make_engine(sqlite_url))["export_date"] == "2026-10-31"
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path, "--export-date", "31/10/2026")
    assert code == 2 and "--export-date: expected a date YYYY-MM-DD or \"today\", got '31/10/2026'" in err


def test_a_progress_bar_on_stderr_when_asked_or_on_a_terminal_after_a_few_seconds(capsys, monkeypatch, sqlite_url, tmp_path):
    path = setup(tmp_path)
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 0 and err == ""  # not a terminal: no bar
    monkeypatch.setenv("PROSPECTS_PROGRESS", "1")
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 0 and "No row rejected." in out
    # one step per source read, the mapping, each table checked, loading, done
    assert "import: " in err and "/13 " in err and "checking org_units (5 rows)" in err and "loading" in err, err
    monkeypatch.setenv("PROSPECTS_PROGRESS", "0")
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert run(capsys, "--db", sqlite_url, "import", "--mapping", path)[2] == ""


# ---------------------------------------------------------------------------
# an export without groups: the validators left with their own deals only (issue 21 point 1)


def test_check_and_import_name_the_validators_without_perimeter_then_the_docs_give_them_one(capsys, sqlite_url, tmp_path):
    from prospects.api import open_firm

    from .importing_cases import doc_example

    path = setup(tmp_path)
    no_group = "validates offers but is in no group: no perimeter, only their own deals"
    for args in (("--check",), ()):
        code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path, *args)
        assert code == 0, err
        notes = [line for line in out.splitlines() if line.startswith("note: ")]
        assert [n.split(":")[1].strip() for n in notes if no_group in n] == [
            "collaborator jean.dupont 'jean.dupont' (Jean Dupont)",
            "collaborator marie.curie 'marie.curie' (Marie Curie)",
            "collaborator paul.roux 'paul.roux' (Paul Roux)",
        ], out
    with pytest.raises(Exception, match="hors de votre périmètre, qui est vide : vous n'êtes membre d'aucun groupe"):
        open_firm(sqlite_url, today="2026-11-29").as_viewer("jean.dupont").figures(unit="R-nord")
    # docs/import.md: one firm-wide group of every partner and manager named; their function caps do the rest
    setup(tmp_path, mapping=MAPPING + "\n" + doc_example("management-perimeter"))
    code, out, err = run(capsys, "--db", sqlite_url, "import", "--mapping", path)
    assert code == 0, err
    assert "no perimeter" not in out
    firm = open_firm(sqlite_url, today="2026-11-29")
    assert firm.as_viewer("jean.dupont").viewer.perimeter == {"R-nord", "A-nord.lille"}  # a partner: his region
    assert firm.as_viewer("paul.roux").viewer.perimeter == {"A-nord.lille"}  # a manager: his agency
    assert firm.as_viewer("jean.dupont").figures(unit="R-nord").indicators["signed_offers"] == 1
