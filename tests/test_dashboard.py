"""The dashboard's widgets, in process and without a browser, on Cabinet Exemple (prospects.sample).

Filters are changed by setting the widgets' values and cells are clicked through the
buttons' own ``click()``, exactly what the browser's messages do; the figures expected
are the hand-computed ones of tests/test_figures.py and tests/test_scoping.py.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re

import ipywidgets as w
import openpyxl
import pytest

from prospects import i18n
from prospects.api import open_firm
from prospects.dashboard import Dashboard, dashboard_from_settings
from prospects.figures import TABLE_CELLS

TODAY = "2026-11-29"
NNBSP = "\u202f"


def eur(amount: str, locale: str = "fr") -> str:
    """``eur("18 500")`` → ``18 500 €`` in the dashboard's French format."""
    return amount.replace(" ", NNBSP) + NNBSP + "€"


def text(fragment: str) -> str:
    return re.sub(r"[ \t\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def span(fragment: str, css: str) -> str:
    """The text of the first element carrying class ``css`` in an HTML fragment."""
    m = re.search(rf'<(\w+)[^>]*class="[^"]*\b{re.escape(css)}\b[^"]*"[^>]*>(.*?)</\1>', fragment, re.S)
    assert m, f"no .{css} in {fragment[:200]}"
    return html.unescape(m.group(2))


def value(d: Dashboard, code: str) -> str:
    return span(d.cells[code].html.value, "pr-value" if code != "converted_prospects" else "pr-value-small")


def previous(d: Dashboard, code: str) -> str:
    return span(d.cells[code].html.value, "pr-prev-value")


def shown(d: Dashboard) -> dict[str, str]:
    return {code: value(d, code) for code in TABLE_CELLS}


def footer(d: Dashboard) -> dict[str, str]:
    f = d.drill_footer.value
    out = {k: span(f, f"pr-foot-{k}") for k in ("rows", "documents", "recurring", "one_off", "total")}
    return out


def classes(widget: w.Widget) -> set[str]:
    """Every CSS class in a widget tree."""
    found = set(getattr(widget, "_dom_classes", ()))
    for child in getattr(widget, "children", ()):
        found |= classes(child)
    return found


def all_html(widget: w.Widget) -> str:
    out = [widget.value] if isinstance(widget, w.HTML) else []
    for child in getattr(widget, "children", ()):
        out.append(all_html(child))
    return "\n".join(out)


@pytest.fixture(scope="module")
def firm_url(sample_url):
    return sample_url


@pytest.fixture(scope="module")
def firm(firm_url):
    return open_firm(firm_url, today=TODAY)


@pytest.fixture
def director(firm):
    d = Dashboard(firm, "dir")
    assert d.message.value == ""
    return d


FIRM_WIDE = {
    "prospects_without_document": "1",
    "offers_in_progress": "1",
    "potential_fees": eur("5 000"),
    "signed_offers": "4",
    "signed_budget": eur("18 500"),
    "refused_offers": "1",
    "abandoned_prospects": "1",
}


# ---------------------------------------------------------------------------
# the screen of a validator


def test_header_and_default_view_is_my_deals(director):
    head = text(director.header.value)
    assert "Suivi Business › Prospects" in head
    assert "Claire Directrice" in head and "Directeur" in head and "29/11/2026" in head
    assert director.region.value == "__mine__"
    # the director is on no deal team: "Mes affaires" is empty
    assert set(shown(director).values()) == {"0", eur("0")}
    assert "Mes affaires" in text(director.period_html.value)
    assert {"pr-filter-fy", "pr-filter-region", "pr-filter-agency", "pr-filter-team", "pr-filter-collaborator"} <= classes(director.widget)


def test_firm_wide_figures_with_previous_year_and_definitions(director):
    director.region.value = "F"
    assert director.unit == "F"
    assert shown(director) == FIRM_WIDE
    budget = director.cells["signed_budget"].html.value
    assert span(budget, "pr-split-recurring") == eur("15 200")
    assert span(budget, "pr-split-one_off") == eur("3 300")
    assert previous(director, "signed_offers") == "1"  # X11, N-1 at 29/11/2025
    assert previous(director, "signed_budget") == eur("4 000")
    assert previous(director, "prospects_without_document") == "2"
    # every cell carries its definition on hover (the button's tooltip and the block's title)
    for code in TABLE_CELLS:
        assert director.cells[code].button.tooltip.startswith(("Affaires", "Offres", "Honoraires"))
        assert 'title="' in director.cells[code].html.value
    assert value(director, "converted_prospects") == "3"
    rates = text(director.rates_html.value)
    assert f"80{NNBSP}%" in rates and f"90{NNBSP}%" in rates and "41 jours" in rates
    over = text(director.buckets[">180"].html.value)
    assert over == f">180 jours 1 {eur('5 000')}"
    chart = director.chart.value  # inline SVG: a bar per month, its amounts in its tooltip
    assert chart.startswith("<svg") and chart.count('class="pr-bar"') == 11
    assert re.search(r'data-month="2026-03"><title>mars 2026 : Récurrent [^<]*, Exceptionnel [^<]*, Prospects gagnés \d', chart)
    assert list(director.months) == [f"2026-{m:02d}" for m in range(1, 12)]
    assert director.months["2026-03"].description == "mars 2026"
    assert eur("14 500") in director.months["2026-03"].tooltip


def test_region_cascade_limited_to_the_perimeter(firm):
    d = Dashboard(firm, "part1")
    assert [v for _, v in d.region.options] == ["__mine__", "R1"]  # no firm, no R2
    assert set(d.collaborator_box.options) == {
        "Gaston Parti (gone)", "Marie Manager (man1)", "Paul Associé (part1)", "Sophie Collaboratrice (staff1)",
    }
    d.region.value = "R1"
    assert [v for _, v in d.agency.options] == ["", "A1"]
    assert [v for _, v in d.team.options] == [""]
    # part1's region holds the confidential D6 (he is in its group): X8 in progress
    assert shown(d) == {
        "prospects_without_document": "1", "offers_in_progress": "2", "potential_fees": eur("6 500"),
        "signed_offers": "4", "signed_budget": eur("18 500"), "refused_offers": "1", "abandoned_prospects": "0",
    }
    d.agency.value = "A1"
    assert [v for _, v in d.team.options] == ["", "T1"]
    d.team.value = "T1"
    assert d.unit == "T1"
    d.region.value = "__mine__"  # back to "Mes affaires": the cascade empties
    assert d.unit is None and d.agency.value == "" and d.team.value == ""
    assert value(d, "offers_in_progress") == "1"  # X3 only: part1 is not on D6's team


def test_director_cascade_and_region_figures(director):
    director.region.value = "R2"
    assert [v for _, v in director.agency.options] == ["", "A2"]
    assert shown(director) == {
        "prospects_without_document": "0", "offers_in_progress": "0", "potential_fees": eur("0"),
        "signed_offers": "0", "signed_budget": eur("0"), "refused_offers": "0", "abandoned_prospects": "1",
    }
    director.region.value = "F"
    assert [v for _, v in director.agency.options] == ["", "A2", "A1"]  # by name: Lille, Paris


def test_collaborator_filter(director):
    director.region.value = "F"
    director.collaborator_box.value = "Marie"  # still typing: nothing changes
    assert director.collaborator is None and shown(director) == FIRM_WIDE
    director.collaborator_box.value = "Marie Manager (man1)"
    assert director.collaborator == "man1"
    # D1, D2, D7 (not the confidential D6): X1, X2, X9 signed; X3 in progress; X4 refused
    assert shown(director) == {
        "prospects_without_document": "0", "offers_in_progress": "1", "potential_fees": eur("5 000"),
        "signed_offers": "3", "signed_budget": eur("18 300"), "refused_offers": "1", "abandoned_prospects": "0",
    }
    assert "Marie Manager" in text(director.period_html.value)
    director.clear_collaborator.click()
    assert director.collaborator is None and shown(director) == FIRM_WIDE


def test_fiscal_year_switch(director):
    director.region.value = "F"
    director.set_fiscal_year("previous")
    assert "31/12/2025" in text(director.header.value)
    assert list(director.months) == [f"2025-{m:02d}" for m in range(1, 13)]
    # FY 2025 to 31/12/2025: X11 and X12 signed; X3 and X13 in progress; D8 abandoned
    assert shown(director) == {
        "prospects_without_document": "0", "offers_in_progress": "2", "potential_fees": eur("5 200"),
        "signed_offers": "2", "signed_budget": eur("4 100"), "refused_offers": "0", "abandoned_prospects": "1",
    }
    director.set_fiscal_year("current")
    assert shown(director) == FIRM_WIDE


# ---------------------------------------------------------------------------
# drill-downs: footers equal the cells, both views


@pytest.mark.parametrize("code", [*TABLE_CELLS, "converted_prospects"])
def test_every_cell_drilldown_adds_up_to_the_cell(director, code):
    director.region.value = "F"
    cell = value(director, code)
    director.open_cell(code)
    assert director.drill_backdrop.layout.display == "flex"
    assert text(director.drill_title.value).startswith(i18n.label(code))
    deal_view = footer(director)
    director.drill_by.value = "document"
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
    assert director.drill_backdrop.layout.display == "none"


def test_drilldown_table_is_sortable_and_readable(director):
    director.region.value = "F"
    director.open_cell("signed_budget")
    director.drill_by.value = "document"
    table = director.drill_table.value
    assert "<th" in table and "Type de document" in table and "Signataire" in table and "Lignes" in table
    assert "Commissariat aux comptes (récurrent)" in table  # the lines of X1
    ids = lambda: re.findall(r'data-col="document_id">(X\d+)<', director.drill_table.value)  # noqa: E731
    assert ids() == ["X1", "X2", "X13", "X9"]  # by deal id (D1, D11, D7), then creation date
    director.drill_sort.value = "total"
    director.drill_order.value = False
    assert ids() == ["X1", "X2", "X9", "X13"]  # 14 500, 3 000, 800, 200
    director.drill_order.value = True
    assert ids() == ["X13", "X9", "X2", "X1"]
    assert "▲" in director.drill_table.value
    director.drill_sort.value = "deal"
    assert ids()[0] == "X1"  # Audit légal Alpha
    assert footer(director)["total"] == eur("18 500")  # sorting never changes the footer


def test_month_and_bucket_drilldowns(director):
    director.region.value = "F"
    director.open_month("2026-03")
    assert text(director.drill_title.value).startswith("Budget signé — mars 2026")
    f = footer(director)
    assert (f["rows"], f["documents"], f["total"]) == ("1", "1", eur("14 500"))
    director.drill_month_kind.value = "won_prospects"
    assert text(director.drill_title.value).startswith("Prospects gagnés — mars 2026")
    assert footer(director)["rows"] == "1"  # D1, converted on 15/03
    director.open_month("2026-05")  # D1's second signature: fees, no new win
    director.drill_month_kind.value = "signed_budget"
    assert footer(director)["total"] == eur("3 000")
    director.drill_month_kind.value = "won_prospects"
    assert footer(director)["rows"] == "0"
    director.open_bucket(">180")
    f = footer(director)
    assert (f["documents"], f["total"]) == ("1", eur("5 000"))
    assert "X3" not in director.drill_table.value  # by deal: D2
    director.drill_by.value = "document"
    assert "X3" in director.drill_table.value


def test_drilldown_follows_the_filters(director):
    director.region.value = "F"
    director.open_cell("signed_offers")
    director.drill_by.value = "document"
    assert footer(director)["rows"] == "4"
    director.collaborator_box.value = "Marie Manager (man1)"
    assert director.drill_state is not None and footer(director)["rows"] == "3"


def test_downloads_hold_the_rows(director):
    director.region.value = "F"
    director.open_cell("signed_budget")
    director.drill_by.value = "document"
    links = director.drill_downloads.value
    m = re.search(r'class="pr-download-csv" download="([^"]+)" href="data:text/csv;charset=utf-8;base64,([^"]+)"', links)
    assert m and m.group(1) == "prospects_signed_budget_document_2026-11-29.csv"
    raw = base64.b64decode(m.group(2)).decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Id document", "Type de document", "Modèle"]
    assert sorted(r[0] for r in rows[1:]) == ["X1", "X13", "X2", "X9"]
    totals = sum(float(r[rows[0].index("Total (€)")].replace(",", ".")) for r in rows[1:])
    assert totals == 18_500
    m = re.search(r'class="pr-download-xlsx" download="([^"]+)" href="data:[^;]+;base64,([^"]+)"', links)
    assert m and m.group(1).endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(m.group(2))))
    sheet = book["Par document"]
    assert sheet.max_row == 5  # header + 4 documents


