"""The same extract gives the same figures and drill-downs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from prospects import db, demo, exports
from prospects.api import open_firm
from prospects.sample import sample_firm

pytestmark = pytest.mark.postgres
TODAY = dt.date(2026, 11, 29)


def everything(url: str, cases) -> list:
    firm = open_firm(url, today=TODAY)
    out = []
    for login, unit in cases:
        view = firm.as_viewer(login)
        for fy in (None, 2025):
            period = view.period(fy)
            figs = view.figures(unit=unit, period=period)
            out.append(exports.figures_json(figs, viewer=login, unit=unit, collaborator=None))
            for code in ("offers_in_progress", "signed_budget", "refused_offers", "prospects_without_document", "abandoned_prospects"):
                for by in ("deal", "document"):
                    rows = view.drilldown(code, by=by, unit=unit, period=period, lines=by == "document")
                    out.append(exports.records(rows, by, "EUR"))
    return out


def test_sample_firm_same_on_both(sqlite_url, pg_url):
    for url in (sqlite_url, pg_url):
        db.replace_all(db.make_engine(url), sample_firm())
    cases = [("dir", "F"), ("part1", "R1"), ("part2", None), ("man1", None), ("staff1", None)]
    assert everything(sqlite_url, cases) == everything(pg_url, cases)


def test_demo_firm_same_on_both(sqlite_url, pg_url):
    frames = demo.generate("small", seed=3, today=TODAY)
    for url in (sqlite_url, pg_url):
        db.replace_all(db.make_engine(url), frames)
    firm = open_firm(sqlite_url, today=TODAY)
    logins = [row["login"] for row in demo.demo_logins(frames)]
    units = firm.directory.units
    cases = [(logins[0], units.index[units["kind"] == "firm"][0])] + [(login, None) for login in logins[1:]]
    assert everything(sqlite_url, cases) == everything(pg_url, cases)
