"""French and English formats."""

import datetime as dt

from prospects import i18n

N = i18n.NNBSP


def test_money_french_and_english():
    assert i18n.money(1_234_500) == f"12{N}345{N}€"
    assert i18n.money(0) == f"0{N}€"
    assert i18n.money(99) == f"1{N}€"  # whole euros, half up
    assert i18n.money(123_456_789, decimals=True) == f"1{N}234{N}567,89{N}€"
    assert i18n.money(1_234_500, "en") == "€12,345"
    assert i18n.money(-50_000) == f"-500{N}€"
    assert i18n.money(None) == "—"


def test_dates_and_months():
    assert i18n.date(dt.date(2026, 11, 29)) == "29/11/2026"
    assert i18n.date(dt.date(2026, 11, 29), "en") == "2026-11-29"
    assert i18n.month("2026-01") == "janv. 2026"
    assert i18n.month("2026-08") == "août 2026"
    assert i18n.month("2026-01", "en") == "Jan 2026"
    assert i18n.date(None) == ""


def test_json_euros_are_exact_from_cents():
    assert i18n.euros_json(1_234_501) == 12345.01
    assert i18n.euros_json(10) == 0.1
    assert str(i18n.euros(1)) == "0.01"


def test_labels_exist_in_both_locales():
    assert set(i18n.LABELS["fr"]) == set(i18n.LABELS["en"])
    assert set(i18n.COLUMN_LABELS["fr"]) == set(i18n.COLUMN_LABELS["en"])
    for key in ("menu", "chart", "table", "fiscal_year", "organisation", "collaborators", "by_deal", "by_document"):
        assert i18n.label(key)
    assert i18n.label("menu") == "Suivi Business › Prospects"


def test_percent_and_days():
    assert i18n.percent(0.8) == f"80{N}%"
    assert i18n.percent(None) == "—"
    assert i18n.days(41.0) == "41 jours"
    assert i18n.days(20.5) == "20,5 jours"
