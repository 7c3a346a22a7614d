"""`prospects indicators` and `prospects drilldown` as docs/cli.md says, on Cabinet Exemple."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

from prospects import db, drilldown
from prospects.cli import main
from prospects.i18n import NNBSP, colon
from prospects.sample import sample_firm

from .hostile import KINDS, make_hostile


@pytest.fixture(scope="module")
def url(sample_url):
    return sample_url


def run(capsys, url, *args):
    code = main(["--db", url, "--today", "2026-11-29", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_indicators_json_has_the_keys_of_cli_md(capsys, url):
    code, out, err = run(capsys, url, "indicators", "--user", "dir", "--unit", "F", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"viewer", "currency", "fiscal_year", "period", "filters", "indicators", "monthly", "previous"}
    assert doc["currency"] == "EUR" and out.count('"currency"') == 1  # said once
    assert doc["viewer"] == "dir" and doc["fiscal_year"] == 2026
    assert doc["period"] == {"start": "2026-01-01", "end": "2026-12-31", "as_of": "2026-11-29"}
    assert doc["filters"] == {"unit": "F", "collaborator": None}
    ind = doc["indicators"]
    assert ind == {
        "prospects_without_document": 1,
        "offers_in_progress": 1,
        "potential_fees": {"recurring": 5000.0, "one_off": 0.0, "total": 5000.0},
        "signed_offers": 4,
        "signed_budget": {"recurring": 15200.0, "one_off": 3300.0, "total": 18500.0},
        "refused_offers": 1,
        "abandoned_prospects": 1,
        "converted_prospects": 3,
        "win_rate": {"by_count": 0.8, "by_value": pytest.approx(18500 / 20500)},
        "median_days_to_sign": 41.0,
    }
    assert doc["monthly"][0] == {"month": "2026-01", "won_prospects": 1, "recurring": 200.0, "one_off": 0.0, "total": 200.0}
    assert len(doc["monthly"]) == 11
    assert doc["previous"]["as_of"] == "2025-11-29"
    assert set(doc["previous"]["indicators"]) == set(ind)
    assert doc["previous"]["indicators"]["signed_budget"]["total"] == 4000.0


def test_amounts_keep_cents_exactly(capsys, tmp_path):
    tables = sample_firm()
    tables["document_lines"].loc[0, "amount_cents"] = 1_200_001  # 12 000,01 €
    u = f"sqlite:///{tmp_path / 'cents.db'}"
    db.replace_all(db.make_engine(u), tables)
    code, out, _ = run(capsys, u, "indicators", "--user", "dir", "--unit", "F", "--json")
    assert json.loads(out)["indicators"]["signed_budget"]["recurring"] == 15200.01


def test_indicators_text_is_french(capsys, url):
    code, out, _ = run(capsys, url, "indicators", "--user", "dir", "--unit", "F")
    assert code == 0
    assert "Indicateurs prospects sur l'exercice" in out
    assert f"18{NNBSP}500{NNBSP}€" in out
    assert "29/11/2026" in out and "janv. 2026" in out
    assert "Budget signé" in out and "exceptionnel" in out


def test_indicators_text_says_how_fresh_the_data_is(capsys, tmp_path):
    """The extract's date under the header, and plainly when it is older than stale_after_days (issue 21.10)."""
    from prospects import db as database

    url = f"sqlite:///{tmp_path / 'f.db'}"
    tables = sample_firm()
    database.replace_all(database.make_engine(url), tables, info={"export_date": "2026-11-20"})
    code, out, err = run(capsys, url, "indicators", "--user", "dir", "--unit", "F")
    assert code == 0, err
    line = out.splitlines()[2]
    assert line.startswith("Données du 20/11/2026 — Données anciennes") and "il y a 9 jours" in line, line
    code, out, _ = run(capsys, url, "--today", "2026-11-22", "indicators", "--user", "dir", "--unit", "F")
    assert out.splitlines()[2] == "Données du 20/11/2026"


def test_previous_and_fiscal_year_options(capsys, url):
    _, out, _ = run(capsys, url, "indicators", "--user", "dir", "--unit", "F", "--previous", "--json")
    doc = json.loads(out)
    assert doc["fiscal_year"] == 2025 and doc["period"]["as_of"] == "2025-12-31"
    _, out2, _ = run(capsys, url, "indicators", "--user", "dir", "--unit", "F", "--fiscal-year", "2025", "--json")
    assert json.loads(out2) == doc
    _, out3, _ = run(capsys, url, "indicators", "--user", "dir", "--unit", "F", "--as-of", "2026-11-28", "--json")
    assert json.loads(out3)["indicators"]["offers_in_progress"] == 2


@pytest.mark.parametrize(
    "args",
    [
        ["indicators", "--user", "nobody"],
        ["indicators", "--user", "gone"],
        ["indicators", "--user", "staff1", "--unit", "T1"],
        ["indicators", "--user", "part2", "--unit", "R1", "--json"],
        ["indicators", "--user", "part1", "--collaborator", "man2"],
        ["drilldown", "--user", "part2", "--unit", "R1", "--indicator", "signed_budget", "--format", "json"],
        ["drilldown", "--user", "man1", "--unit", "T1", "--indicator", "signed_budget"],
    ],
)
def test_refusals_exit_3_with_one_line_and_no_data(capsys, url, args):
    code, out, err = run(capsys, url, *args)
    assert code == 3
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "Accès refusé" in err


