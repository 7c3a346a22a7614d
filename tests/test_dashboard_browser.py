"""The dashboard in a real browser: `prospects serve` (Voilà) on loopback, driven by Debian's Chromium.

Cabinet Exemple (prospects.sample) is written to a temporary SQLite database and served
with today = 29/11/2026, one server per viewer (``--auth local`` has one fixed viewer).
The figures expected on screen are the hand-computed ones of tests/test_figures.py and
tests/test_scoping.py. Screenshots go to test-artifacts/ (kept by CI as artifacts).

Outside CI the module skips, loudly, when /usr/bin/chromium is missing; in CI (``CI=true``)
a missing browser is a failure. The browser is never downloaded.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest

from . import browser
from .browser import ARTIFACTS, eur, idle, open_dashboard, reset_choices, serving

pytestmark = pytest.mark.browser

TODAY = "2026-11-29"
VIEWERS = ("dir", "part1", "staff1", "nobody")

FIRM_WIDE = {
    "prospects_without_document": "1",
    "offers_in_progress": "1",
    "potential_fees": eur("5 000"),
    "signed_offers": "4",
    "signed_budget": eur("18 500"),
    "refused_offers": "1",
    "abandoned_prospects": "1",
}
CELLS = tuple(FIRM_WIDE)


# ---------------------------------------------------------------------------
# fixtures: the browser, the servers, a page per test

chromium = browser.chromium  # a fixture: Debian's Chromium for this module


sample_db = browser.sample_db  # a fixture: Cabinet Exemple in this module's own database


@pytest.fixture(scope="module")
def servers(chromium, sample_db):
    """One real `prospects serve --auth local --user LOGIN` per viewer, started together."""
    url, base = sample_db
    with serving(url, base, {login: (login, "fr") for login in VIEWERS}) as started:
        yield started


@pytest.fixture
def page(chromium, sample_db, request):
    reset_choices(sample_db[0], VIEWERS)  # every test opens on "Mes affaires", as on a first visit
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, locale="fr-FR")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


# ---------------------------------------------------------------------------
# helpers


def cell(page, code: str) -> str:
    return page.inner_text(f".pr-cell-{code} .pr-value").strip()


def expect_cells(page, expected: dict[str, str]) -> None:
    from playwright.sync_api import expect

    for code, text in expected.items():
        expect(page.locator(f".pr-cell-{code} .pr-value")).to_have_text(text)
    idle(page)


def footer(page) -> dict[str, str]:
    out = {}
    for key in ("rows", "documents", "recurring", "one_off", "total"):
        out[key] = page.inner_text(f".pr-drill-footer .pr-foot-{key}").strip()
    return out


def table_column(page, col: str) -> list[str]:
    return [t.strip() for t in page.locator(f".pr-drill-table td[data-col='{col}']").all_inner_texts()]


def click_bar(page, month: str) -> None:
    """Click a month's bar near its foot (its middle may be under the point of the won line)."""
    bar = page.locator(f".pr-chart .pr-bar[data-month='{month}']")
    box = bar.bounding_box()
    bar.click(position={"x": box["width"] / 2, "y": box["height"] - 4})


def choose_region(page, label: str) -> None:
    page.select_option(".pr-filter-region select", label=label)


def choose_collaborator(page, option: str) -> None:
    page.fill(".pr-filter-collaborator input", option)


def by_document(page) -> None:
    from playwright.sync_api import expect

    page.click(".pr-drill-by button:has-text('Par document')")
    expect(page.locator(".pr-drill-table th[data-col='document_id']")).to_have_count(1)
    idle(page)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


# ---------------------------------------------------------------------------
# the tests


