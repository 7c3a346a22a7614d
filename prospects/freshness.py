"""How fresh the figures are: the extract's date and whether it is older than the setting
``stale_after_days``.

The extract's date is the export date an import recorded (``extract_info.export_date``:
the mapping's ``[defaults] export_date`` or ``--export-date``), else the time the data
was loaded (``extract_info.loaded_at``, UTC, shown in the server's local time). The
dashboard's header, the reports' cover and the subscription mails say it
(:func:`prospects.i18n.data_date`); past ``stale_after_days`` days they say plainly that
the data is old (:func:`prospects.i18n.stale_warning`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from . import i18n


@dataclass(frozen=True)
class Freshness:
    """The extract's date (a date, or a local time), its age in days on ``today`` and whether it is old."""

    moment: dt.datetime | dt.date | None
    age_days: int | None
    limit: int

    @property
    def stale(self) -> bool:
        """Older than ``limit`` days (an unknown date is not said to be old)."""
        return self.age_days is not None and self.age_days > self.limit

    def text(self, locale: str = "fr") -> str:
        """``données du 03/12/2026 à 02:10``."""
        return i18n.data_date(self.moment, locale)

    def warning(self, locale: str = "fr") -> str | None:
        """The sentence saying the data is old, or None when it is not."""
        return i18n.stale_warning(self.age_days or 0, self.limit, locale) if self.stale else None


def extract_moment(info: Mapping[str, str]) -> dt.datetime | dt.date | None:
    """The extract's date from ``extract_info``: its export date, else its load time (local), else None."""
    exported = info.get("export_date")
    if exported:
        try:
            return dt.date.fromisoformat(str(exported))
        except ValueError:
            pass
    loaded = info.get("loaded_at")
    if loaded:
        try:
            stamp = dt.datetime.fromisoformat(str(loaded))
        except ValueError:
            return None
        return stamp.astimezone() if stamp.tzinfo is not None else stamp
    return None


def freshness(info: Mapping[str, str], today: dt.date, stale_after_days: int) -> Freshness:
    """How fresh the extract described by ``info`` is on ``today`` (see the module docstring)."""
    moment = extract_moment(info)
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    age = (today - day).days if day is not None else None
    return Freshness(moment, age, stale_after_days)