def test_bad_period_exits_2(capsys, url):
    code, out, err = run(capsys, url, "indicators", "--user", "dir", "--fiscal-year", "2030")
    assert code == 2 and out == "" and "après aujourd'hui" in err
    code, _, err = run(capsys, url, "indicators", "--user", "dir", "--as-of", "2025-05-01")
    assert code == 2 and "hors de l'exercice" in err


def test_drilldown_json_by_document(capsys, url):
    code, out, err = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget", "--by", "document", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["indicator"] == "signed_budget" and doc["by"] == "document"
    rows = doc["rows"]
    assert [r["document_id"] for r in rows] == ["X1", "X2", "X13", "X9"]  # by deal id, then creation date
    assert sum(r["total"] for r in rows) == 18500.0
    x1 = next(r for r in rows if r["document_id"] == "X1")
    assert x1["lines"] == [
        {"mission": "Commissariat aux comptes", "billing": "recurring", "amount": 12000.0},
        {"mission": "Commissariat aux comptes", "billing": "one_off", "amount": 2500.0},
    ]
    assert x1["created_on"] == "2026-02-05" and x1["signatory_entity"] == "Exemple Expertise SAS"
    expected_keys = {
        "document_id", "doc_type", "template", "title", "status", "created_on", "sent_on", "decided_on", "deal_id",
        "deal", "prospect", "region", "agency", "team", "partner", "manager", "client_manager", "signatory",
        "signatory_entity", "recurring", "one_off", "total", "lines",
    }
    assert set(x1) == expected_keys


def test_drilldown_json_by_deal_and_month(capsys, url):
    code, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget", "--month", "2026-03", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["by"] == "deal" and doc["month"] == "2026-03"
    assert [(r["deal_id"], r["documents"], r["total"]) for r in doc["rows"]] == [("D1", 1, 14500.0)]
    code, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "won_prospects", "--month", "2026-11", "--format", "json")
    assert [r["deal_id"] for r in json.loads(out)["rows"]] == ["D7"]


def test_drilldown_csv_has_french_headers_and_the_rows(capsys, url):
    code, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_offers", "--by", "document", "--format", "csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out), sep=";", decimal=",")
    assert list(frame.columns[:3]) == ["Id document", "Affaire", "Prospect"]  # the order on screen
    assert "Total (€)" in frame.columns and "Entité" in frame.columns
    assert len(frame) == 4 and frame["Total (€)"].sum() == pytest.approx(18500.0)


def test_drilldown_xlsx(capsys, url, tmp_path):
    target = tmp_path / "d.xlsx"
    code, _, err = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "offers_in_progress", "--by", "document", "--format", "xlsx", "--output", str(target))
    assert code == 0, err
    wb = openpyxl.load_workbook(target)
    sheet = wb["Par document"]
    rows = list(sheet.values)
    assert rows[0][0] == "Id document" and len(rows) == 2 and rows[1][0] == "X3"
    lines = list(wb["Lignes"].values)
    assert len(lines) == 3  # header + two lines of X3
    about = dict(wb["À propos"].values)
    assert about == {"Chiffre": "Offres en cours", "Vue": "Par document",
                     "Période": "01/01/2026 → 29/11/2026", "Périmètre": "Cabinet Exemple",
                     "Montants": "honoraires des offres en cours à la date d'arrêté", "Devise": "euro (EUR)"}
    code, _, err = run(capsys, url, "drilldown", "--user", "dir", "--indicator", "signed_budget", "--format", "xlsx")
    assert code == 2 and "--output" in err


@pytest.mark.parametrize(("login", "unit", "named"), [("dir", "perimeter", "Cabinet Exemple"), ("dir", "firm", "Cabinet Exemple"),
                                                  ("part1", "perimeter", "Île-de-France"), ("dir", "mine", "Mes affaires")])
def test_the_apis_unit_words_name_what_they_cover_on_the_command_line(capsys, url, tmp_path, login, unit, named):
    """``--unit perimeter|firm|mine`` are the API's words; the scope line and the About sheet say
    the units they resolved to (a KeyError traceback before)."""
    code, out, err = run(capsys, url, "indicators", "--user", login, "--unit", unit)
    assert code == 0 and "Traceback" not in err, err
    assert out.splitlines()[1].endswith(f"Périmètre{colon('fr')}{named}"), out.splitlines()[1]
    target = tmp_path / "d.xlsx"
    code, _, err = run(capsys, url, "drilldown", "--user", login, "--unit", unit, "--indicator", "signed_budget",
                       "--format", "xlsx", "--output", str(target))
    assert code == 0, err
    assert dict(openpyxl.load_workbook(target)["À propos"].values)["Périmètre"] == named