def test_validator_figures_previous_year_and_fiscal_year_switch(page, servers):
    from playwright.sync_api import expect

    open_dashboard(page, servers["dir"].url)
    header = page.inner_text(".pr-header")
    assert "Suivi Business › Prospects" in header
    assert "Claire Directrice" in header and "Directeur" in header and "au 29/11/2026" in header
    for css in (".pr-filter-fy", ".pr-filter-region", ".pr-filter-collaborator"):
        expect(page.locator(css)).to_be_visible()
    for css in (".pr-filter-agency", ".pr-filter-team"):  # nothing to choose under "Mes affaires": not shown
        expect(page.locator(css)).to_be_hidden()
    # "Mes affaires" by default: the director is on no deal team
    assert {cell(page, c) for c in CELLS} == {"0", eur("0")}
    choose_region(page, "Cabinet Exemple (tout le cabinet)")
    expect_cells(page, FIRM_WIDE)
    expect(page.locator(".pr-filter-agency")).to_be_visible()
    assert page.inner_text(".pr-cell-signed_budget .pr-split-recurring").strip() == eur("15 200")
    assert page.inner_text(".pr-cell-signed_budget .pr-split-one_off").strip() == eur("3 300")
    assert page.inner_text(".pr-cell-signed_offers .pr-prev-value").strip() == "1"
    assert page.inner_text(".pr-cell-signed_budget .pr-prev-value").strip() == eur("4 000")
    # the definition is on hover (title of the clickable layer)
    title = page.get_attribute(".pr-cell-signed_offers button", "title")
    assert title and title.startswith("Offres au statut signé")
    assert "Nombre de prospects transformés par date" in page.inner_text(".pr-chart-card")
    assert page.locator(".pr-chart svg.pr-chart-svg").count() == 1  # drawn inline, without matplotlib
    assert page.locator(".pr-chart svg .pr-bar").count() == 11  # January to November 2026
    shot(page, "dashboard-validator")
    # N-1: fiscal year 2025, to 31/12/2025
    page.click(".pr-filter-fy button:has-text('Exercice N-1')")
    expect_cells(page, {
        "prospects_without_document": "0", "offers_in_progress": "2", "potential_fees": eur("5 200"),
        "signed_offers": "2", "signed_budget": eur("4 100"), "refused_offers": "0", "abandoned_prospects": "1",
    })
    assert "au 31/12/2025" in page.inner_text(".pr-header")
    expect(page.locator(".pr-chart .pr-bar[data-month='2025-12']")).to_be_visible()
    page.click(".pr-filter-fy button:has-text('Exercice en cours')")
    expect_cells(page, FIRM_WIDE)


def test_region_then_collaborator_change_the_figures(page, servers):
    from playwright.sync_api import expect

    open_dashboard(page, servers["part1"].url)
    # part1's own deals: X3 in progress; not the confidential D6 (not on its team)
    assert cell(page, "offers_in_progress") == "1" and cell(page, "signed_offers") == "4"
    options = [t.replace("\xa0", " ") for t in page.locator(".pr-filter-region option").all_inner_texts()]
    assert options == ["Mes affaires", "Île-de-France"]  # the perimeter only
    choose_region(page, "Île-de-France")
    expect_cells(page, {
        "prospects_without_document": "1", "offers_in_progress": "2", "potential_fees": eur("6 500"),
        "signed_offers": "4", "signed_budget": eur("18 500"), "refused_offers": "1", "abandoned_prospects": "0",
    })
    expect(page.locator(".pr-filter-agency option")).to_have_text(["Toutes les agences", "Paris"])
    choose_collaborator(page, "Marie Manager (man1)")
    # man1's deals in the region: D1, D2, D7 and the confidential D6 (part1 is in its group)
    expect_cells(page, {
        "prospects_without_document": "0", "offers_in_progress": "2", "potential_fees": eur("6 500"),
        "signed_offers": "3", "signed_budget": eur("18 300"), "refused_offers": "1", "abandoned_prospects": "0",
    })
    assert "Marie Manager" in page.inner_text(".pr-period")
    shot(page, "dashboard-region-collaborator")
    page.click(".pr-filter-collaborator-clear")
    expect(page.locator(".pr-cell-signed_offers .pr-value")).to_have_text("4")


