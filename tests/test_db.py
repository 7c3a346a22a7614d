"""The schema is created identically on SQLite and PostgreSQL."""

import sqlalchemy as sa

from prospects import db
from prospects.schema import TABLE_ORDER, TABLES


def test_schema_created_on_both_backends(db_url):
    engine = db.make_engine(db_url)
    assert not db.has_schema(engine)
    db.create_schema(engine)
    assert db.has_schema(engine)
    inspector = sa.inspect(engine)
    for name in TABLE_ORDER:
        cols = [c["name"] for c in inspector.get_columns(name)]
        assert cols == list(TABLES[name].column_names)
    assert db.table_counts(engine) == dict.fromkeys(TABLE_ORDER, 0)


def test_amounts_are_integer_cents_and_checked(db_url):
    engine = db.make_engine(db_url)
    db.create_schema(engine)
    col = sa.inspect(engine).get_columns("document_lines")
    amount = next(c for c in col if c["name"] == "amount_cents")
    assert isinstance(amount["type"], sa.BigInteger | sa.Integer)


def test_database_of_an_earlier_version_gains_the_new_optional_columns(db_url):
    """A database made before collaborators.email existed is upgraded, and a load then works."""
    from prospects.sample import sample_firm

    engine = db.make_engine(db_url)
    db.create_schema(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":  # SQLite before 3.35 cannot drop a column: rebuild
            conn.execute(sa.text("ALTER TABLE collaborators RENAME TO old_collaborators"))
            conn.execute(sa.text(
                "CREATE TABLE collaborators (id VARCHAR(200) PRIMARY KEY, login TEXT NOT NULL UNIQUE, "
                "full_name TEXT NOT NULL, function VARCHAR(40) NOT NULL, unit_id VARCHAR(200) NOT NULL, "
                "entity_id VARCHAR(200), can_validate_offers BOOLEAN NOT NULL, active BOOLEAN NOT NULL)"
            ))
            conn.execute(sa.text("DROP TABLE old_collaborators"))
        else:
            conn.execute(sa.text("ALTER TABLE collaborators DROP COLUMN email"))
    assert "email" not in [c["name"] for c in sa.inspect(engine).get_columns("collaborators")]
    db.replace_all(engine, sample_firm())  # creates what is missing, then loads
    engine.dispose()
    engine = db.make_engine(db_url)
    assert [c["name"] for c in sa.inspect(engine).get_columns("collaborators")] == list(TABLES["collaborators"].column_names)
    assert len(db.read_table(engine, "collaborators")) == len(sample_firm()["collaborators"])


# ---------------------------------------------------------------------------
# the send log of report subscriptions (issue 15)


def test_send_log_records_replaces_and_survives_a_load(db_url):
    import datetime as dt

    from prospects.sample import sample_firm

    engine = db.make_engine(db_url)
    day = dt.date(2026, 11, 29)
    assert db.read_sends(engine, 2026, day) == {}  # no log yet: nothing sent, and nothing created
    if engine.dialect.name == "sqlite":  # opening created nothing, not even the file
        assert not __import__("pathlib").Path(engine.url.database).exists()
    else:
        assert "subscription_sends" not in sa.inspect(engine).get_table_names()
    row = {"login": "part1", "unit": "R1", "fiscal_year": 2026, "as_of": day, "email": "part1@exemple.fr",
           "sent_at": "2026-11-29T07:00:05+00:00", "message_id": "<1@exemple.fr>"}
    mine = {**row, "unit": "", "message_id": "<2@exemple.fr>"}
    db.record_sends(engine, [row, mine])
    assert sorted(db.read_sends(engine, 2026, day)) == [("part1", ""), ("part1", "R1")]
    assert db.read_sends(engine, 2026, dt.date(2026, 11, 30)) == {}  # another period: nothing sent
    db.record_sends(engine, [{**row, "sent_at": "2026-11-29T08:00:00+00:00", "message_id": "<3@exemple.fr>"}])  # --force
    sent = db.read_sends(engine, 2026, day)
    assert sent[("part1", "R1")] == {"email": "part1@exemple.fr", "sent_at": "2026-11-29T08:00:00+00:00", "message_id": "<3@exemple.fr>"}
    assert len(sent) == 2
    db.replace_all(engine, sample_firm())  # a load replaces the data, never the log
    assert db.read_sends(engine, 2026, day) == sent
    assert db.has_schema(engine) and db.table_counts(engine)["collaborators"] == 7


# ---------------------------------------------------------------------------
# one sender per database and period: claims (issue 20.7)


def test_a_recipients_sending_is_claimed_once_per_period(db_url):
    import datetime as dt

    engine = db.make_engine(db_url)
    day = dt.date(2026, 11, 29)
    assert db.read_claims(engine, 2026, day) == {}  # no table yet: nothing claimed, nothing created
    keys = [("part1", "R1"), ("part1", "")]
    assert db.claim_sends(engine, keys, 2026, day, run_id="run-a", claimed_by="host-a pid 1")
    assert not db.claim_sends(engine, keys, 2026, day, run_id="run-b", claimed_by="host-b pid 2")
    # all or nothing: a recipient whose one report is claimed gets no claim for the others
    assert not db.claim_sends(engine, [("part1", "R2"), ("part1", "R1")], 2026, day, run_id="run-b", claimed_by="b")
    claims = db.read_claims(engine, 2026, day)
    assert sorted(claims) == sorted(keys) and {c["run_id"] for c in claims.values()} == {"run-a"}
    assert claims[("part1", "R1")]["claimed_by"] == "host-a pid 1"
    assert db.read_claims(engine, 2026, dt.date(2026, 11, 30)) == {}  # another period
    assert db.claim_sends(engine, keys, 2026, dt.date(2026, 11, 30), run_id="run-b", claimed_by="b")
    # a definite failure gives the claim back (only the run's own)
    db.release_claims(engine, keys, 2026, day, run_id="run-b")
    assert sorted(db.read_claims(engine, 2026, day)) == sorted(keys)
    db.release_claims(engine, keys, 2026, day, run_id="run-a")
    assert db.read_claims(engine, 2026, day) == {}
    assert db.claim_sends(engine, keys, 2026, day, run_id="run-c", claimed_by="c")
    # --force takes a claim over only from the run it saw holding it
    assert not db.claim_sends(engine, keys, 2026, day, run_id="run-d", claimed_by="d", take_over={k: "run-a" for k in keys})
    assert db.claim_sends(engine, keys, 2026, day, run_id="run-d", claimed_by="d", take_over={k: "run-c" for k in keys})
    assert {c["run_id"] for c in db.read_claims(engine, 2026, day).values()} == {"run-d"}
    engine.dispose()


CLAIMER = """
import sys, time
from prospects import db
import datetime as dt
url, run, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
engine = db.make_engine(url)
engine.connect().close()
time.sleep(max(0.0, start - time.time()))
won = [db.claim_sends(engine, [("r%d" % i, "U")], 2026, dt.date(2026, 11, 29), run_id=run, claimed_by=run)
       for i in range(40)]
print("".join("1" if w else "0" for w in won))
"""


def test_two_processes_claiming_at_once_never_both_win(db_url):
    """Two processes claim the same 40 recipients at the same instant: each recipient is won exactly once."""
    import subprocess
    import sys
    import time

    engine = db.make_engine(db_url)
    db.create_schema(engine)
    engine.dispose()
    start = f"{time.time() + 2.0:.3f}"
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, db_url, run, start], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for run in ("run-a", "run-b")]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(out.strip())
    assert all(len(o) == 40 for o in outs)
    assert all((a == "1") != (b == "1") for a, b in zip(*outs, strict=True)), outs
    claims = db.read_claims(db.make_engine(db_url), 2026, __import__("datetime").date(2026, 11, 29))
    assert len(claims) == 40