def test_drilldown_table_footer(capsys, url):
    code, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget")
    assert code == 0
    assert "Par" not in out.splitlines()[0]  # a table, headers first
    assert "4 documents" in out and f"18{NNBSP}500{NNBSP}€" in out


def test_drilldown_of_a_deal_cell_says_what_its_amounts_are(capsys, url):
    # D4 abandoned 10/09/2026: only X5 (1 500 €) was still at stake; X6, cancelled before, does not add
    code, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "abandoned_prospects")
    assert code == 0
    assert f"1 affaire · 1 document — récurrent 1{NNBSP}500{NNBSP}€" in out
    assert out.splitlines()[-1] == "Montants\u00a0: honoraires en jeu à l'abandon (offres non décidées à la date d'abandon)"
    code, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "converted_prospects",
                       "--format", "json")
    doc = json.loads(out)
    assert doc["amounts"].startswith("honoraires signés de ces affaires")
    assert sum(r["total"] for r in doc["rows"]) == 18500.0 and sum(r["documents"] for r in doc["rows"]) == 4
    code, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator",
                       "prospects_without_document", "--by", "document")
    assert code == 0 and out.startswith("Aucun document : ces affaires n'ont aucune offre en cours")
    code, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator",
                       "prospects_without_document", "--format", "json")
    (d3,) = json.loads(out)["rows"]
    assert (d3["deal_id"], d3["deal_created_on"], d3["last_decision"], d3["documents"]) == ("D3", "2026-06-01", None, 0)


def test_unknown_indicator_exits_2(capsys, url):
    code, out, err = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "nope")
    assert code == 2 and out == "" and "indicateur de détail inconnu « nope »" in err


def test_empty_database_is_a_clear_error(capsys, tmp_path):
    code, out, err = run(capsys, f"sqlite:///{tmp_path / 'empty.db'}", "indicators", "--user", "dir")
    assert code == 2 and "prospects demo" in err


def _firm_at_the_bounds(n_docs: int = 9_300, lines_per_doc: int = 100) -> dict[str, pd.DataFrame]:
    """Cabinet Exemple's directory with ``n_docs`` signed documents of ``lines_per_doc`` lines
    at the line bound (each document at the document bound): 9.3 × 10^18 cents in March 2026,
    past int64; all but two documents on one deal."""
    import numpy as np

    from prospects.sample import frame
    from prospects.schema import MAX_AMOUNT_CENTS

    tables = sample_firm()
    tables["deals"] = frame("deals", [
        ("BIG", "Très grosse affaire", "prospect", "Géant SA", "T1", "C2", "C4", None, None, "open", "2026-01-05"),
        ("SMALL", "Petite affaire", "prospect", "Nain SARL", "T1", "C2", None, None, None, "open", "2026-01-06"),
    ])
    ids = [f"X{i:05d}" for i in range(n_docs)]
    docs = pd.DataFrame({
        "id": ids, "deal_id": ["SMALL" if i < 2 else "BIG" for i in range(n_docs)], "doc_type": "Lettre de mission",
        "template": None, "title": None, "status": "signed", "created_on": pd.Timestamp("2026-02-01"),
        "sent_on": pd.NaT, "decided_on": pd.Timestamp("2026-03-10"), "signatory_id": "C2", "entity_id": "E1",
    })
    docs = docs.astype({"created_on": "datetime64[s]", "sent_on": "datetime64[s]", "decided_on": "datetime64[s]"})
    for c in ("template", "title"):
        docs[c] = docs[c].astype(object)
    tables["documents"] = docs
    tables["document_lines"] = pd.DataFrame({
        "document_id": np.repeat(np.array(ids, dtype=object), lines_per_doc),
        "line_no": np.tile(np.arange(1, lines_per_doc + 1, dtype=np.int64), n_docs),
        "mission": "Audit", "billing": "recurring",
        "amount_cents": np.full(n_docs * lines_per_doc, MAX_AMOUNT_CENTS, dtype=np.int64),
    })
    return tables


