"""frame.money: the amounts of any prospects frame in euros, exact from cents, the frame left as it was."""

from __future__ import annotations

import pytest

from prospects import money  # noqa: F401 - the accessor, as prospects.api registers it
from prospects.api import open_firm

from .test_analysis import TODAY, value


@pytest.fixture(scope="module")
def firm(sample_url):
    return open_firm(sample_url, today=TODAY)


def test_money_accessor_turns_cents_into_euros(firm):
    part1 = firm.as_viewer("part1")
    m = part1.metrics(["signed_budget", "signed_offers", "win_rate.by_value"], unit="R1")
    euros = m.money.euros()
    assert m.money.columns == ["value"]
    assert value(euros, "signed_budget", "total") == 18_500.0 and value(euros, "signed_offers", "count") == 4
    assert value(euros, "win_rate", "by_value") == value(m, "win_rate", "by_value")
    assert value(m, "signed_budget", "total") == 1_850_000  # the original keeps its cents
    docs = part1.documents(unit="R1")
    assert docs.money.columns == ["recurring", "one_off", "total"]
    assert docs.money.euros()["total"].sum() == pytest.approx(docs["total"].sum() / 100)
    assert euros.money.euros().equals(euros)  # already in euros: unchanged
    lines = part1.lines(unit="R1")
    assert lines.money.euros()["amount_cents"].iloc[0] == lines["amount_cents"].iloc[0] / 100


def test_money_accessor_follows_the_firms_currency(sample_url, monkeypatch):
    """A yen firm's cents are whole yen (no minor unit): converting changes nothing; dollars are cents."""
    monkeypatch.setenv("PROSPECTS_CURRENCY", "JPY")
    yen = open_firm(sample_url, today=TODAY).as_viewer("part1")
    m = yen.metrics(["signed_budget"], unit="R1")
    assert m.attrs["scope"].currency == "JPY"
    assert value(m.money.euros(), "signed_budget", "total") == 1_850_000.0
    docs = yen.documents(unit="R1")
    assert docs.money.euros()["total"].sum() == docs["total"].sum()
    monkeypatch.setenv("PROSPECTS_CURRENCY", "USD")
    dollars = open_firm(sample_url, today=TODAY).as_viewer("part1").metrics(["signed_budget"], unit="R1")
    assert value(dollars.money.euros(), "signed_budget", "total") == 18_500.0
