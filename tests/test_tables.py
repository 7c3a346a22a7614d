"""The formatted tables every front end shows (prospects.tables): the change against N-1."""

from __future__ import annotations

import pytest

from prospects import i18n
from prospects.api import open_firm
from prospects.tables import beside_table, change, indicator_table

N = i18n.NNBSP
MINUS = "\u2212"


@pytest.mark.parametrize(
    ("current", "previous", "locale", "text", "direction", "words"),
    [
        (4, 1, "fr", f"+300{N}%", "up", "en hausse"),
        (1_850_000, 3_700_000, "fr", f"{MINUS}50{N}%", "down", "en baisse"),
        (5, 5, "fr", f"0{N}%", "flat", "stable"),
        (1001, 1000, "fr", f"0{N}%", "flat", "stable"),  # +0.1 % rounds to 0: stable
        (3, 0, "fr", "n.s.", "ns", "N-1 nul"),
        (0, 0, "fr", "n.s.", "ns", "N-1 nul"),
        (None, 2, "fr", "n.s.", "ns", "N-1 nul"),
        (4, 1, "en", "+300%", "up", "up"),
        (1, 2, "en", f"{MINUS}50%", "down", "down"),
        (2, 0, "en", "n.s.", "ns", "last year was zero"),
        (3, 2, "fr", f"+50{N}%", "up", "en hausse"),  # exactly half: away from zero
        (1, 3, "fr", f"{MINUS}67{N}%", "down", "en baisse"),
    ],
)
def test_change_against_n1_in_percent(current, previous, locale, text, direction, words):
    c = change(current, previous, locale)
    assert (c.text, c.direction) == (text, direction)
    assert words in c.words
    assert c.arrow == {"up": "▲", "down": "▼", "flat": "=", "ns": ""}[direction]
    assert c.tone == "neutral" if direction in ("flat", "ns") else c.tone == "better" if direction == "up" else c.tone == "worse"


def test_change_of_a_rate_in_points_and_lower_is_better():
    c = change(0.8, 1.0, "fr", points=True)
    assert (c.text, c.direction) == (f"{MINUS}20{N}pts", "down")
    assert change(0.9, 0.85, "en", points=True).text == "+5 pts"
    assert change(0.5, None, "fr", points=True).direction == "ns"
    assert change(0.5, 0.0, "fr", points=True).text == f"+50{N}pts"  # a rate of 0 is a value, not a void
    worse = change(41, 27, "fr", lower_is_better=True)  # median days to sign: longer is worse
    assert (worse.direction, worse.tone) == ("up", "worse")
    assert change(2, 4, "fr", lower_is_better=True).tone == "better"
    assert change(2, 4, "fr", lower_is_better=None).tone == "neutral"  # no judgement for this figure


def test_the_tables_carry_the_change_of_every_figure(sample_url):
    figs = open_firm(sample_url, today="2026-11-29").as_viewer("dir").figures(unit="F")
    table = indicator_table(figs)
    signed = table[(table.code == "signed_offers")].iloc[0]
    assert (signed.value, signed.previous, signed.change.text) == ("4", "1", f"+300{N}%")
    budget = table[(table.code == "signed_budget") & (table.part == "total")].iloc[0]
    assert budget.change.direction == "up"  # 18 500 € against 4 000 €: +363 %
    assert budget.change.text == f"+363{N}%"
    refused = table[table.code == "refused_offers"].iloc[0]
    assert (refused.change.text, refused.change.tone) == ("n.s.", "neutral")  # N-1: 0 refused
    without = table[table.code == "prospects_without_document"].iloc[0]
    assert (without.change.text, without.change.tone) == (f"{MINUS}50{N}%", "neutral")
    beside = beside_table(figs).set_index("code")
    assert beside.loc["win_rate.by_count", "change"].text == f"{MINUS}20{N}pts"  # 80 % against 100 %
    days = beside.loc["median_days_to_sign", "change"]
    assert (days.direction, days.tone) == ("up", "worse")  # 41 days against 27
