"""The drill-down dialog (prospects.dashboard.drill): footers equal the figure clicked, both views,
sorting, months and ageing buckets, the first rows of a large drill-down.
"""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest

from prospects import i18n
from prospects.figures import TABLE_CELLS

from . import dashboard_helpers as helpers
from .dashboard_helpers import eur, footer, text, value

director = helpers.director  # a fixture
firm = helpers.firm  # a fixture
firm_url = helpers.firm_url  # a fixture


@pytest.mark.parametrize("code", [*TABLE_CELLS, "converted_prospects"])
def test_every_cell_drilldown_adds_up_to_the_cell(director, code):
    director.region.value = "F"
    cell = value(director, code)
    director.open_cell(code)
    assert director.drill.backdrop.layout.display == "flex"
    assert text(director.drill.title.value).startswith(i18n.label(code))
    deal_view = footer(director)
    director.drill.by.value = "document"
    doc_view = footer(director)
    assert director.drill_state.by == "document"
    for part in ("recurring", "one_off", "total"):
        assert deal_view[part] == doc_view[part]
    assert deal_view["documents"] == doc_view["rows"]
    if code in ("potential_fees", "signed_budget"):
        assert doc_view["total"] == cell
    elif code in ("prospects_without_document", "abandoned_prospects", "converted_prospects"):
        assert deal_view["rows"] == cell  # a deal cell: its deals
    else:
        assert doc_view["rows"] == cell  # a document cell: its documents
    if code == "signed_budget":
        assert (doc_view["recurring"], doc_view["one_off"]) == (eur("15 200"), eur("3 300"))
    director.close_drill()
    assert director.drill.backdrop.layout.display == "none"


@pytest.mark.parametrize(("code", "documents", "total", "words"), [
    # D4 abandoned 10/09/2026: only X5 (1 500 €) was at stake; X6, cancelled on 01/04, does not add
    ("abandoned_prospects", "1", "1 500", "honoraires en jeu à l'abandon"),
    # D1 (X1, X2), D7 (X9), D11 (X13): the offers they signed up to the as-of date
    ("converted_prospects", "4", "18 500", "honoraires signés de ces affaires"),
    ("prospects_without_document", "0", "0", "aucun honoraire"),
])
def test_a_deal_cell_footer_says_what_its_amounts_are(director, code, documents, total, words):
    director.region.value = "F"
    director.open_cell(code)
    f = footer(director)
    assert (f["rows"], f["documents"], f["total"]) == (value(director, code), documents, eur(total))
    assert f"Montants\u00a0: {words}" in text(director.drill.footer.value)
    director.drill.by.value = "document"
    assert footer(director)["total"] == eur(total)
    if code == "prospects_without_document":  # the by-document view is empty and says why
        assert "ces affaires n'ont aucune offre en cours" in text(director.drill.table.value)
        director.drill.by.value = "deal"
        assert "Affaire créée le" in director.drill.table.value and "01/06/2026" in director.drill.table.value


def test_drilldown_table_is_sortable_and_readable(director):
    director.region.value = "F"
    director.open_cell("signed_budget")
    director.drill.by.value = "document"
    table = director.drill.table.value
    assert "<th" in table and "Type de document" in table and "Signataire" in table and "Lignes" in table
    assert "Commissariat aux comptes (récurrent)" in table  # the lines of X1
    ids = lambda: re.findall(r'data-col="document_id">(X\d+)<', director.drill.table.value)  # noqa: E731
    assert ids() == ["X1", "X2", "X13", "X9"]  # by deal id (D1, D11, D7), then creation date
    director.drill.sort.value = "total"
    director.drill.order.value = False
    assert ids() == ["X1", "X2", "X9", "X13"]  # 14 500, 3 000, 800, 200
    director.drill.order.value = True
    assert ids() == ["X13", "X9", "X2", "X1"]
    assert "▲" in director.drill.table.value
    director.drill.sort.value = "deal"
    assert ids()[0] == "X1"  # Audit légal Alpha
    assert footer(director)["total"] == eur("18 500")  # sorting never changes the footer


def test_month_and_bucket_drilldowns(director):
    director.region.value = "F"
    director.open_month("2026-03")
    assert text(director.drill.title.value).startswith("Budget signé — mars 2026")
    f = footer(director)
    assert (f["rows"], f["documents"], f["total"]) == ("1", "1", eur("14 500"))
    director.drill.month_kind.value = "won_prospects"
    assert text(director.drill.title.value).startswith("Prospects gagnés — mars 2026")
    assert footer(director)["rows"] == "1"  # D1, converted on 15/03
    director.open_month("2026-05")  # D1's second signature: fees, no new win
    director.drill.month_kind.value = "signed_budget"
    assert footer(director)["total"] == eur("3 000")
    director.drill.month_kind.value = "won_prospects"
    assert footer(director)["rows"] == "0"
    director.open_bucket(">180")
    f = footer(director)
    assert (f["documents"], f["total"]) == ("1", eur("5 000"))
    assert "X3" not in director.drill.table.value  # by deal: D2
    director.drill.by.value = "document"
    assert "X3" in director.drill.table.value


