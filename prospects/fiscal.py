"""The fiscal calendar (docs/metrics.md, "Fiscal year").

A fiscal year is labelled by the calendar year in which it ends: with start month 10,
FY 2026 runs 2025-10-01 … 2026-09-30; with start month 1, 2026-01-01 … 2026-12-31.
The period of a figure is [FY start, as-of], both days included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .i18n import Said


class PeriodError(Said, ValueError):
    """A fiscal year or as-of date that cannot be used: a sentence of the catalog
    (``period.*``), said in the viewer's language where it is shown (:class:`~prospects.i18n.Said`)."""


def fiscal_year_of(day: dt.date, start_month: int = 1) -> int:
    """The label of the fiscal year containing ``day``."""
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def fiscal_year_bounds(fiscal_year: int, start_month: int = 1) -> tuple[dt.date, dt.date]:
    """First and last day of a fiscal year."""
    if start_month == 1:
        return dt.date(fiscal_year, 1, 1), dt.date(fiscal_year, 12, 31)
    start = dt.date(fiscal_year - 1, start_month, 1)
    end = dt.date(fiscal_year, start_month, 1) - dt.timedelta(days=1)
    return start, end


def fiscal_year_range(start_month: int = 1) -> tuple[int, int]:
    """The first and last fiscal year whose period and N-1 fit the calendar (years 1 … 9999)."""
    return (2 if start_month == 1 else 3), 9999


def one_year_back(day: dt.date) -> dt.date:
    """The same day one year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Period:
    """A fiscal year up to an as-of date: P = [start, as_of]."""

    fiscal_year: int
    start: dt.date
    end: dt.date
    as_of: dt.date

    def months(self) -> list[str]:
        """``YYYY-MM`` of every calendar month from the FY's first month to the month of as-of."""
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.as_of.year, self.as_of.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def previous(self) -> Period:
        """N-1 at the same point: the FY before, as-of moved back one year."""
        start, end = fiscal_year_bounds(self.fiscal_year - 1, self.start.month)
        as_of = min(one_year_back(self.as_of), end)
        return Period(self.fiscal_year - 1, start, end, as_of)


def period_for(
    today: dt.date,
    *,
    start_month: int = 1,
    fiscal_year: int | None = None,
    previous: bool = False,
    as_of: dt.date | None = None,
) -> Period:
    """The period of a figure.

    The current FY (N) contains ``today``; ``previous`` asks for N-1. The as-of date is
    today for the current FY, the FY's last day for a past FY, or ``as_of`` when given
    (it must fall inside the FY and not after today). A FY that starts after today is
    an error.
    """
    current = fiscal_year_of(today, start_month)
    if previous and fiscal_year is not None and fiscal_year != current - 1:
        raise PeriodError("period.both")
    fy = current - 1 if previous else (fiscal_year if fiscal_year is not None else current)
    first, last = fiscal_year_range(start_month)
    if not first <= fy <= last:
        key = "period.range" if fiscal_year is not None or previous else "period.range_today"
        raise PeriodError(key, fiscal_year=fy, today=today, first=first, last=last)
    start, end = fiscal_year_bounds(fy, start_month)
    if start > today:
        raise PeriodError("period.future", fiscal_year=fy, start=start, today=today)
    if as_of is None:
        as_of = min(today, end)
    else:
        if not start <= as_of <= end:
            raise PeriodError("period.as_of_outside", as_of=as_of, fiscal_year=fy, start=start, end=end)
        if as_of > today:
            raise PeriodError("period.as_of_future", as_of=as_of, today=today)
    return Period(fy, start, end, as_of)