# ---------------------------------------------------------------------------
# a non-validator, refusals, errors, busy state, English


def test_non_validator_sees_own_deals_and_no_filters(firm):
    d = Dashboard(firm, "staff1")
    found = classes(d.widget)
    assert "pr-filter-fy" in found
    assert not {"pr-filter-region", "pr-filter-agency", "pr-filter-team", "pr-filter-collaborator"} & found
    assert d.region is None and d.collaborator_box is None
    assert "Sophie Collaboratrice" in text(d.header.value) and "Collaborateur" in text(d.header.value)
    # D1 only: X1 (14 500 €) and X2 (3 000 €) signed
    assert shown(d) == {
        "prospects_without_document": "0", "offers_in_progress": "0", "potential_fees": eur("0"),
        "signed_offers": "2", "signed_budget": eur("17 500"), "refused_offers": "0", "abandoned_prospects": "0",
    }
    d.open_cell("signed_offers")
    assert footer(d)["documents"] == "2" and footer(d)["total"] == eur("17 500")


@pytest.mark.parametrize(("login", "reason"), [("gone", "inactif"), ("nobody", "inconnu"), (None, "aucun"), ("", "aucun")])
def test_unknown_or_inactive_login_gets_access_denied_and_no_data(firm, login, reason):
    d = Dashboard(firm, login)
    page = text(all_html(d.widget))
    assert "Accès refusé" in page and reason in page
    assert d.figs is None and not any(c.startswith("pr-cell-") for c in classes(d.widget))
    assert "€" not in page


