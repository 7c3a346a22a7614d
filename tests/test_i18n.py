"""French and English formats."""

import datetime as dt
from decimal import Decimal

import pytest

from prospects import i18n

N = i18n.NNBSP


def test_money_french_and_english():
    assert i18n.money(1_234_500, "fr", "EUR") == f"12{N}345{N}€"
    assert i18n.money(0, "fr", "EUR") == f"0{N}€"
    assert i18n.money(99, "fr", "EUR") == f"1{N}€"  # whole euros, half up
    assert i18n.money(123_456_789, "fr", "EUR", decimals=True) == f"1{N}234{N}567,89{N}€"
    assert i18n.money(1_234_500, "en", "EUR") == "€12,345"
    assert i18n.money(-50_000, "fr", "EUR") == f"-500{N}€"
    assert i18n.money(-50_000, "en", "EUR") == "-€500"
    assert i18n.money(-40, "fr", "EUR") == f"0{N}€"  # no "-0"
    assert i18n.money(None, "fr", "EUR") == "—"


@pytest.mark.parametrize(
    ("currency", "fr", "en", "fr_decimals", "en_decimals"),
    [
        ("EUR", f"12{N}345{N}€", "€12,345", f"12{N}345,50{N}€", "€12,345.50"),
        ("USD", f"12{N}345{N}$US", "$12,345", f"12{N}345,50{N}$US", "$12,345.50"),
        ("CHF", f"12{N}345{N}CHF", "CHF\u00a012,345", f"12{N}345,50{N}CHF", "CHF\u00a012,345.50"),
        ("GBP", f"12{N}345{N}£GB", "£12,345", f"12{N}345,50{N}£GB", "£12,345.50"),
    ],
)
def test_money_in_the_firms_currency_follows_cldr(currency, fr, en, fr_decimals, en_decimals):
    assert i18n.money(1_234_549, "fr", currency) == fr  # 12,345.49 → whole units, half up
    assert i18n.money(1_234_549, "en", currency) == en
    assert i18n.money(1_234_550, "fr", currency, decimals=True) == fr_decimals
    assert i18n.money(1_234_550, "en", currency, decimals=True) == en_decimals
    assert i18n.minor_digits(currency) == 2 and i18n.major(1_234_550, currency) == Decimal("12345.50")


def test_yen_have_no_minor_unit_so_the_cents_columns_hold_yen():
    assert i18n.minor_digits("JPY") == 0
    assert i18n.money(12_345, "fr", "JPY") == f"12{N}345{N}JPY"  # CLDR's French symbol for the yen
    assert i18n.money(12_345, "en", "JPY") == "¥12,345"
    assert i18n.money(12_345, "en", "JPY", decimals=True) == "¥12,345"  # no decimals to show
    assert i18n.major(12_345, "JPY") == Decimal(12_345) and i18n.major_json(12_345, "JPY") == 12345.0
    assert i18n.excel_money_format("en", "JPY") == '"¥"#,##0'


def test_excel_formats_and_column_labels_carry_the_currency():
    assert i18n.excel_money_format("fr", "EUR") == f'#,##0.00"{N}€"'
    assert i18n.excel_money_format("en", "USD") == '"$"#,##0.00'
    assert i18n.excel_money_format("en", "CHF") == '"CHF\u00a0"#,##0.00'
    assert i18n.column_labels("fr", "USD")["total"] == "Total ($US)"
    assert i18n.column_labels("en", "CHF")["recurring"] == "Recurring (CHF)"
    assert i18n.column_labels("en", "JPY")["one_off"] == "One-off (¥)"


@pytest.mark.parametrize("bad", ["XYZ", "EURO", "eu", "", 978, None, "€", "ÉUR"])
def test_an_unknown_currency_code_is_refused_in_one_line(bad):
    with pytest.raises(i18n.CurrencyError, match="is not an ISO 4217 currency code") as err:
        i18n.check_currency(bad)
    assert "\n" not in str(err.value)
    assert i18n.check_currency(" chf ") == "CHF"


def test_the_extracts_date_and_the_stale_warning():
    assert i18n.data_date(dt.datetime(2026, 12, 3, 2, 10)) == "données du 03/12/2026 à 02:10"
    assert i18n.data_date(dt.datetime(2026, 12, 3, 2, 10), "en") == "data of 2026-12-03 at 02:10"
    assert i18n.data_date(dt.date(2026, 12, 3)) == "données du 03/12/2026"
    assert i18n.data_date(None, "en") == "date of the data unknown"
    assert i18n.stale_warning(5, 3) == "Données anciennes : extraites il y a 5 jours (au-delà de 3 jours, elles sont signalées)"
    assert i18n.stale_warning(5, 3, "en").startswith("Old data: extracted 5 days ago")


def test_dates_and_months():
    assert i18n.date(dt.date(2026, 11, 29)) == "29/11/2026"
    assert i18n.date(dt.date(2026, 11, 29), "en") == "2026-11-29"
    assert i18n.month("2026-01") == "janv. 2026"
    assert i18n.month("2026-08") == "août 2026"
    assert i18n.month("2026-01", "en") == "Jan 2026"
    assert i18n.date(None) == ""


def test_json_amounts_are_exact_from_minor_units():
    assert i18n.major_json(1_234_501, "EUR") == 12345.01
    assert i18n.major_json(10, "USD") == 0.1
    assert str(i18n.major(1, "EUR")) == "0.01"
    assert i18n.major_json(1_234_501, "JPY") == 1234501.0


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
