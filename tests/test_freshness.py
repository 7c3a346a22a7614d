"""How fresh the figures are: the extract's date (export date, else load time) and the stale flag."""

import datetime as dt

from prospects.freshness import extract_moment, freshness


def test_the_export_date_wins_over_the_load_time():
    info = {"loaded_at": "2026-12-03T02:10:00+00:00", "export_date": "2026-12-02"}
    assert extract_moment(info) == dt.date(2026, 12, 2)


def test_the_load_time_is_shown_in_local_time():
    moment = extract_moment({"loaded_at": "2026-12-03T02:10:00+00:00"})
    assert moment == dt.datetime(2026, 12, 3, 2, 10, tzinfo=dt.UTC).astimezone()
    assert extract_moment({}) is None and extract_moment({"loaded_at": "garbage"}) is None


def test_older_than_the_setting_is_stale():
    info = {"export_date": "2026-12-01"}
    assert not freshness(info, dt.date(2026, 12, 4), 3).stale  # 3 days: not more than 3
    old = freshness(info, dt.date(2026, 12, 5), 3)
    assert old.stale and old.age_days == 4
    assert old.warning("fr") == "Données anciennes : extraites il y a 4 jours (au-delà de 3 jours, elles sont signalées)"
    assert freshness(info, dt.date(2026, 12, 4), 3).warning("fr") is None
    assert not freshness({}, dt.date(2026, 12, 4), 3).stale and freshness({}, dt.date(2026, 12, 4), 3).text("en") == "date of the data unknown"
