"""Drill-down rows before materialisation: totals, sort orders and pages equal the full frame's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prospects import drilldown
from prospects.api import open_firm
from prospects.drilldown import fold

TODAY = "2026-11-29"


def reference_sort(frame: pd.DataFrame, column: str, ascending: bool) -> pd.DataFrame:
    """What sorting the whole materialised frame gives (case and accents folded, empty last)."""
    def key(col: pd.Series) -> pd.Series:
        if col.dtype == object:
            return col.map(lambda v: None if v is None else fold(str(v)))
        return col
    return frame.sort_values(column, ascending=ascending, kind="stable", na_position="last", key=key).reset_index(drop=True)


@pytest.fixture(scope="module")
def views(sample_url):
    firm = open_firm(sample_url, today=TODAY)
    return {login: firm.as_viewer(login) for login in ("dir", "part1", "part2")}


CASES = [("dir", "F", "signed_budget"), ("dir", "F", "offers_in_progress"), ("part1", "R1", "signed_offers"),
         ("dir", "F", "abandoned_prospects"), ("part2", "R2", "refused_offers"), ("dir", "F", "prospects_without_document")]


@pytest.mark.parametrize(("login", "unit", "indicator"), CASES)
@pytest.mark.parametrize("by", ["deal", "document"])
def test_lazy_rows_sort_and_sum_like_the_whole_frame(views, login, unit, indicator, by):
    view = views[login]
    rows = view._drill_rows(indicator, by=by, unit=unit)
    frame = rows.frame()
    assert frame.equals(view.drilldown(indicator, by=by, unit=unit))
    assert rows.totals() == drilldown.totals(frame, by)
    for column in drilldown.columns(by):
        for ascending in (True, False):
            got = rows.frame(rows.order(column, ascending)).reset_index(drop=True)
            want = reference_sort(frame, column, ascending)
            pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=f"{by} sorted by {column}")
            top = rows.frame(rows.order(column, ascending), limit=2)
            pd.testing.assert_frame_equal(top.reset_index(drop=True), want.head(2), check_dtype=False)


def test_a_page_materialises_only_its_rows(views, monkeypatch):
    import prospects.dataset as dataset

    taken = []
    real = dataset.take_text
    monkeypatch.setattr(dataset, "take_text", lambda table, name, pos: taken.append(len(pos)) or real(table, name, pos))
    rows = views["dir"]._drill_rows("signed_budget", by="document", unit="F")
    rows.order("prospect", False)
    rows.totals()
    assert taken == []  # sorting and summing read no text as Python strings
    rows.frame(rows.order("total", False), limit=2)
    assert taken and max(taken) <= 2


def test_sort_keys_of_exact_sums_past_int64():
    from prospects import cents

    big = cents.add(np.full(3, 2**62, dtype=np.int64), np.array([2**62, 0, 2**61], dtype=np.int64))
    assert big.dtype == object  # 2**63 does not fit int64: exact Python integers
    assert list(np.argsort(drilldown._sortable(big), kind="stable")) == [1, 2, 0]