def test_cell_drilldown_both_views_sort_and_downloads(page, servers):
    from playwright.sync_api import expect

    open_dashboard(page, servers["dir"].url)
    choose_region(page, "Cabinet Exemple (tout le cabinet)")
    expect_cells(page, FIRM_WIDE)
    page.click(".pr-cell-signed_budget")
    expect(page.locator(".pr-drill")).to_be_visible()
    expect(page.locator(".pr-drill-title")).to_contain_text("Budget signé")
    idle(page)
    # par affaire: D1 (two documents), D7, D11 — the documents and amounts of the cell
    assert footer(page) == {"rows": "3", "documents": "4", "recurring": eur("15 200"), "one_off": eur("3 300"),
                            "total": eur("18 500")}
    assert sorted(table_column(page, "deal_id")) == ["D1", "D11", "D7"]
    shot(page, "drilldown-by-deal")
    by_document(page)
    assert footer(page)["rows"] == "4" and footer(page)["total"] == eur("18 500")
    assert table_column(page, "document_id") == ["X1", "X2", "X13", "X9"]
    # sort by total, descending
    page.select_option(".pr-drill-sort select", label="Total (€)")
    expect(page.locator(".pr-drill-table th.pr-sorted")).to_have_text("Total (€) ▲")
    assert table_column(page, "document_id") == ["X13", "X9", "X2", "X1"]
    page.click(".pr-drill-order button:has-text('↓')")
    expect(page.locator(".pr-drill-table th.pr-sorted")).to_have_text("Total (€) ▼")
    idle(page)
    assert table_column(page, "total") == [eur("14 500"), eur("3 000"), eur("800"), eur("200")]
    shot(page, "drilldown-by-document")
    # CSV: the same rows, French headers
    with page.expect_download() as info:
        page.click(".pr-download-csv")
    download = info.value
    assert download.suggested_filename == "prospects_signed_budget_document_2026-11-29.csv"
    raw = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw), delimiter=";"))
    assert [r["Id document"] for r in rows] == ["X1", "X2", "X9", "X13"]  # the order on screen
    heads = page.locator(".pr-drill-table th").all_inner_texts()
    assert list(rows[0]) == [h.replace(" ▼", "").strip() for h in heads]  # the columns on screen
    assert sum(float(r["Total (€)"].replace(",", ".")) for r in rows) == 18_500
    assert sum(float(r["Récurrent (€)"].replace(",", ".")) for r in rows) == 15_200
    with page.expect_download() as info:
        page.click(".pr-download-xlsx")
    assert info.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert book["Par document"].max_row == 1 + 4
    assert [r[0] for r in book["Par document"].values][1:] == ["X1", "X2", "X9", "X13"]
    # a deal cell: its deals
    page.click(".pr-drill-close")
    expect(page.locator(".pr-drill")).to_be_hidden()
    page.click(".pr-cell-prospects_without_document")
    expect(page.locator(".pr-drill-title")).to_contain_text("Prospect sans document")
    idle(page)
    assert footer(page)["rows"] == "1" and table_column(page, "deal_id") == ["D3"]


@pytest.mark.parametrize(("code", "documents", "total", "words"), [
    # D4, abandoned 10/09/2026: X5 (1 500 €) was at stake; X6, cancelled before, does not add
    ("abandoned_prospects", "1", "1 500", "honoraires en jeu à l'abandon"),
    # D1, D7, D11 with the offers they signed up to the as-of date (= the signed budget here)
    ("converted_prospects", "4", "18 500", "honoraires signés de ces affaires"),
])
def test_a_deal_cell_footer_equals_the_cell_and_says_what_its_amounts_are(page, servers, code, documents, total, words):
    from playwright.sync_api import expect

    open_dashboard(page, servers["dir"].url)
    choose_region(page, "Cabinet Exemple (tout le cabinet)")
    expect_cells(page, FIRM_WIDE)
    shown = page.inner_text(f".pr-cell-{code} .pr-value, .pr-cell-{code} .pr-value-small").strip()
    page.click(f".pr-cell-{code}")
    expect(page.locator(".pr-drill-footer")).to_contain_text(words)
    idle(page)
    f = footer(page)
    assert (f["rows"], f["documents"], f["total"]) == (shown, documents, eur(total))
    assert len(table_column(page, "deal_id")) == int(shown)
    expect(page.locator(".pr-drill-footer .pr-foot-words")).to_be_visible()
    shot(page, f"drilldown-{code}")
    by_document(page)
    assert footer(page)["rows"] == documents and footer(page)["total"] == eur(total)


