"""`prospects indicators` and `prospects drilldown` as CLI.md says, on Cabinet Exemple."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

from prospects import db, drilldown
from prospects.cli import main
from prospects.i18n import NNBSP
from prospects.sample import sample_firm


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
    assert set(doc) >= {"viewer", "fiscal_year", "period", "filters", "indicators", "monthly", "previous"}
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
                     "Montants": "honoraires des offres en cours à la date d'arrêté"}
    code, _, err = run(capsys, url, "drilldown", "--user", "dir", "--indicator", "signed_budget", "--format", "xlsx")
    assert code == 2 and "--output" in err


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
    sheet = list(openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(by_deal, "deal")))["Par affaire"].values)
    assert sheet[1][0] == "BIG" and sheet[1][sheet[0].index("Total (€)")] == pytest.approx(big_cents / 100)
    assert json.loads(json.dumps(exports.records(by_deal, "deal")))[0]["total"] == pytest.approx(big_cents / 100)


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
     ["--output {tmp}/nope/x.csv : le dossier {tmp}/nope n'existe pas"]),
    ("output-is-a-folder", ["drilldown", "--user", "dir", "--indicator", "signed_budget", "--output", "{tmp}"], 2,
     ["--output {tmp} : c'est un dossier ; donnez un nom de fichier"]),
    ("xlsx-output-is-a-folder", ["drilldown", "--user", "dir", "--indicator", "signed_budget", "--format", "xlsx", "--output", "{tmp}"], 2,
     ["c'est un dossier"]),
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
