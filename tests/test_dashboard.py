"""The dashboard's widgets, in process and without a browser, on Cabinet Exemple (prospects.sample).

This module tests the app's wiring (prospects.dashboard.app); each part has its own module
(tests/test_dashboard_<part>.py). Filters are changed by setting the widgets' values and cells
are clicked through the buttons' own ``click()``, exactly what the browser's messages do; the
figures expected are the hand-computed ones of tests/test_figures.py and tests/test_scoping.py.
"""

from __future__ import annotations

import re

import pytest

from prospects import i18n
from prospects.dashboard import Dashboard
from prospects.figures import TABLE_CELLS

from . import dashboard_helpers as helpers
from .dashboard_helpers import (
    FIRM_WIDE,
    NNBSP,
    TODAY,
    all_html,
    classes,
    eur,
    footer,
    fresh,
    previous,
    shown,
    span,
    text,
    value,
)

director = helpers.director  # a fixture
firm = helpers.firm  # a fixture
firm_url = helpers.firm_url  # a fixture

# ---------------------------------------------------------------------------
# the screen of a validator


def test_header_and_default_view_is_my_deals(director):
    head = text(director.header.value)
    assert "Suivi Business › Prospects" in head
    assert "Claire Directrice" in head and "Directeur" in head and "29/11/2026" in head
    assert director.region.value == "__mine__"
    # the director is on no deal team: "Mes affaires" is empty
    assert set(shown(director).values()) == {"0", eur("0")}
    assert "Mes affaires" in text(director.tiles.period_html.value)
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
    rates = text(director.conversion.rates_html.value)
    assert f"80{NNBSP}%" in rates and f"90{NNBSP}%" in rates and "41 jours" in rates
    over = text(director.conversion.buckets[">180"].html.value)
    assert over == f">180 jours 1 {eur('5 000')}"
    chart = director.chart.svg.value  # inline SVG: a bar per month, its amounts in its tooltip
    assert chart.startswith("<svg") and chart.count('class="pr-bar"') == 11
    assert re.search(r'data-month="2026-03" role="button"[^>]*><title>mars 2026 : Budget signé 14\u202f500\u202f€ \(récurrent', chart)
    assert re.search(r'class="pr-point" data-month="2026-03" role="button"[^>]*><title>mars 2026 : Prospects gagnés 1<', chart)
    # each bar and point opens its month through a button of its own, never shown
    assert list(director.chart.months) == list(director.chart.won) == [f"2026-{m:02d}" for m in range(1, 12)]
    assert director.chart.months["2026-03"]._dom_classes == ("pr-bridge", "pr-month-2026-03")
    assert director.chart.won["2026-03"]._dom_classes == ("pr-bridge", "pr-won-2026-03")


# ---------------------------------------------------------------------------
# drill-downs: footers equal the cells, both views


# ---------------------------------------------------------------------------
# a non-validator, refusals, errors, busy state, English


def test_non_validator_sees_own_deals_and_no_filters(firm):
    d = Dashboard(firm, "staff1")
    found = classes(d.widget)
    assert "pr-filter-fy" in found
    assert not {"pr-filter-region", "pr-filter-agency", "pr-filter-team", "pr-filter-collaborator"} & found
    assert d.region is None and d.filters.collaborator_box is None
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
    d = fresh(firm, "part1")
    before = shown(d)
    d.filters.collaborator_box.value = "Marc Manager (man2)"  # not offered: ignored
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
    """Every filter, drill-down and the N-1 switch compute from the figure store; the only
    database access is the viewer's choice, saved (one small write) when it changes."""
    import prospects.api as api
    import prospects.db as db

    d = fresh(firm, "dir")
    builds = []
    real = api.for_viewer
    monkeypatch.setattr(api, "for_viewer", lambda *a, **k: builds.append(1) or real(*a, **k))

    def no_sql(*_a, **_k):
        raise AssertionError("the database was queried after the dashboard opened")

    saved = []
    stamp = db.read_version(firm.engine)
    monkeypatch.setattr(db, "read_version", lambda _engine: stamp)  # the version stamp: a view's one small read
    monkeypatch.setattr(firm.engine, "connect", no_sql)
    monkeypatch.setattr(db, "read_consistent", no_sql)
    monkeypatch.setattr(db, "save_dashboard_choice", lambda _engine, *choice: saved.append(choice))
    d.region.value = "F"
    assert shown(d) == FIRM_WIDE
    d.region.value = "R1"
    d.filters.collaborator_box.value = "Marie Manager (man1)"
    d.open_cell("signed_budget")
    d.set_fiscal_year("previous")
    d.set_fiscal_year("current")
    assert builds == []  # the viewer's rows were built once, at opening
    assert d.status.value == "" and d.message.value == ""
    assert saved == [("dir", "F", None), ("dir", "R1", None), ("dir", "R1", "man1")]


