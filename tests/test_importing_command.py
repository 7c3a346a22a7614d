"""`prospects import` and loading (prospects.importing.command): exit codes, the rejects
file, atomic replacement, progress, and no traceback for hostile input."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from prospects import db
from prospects import importing as im

from .importing_cases import (
    HEADER,
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
    im.import_crm(engine, setup(tmp_path, [ROWS[0]]))
    assert db.table_counts(engine)["deals"] == 1
    with engine.connect() as conn:
        info = dict(conn.execute(sa.text("select key, value from extract_info")).all())
    assert info["source"].startswith("import ") and info["rows_rejected"] == "0"
