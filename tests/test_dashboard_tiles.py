"""The figure tiles (prospects.dashboard.tiles) and the conversion card beside them
(prospects.dashboard.conversion): each figure with N-1 and its change, told by an arrow and
words as well as colour, and an accessible name holding the figure, its value, N-1 and the change."""

from __future__ import annotations

from prospects.figures import TABLE_CELLS

from . import dashboard_helpers as helpers
from .dashboard_helpers import NNBSP, eur, fresh, text

director = helpers.director  # a fixture
firm = helpers.firm  # a fixture
firm_url = helpers.firm_url  # a fixture
MINUS = "\u2212"


def test_every_tile_shows_its_change_against_n1_with_an_arrow_and_words(director):
    director.region.value = "F"
    signed = text(director.cells["signed_offers"].html.value)
    assert f"N-1 à date : 1 ▲ +300{NNBSP}% en hausse" in signed
    budget = director.cells["signed_budget"].html.value
    assert 'class="pr-change pr-up pr-better"' in budget and f"+363{NNBSP}%" in text(budget)
    refused = director.cells["refused_offers"].html.value  # N-1: none refused
    assert 'class="pr-change pr-ns pr-neutral"' in refused and "n.s. non significatif : N-1 nul" in text(refused)
    without = director.cells["prospects_without_document"].html.value  # 1 against 2: no judgement
    assert f"▼ {MINUS}50{NNBSP}% en baisse" in text(without) and "pr-neutral" in without
    for code in TABLE_CELLS:  # what the eye reads is hidden from screen readers: the button speaks
        assert director.cells[code].html.value.startswith('<div aria-hidden="true">')


def test_each_figure_is_named_with_its_value_and_n1(director):
    director.region.value = "F"
    names = {code: c.button.description for code, c in director.cells.items()}
    assert names["signed_offers"] == f"Offres signées : 4. N-1 à date : 1 (+300{NNBSP}%, en hausse). Ouvrir le détail."
    assert names["signed_budget"] == (
        f"Budget signé : {eur('18 500')} (récurrent {eur('15 200')}, exceptionnel {eur('3 300')}). "
        f"N-1 à date : {eur('4 000')} (+363{NNBSP}%, en hausse). Ouvrir le détail."
    )
    assert names["refused_offers"] == "Offres refusées : 1. N-1 à date : 0 (non significatif : N-1 nul). Ouvrir le détail."
    assert names["converted_prospects"] == f"Prospects transformés : 3. N-1 à date : 1 (+200{NNBSP}%, en hausse). Ouvrir le détail."
    assert director.conversion.buckets[">180"].button.description == (
        f"Offres en cours depuis >180 jours : 1 offre, {eur('5 000')}. Ouvrir le détail.")
    assert director.conversion.buckets["0-30"].button.description == (
        f"Offres en cours depuis 0-30 jours : 0 offres, {eur('0')}. Ouvrir le détail.")


def test_rates_and_days_show_their_change_too(director):
    director.region.value = "F"
    rates = text(director.conversion.rates_html.value)
    assert f"80{NNBSP}% N-1 à date : 100{NNBSP}% · ▼ {MINUS}20{NNBSP}pts en baisse" in rates
    assert "41 jours N-1 à date : 27 jours · ▲" in rates  # longer to sign: worse news
    assert 'pr-median-days-to-sign' in director.conversion.rates_html.value
    assert "pr-up pr-worse" in director.conversion.rates_html.value


def test_english_changes(firm):
    d = fresh(firm, "dir", locale="en")
    d.region.value = "F"
    assert d.cells["signed_offers"].button.description == "Signed offers: 4. Last year to date: 1 (+300%, up). Open the detail."
    assert "n.s. not significant: last year was zero" in text(d.cells["refused_offers"].html.value)