def test_english(firm):
    d = fresh(firm, "dir", locale="en")
    d.region.value = "F"
    head = text(d.header.value)
    assert "Business follow-up › Prospects" in head and "Director" in head and "2026-11-29" in head
    assert value(d, "signed_budget") == "€18,500"
    assert span(d.cells["signed_budget"].html.value, "pr-tile-label") == "Signed budget"
    assert d.filters.fy.options[0][0].startswith("Current fiscal year")
    d.open_cell("signed_budget")
    assert "deals" in text(d.drill.footer.value) and [lbl for lbl, _ in d.drill.by.options] == ["By deal", "By document"]


def test_the_stylesheet_is_a_file_shipped_with_the_package(director):
    from importlib.resources import files

    css = files("prospects.dashboard").joinpath("dashboard.css").read_text(encoding="utf-8")
    assert ".pr-root" in css and "<style" not in css
    assert director.style.value == f"<style>\n{css}</style>\n"  # the page gets the file as it is


# ---------------------------------------------------------------------------
# the scope: an empty "Mes affaires", the way back, the choice remembered per login


def test_an_empty_my_deals_says_so_and_switches_to_the_perimeter_in_one_click(firm):
    d = fresh(firm, "dir")  # a firm-wide director on no deal's team
    assert d.region.value == "__mine__" and set(shown(d).values()) == {"0", eur("0")}  # own deals first, as the seed says
    f = d.filters
    assert text(f.notice.value) == "Vous n'êtes dans l'équipe d'aucune affaire de l'exercice : « Mes affaires » est vide."
    assert f.switch.layout.display is None and f.switch.description == "Voir Cabinet Exemple (tout le cabinet)"
    assert f.back.layout.display == "none"
    f.switch.click()
    assert d.unit == "F" and d.region.value == "F" and shown(d) == FIRM_WIDE
    assert f.switch.layout.display == "none" and f.notice.value == ""
    assert f.back.layout.display is None and f.back.description == "Revenir à Mes affaires"
    d.filters.collaborator_box.value = "Marie Manager (man1)"
    f.back.click()  # the visible way back: no unit, nobody
    assert (d.unit, d.collaborator, d.region.value, d.filters.collaborator_box.value) == (None, None, "__mine__", "")
    assert f.switch.layout.display is None and f.back.layout.display == "none"


def test_someone_on_deals_gets_no_switch(firm):
    d = fresh(firm, "part1")
    assert d.filters.notice.value == "" and d.filters.switch.layout.display == "none"


def test_the_last_choice_is_remembered_per_login_and_rechecked_at_every_open(firm):
    from prospects import db

    d = fresh(firm, "part1")
    d.region.value = "R1"
    d.filters.agency.value = "A1"
    d.filters.collaborator_box.value = "Marie Manager (man1)"
    assert db.read_dashboard_choice(firm.engine, "part1") == ("A1", "man1")
    again = Dashboard(firm, "part1")  # the next visit
    assert (again.unit, again.collaborator) == ("A1", "man1")
    assert (again.region.value, again.filters.agency.value) == ("R1", "A1")
    assert again.filters.collaborator_box.value == "Marie Manager (man1)"
    assert text(again.filters.notice.value) == "Votre dernier choix est rétabli : Paris · Marie Manager."
    assert shown(again) == shown(d) and again.filters.back.layout.display is None
    assert db.read_dashboard_choice(firm.engine, "dir") != ("A1", "man1")  # per login


def test_a_remembered_choice_outside_the_perimeter_falls_back_to_my_deals_and_says_so(firm):
    from prospects import db

    for forged in (("R2", None), (None, "man2"), ("x'); DROP TABLE deals; --", None), ("F", "nobody")):
        db.save_dashboard_choice(firm.engine, "part1", *forged)  # R2 and man2 are outside part1's perimeter
        d = Dashboard(firm, "part1")
        assert (d.unit, d.collaborator, d.region.value) == (None, None, "__mine__")
        assert text(d.filters.notice.value) == "Votre dernier choix n'est plus dans votre périmètre : retour à « Mes affaires »."
        assert d.message.value == ""
        assert db.read_dashboard_choice(firm.engine, "part1") == (None, None)  # said once, then forgotten
        assert text(Dashboard(firm, "part1").filters.notice.value) == ""


