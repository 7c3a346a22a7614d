"""The fiscal calendar of docs/metrics.md."""

import datetime as dt

import pytest

from prospects.fiscal import (
    Period,
    PeriodError,
    fiscal_year_bounds,
    fiscal_year_of,
    one_year_back,
    period_for,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "start", "fy"),
    [(D(2026, 1, 1), 1, 2026), (D(2026, 12, 31), 1, 2026), (D(2025, 10, 1), 10, 2026), (D(2026, 9, 30), 10, 2026),
     (D(2026, 10, 1), 10, 2027), (D(2026, 6, 30), 7, 2026), (D(2026, 7, 1), 7, 2027)],
)
def test_fiscal_year_is_labelled_by_the_year_it_ends(day, start, fy):
    assert fiscal_year_of(day, start) == fy
    first, last = fiscal_year_bounds(fy, start)
    assert first <= day <= last


def test_bounds():
    assert fiscal_year_bounds(2026, 10) == (D(2025, 10, 1), D(2026, 9, 30))
    assert fiscal_year_bounds(2026, 1) == (D(2026, 1, 1), D(2026, 12, 31))
    assert fiscal_year_bounds(2024, 3) == (D(2023, 3, 1), D(2024, 2, 29))  # leap year end


def test_as_of_dates():
    today = D(2026, 11, 29)
    assert period_for(today).as_of == today
    assert period_for(today, previous=True) == Period(2025, D(2025, 1, 1), D(2025, 12, 31), D(2025, 12, 31))
    assert period_for(today, as_of=D(2026, 3, 1)).as_of == D(2026, 3, 1)
    with pytest.raises(PeriodError, match="après aujourd'hui"):
        period_for(today, fiscal_year=2027)
    with pytest.raises(PeriodError, match="hors de l'exercice"):
        period_for(today, as_of=D(2025, 12, 31))
    with pytest.raises(PeriodError, match="après aujourd'hui"):
        period_for(today, as_of=D(2026, 12, 1))
    with pytest.raises(PeriodError, match="pas les deux"):
        period_for(today, fiscal_year=2024, previous=True)


def test_previous_moves_back_one_year_and_29_february():
    assert one_year_back(D(2028, 2, 29)) == D(2027, 2, 28)
    assert one_year_back(D(2026, 11, 29)) == D(2025, 11, 29)
    p = period_for(D(2028, 3, 1), as_of=D(2028, 2, 29))
    assert p.previous() == Period(2027, D(2027, 1, 1), D(2027, 12, 31), D(2027, 2, 28))


def test_months_run_from_the_first_month_to_the_month_of_as_of():
    p = period_for(D(2026, 2, 3), start_month=10)
    assert p.months() == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
    assert period_for(D(2026, 1, 1)).months() == ["2026-01"]