def test_a_bar_of_the_chart_opens_its_month(page, servers):
    from playwright.sync_api import expect

    open_dashboard(page, servers["dir"].url)
    choose_region(page, "Cabinet Exemple (tout le cabinet)")
    expect_cells(page, FIRM_WIDE)
    click_bar(page, "2026-03")
    expect(page.locator(".pr-drill-title")).to_contain_text("Budget signé — mars 2026")
    idle(page)
    f = footer(page)
    assert (f["rows"], f["documents"], f["total"]) == ("1", "1", eur("14 500"))
    page.click(".pr-drill-month-kind button:has-text('Prospects gagnés du mois')")
    expect(page.locator(".pr-drill-title")).to_contain_text("Prospects gagnés — mars 2026")
    idle(page)
    assert footer(page)["rows"] == "1" and table_column(page, "deal_id") == ["D1"]
    shot(page, "drilldown-month")


def test_non_validator_has_no_organisation_or_collaborator_filter(page, servers):
    from playwright.sync_api import expect

    open_dashboard(page, servers["staff1"].url)
    assert "Sophie Collaboratrice" in page.inner_text(".pr-header")
    expect(page.locator(".pr-filter-fy")).to_be_visible()
    assert page.locator(".pr-filter-region").count() == 0
    assert page.locator(".pr-filter-collaborator").count() == 0
    assert "Organisation" not in page.inner_text(".pr-filters")
    # D1 only: X1 and X2 signed
    expect_cells(page, {
        "prospects_without_document": "0", "offers_in_progress": "0", "potential_fees": eur("0"),
        "signed_offers": "2", "signed_budget": eur("17 500"), "refused_offers": "0", "abandoned_prospects": "0",
    })
    page.click(".pr-cell-signed_offers")
    expect(page.locator(".pr-drill-title")).to_contain_text("Offres signées")
    idle(page)
    assert footer(page)["documents"] == "2" and footer(page)["total"] == eur("17 500")
    by_document(page)
    assert table_column(page, "document_id") == ["X1", "X2"]
    shot(page, "dashboard-non-validator")


def test_unknown_login_gets_access_denied_and_no_data(page, servers):
    open_dashboard(page, servers["nobody"].url)
    body = page.inner_text("body")
    assert "Accès refusé" in body and "inconnu" in body
    assert page.locator("[class*='pr-cell-']").count() == 0
    assert "€" not in body


def test_the_url_changes_nothing_and_shows_no_source(page, servers):
    open_dashboard(page, servers["dir"].url + "?user=staff1&login=staff1&template=reveal&theme=dark")
    assert "Claire Directrice" in page.inner_text(".pr-header")
    assert page.locator(".pr-filter-region").count() == 1
    content = page.content()
    assert "dashboard_from_settings" not in content and "login = " not in content  # sources stripped
    assert "Traceback" not in content
    assert not re.search(r"reveal\.js|reveal\.css", content)


# ---------------------------------------------------------------------------
# what people expect of a dashboard (issue 19, point 4)


def test_a_point_of_the_won_line_opens_the_months_prospects_won(page, servers):
    from playwright.sync_api import expect

    open_dashboard(page, servers["dir"].url)
    choose_region(page, "Cabinet Exemple (tout le cabinet)")
    expect_cells(page, FIRM_WIDE)
    page.click(".pr-chart .pr-point[data-month='2026-03']")
    expect(page.locator(".pr-drill-title")).to_contain_text("Prospects gagnés — mars 2026")
    idle(page)
    assert footer(page)["rows"] == "1" and table_column(page, "deal_id") == ["D1"]
    page.keyboard.press("Escape")
    expect(page.locator(".pr-drill")).to_be_hidden()
    # with a keyboard: one tab stop in the chart, arrows move between months, Enter opens
    bar = page.locator(".pr-chart .pr-bar[data-month='2026-01']")
    bar.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('data-month')") == "2026-03"
    assert page.locator(".pr-chart [tabindex='0']").count() == 1
    page.keyboard.press("ArrowUp")  # from the bar to the point of the same month
    assert page.evaluate("document.activeElement.getAttribute('class')") == "pr-point"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(".pr-drill-title")).to_contain_text("Budget signé — mars 2026")
    idle(page)
    assert footer(page)["total"] == eur("14 500")


