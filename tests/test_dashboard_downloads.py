"""The drill-down's downloads (prospects.dashboard.downloads): CSV and Excel hold every row.
"""

from __future__ import annotations

import base64
import csv
import io
import re

import openpyxl

from prospects import i18n

from . import dashboard_helpers as helpers

director = helpers.director  # a fixture
firm = helpers.firm  # a fixture
firm_url = helpers.firm_url  # a fixture


def test_downloads_hold_the_rows(director):
    director.region.value = "F"
    director.open_cell("signed_budget")
    director.drill.by.value = "document"
    links = director.drill.downloads.value
    m = re.search(r'class="pr-download-csv" download="([^"]+)" href="data:text/csv;charset=utf-8;base64,([^"]+)"', links)
    assert m and m.group(1) == "prospects_signed_budget_document_2026-11-29.csv"
    raw = base64.b64decode(m.group(2)).decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Id document", "Affaire", "Prospect"]  # the columns in the order on screen
    assert sorted(r[0] for r in rows[1:]) == ["X1", "X13", "X2", "X9"]
    totals = sum(float(r[rows[0].index("Total (€)")].replace(",", ".")) for r in rows[1:])
    assert totals == 18_500
    m = re.search(r'class="pr-download-xlsx" download="([^"]+)" href="data:[^;]+;base64,([^"]+)"', links)
    assert m and m.group(1).endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(m.group(2))))
    sheet = book["Par document"]
    assert sheet.max_row == 5  # header + 4 documents


def test_downloads_follow_the_sort_on_screen(director):
    director.region.value = "F"
    director.open_cell("signed_budget")
    director.drill.by.value = "document"
    director.drill.sort.value = "total"
    director.drill.order.value = False
    shown = re.findall(r'data-col="document_id">(X\d+)<', director.drill.table.value)
    assert shown == ["X1", "X2", "X9", "X13"]
    links = director.drill.downloads.value
    raw = base64.b64decode(re.search(r'class="pr-download-csv"[^>]*base64,([^"]+)"', links).group(1)).decode("utf-8")
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    heads = re.findall(r'<th class="[^"]*" data-col="(\w+)"', director.drill.table.value)
    assert rows[0] == [i18n.column_labels("fr", "EUR")[c] for c in heads]  # the same columns, in the same order
    assert [r[0] for r in rows[1:]] == shown
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(
        re.search(r'class="pr-download-xlsx"[^>]*base64,([^"]+)"', links).group(1))))
    assert [r[0] for r in book["Par document"].values][1:] == shown
    assert dict(book["À propos"].values)["Montants"] == "honoraires des offres signées sur la période"
    director.drill.order.value = True  # a new sort: new files
    links = director.drill.downloads.value
    raw = base64.b64decode(re.search(r'class="pr-download-csv"[^>]*base64,([^"]+)"', links).group(1)).decode("utf-8")
    assert [r[0] for r in csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";")][1:] == shown[::-1]