def test_a_database_that_cannot_keep_choices_never_stops_the_dashboard(firm, monkeypatch, caplog):
    from prospects import db

    def refused(*_a, **_k):
        raise db.DatabaseError("cannot write to the database: read-only")

    from prospects.dashboard.app import log

    monkeypatch.setattr(log, "propagate", True)  # a kernel's logger writes to stderr only; here, to caplog too
    monkeypatch.setattr(db, "save_dashboard_choice", refused)
    monkeypatch.setattr(db, "read_dashboard_choice", refused)
    d = Dashboard(firm, "dir")
    d.region.value = "F"
    assert shown(d) == FIRM_WIDE and d.message.value == ""
    assert "could not be saved" in caplog.text and "could not be read" in caplog.text


# ---------------------------------------------------------------------------
# the firm's currency and the extract's date (issue 21, points 6 and 10)


def _firm_with(tmp_path, monkeypatch, *, currency: str = "EUR", info: dict | None = None, today: str = TODAY):
    """Cabinet Exemple in a database of its own, opened with the settings ``currency`` and ``today``."""
    from prospects import db
    from prospects.api import open_firm
    from prospects.sample import sample_firm

    url = f"sqlite:///{tmp_path / 'firm.db'}"
    db.replace_all(db.make_engine(url), sample_firm(), info=info)
    monkeypatch.setenv("PROSPECTS_CURRENCY", currency)
    return open_firm(url, today=today)


@pytest.mark.parametrize(
    ("currency", "locale", "budget", "recurring", "x1_total"),
    [
        ("EUR", "fr", f"18{NNBSP}500{NNBSP}€", f"15{NNBSP}200{NNBSP}€", f"14{NNBSP}500{NNBSP}€"),
        ("USD", "fr", f"18{NNBSP}500{NNBSP}$US", f"15{NNBSP}200{NNBSP}$US", f"14{NNBSP}500{NNBSP}$US"),
        ("USD", "en", "$18,500", "$15,200", "$14,500"),
        ("CHF", "en", "CHF\u00a018,500", "CHF\u00a015,200", "CHF\u00a014,500"),
        ("JPY", "en", "¥1,850,000", "¥1,520,000", "¥1,450,000"),  # whole yen in the _cents columns
    ],
)
def test_every_amount_on_screen_is_in_the_firms_currency(tmp_path, monkeypatch, currency, locale, budget, recurring,
                                                         x1_total):
    firm = _firm_with(tmp_path, monkeypatch, currency=currency)
    d = Dashboard(firm, "dir", locale)
    d.region.value = "F"
    assert value(d, "signed_budget") == budget
    assert span(d.cells["signed_budget"].html.value, "pr-split-recurring") == recurring
    assert budget in d.cells["signed_budget"].button.description
    chart = d.chart.svg.value
    march = {"fr": "mars 2026 : Budget signé ", "en": "Mar 2026: Signed budget "}[locale]
    assert march + x1_total in chart and (currency == "EUR" or "€" not in chart)
    d.open_cell("signed_budget")
    assert footer(d)["total"] == budget
    d.drill.by.value = "document"
    table = text(d.drill.table.value)
    symbol = i18n.currency_symbol(locale, currency)
    assert f"Total ({symbol})" in table and x1_total in table
    page = all_html(d.widget)
    assert currency == "EUR" or "€" not in page


def test_the_header_says_the_extracts_date(tmp_path, monkeypatch):
    firm = _firm_with(tmp_path, monkeypatch, info={"export_date": "2026-11-28"})
    d = Dashboard(firm, "dir", "fr")
    assert span(d.header.value, "pr-data-date") == "données du 28/11/2026"
    assert "pr-stale" not in d.header.value  # one day old: not flagged
    en = Dashboard(firm, "dir", "en")
    assert span(en.header.value, "pr-data-date") == "data of 2026-11-28"


def test_the_header_says_plainly_when_the_data_is_old(tmp_path, monkeypatch):
    monkeypatch.setenv("PROSPECTS_STALE_AFTER_DAYS", "5")
    firm = _firm_with(tmp_path, monkeypatch, info={"export_date": "2026-11-20"})
    d = Dashboard(firm, "dir", "fr")
    assert span(d.header.value, "pr-data-date") == "données du 20/11/2026"
    warning = text(span(d.header.value, "pr-stale"))
    assert warning == "⚠ Données anciennes : extraites il y a 9 jours (au-delà de 5 jours, elles sont signalées)"
    assert 'class="pr-stale" role="note"' in d.header.value  # words and a sign, not colour alone


def test_without_an_export_date_the_header_gives_the_load_time(tmp_path, monkeypatch):
    import datetime as dt

    firm = _firm_with(tmp_path, monkeypatch, today=dt.date.today().isoformat())
    loaded = dt.datetime.fromisoformat(firm.extract_info["loaded_at"]).astimezone()
    d = Dashboard(firm, "dir", "fr")
    assert span(d.header.value, "pr-data-date") == f"données du {loaded:%d/%m/%Y} à {loaded:%H:%M}"
    assert "pr-stale" not in d.header.value
