"""Every screen and every person (issue 19, points 2 and 3), in Debian's Chromium.

At 390, 768, 1024, 1440 and 1920 px: nothing cut off sideways, no box scrolling sideways but the
chart and a drill-down's table, tiles in 1, 2 or 4 columns, the chart's text at 11 px or
more, a drill-down filling a phone's screen with its close and download buttons in view.
axe-core (shipped inside axe-playwright-python, nothing fetched) on the first page, each
filter state and an open drill-down, in French and English: no critical or serious
violation. By hand: the page's language and title, landmarks and headings, a visible focus
on every kind of clickable thing, the drill-down as a modal dialog, toggles' pressed state.
"""

from __future__ import annotations

import pytest

from . import browser
from .browser import (
    ARTIFACTS,
    WIDTHS,
    axe_report,
    axe_violations,
    focus_shows,
    idle,
    open_dashboard,
    outside_viewport,
    reset_choices,
    serving,
    sideways_scroll,
)

pytestmark = pytest.mark.browser

VIEWERS = {"dir": ("dir", "fr"), "dir-en": ("dir", "en"), "man1": ("man1", "fr"), "staff1": ("staff1", "fr")}
FIRM = {"fr": "Cabinet Exemple (tout le cabinet)", "en": "Cabinet Exemple (whole firm)"}

chromium = browser.chromium  # a fixture: Debian's Chromium for this module


sample_db = browser.sample_db  # a fixture: Cabinet Exemple in this module's own database


@pytest.fixture(scope="module")
def servers(chromium, sample_db):
    url, base = sample_db
    with serving(url, base, VIEWERS) as started:
        yield {name: server.url for name, server in started.items()}


@pytest.fixture
def opened(chromium, sample_db, servers, request):
    """``opened(name, width)``: a page of that server at that width, on "Mes affaires"."""
    contexts = []

    def open_at(name: str, width: int = 1440, height: int = 900):
        reset_choices(sample_db[0], {login for login, _ in VIEWERS.values()})
        locale = VIEWERS[name][1]
        ctx = chromium.new_context(viewport={"width": width, "height": height}, locale="fr-FR" if locale == "fr" else "en-GB")
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        open_dashboard(page, servers[name])
        return page

    yield open_at
    ARTIFACTS.mkdir(exist_ok=True)
    for i, ctx in enumerate(contexts):
        for page in ctx.pages:
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{i}.png"))
        ctx.close()


def choose_firm(page, locale: str = "fr") -> None:
    from playwright.sync_api import expect

    page.select_option(".pr-filter-region select", label=FIRM[locale])
    expect(page.locator(".pr-cell-signed_offers .pr-value")).to_have_text("4")
    idle(page)


def open_drill(page, css: str = ".pr-cell-signed_budget") -> None:
    from playwright.sync_api import expect

    page.click(css)
    expect(page.locator(".pr-drill")).to_be_visible()
    page.wait_for_selector(".pr-drill-footer .pr-foot-total")
    idle(page)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'pr-drill-heading'")


def columns(page) -> int:
    """How many tiles the first row of the grid holds."""
    return page.evaluate("""() => {
      const tiles = [...document.querySelectorAll('.pr-grid > .pr-tile')];
      const top = tiles[0].getBoundingClientRect().top;
      return tiles.filter(t => Math.abs(t.getBoundingClientRect().top - top) < 2).length;
    }""")


def assert_fits(page, where: str) -> None:
    cut = outside_viewport(page)
    assert not cut, f"{where}: cut off sideways: {cut[:10]}"
    scrolls = sideways_scroll(page)
    assert not scrolls, f"{where}: scrolls sideways: {scrolls}"


def assert_accessible(page, where: str) -> None:
    found = axe_violations(page)
    assert not found, f"{where}: axe-core found critical/serious violations:\n{axe_report(found)}"


# ---------------------------------------------------------------------------
# 390 → 1440 px