def test_a_column_header_sorts_and_shows_its_direction(page, servers):
    from playwright.sync_api import expect

    open_dashboard(page, servers["dir"].url)
    choose_region(page, "Cabinet Exemple (tout le cabinet)")
    expect_cells(page, FIRM_WIDE)
    page.click(".pr-cell-signed_budget")
    idle(page)
    by_document(page)
    header = page.locator(".pr-drill-table th[data-col='total']")
    assert header.get_attribute("aria-sort") is None
    page.click(".pr-drill-table th[data-col='total'] button")
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(header).to_have_text("Total (€) ▲")
    idle(page)
    assert table_column(page, "document_id") == ["X13", "X9", "X2", "X1"]
    assert page.input_value(".pr-drill-sort select") == "Total (€)"  # the select (for touch) follows
    page.locator(".pr-drill-table th[data-col='total'] button").press("Enter")  # a keyboard too
    expect(header).to_have_attribute("aria-sort", "descending")
    idle(page)
    assert table_column(page, "total") == [eur("14 500"), eur("3 000"), eur("800"), eur("200")]
    assert page.evaluate("document.activeElement.getAttribute('data-col')") == "total"  # focus stays on the header


def test_collaborators_say_what_matches_and_drop_an_old_choice(page, servers):
    from playwright.sync_api import expect

    open_dashboard(page, servers["dir"].url)
    choose_region(page, "Cabinet Exemple (tout le cabinet)")
    expect_cells(page, FIRM_WIDE)
    options = page.locator(".pr-filter-collaborator datalist option")
    assert options.count() == 7  # the matches offered while typing (the browser filters them)
    assert page.locator(".pr-filter-collaborator label").inner_text() == "Collaborateurs"
    choose_collaborator(page, "Marie Manager (man1)")
    expect(page.locator(".pr-cell-signed_offers .pr-value")).to_have_text("3")
    page.fill(".pr-filter-collaborator input", "Marie Manager (man")  # someone else is being typed
    expect(page.locator(".pr-collab-hint")).to_have_text(
        "1 collaborateur correspond à « Marie Manager (man » : choisissez-le dans la liste.")
    expect_cells(page, FIRM_WIDE)  # Marie's figures are not kept behind another name
    page.fill(".pr-filter-collaborator input", "Personne")
    expect(page.locator(".pr-collab-hint")).to_have_text("Aucun collaborateur ne correspond à « Personne ».")
    assert "Marie Manager" not in page.inner_text(".pr-period")


def test_an_empty_my_deals_switches_to_the_perimeter_and_the_choice_is_remembered(page, servers, chromium):
    from playwright.sync_api import expect

    open_dashboard(page, servers["dir"].url)  # on no deal's team: "Mes affaires" first, and empty
    expect(page.locator(".pr-notice")).to_contain_text("« Mes affaires » est vide")
    page.click(".pr-switch-perimeter:has-text('Voir Cabinet Exemple (tout le cabinet)')")
    expect_cells(page, FIRM_WIDE)
    expect(page.locator(".pr-back-to-mine")).to_be_visible()
    # the next visit opens where the viewer left
    again = page.context.new_page()
    open_dashboard(again, servers["dir"].url)
    expect(again.locator(".pr-notice")).to_contain_text("Votre dernier choix est rétabli : Cabinet Exemple.")
    expect_cells(again, FIRM_WIDE)
    assert again.input_value(".pr-filter-region select") == "Cabinet Exemple (tout le cabinet)"
    again.click(".pr-back-to-mine")  # the visible way back
    expect(again.locator(".pr-cell-signed_offers .pr-value")).to_have_text("0")
    assert again.input_value(".pr-filter-region select") == "Mes affaires"
    again.close()