def test_filters_outside_the_perimeter_are_refused_whatever_the_widget_state(firm):
    d = Dashboard(firm, "part1")
    before = shown(d)
    d.collaborator_box.value = "Marc Manager (man2)"  # not offered: ignored
    assert d.collaborator is None
    d.unit = "R2"  # forged widget state: the view refuses, the screen keeps its figures
    d._guard(d._refresh)()
    assert "Accès refusé" in text(d.message.value) and "hors de votre périmètre" in text(d.message.value)
    assert shown(d) == before


def test_errors_in_callbacks_show_a_short_message_never_a_traceback(director, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(director.view, "figures", broken)
    director.region.value = "F"
    page = all_html(director.widget)
    assert text(director.message.value) == i18n.label("error")
    assert "secret" not in page and "Traceback" not in page and "RuntimeError" not in page
    assert "pr-busy" not in director.widget._dom_classes and director.status.value == ""


def test_busy_state_while_computing(director, monkeypatch):
    seen = []
    real = director.view.figures

    def spy(*args, **kwargs):
        seen.append((text(director.status.value), "pr-busy" in director.widget._dom_classes))
        return real(*args, **kwargs)

    monkeypatch.setattr(director.view, "figures", spy)
    director.region.value = "F"
    assert seen == [("Calcul en cours…", True)]
    assert director.status.value == "" and "pr-busy" not in director.widget._dom_classes


def test_filters_and_fiscal_years_never_query_the_database(firm, monkeypatch):
    """Every filter, drill-down and the N-1 switch compute from the figure store."""
    import prospects.api as api
    import prospects.db as db

    d = Dashboard(firm, "dir")
    builds = []
    real = api.for_viewer
    monkeypatch.setattr(api, "for_viewer", lambda *a, **k: builds.append(1) or real(*a, **k))

    def no_sql(*_a, **_k):
        raise AssertionError("the database was queried after the dashboard opened")

    monkeypatch.setattr(firm.engine, "connect", no_sql)
    monkeypatch.setattr(db, "read_consistent", no_sql)
    d.region.value = "F"
    d.region.value = "R1"
    d.collaborator_box.value = "Marie Manager (man1)"
    d.open_cell("signed_budget")
    d.set_fiscal_year("previous")
    d.set_fiscal_year("current")
    assert builds == []  # the viewer's rows were built once, at opening
    assert d.status.value == ""


def test_english(firm):
    d = Dashboard(firm, "dir", locale="en")
    d.region.value = "F"
    head = text(d.header.value)
    assert "Business follow-up › Prospects" in head and "Director" in head and "2026-11-29" in head
    assert value(d, "signed_budget") == "€18,500"
    assert span(d.cells["signed_budget"].html.value, "pr-tile-label") == "Signed budget"
    assert d.fy.options[0][0].startswith("Current fiscal year")
    d.open_cell("signed_budget")
    assert "deals" in text(d.drill_footer.value) and [lbl for lbl, _ in d.drill_by.options] == ["By deal", "By document"]


def test_dashboard_from_settings_reads_the_environment(firm_url, monkeypatch):
    monkeypatch.setenv("PROSPECTS_DB", firm_url)
    monkeypatch.setenv("PROSPECTS_TODAY", TODAY)
    monkeypatch.setenv("PROSPECTS_LOCALE", "fr")
    root = dashboard_from_settings("staff1")
    assert "pr-cell-signed_offers" in classes(root)
    denied = text(all_html(dashboard_from_settings("nobody")))
    assert "Accès refusé" in denied
    monkeypatch.setenv("PROSPECTS_DB", "sqlite:////nonexistent/folder/x.db")
    broken = all_html(dashboard_from_settings("dir"))
    assert i18n.label("error") in html.unescape(broken) and "Traceback" not in broken


def test_a_warm_kernel_reuses_the_firm_it_opened_only_while_settings_and_data_are_unchanged(tmp_path, monkeypatch):
    import prospects.dashboard as dashboard
    from prospects import api, db
    from prospects.sample import sample_firm

    url = f"sqlite:///{tmp_path / 'sample.db'}"
    db.replace_all(db.make_engine(url), sample_firm())
    monkeypatch.setenv("PROSPECTS_DB", url)
    monkeypatch.setenv("PROSPECTS_TODAY", TODAY)
    monkeypatch.setenv("PROSPECTS_LOCALE", "fr")
    opened = []
    real_open = api.open_firm
    monkeypatch.setattr(api, "open_firm", lambda *a, **k: opened.append(k) or real_open(*a, **k))

    dashboard.warm_up()  # ahead of any viewer: the firm, no viewer
    assert len(opened) == 1 and "firm" in dashboard._WARM
    root = dashboard_from_settings("staff1")  # the viewer's page: the same firm, not opened again
    assert len(opened) == 1 and "pr-cell-signed_offers" in classes(root) and not dashboard._WARM
    dashboard_from_settings("dir")  # a warm firm serves one page only
    assert len(opened) == 2

    dashboard.warm_up()
    monkeypatch.setenv("PROSPECTS_TODAY", "2026-11-30")  # the date changed since
    dashboard_from_settings("dir")
    assert len(opened) == 4

    dashboard.warm_up()
    __import__("time").sleep(1.1)  # extract_info's loaded_at counts seconds
    from prospects import store
    from prospects.config import load_settings

    store.replace_content(db.make_engine(url), sample_firm(), settings=load_settings())  # the data was reloaded since
    dashboard_from_settings("dir")
    assert len(opened) == 6 and not dashboard._WARM


def test_large_drilldown_shows_the_first_rows_and_prepares_files_on_demand(director, monkeypatch):
    import prospects.dashboard as dashboard

    monkeypatch.setattr(dashboard, "MAX_ROWS", 2)
    monkeypatch.setattr(dashboard, "EAGER_DOWNLOAD_ROWS", 3)
    director.region.value = "F"
    director.open_cell("signed_budget")  # 3 deals: files ready
    assert "pr-download-csv" in director.drill_downloads.value
    assert director.drill_prepare.layout.display == "none"
    director.drill_by.value = "document"  # 4 documents: on demand
    assert director.drill_downloads.value == ""
    assert director.drill_prepare.layout.display is None and "4 lignes" in director.drill_prepare.description
    assert len(re.findall(r'<td [^>]*data-col="document_id">', director.drill_table.value)) == 2
    assert "2 premières lignes sur 4" in text(director.drill_note.value)
    assert footer(director)["rows"] == "4" and footer(director)["total"] == eur("18 500")  # the footer counts every row
    director.drill_prepare.click()
    links = director.drill_downloads.value
    assert director.drill_prepare.layout.display == "none"
    payload = re.search(r'class="pr-download-csv"[^>]*base64,([^"]+)"', links).group(1)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(payload).decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 4
    x1 = next(r for r in rows if r["Id document"] == "X1")
    assert "Commissariat aux comptes" in x1["Lignes"]  # every line of every document
    director.drill_sort.value = "total"  # sorting keeps the prepared files
    assert director.drill_downloads.value == links