@pytest.mark.parametrize("width", [390, 1920])
def test_the_busy_pill_stays_on_the_screen(opened, width):
    """"Calcul en cours…" is pinned top right at its own width (its box once spanned the page,
    the pill then sat 18 px off the left edge). Its text is put in place as the kernel does."""
    page = opened("dir", width)
    box = page.evaluate("""() => {
      const status = document.querySelector('.pr-status');
      (status.querySelector('.widget-html-content') || status).innerHTML = '<span class="pr-busy-text">Calcul en cours…</span>';
      const r = document.querySelector('.pr-busy-text').getBoundingClientRect();
      return {left: r.left, right: r.right};
    }""")
    assert box["left"] >= 0 and box["right"] <= width - 10, box
    assert not outside_viewport(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_width_shows_everything_without_cutting_or_scrolling_sideways(opened, width):
    from playwright.sync_api import expect

    page = opened("dir", width)
    assert_fits(page, f"{width} px, Mes affaires")
    choose_firm(page)
    assert_fits(page, f"{width} px, the whole firm")
    # the tiles follow their card's width: at 1024 px the conversion card sits beside them (two columns),
    # at 768 px it goes below and the tiles have the whole width (four)
    expected = {390: 1, 768: 4, 1024: 2, 1440: 4, 1920: 4}[width]
    assert columns(page) == expected, f"{width} px: {columns(page)} tiles a row"
    for css in (".pr-filter-region select", ".pr-filter-collaborator input", ".pr-filter-fy button",
                ".pr-cell-signed_budget .pr-hit", ".pr-cell-abandoned_prospects .pr-hit", ".pr-bucket-180plus .pr-hit"):
        target = page.locator(css).first
        target.scroll_into_view_if_needed()
        expect(target).to_be_visible()
        box = target.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{width} px: {css} at {box}"
    # every figure's text within its tile
    spill = page.evaluate("""() => [...document.querySelectorAll('.pr-tile .pr-value, .pr-tile .pr-tile-label')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)""")
    assert not spill, f"{width} px: text wider than its tile: {spill}"
    # the chart: its own width, scrolling if it must, text never under 11 px on screen
    sizes = page.evaluate("""() => [...document.querySelectorAll('.pr-chart svg text')]
        .map(t => t.getBoundingClientRect().height).filter(h => h > 0)""")
    smallest = page.evaluate("""() => {
      const svg = document.querySelector('.pr-chart svg');
      const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
      return parseFloat(svg.getAttribute('font-size')) * scale;
    }""")
    assert sizes and smallest >= 11, f"{width} px: chart text drawn at {smallest:.1f} px"
    # a drill-down
    open_drill(page)
    assert_fits(page, f"{width} px, a drill-down")
    for css in (".pr-drill-close", ".pr-download-csv", ".pr-download-xlsx"):
        expect(page.locator(css)).to_be_in_viewport()


def on_top(page, css: str) -> bool:
    """Whether the element is what a finger on its middle touches (nothing drawn over it)."""
    return page.locator(css).first.evaluate("""el => {
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return !!hit && (hit === el || el.contains(hit));
    }""")


def test_on_a_phone_the_drill_down_fills_the_screen_and_keeps_its_buttons_in_view(opened):
    from playwright.sync_api import expect

    page = opened("dir", 390, 844)
    choose_firm(page)
    open_drill(page)
    panel = page.locator(".pr-drill").bounding_box()
    assert panel["x"] <= 0.5 and panel["width"] >= 389 and panel["height"] >= 843, panel
    page.set_viewport_size({"width": 390, "height": 520})  # a short screen: more rows than room
    page.wait_for_timeout(200)
    squeezed = page.evaluate("""() => [...document.querySelectorAll('.pr-drill > *, .pr-table-wrap')]
        .filter(c => c.scrollHeight > c.clientHeight + 1).map(c => c.className.split(' ').slice(-1)[0])""")
    assert not squeezed, f"squeezed into a scroll of their own on a short phone screen: {squeezed}"
    for css in (".pr-drill-close", ".pr-download-csv", ".pr-drill-by button", ".pr-drill-sort select",
                ".pr-drill-table th[data-col='total'] button"):
        page.locator(css).first.scroll_into_view_if_needed()
        assert on_top(page, css), f"{css}: covered or squeezed on a short phone screen"
    page.click(".pr-drill-by button:has-text('Par document')")
    page.wait_for_selector(".pr-drill-table th[data-col='document_id']")
    idle(page)
    page.locator(".pr-drill").evaluate("el => el.scrollTo(0, el.scrollHeight)")  # scrolled to the footer
    page.wait_for_timeout(200)
    for css in (".pr-drill-close", ".pr-download-csv", ".pr-download-xlsx"):
        expect(page.locator(css)).to_be_in_viewport()
    expect(page.locator(".pr-drill-footer")).to_be_in_viewport()
    page.click(".pr-drill-close")  # clickable, not covered
    expect(page.locator(".pr-drill")).to_be_hidden()


# ---------------------------------------------------------------------------
# WCAG 2.1 AA: axe-core in both locales, every filter state, a drill-down


@pytest.mark.parametrize(("name", "locale"), [("dir", "fr"), ("dir-en", "en")])
def test_axe_finds_no_critical_or_serious_violation(opened, name, locale):
    from playwright.sync_api import expect

    page = opened(name, 1440)
    assert_accessible(page, f"{locale}: first page")
    page.click(".pr-filter-fy button >> nth=1")  # N-1
    expect(page.locator(".pr-asof")).to_contain_text("2025")
    idle(page)
    assert_accessible(page, f"{locale}: N-1")
    page.click(".pr-filter-fy button >> nth=0")
    expect(page.locator(".pr-asof")).to_contain_text("2026")
    idle(page)
    choose_firm(page, locale)
    assert_accessible(page, f"{locale}: the whole firm")
    page.select_option(".pr-filter-region select", label="Île-de-France")
    expect(page.locator(".pr-period")).to_contain_text("Île-de-France")
    page.select_option(".pr-filter-agency select", label="Paris")  # an agency: the team list appears
    expect(page.locator(".pr-period")).to_contain_text("Paris")
    expect(page.locator(".pr-filter-team")).to_be_visible()
    idle(page)
    assert_accessible(page, f"{locale}: a region and an agency")
    page.fill(".pr-filter-collaborator input", "Nobody at all")
    page.wait_for_selector(".pr-collab-hint .pr-hint")
    idle(page)
    assert_accessible(page, f"{locale}: a name that matches nobody")
    page.fill(".pr-filter-collaborator input", "Marie Manager (man1)")
    expect(page.locator(".pr-period")).to_contain_text("Marie Manager")
    idle(page)
    assert_accessible(page, f"{locale}: a collaborator")
    open_drill(page)
    assert_accessible(page, f"{locale}: a drill-down by deal")
    page.click(".pr-drill-by button >> nth=1")
    page.wait_for_selector(".pr-drill-table th[data-col='document_id']")
    idle(page)
    page.click(".pr-drill-table th[data-col='total'] button")
    page.wait_for_selector(".pr-drill-table th[aria-sort]")
    idle(page)
    assert_accessible(page, f"{locale}: a drill-down by document, sorted")


@pytest.mark.parametrize("name", ["man1", "staff1"])
def test_axe_on_viewers_without_filters_and_on_a_phone(opened, name):
    page = opened(name, 390)
    assert_accessible(page, f"{name} at 390 px")
    open_drill(page, ".pr-cell-signed_offers")
    assert_accessible(page, f"{name} at 390 px, a drill-down")


def test_language_title_landmarks_and_headings(opened):
    page = opened("dir", 1440)
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.title() == "Suivi Business › Prospects"
    assert page.locator("header.pr-banner").count() == 1  # the banner landmark
    assert page.get_attribute(".pr-filters", "role") == "search"
    assert page.get_attribute(".pr-body", "role") == "main"
    headings = page.evaluate("""() => [...document.querySelectorAll('.pr-root h1, .pr-root h2')]
        .map(h => h.tagName + ' ' + h.textContent.trim())""")
    assert headings[:6] == ["H1 Suivi Business › Prospects", "H2 Filtres", "H2 Indicateurs prospects sur l'exercice",
                            "H2 Transformation", "H2 Ancienneté des offres en cours",
                            "H2 Nombre de prospects transformés par date"]
    english = opened("dir-en", 1440)
    assert english.evaluate("document.documentElement.lang") == "en"
    assert english.title() == "Business follow-up › Prospects"


def test_figures_are_named_with_their_value_and_toggles_say_they_are_pressed(opened):
    from playwright.sync_api import expect

    page = opened("dir", 1440)
    choose_firm(page)
    name = page.locator(".pr-cell-signed_offers .pr-hit")
    expect(name).to_have_accessible_name("Offres signées : 4. N-1 à date : 1 (+300\u202f%, en hausse). Ouvrir le détail.")
    current, previous = page.locator(".pr-filter-fy button").all()
    expect(current).to_have_attribute("aria-pressed", "true")
    expect(previous).to_have_attribute("aria-pressed", "false")
    expect(page.locator(".pr-filter-fy")).to_have_attribute("role", "group")
    previous.click()
    expect(previous).to_have_attribute("aria-pressed", "true")
    expect(current).to_have_attribute("aria-pressed", "false")
    idle(page)
    expect(page.locator(".pr-filter-region select")).to_have_accessible_name("Région")


def test_focus_is_visible_on_every_kind_of_clickable_thing(opened):
    page = opened("dir", 1440)
    choose_firm(page)
    for css in (".pr-cell-signed_offers .pr-hit", ".pr-cell-converted_prospects .pr-hit", ".pr-bucket-180plus .pr-hit",
                ".pr-chart .pr-bar[data-month='2026-03']", ".pr-chart .pr-point[data-month='2026-01']",
                ".pr-filter-fy button", ".pr-filter-region select", ".pr-back-to-mine"):
        assert focus_shows(page, css), f"no visible focus on {css}"
    open_drill(page)
    page.click(".pr-drill-by button >> nth=1")
    page.wait_for_selector(".pr-drill-table th[data-col='document_id']")
    idle(page)
    for css in (".pr-drill-table th[data-col='total'] button", ".pr-drill-close", ".pr-download-csv"):
        assert focus_shows(page, css), f"no visible focus on {css}"


def test_the_drill_down_is_a_modal_dialog_for_the_keyboard(opened):
    from playwright.sync_api import expect

    page = opened("dir", 1440)
    choose_firm(page)
    tile = page.locator(".pr-cell-signed_budget .pr-hit")
    tile.focus()
    page.keyboard.press("Enter")
    dialog = page.locator(".pr-drill")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("role", "dialog")
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(dialog).to_have_accessible_name("Budget signé")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'pr-drill-heading'")
    idle(page)
    inside = 0
    for _ in range(25):  # Tab never leaves the dialog
        page.keyboard.press("Tab")
        inside += page.evaluate("() => !!document.activeElement.closest('.pr-drill')")
    assert inside == 25
    for _ in range(30):
        page.keyboard.press("Shift+Tab")
        where = page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
        assert page.evaluate("() => !!document.activeElement.closest('.pr-drill')"), where
    assert page.evaluate("() => document.querySelector('.pr-body').inert")  # the page behind is out of reach
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('.pr-cell-signed_budget')")
    assert not page.evaluate("() => document.querySelector('.pr-body').inert")
    # from a bar of the chart, back to the same bar
    bar = page.locator(".pr-chart .pr-bar[data-month='2026-05']")
    bar.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    idle(page)
    page.click(".pr-drill-close")
    expect(dialog).to_be_hidden()
    page.wait_for_function("() => document.activeElement && document.activeElement.getAttribute('data-month') === '2026-05'")