def test_sums_past_int64_are_exact_on_both_backends(capsys, db_url):
    """Amounts at the bounds over many documents: no wrap to negative, no OverflowError (issue 13).

    On PostgreSQL the per-document sums come back as NUMERIC; on SQLite a SUM past int64
    would raise "integer overflow": both stay under the document bound, and the sums over
    documents are exact in Python integers.
    """
    from prospects.schema import MAX_DOCUMENT_CENTS

    db.replace_all(db.make_engine(db_url), _firm_at_the_bounds())
    total_cents = 9_300 * MAX_DOCUMENT_CENTS
    assert total_cents > 2**63
    code, out, err = run(capsys, db_url, "indicators", "--user", "part1", "--unit", "R1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    ind = doc["indicators"]
    assert ind["signed_offers"] == 9_300 and ind["win_rate"]["by_value"] == 1.0
    euros = float(total_cents // 100)
    assert ind["signed_budget"] == {"recurring": euros, "one_off": 0.0, "total": euros}
    assert next(m for m in doc["monthly"] if m["month"] == "2026-03")["total"] == euros


def test_sums_past_int64_are_exact_in_the_text_drilldowns_and_exports(capsys, sqlite_url):
    from prospects import exports
    from prospects.api import open_firm
    from prospects.schema import MAX_DOCUMENT_CENTS

    db_url = sqlite_url
    db.replace_all(db.make_engine(db_url), _firm_at_the_bounds())
    total_cents = 9_300 * MAX_DOCUMENT_CENTS
    big_cents = 9_298 * MAX_DOCUMENT_CENTS  # the deal holding 9,298 documents passes int64 on its own
    assert big_cents > 2**63
    fr = f"{total_cents // 100:,}".replace(",", NNBSP) + f"{NNBSP}€"
    code, out, err = run(capsys, db_url, "indicators", "--user", "part1", "--unit", "R1")
    assert code == 0, err
    assert "Budget signé" in out and fr in out and "-" + fr not in out
    code, out, err = run(capsys, db_url, "drilldown", "--user", "part1", "--unit", "R1", "--indicator", "signed_budget")
    assert code == 0, err
    big = f"{big_cents // 100:,}".replace(",", NNBSP) + f"{NNBSP}€"
    assert big in out and "-9" not in out  # the big deal's row: exact and positive
    assert f"9{NNBSP}300 documents" in out and out.splitlines()[-2].endswith(f"total {fr}")
    # the same through the API (one read): figures, both drill-downs, their footers and exports
    view = open_firm(db_url, today="2026-11-29").as_viewer("part1")
    figs = view.figures(unit="R1")
    assert figs.indicators["signed_budget"]["total"] == total_cents
    march = figs.monthly.set_index("month").loc["2026-03"]
    assert (march["recurring"], march["total"]) == (total_cents, total_cents)
    by_deal = view.drilldown("signed_budget", unit="R1", month="2026-03")
    assert by_deal[["deal_id", "documents", "total"]].values.tolist() == [
        ["BIG", 9_298, big_cents], ["SMALL", 2, 2 * MAX_DOCUMENT_CENTS]
    ]
    by_doc = view.drilldown("signed_budget", unit="R1", by="document")
    for frame, by in ((by_deal, "deal"), (by_doc, "document")):
        assert drilldown.totals(frame, by) == {"rows": len(frame), "documents": 9_300, "recurring": total_cents,
                                               "one_off": 0, "total": total_cents}
    sheet = list(openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(by_deal, "deal", currency="EUR")))["Par affaire"].values)
    assert sheet[1][0] == "BIG" and sheet[1][sheet[0].index("Total (€)")] == pytest.approx(big_cents / 100)
    assert json.loads(json.dumps(exports.records(by_deal, "deal", "EUR")))[0]["total"] == pytest.approx(big_cents / 100)


# ---------------------------------------------------------------------------
# faults and hostile input (issue 13, points 8 and 9): one line on stderr, the documented
# exit code, never a traceback; read commands create nothing