# each viewer's last Organisation / Collaborateurs choice on the dashboard (issue 19)


def test_dashboard_choices_are_kept_per_login_and_survive_a_load(db_url):
    from prospects.sample import sample_firm

    engine = db.make_engine(db_url)
    db.replace_all(engine, sample_firm())
    assert db.read_dashboard_choice(engine, "dir") is None  # never chosen: nothing, and no table created
    assert "dashboard_choices" not in sa.inspect(engine).get_table_names()
    db.save_dashboard_choice(engine, "dir", "R1", None)
    db.save_dashboard_choice(engine, "part1", None, "man1")
    assert db.read_dashboard_choice(engine, "dir") == ("R1", None)
    assert db.read_dashboard_choice(engine, "part1") == (None, "man1")
    db.save_dashboard_choice(engine, "dir", "A1", "man1")  # a new choice replaces the old one
    assert db.read_dashboard_choice(engine, "dir") == ("A1", "man1")
    other = db.make_engine(db_url)  # another server on the same database sees it and may replace it
    assert db.read_dashboard_choice(other, "dir") == ("A1", "man1")
    db.save_dashboard_choice(other, "dir", None, None)  # back to "Mes affaires"
    assert db.read_dashboard_choice(engine, "dir") == (None, None)
    db.replace_all(engine, sample_firm())  # a load replaces the data, never the choices
    assert db.read_dashboard_choice(engine, "part1") == (None, "man1")


def test_a_dashboard_choice_is_data_never_sql(db_url):
    engine = db.make_engine(db_url)
    db.create_schema(engine)
    hostile = "x'); DROP TABLE collaborators; --"
    db.save_dashboard_choice(engine, hostile, hostile, hostile)
    assert db.read_dashboard_choice(engine, hostile) == (hostile, hostile)
    assert db.has_schema(engine)