def test_a_dead_kernel_is_said_within_five_seconds_of_the_next_click(page, servers):
    import os
    import signal
    import time

    from playwright.sync_api import expect

    from .browser import kernel_id

    server = servers["staff1"]
    open_dashboard(page, server.url)
    kernel = server.kernel_ids()[kernel_id(page.content())]
    os.kill(kernel, signal.SIGKILL)
    time.sleep(0.5)
    assert page.locator(".pr-page-error").count() == 0 or page.locator(".pr-page-error").is_visible()
    start = time.monotonic()
    page.click(".pr-cell-signed_offers")
    expect(page.locator(".pr-page-error")).to_have_text(
        "La connexion au tableau de bord a été interrompue, rechargez la page", timeout=5_000)
    assert time.monotonic() - start < 5
    assert page.locator(".pr-page-error").get_attribute("role") == "alert"


def test_a_kernel_that_does_not_answer_is_said_within_five_seconds(page, servers):
    import os
    import signal
    import time

    from playwright.sync_api import expect

    from .browser import kernel_id

    server = servers["part1"]
    open_dashboard(page, server.url)
    kernel = server.kernel_ids()[kernel_id(page.content())]
    os.kill(kernel, signal.SIGSTOP)  # alive but frozen: the click gets no answer
    try:
        start = time.monotonic()
        page.click(".pr-cell-signed_offers")
        expect(page.locator(".pr-page-error")).to_be_visible(timeout=5_000)
        assert time.monotonic() - start < 5
    finally:
        os.kill(kernel, signal.SIGCONT)


# ---------------------------------------------------------------------------
# the firm's currency and the extract's date (issue 21, points 6 and 10)


def test_a_dollar_firm_with_old_data_sees_dollars_and_a_plain_warning(chromium, tmp_path):
    """A firm working in dollars (PROSPECTS_CURRENCY=USD), in English, whose export is 9 days old."""
    from playwright.sync_api import expect

    from prospects import db
    from prospects.sample import sample_firm

    from .browser import Serve, axe_report, axe_violations

    url = f"sqlite:///{tmp_path / 'dollars.db'}"
    db.replace_all(db.make_engine(url), sample_firm(), info={"export_date": "2026-11-20"})
    server = Serve(url, tmp_path / "serve-usd.log", "--auth", "local", "--user", "dir", today=TODAY,
                   env={"PROSPECTS_LOCALE": "en", "PROSPECTS_CURRENCY": "USD", "PROSPECTS_STALE_AFTER_DAYS": "3"})
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    try:
        server.start()
        server.wait(timeout=180)
        page = context.new_page()
        page.set_default_timeout(30_000)
        reset_choices(url, ["dir"])
        open_dashboard(page, server.url)
        assert page.inner_text(".pr-header .pr-data-date").strip() == "data of 2026-11-20"
        stale = page.locator(".pr-header .pr-stale")
        expect(stale).to_be_visible()
        assert stale.inner_text().strip() == "⚠ Old data: extracted 9 days ago (data older than 3 days is flagged)"
        assert stale.get_attribute("role") == "note"
        choose_region(page, "Cabinet Exemple (whole firm)")
        expect(page.locator(".pr-cell-signed_budget .pr-value")).to_have_text("$18,500")
        assert page.inner_text(".pr-cell-signed_budget .pr-split-recurring").strip() == "$15,200"
        assert page.inner_text(".pr-cell-potential_fees .pr-value").strip() == "$5,000"
        assert "€" not in page.inner_text(".pr-root")
        idle(page)  # not while the page is dimmed by "Calcul en cours…"
        found = axe_violations(page)
        assert not found, f"axe-core found critical/serious violations:\n{axe_report(found)}"
        page.set_viewport_size({"width": 390, "height": 900})  # a phone: the warning wraps, nothing scrolls sideways
        idle(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = stale.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-usd-old-data.png"), full_page=True)
    finally:
        context.close()
        server.stop()