def _corrupt(tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(bytes(range(256)) * 40)
    return f"sqlite:///{path}"


def _unreachable(tmp_path):
    from tests.conftest import free_port

    return f"postgresql://nobody:secret@127.0.0.1:{free_port()}/prospects"


BAD_DATABASES = {
    "corrupt-sqlite": (_corrupt, "cannot open the database sqlite:///", "file is not a database"),
    "unreachable-postgresql": (_unreachable, "cannot open the database postgresql+psycopg://nobody:***@127.0.0.1:", "Connection refused"),
    "mysql": (lambda _t: "mysql://u@localhost/x", "mysql://u@localhost/x: no database driver for 'mysql'", "sqlite:/// and postgresql://"),
    "unknown-scheme": (lambda _t: "foo://bar/x", "foo://bar/x: no database driver for 'foo'", "sqlite:/// and postgresql://"),
    "unwritable-folder": (lambda _t: "sqlite:////proc/prospects.db", "", "/proc"),
    "dev-zero": (lambda _t: "sqlite:////dev/zero", "prospects: /dev/zero: not a database file but a device or a pipe"),
    "a-folder": (lambda t: f"sqlite:///{t}", "not a database file but a folder"),
}
COMMANDS = {
    "indicators": ["indicators", "--user", "dir"],
    "drilldown": ["drilldown", "--user", "dir", "--indicator", "signed_budget"],
    "export": ["export", "{tmp}/out"],
    "demo": ["demo"],
    "report": ["report", "--as", "dir", "--format", "html", "--out", "{tmp}/reports"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("database", BAD_DATABASES)
def test_a_database_that_cannot_be_used_is_one_line_and_exit_2(capsys, tmp_path, database, command):
    make_url, *fragments = BAD_DATABASES[database]
    url = make_url(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    code = main(["--db", url, "--today", "2026-11-29", *args])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("prospects: "), err
    for fragment in fragments:
        assert fragment in err, err
    assert "secret" not in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "reports").exists()


@pytest.mark.parametrize("command", ["indicators", "drilldown", "export", "report"])
def test_read_commands_never_create_a_database_or_its_folders(capsys, tmp_path, command):
    missing = tmp_path / "mistyped" / "b.db"
    args = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    code = main(["--db", f"sqlite:///{missing}", "--today", "2026-11-29", *args])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == (
        f"prospects: no database at {missing}: check --db, or create it with `prospects demo` or `prospects load DIR`"
    )
    assert list(tmp_path.iterdir()) == []


def test_writes_create_the_folder_or_say_why_not(capsys, tmp_path):
    target = tmp_path / "new" / "folder" / "b.db"
    assert main(["--db", f"sqlite:///{target}", "--today", "2026-11-29", "demo"]) == 0
    assert target.is_file()
    capsys.readouterr()
    (tmp_path / "a-file").write_text("x")
    code = main(["--db", f"sqlite:///{tmp_path / 'a-file' / 'sub' / 'b.db'}", "demo"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == (
        f"prospects: cannot create the folder {tmp_path / 'a-file' / 'sub'} for the database: Not a directory"
    )
    code = main(["--db", "sqlite:////proc/prospects.db", "load", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err


HOSTILE = [
    # (what, arguments, exit code, words on the one line of stderr)
    ("today-year-1", ["--today", "0001-01-01", "indicators", "--user", "dir"], 2, ["dans l'exercice 1 :", "de 2 à 9999"]),
    ("today-year-1-drilldown", ["--today", "0001-01-01", "drilldown", "--user", "dir", "--indicator", "signed_budget"], 2, ["dans l'exercice 1 :"]),
    ("today-year-1-demo", ["--today", "0001-01-01", "demo"], 2, ["fiscal year 1", "fiscal year 3 to 9999"]),
    ("fiscal-year-0", ["indicators", "--user", "dir", "--fiscal-year", "0"], 2, ["exercice 0 :"]),
    ("fiscal-year-negative", ["indicators", "--user", "dir", "--fiscal-year", "-5"], 2, ["exercice -5 :"]),
    ("fiscal-year-huge", ["indicators", "--user", "dir", "--fiscal-year", "99999999999999999999"], 2, ["exercice 99999999999999999999 :"]),
    ("fiscal-year-0-report", ["report", "--as", "dir", "--fiscal-year", "0", "--out", "{tmp}/r"], 2, ["exercice 0 :"]),
    ("seed-negative", ["demo", "--seed", "-1"], 2, ["--seed -1: expected a whole number, 0 or more"]),
    ("output-missing-folder", ["drilldown", "--user", "dir", "--indicator", "signed_budget", "--output", "{tmp}/nope/x.csv"], 2,
     ["--output {tmp}/nope/x.csv: folder {tmp}/nope does not exist"]),
    ("output-is-a-folder", ["drilldown", "--user", "dir", "--indicator", "signed_budget", "--output", "{tmp}"], 2,
     ["--output {tmp}: is a folder; give a file name"]),
    ("xlsx-output-is-a-folder", ["drilldown", "--user", "dir", "--indicator", "signed_budget", "--format", "xlsx", "--output", "{tmp}"], 2,
     ["is a folder"]),
    ("xlsx-output-unwritable", ["drilldown", "--user", "dir", "--indicator", "signed_budget", "--format", "xlsx", "--output", "/proc/x.xlsx"], 2,
     ["--output /proc/x.xlsx: cannot be written ("]),
    ("json-output-unwritable", ["drilldown", "--user", "dir", "--indicator", "signed_budget", "--format", "json", "--output", "/proc/x.json"], 2,
     ["--output /proc/x.json: cannot be written ("]),
    ("config-is-a-folder", ["--config", "{tmp}", "indicators", "--user", "dir"], 2, ["config file {tmp}: not a file but a folder"]),
    ("config-is-dev-zero", ["--config", "/dev/zero", "indicators", "--user", "dir"], 2,
     ["config file /dev/zero: not a file but a device or a pipe"]),
    ("login-with-a-newline", ["indicators", "--user", "dir\nInjected: line"], 3, ["« dir\\nInjected: line »"]),
    ("login-10000-characters", ["indicators", "--user", "x" * 10_000], 3, ["« " + "x" * 59 + "… »"]),
    ("unit-with-a-newline", ["indicators", "--user", "dir", "--unit", "F\n" + "y" * 500], 3, ["« F\\n" + "y" * 56 + "… »"]),
]


@pytest.mark.parametrize(("args", "code", "words"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_one_line_and_the_documented_exit_code(capsys, tmp_path, url, args, code, words):
    db_url = f"sqlite:///{tmp_path / 'fresh.db'}" if "demo" in args else url
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    got = main(["--db", db_url, *([] if "--today" in args else ["--today", "2026-11-29"]), *args])
    out, err = capsys.readouterr()
    assert got == code, err
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("prospects: "), err
    for word in words:
        assert word.replace("{tmp}", str(tmp_path)) in err, err
    assert not (tmp_path / "fresh.db").exists()


@pytest.mark.postgres
def test_a_10000_character_login_on_postgresql_is_refused_in_one_line(capsys, pg_url):
    db.replace_all(db.make_engine(pg_url), sample_firm())
    code = main(["--db", pg_url, "--today", "2026-11-29", "indicators", "--user", "é" * 10_000])
    err = capsys.readouterr().err
    assert code == 3 and len(err.splitlines()) == 1 and err.rstrip().endswith("é" * 59 + "… »")


@pytest.mark.parametrize("args", [
    ["drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget", "--by", "document", "--format", "csv"],
    ["indicators", "--user", "dir", "--unit", "F"],
])
def test_output_piped_into_head_ends_quietly(url, args):
    """`prospects … | head`: the reader goes away; no BrokenPipeError, nothing on stderr, exit 141 (SIGPIPE)."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "prospects.cli", "--db", url, "--today", "2026-11-29", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_an_output_that_is_a_device_is_refused_and_never_replaced(capsys, tmp_path, url, fmt):
    """`--output /dev/full`, through a link of the test's own: a writer that renamed its file
    over the target would replace the link, never the machine's device."""
    import os

    device = tmp_path / "full"
    device.symlink_to("/dev/full")
    code, out, err = run(capsys, url, "drilldown", "--user", "dir", "--indicator", "signed_budget", "--format", fmt,
                         "--output", str(device))
    assert code == 2 and out == "" and err == f"prospects: --output {device}: not a file but a device or a pipe; give a file name\n"
    assert os.readlink(device) == "/dev/full" and sorted(os.listdir(tmp_path)) == ["full"]


def _on_a_full_disk(tmp_path, url, fmt):
    """`drilldown --output` into a full tmpfs that already holds the file (a real full disk, in a
    mount namespace of its own): exit code, stderr, the files the folder then holds, the file's content."""
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (
        'mount -t tmpfs -o size=64k tmpfs "$DISK" || exit 99; printf previous > "$DISK/out"; cat /dev/zero > "$DISK/fill" 2> /dev/null; '
        '"$@" 2> "$DISK/../err"; echo "exit=$?"; ls -A "$DISK" | tr "\\n" " "; echo; cat "$DISK/out"'
    )
    cmd = [sys.executable, "-m", "prospects.cli", "--db", url, "--today", "2026-11-29", "drilldown", "--user", "dir",
           "--unit", "F", "--indicator", "signed_budget", "--by", "document", "--format", fmt, "--output", str(disk / "out")]
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", *cmd], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "DISK": str(disk)})
    if proc.returncode == 99 or "exit=" not in proc.stdout:
        pytest.fail(f"cannot mount a tmpfs in a user namespace here: {proc.stderr}")
    status, listing, content = proc.stdout.split("\n", 2)
    return int(status.removeprefix("exit=")), (tmp_path / "err").read_text(), listing.split(), content


@pytest.mark.parametrize("fmt", ["xlsx", "json", "csv"])
def test_a_full_disk_leaves_the_previous_output_and_no_partial_file(tmp_path, url, fmt):
    from prospects.api import open_firm

    open_firm(url)  # the figure store is built before the disk is full
    code, err, listing, content = _on_a_full_disk(tmp_path, url, fmt)
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith(f"prospects: --output {tmp_path}/disk/out: cannot be written ("), err
    assert "No space left on device" in err and "Traceback" not in err
    assert sorted(listing) == ["fill", "out"] and content == "previous"


# ---------------------------------------------------------------------------
# SQLite URI filenames (issue 20, point 16): read in place, nothing created where the command runs


def test_a_sqlite_uri_filename_is_read_in_place_and_creates_nothing(capsys, tmp_path, monkeypatch):
    import shutil


    folder = tmp_path / "data"
    folder.mkdir()
    db.replace_all(db.make_engine(f"sqlite:///{folder / 'firm.db'}"), sample_firm())
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for url in (f"sqlite:///file:{folder / 'firm.db'}?mode=ro&uri=true", "sqlite:///file:../data/firm.db?mode=ro&uri=true",
                f"sqlite:///file://localhost{folder / 'firm.db'}?uri=true"):
        code, out, err = run(capsys, url, "indicators", "--user", "dir", "--unit", "F", "--json")
        assert code == 0, err
        assert json.loads(out)["indicators"]["signed_budget"]["total"] == 18500.0
        assert list(work.iterdir()) == [], url  # no 'file:' folder, no database, no store here
    assert (folder / "firm.db.store").is_dir()  # the figure store sits beside the database, as for a path
    shutil.rmtree(folder / "firm.db.store")
    missing = folder / "missing.db"
    for url in (f"sqlite:///file:{missing}?uri=true", f"sqlite:///file:{missing}?mode=ro&uri=true", f"sqlite:///file:{missing}"):
        code, out, err = run(capsys, url, "indicators", "--user", "dir")
        assert code == 2 and err.startswith("prospects: no database at "), err
    beside = {p.name for p in folder.iterdir()} - {"firm.db-wal", "firm.db-shm"}  # SQLite's own, while a connection is open
    assert beside == {"firm.db"} and list(work.iterdir()) == []


def test_a_sqlite_uri_filename_is_written_where_it_says(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "new" / "firm.db"
    assert main(["--db", f"sqlite:///file:{target}?uri=true", "--today", "2026-11-29", "demo"]) == 0, capsys.readouterr().err
    assert target.is_file() and (tmp_path / "new" / "firm.db.store").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]
    capsys.readouterr()
    code = main(["--db", f"sqlite:///file:{tmp_path / 'ro.db'}?mode=ro&uri=true", "--today", "2026-11-29", "demo"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]
    code = main(["--db", "sqlite:///file::memory:?uri=true", "indicators", "--user", "dir"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err


# ---------------------------------------------------------------------------
# every path a command takes, given something that is not what it should be (issue 20,
# point 12): one line, exit 2, no traceback, within a bounded address space, never blocked

#: The address space each command of the sweep may use: reading /dev/zero or a 50 GB file
#: without a limit goes far past it (a reader once grew to 24 GB), every legitimate run stays under.
SWEEP_MEMORY = 2 * 1024**3
SWEEP_KINDS = ("device", "folder", "pipe", "sparse", "unreadable")
SAMPLE_EXTRACT = __import__("pathlib").Path(__file__).parent / "data" / "sample_extract"


def _hostile(tmp_path, kind: str, *, name: str = "given", inside: bool = False, write: bool = False):
    """A path that is /dev/zero (a symlink to it when ``inside`` a folder or written to), a folder,
    a pipe, 50 GB of holes, or unreadable (for a file written: in a folder that cannot be written)."""

    base = tmp_path / "hostile"
    base.mkdir(exist_ok=True)
    path = base / name
    if kind == "device" and not inside and not write:
        return "/dev/zero"  # read from: written to only through a link of the test's own (a rename replaces the link)
    if kind in KINDS:
        make_hostile(path, kind)
    elif write:  # unwritable: a folder of its owner's, read-only
        locked = base / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        return str(locked / name)
    else:
        path.write_text("x = 1\n")
        path.chmod(0)
    return str(path)


def _sweep_run(tmp_path, argv: list[str]) -> tuple[int, str]:
    """The command in a process of its own: address space capped at SWEEP_MEMORY, without
    root's right to read anything (so that 'unreadable' is), 120 s at most."""
    import os
    import resource
    import subprocess
    import sys

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (SWEEP_MEMORY, SWEEP_MEMORY))

    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    proc = subprocess.run([*prefix, sys.executable, "-m", "prospects.cli", "--today", "2026-11-29", *argv],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, preexec_fn=cap,
                          env={**os.environ, "PROSPECTS_PROGRESS": "0"})
    return proc.returncode, proc.stderr


def _sweep_import(tmp_path, source: str | None = None, *, excel: bool = False):
    """A mapping of the sales example (its CSV, or a workbook read as sheet 'Affaires')."""
    import openpyxl

    from tests.importing_cases import HEADER, MAPPING, ROWS, setup

    mapping = MAPPING.replace('file = "opps.csv"\ndelimiter = ";"', 'file = "export.xlsx"\nsheet = "Affaires"') if excel else MAPPING
    path = setup(tmp_path, mapping=mapping)
    if excel:
        wb = openpyxl.Workbook()
        wb.active.title = "Affaires"
        for line in [HEADER, *ROWS]:
            wb.active.append(line.split(";"))
        wb.save(tmp_path / "export.xlsx")
    return ["--db", f"sqlite:///{tmp_path / 'fresh.db'}", "import", "--mapping", str(path), *([f"opps={source}"] if source else [])]


def _sweep_extract(tmp_path, replace_with=None):
    import shutil

    folder = tmp_path / "extract"
    shutil.copytree(SAMPLE_EXTRACT, folder)
    if replace_with is not None:
        (folder / "deals.csv").unlink()
        (folder / "deals.csv").symlink_to(replace_with) if replace_with != "dir" else (folder / "deals.csv").mkdir()
    return folder


#: slot → (the command given the path, kinds it is swept with, the command with a good path)
SWEEP = {
    "--config": (lambda t, p, url: ["--db", url, "--config", p, "indicators", "--user", "dir", "--unit", "F"], SWEEP_KINDS,
                 lambda t, url: ["--db", url, "--config", str(_write(t / "good.toml", "locale = 'fr'\n")), "indicators", "--user", "dir"]),
    "--db": (lambda t, p, url: ["--db", f"sqlite:///{p}", "indicators", "--user", "dir"], SWEEP_KINDS,
             lambda t, url: ["--db", url, "indicators", "--user", "dir"]),
    "load DIR": (lambda t, p, url: ["--db", f"sqlite:///{t / 'fresh.db'}", "load", p], SWEEP_KINDS,
                 lambda t, url: ["--db", f"sqlite:///{t / 'fresh.db'}", "load", str(_sweep_extract(t))]),
    "load DIR/deals.csv": (lambda t, p, url: ["--db", f"sqlite:///{t / 'fresh.db'}", "load", str(_sweep_extract(t, p))],
                           ("device", "pipe", "sparse", "unreadable"), None),
    "import --mapping": (lambda t, p, url: [*_sweep_import(t)[:4], p], SWEEP_KINDS, lambda t, url: _sweep_import(t)),
    "import SOURCE (CSV)": (lambda t, p, url: _sweep_import(t, p), SWEEP_KINDS, None),
    "import SOURCE (Excel)": (lambda t, p, url: _sweep_import(t, p, excel=True), SWEEP_KINDS,
                              lambda t, url: _sweep_import(t, excel=True)),
    "drilldown --output": (lambda t, p, url: ["--db", url, "drilldown", "--user", "dir", "--indicator", "signed_budget",
                                              "--format", "xlsx", "--output", p], ("device", "folder", "pipe", "unreadable"),
                           lambda t, url: ["--db", url, "drilldown", "--user", "dir", "--indicator", "signed_budget",
                                           "--format", "xlsx", "--output", str(t / "out.xlsx")]),
    "import --rejects": (lambda t, p, url: [*_sweep_import(t), "--rejects", p], ("device", "folder", "pipe", "unreadable"),
                         lambda t, url: [*_sweep_import(t), "--rejects", str(t / "rejects.csv")]),
    "export DIR": (lambda t, p, url: ["--db", url, "export", p], ("device", "pipe", "sparse", "unreadable"),
                   lambda t, url: ["--db", url, "export", str(t / "export")]),
    "report --out": (lambda t, p, url: ["--db", url, "report", "--as", "dir", "--format", "html", "--out", p],
                     ("device", "pipe", "sparse", "unreadable"), None),
}
WRITTEN = {"drilldown --output", "import --rejects", "export DIR", "report --out"}


def _write(path, text: str):
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize("slot", SWEEP)
def test_every_path_a_command_takes_refuses_what_is_not_a_file_in_one_line_and_bounded_memory(tmp_path, url, slot):
    from concurrent.futures import ThreadPoolExecutor

    command, kinds, good = SWEEP[slot]
    cases = {}
    for kind in kinds:
        folder = tmp_path / kind
        folder.mkdir()
        inside = slot == "load DIR/deals.csv"
        cases[kind] = (folder, command(folder, _hostile(folder, kind, inside=inside, write=slot in WRITTEN), url))
    with ThreadPoolExecutor(3) as pool:
        results = dict(zip(cases, pool.map(lambda case: _sweep_run(*case), cases.values()), strict=True))
    for kind, (code, err) in results.items():
        assert code == 2, f"{slot} {kind}: exit {code}: {err}"
        assert len(err.splitlines()) == 1 and err.startswith("prospects: "), f"{slot} {kind}: {err}"
        assert "Traceback" not in err and "Error:" not in err, f"{slot} {kind}: {err}"
    if good is not None:  # the same command with a good path runs within the same bound
        folder = tmp_path / "good"
        folder.mkdir()
        code, err = _sweep_run(folder, good(folder, url))
        assert code in (0, 1), f"{slot} with a good path: exit {code}: {err}"


# ---------------------------------------------------------------------------
# the firm's currency (issue 21, point 6)


@pytest.mark.parametrize(
    ("currency", "budget", "json_total"),
    [("EUR", f"18{NNBSP}500{NNBSP}€", 18500.0), ("USD", f"18{NNBSP}500{NNBSP}$US", 18500.0),
     ("CHF", f"18{NNBSP}500{NNBSP}CHF", 18500.0),
     # the _cents columns hold whole yen: 1,850,000 minor units are 1,850,000 yen
     ("JPY", f"1{NNBSP}850{NNBSP}000{NNBSP}JPY", 1850000.0)],
)
def test_every_cli_output_is_in_the_firms_currency(capsys, url, monkeypatch, currency, budget, json_total):
    monkeypatch.setenv("PROSPECTS_CURRENCY", currency)
    _, out, err = run(capsys, url, "indicators", "--user", "dir", "--unit", "F")
    assert budget in out and (currency == "EUR" or "€" not in out), err
    _, out, _ = run(capsys, url, "indicators", "--user", "dir", "--unit", "F", "--json")
    doc = json.loads(out)
    assert doc["currency"] == currency and out.count('"currency"') == 1
    assert doc["indicators"]["signed_budget"]["total"] == json_total
    _, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget",
                    "--by", "document", "--format", "json")
    doc = json.loads(out)
    assert doc["currency"] == currency and out.count('"currency"') == 1
    assert sum(r["total"] for r in doc["rows"]) == json_total
    _, out, _ = run(capsys, url, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget")
    assert f"total {budget}" in out and (currency == "EUR" or "€" not in out)


def test_the_cli_in_english_uses_the_currencys_english_symbol(capsys, url, monkeypatch):
    monkeypatch.setenv("PROSPECTS_LOCALE", "en")
    for currency, budget in (("USD", "$18,500"), ("CHF", "CHF\u00a018,500"), ("JPY", "¥1,850,000"), ("EUR", "€18,500")):
        monkeypatch.setenv("PROSPECTS_CURRENCY", currency)
        _, out, _ = run(capsys, url, "indicators", "--user", "dir", "--unit", "F")
        assert budget in out, currency