def test_drilldown_follows_the_filters(director):
    director.region.value = "F"
    director.open_cell("signed_offers")
    director.drill.by.value = "document"
    assert footer(director)["rows"] == "4"
    director.filters.collaborator_box.value = "Marie Manager (man1)"
    assert director.drill_state is not None and footer(director)["rows"] == "3"


def test_large_drilldown_shows_the_first_rows_and_prepares_files_on_demand(director, monkeypatch):
    from prospects.dashboard import downloads, drill

    monkeypatch.setattr(drill, "MAX_ROWS", 2)
    monkeypatch.setattr(downloads, "EAGER_DOWNLOAD_ROWS", 3)
    director.region.value = "F"
    director.open_cell("signed_budget")  # 3 deals: files ready
    assert "pr-download-csv" in director.drill.downloads.value
    assert director.drill.prepare.layout.display == "none"
    director.drill.by.value = "document"  # 4 documents: on demand
    assert director.drill.downloads.value == ""
    assert director.drill.prepare.layout.display is None and "4 lignes" in director.drill.prepare.description
    assert len(re.findall(r'<td [^>]*data-col="document_id">', director.drill.table.value)) == 2
    assert "2 premières lignes sur 4" in text(director.drill.note.value)
    assert footer(director)["rows"] == "4" and footer(director)["total"] == eur("18 500")  # the footer counts every row
    director.drill.prepare.click()
    links = director.drill.downloads.value
    assert director.drill.prepare.layout.display == "none"
    payload = re.search(r'class="pr-download-csv"[^>]*base64,([^"]+)"', links).group(1)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(payload).decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 4
    x1 = next(r for r in rows if r["Id document"] == "X1")
    assert "Commissariat aux comptes" in x1["Lignes"]  # every line of every document
    # the files follow the order on screen: a new sort asks for new files (prepared on demand again)
    director.drill.sort.value = "total"
    assert director.drill.downloads.value == "" and director.drill.prepare.layout.display is None
    director.drill.prepare.click()
    payload = re.search(r'class="pr-download-csv"[^>]*base64,([^"]+)"', director.drill.downloads.value).group(1)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(payload).decode("utf-8-sig")), delimiter=";"))
    assert [r["Id document"] for r in rows] == ["X13", "X9", "X2", "X1"]  # 200, 800, 3 000, 14 500 €
    director.drill.sort.value = ""  # back to the default order: the files made for it are kept
    assert director.drill.downloads.value == links



def test_a_column_header_sorts_and_a_second_click_turns_the_order(director):
    director.region.value = "F"
    director.open_cell("signed_budget")
    director.drill.by.value = "document"
    ids = lambda: re.findall(r'data-col="document_id">(X\d+)<', director.drill.table.value)  # noqa: E731
    head = lambda col: re.search(rf'<th [^>]*data-col="{col}"[^>]*>', director.drill.table.value).group(0)  # noqa: E731
    assert "aria-sort" not in director.drill.table.value  # the drill-down's own order
    assert '<button type="button" class="pr-sort" data-col="total">' in director.drill.table.value
    director.drill.columns["total"].click()  # what the page's script clicks for the header "Total (€)"
    assert ids() == ["X13", "X9", "X2", "X1"] and 'aria-sort="ascending"' in head("total")
    assert director.drill.sort.value == "total" and director.drill.order.value is True  # the select follows
    director.drill.columns["total"].click()
    assert ids() == ["X1", "X2", "X9", "X13"] and 'aria-sort="descending"' in head("total")
    director.drill.columns["deal"].click()  # another column: ascending first
    assert 'aria-sort="ascending"' in head("deal") and "aria-sort" not in head("total")
    assert footer(director)["total"] == eur("18 500")  # sorting never changes the footer
    assert "lines" not in director.drill.columns  # a document's lines are no sort key
    assert '<th class="" data-col="lines" scope="col">Lignes</th>' in director.drill.table.value


def test_a_bar_opens_the_months_signed_budget_and_a_point_its_prospects_won(director):
    director.region.value = "F"
    director.open_month("2026-03")  # the bar
    assert text(director.drill.title.value).startswith("Budget signé — mars 2026")
    assert footer(director)["total"] == eur("14 500")
    director.open_month("2026-03", "won_prospects")  # the point of the won line
    assert text(director.drill.title.value).startswith("Prospects gagnés — mars 2026")
    assert director.drill.month_kind.value == "won_prospects" and footer(director)["rows"] == "1"


def test_the_dialog_is_labelled_by_its_heading(director):
    director.open_cell("signed_offers")
    assert '<h2 class="pr-t1" id="pr-drill-heading" tabindex="-1">Offres signées</h2>' in director.drill.title.value
    assert director.drill.close.description == "Fermer"
