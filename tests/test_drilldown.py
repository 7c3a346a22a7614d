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
    assert frame.equals(view.drilldown(indicator, by=by, unit=unit)[list(frame.columns)])  # the API adds ids, age_days
    assert rows.totals() == drilldown.totals(frame, by)
    assert list(frame.columns) == list(rows.columns)
    for column in rows.columns:
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


# ---------------------------------------------------------------------------
# Deal cells show the documents that make each deal count (docs/metrics.md, "Deal cells").
# Every expectation below is worked out by hand from prospects/sample.py (and, for the
# variant, from the rows added in ``variant_url``).

DEAL_FIELDS = ("documents", "recurring", "one_off", "total", "signatory", "signatory_entity")


def by_deal(view, indicator, unit, **kw) -> dict[str, tuple]:
    frame = view.drilldown(indicator, by="deal", unit=unit, **kw)
    return {r["deal_id"]: tuple(r[f] for f in DEAL_FIELDS) for r in frame.to_dict("records")}


def doc_ids(view, indicator, unit, **kw) -> list[str]:
    return sorted(view.drilldown(indicator, by="document", unit=unit, **kw)["document_id"])


@pytest.fixture(scope="module")
def part2(sample_url):
    return open_firm(sample_url, today=TODAY).as_viewer("part2")


def test_converted_deals_show_their_signed_documents(views):
    # D1: X1 (signed 15/03: 12 000 € recurring + 2 500 € one-off) and X2 (signed 20/05: 3 000 € recurring,
    # the most recent, signed by Marie Manager for Exemple Audit SA); D7: X9 (signed on the as-of day,
    # 800 € one-off); D11: X13 (signed 01/01/2026, 200 € recurring)
    assert by_deal(views["dir"], "converted_prospects", "F") == {
        "D1": (2, 1_500_000, 250_000, 1_750_000, "Marie Manager", "Exemple Audit SA"),
        "D7": (1, 0, 80_000, 80_000, "Paul Associé", "Exemple Expertise SAS"),
        "D11": (1, 20_000, 0, 20_000, "Paul Associé", "Exemple Expertise SAS"),
    }
    assert doc_ids(views["dir"], "converted_prospects", "F") == ["X1", "X13", "X2", "X9"]


def test_a_converted_deal_never_adds_its_refused_document(part2):
    # D12 (part2 only): X14 signed 10/04/2026 (6 000 € recurring), X15 refused 15/06/2026 (700 €): X14 only
    assert by_deal(part2, "converted_prospects", "R2") == {
        "D12": (1, 600_000, 0, 600_000, "Pierre Associé", "Exemple Audit SA"),
    }
    assert doc_ids(part2, "converted_prospects", "R2") == ["X14"]
    assert doc_ids(part2, "won_prospects", "R2", month="2026-04") == ["X14"]


def test_a_document_signed_after_the_as_of_date_does_not_add(views):
    # as of 30/04/2026, D1 is converted (X1, 15/03); X2 exists (created 01/04) but is signed on 20/05
    assert by_deal(views["dir"], "converted_prospects", "F", as_of="2026-04-30") == {
        "D1": (1, 1_200_000, 250_000, 1_450_000, "Paul Associé", "Exemple Expertise SAS"),
        "D11": (1, 20_000, 0, 20_000, "Paul Associé", "Exemple Expertise SAS"),
    }
    assert doc_ids(views["dir"], "won_prospects", "F", as_of="2026-04-30", month="2026-03") == ["X1"]


def test_a_month_of_won_prospects_shows_what_those_deals_signed(views):
    # the deals won in March (D1) with every document they signed up to the as-of date (X1, X2);
    # January: D11 (X13); November: D7 (X9); the months add up to the converted prospects' cell
    assert by_deal(views["dir"], "won_prospects", "F", month="2026-03") == {
        "D1": (2, 1_500_000, 250_000, 1_750_000, "Marie Manager", "Exemple Audit SA"),
    }
    assert doc_ids(views["dir"], "won_prospects", "F", month="2026-01") == ["X13"]
    assert doc_ids(views["dir"], "won_prospects", "F", month="2026-11") == ["X9"]
    assert doc_ids(views["dir"], "won_prospects", "F", month="2026-05") == []


def test_an_abandoned_deal_shows_the_fees_at_stake_when_dropped(views):
    # D4 abandoned 10/09/2026: X5 (created 05/03, never decided, 1 500 € recurring) was at stake;
    # X6 was cancelled on 01/04, before the abandonment: it does not add
    assert by_deal(views["dir"], "abandoned_prospects", "F") == {
        "D4": (1, 150_000, 0, 150_000, "Pierre Associé", "Exemple Audit SA"),
    }
    assert doc_ids(views["dir"], "abandoned_prospects", "F") == ["X5"]


def test_an_abandoned_deal_with_nothing_at_stake(part2):
    # D12 abandoned 30/06/2024 with no document then (X14, X15 were created in 2026, after FY 2024's end)
    assert by_deal(part2, "abandoned_prospects", "R2", fiscal_year=2024) == {"D12": (0, 0, 0, 0, None, None)}
    assert doc_ids(part2, "abandoned_prospects", "R2", fiscal_year=2024) == []


def test_prospects_without_document_show_no_document_and_their_history(views):
    # D3 (created 01/06/2026) has never had a document
    frame = views["dir"].drilldown("prospects_without_document", by="deal", unit="F")
    assert by_deal(views["dir"], "prospects_without_document", "F") == {"D3": (0, 0, 0, 0, None, None)}
    assert frame.loc[0, "deal_created_on"] == pd.Timestamp("2026-06-01")
    assert frame.loc[0, "last_decision"] is None and pd.isna(frame.loc[0, "last_decision_on"])
    # the API adds each name's id and the row's age (drilldown.with_ids) to the drill-down's own columns
    own = [c for c in frame.columns if c not in (*drilldown.ID_COLUMNS, "age_days")]
    assert own == list(drilldown.columns("deal", "prospects_without_document"))
    assert doc_ids(views["dir"], "prospects_without_document", "F") == []


@pytest.fixture(scope="module")
def variant_url(tmp_path_factory):
    """Cabinet Exemple with four more documents (hand-made, for the deal-cell rules' edges):

    * on D4 (abandoned 10/09/2026): X10 created 01/08, refused 15/09 (after the abandonment,
      300 € one-off, Marc Manager); X16 created 01/09, cancelled on the abandonment day 10/09
      (400 € recurring, Marc Manager);
    * on D3 (open, created 01/06/2026): X17 created 10/06, refused 01/07 (250 € one-off, Marie
      Manager, E2); X18 created 15/06, cancelled 20/06 (100 € recurring, Paul Associé, E1).
    """
    from prospects import db
    from prospects.sample import frame, sample_firm

    tables = sample_firm()
    n = None
    more_docs = frame("documents", [
        ("X10", "D4", "Proposition commerciale", n, "Delta – relance", "refused", "2026-08-01", n, "2026-09-15", "C5", "E2"),
        ("X16", "D4", "Proposition commerciale", n, "Delta – option", "cancelled", "2026-09-01", n, "2026-09-10", "C5", "E2"),
        ("X17", "D3", "Proposition commerciale", n, "Gamma – conseil", "refused", "2026-06-10", "2026-06-12", "2026-07-01", "C4", "E2"),
        ("X18", "D3", "Proposition commerciale", n, "Gamma – variante", "cancelled", "2026-06-15", n, "2026-06-20", "C2", "E1"),
    ])
    more_lines = frame("document_lines", [
        ("X10", 1, "Social", "one_off", 30_000), ("X16", 1, "Social", "recurring", 40_000),
        ("X17", 1, "Conseil", "one_off", 25_000), ("X18", 1, "Conseil", "recurring", 10_000),
    ])
    tables["documents"] = pd.concat([tables["documents"], more_docs], ignore_index=True)
    tables["document_lines"] = pd.concat([tables["document_lines"], more_lines], ignore_index=True)
    url = f"sqlite:///{tmp_path_factory.mktemp('variant') / 'variant.db'}"
    db.replace_all(db.make_engine(url), tables)
    return url


@pytest.fixture(scope="module")
def variant(variant_url):
    return open_firm(variant_url, today=TODAY).as_viewer("dir")


def test_abandoned_deal_documents_decided_on_or_after_the_abandonment_are_at_stake(variant):
    # D4: X5 (undecided), X10 (decided 15/09, after), X16 (decided 10/09, the abandonment day) were at stake;
    # X6 (cancelled 01/04) was not. The most recent of them is X16 (created 01/09, Marc Manager).
    assert by_deal(variant, "abandoned_prospects", "F") == {
        "D4": (3, 190_000, 30_000, 220_000, "Marc Manager", "Exemple Audit SA"),
    }
    assert doc_ids(variant, "abandoned_prospects", "F") == ["X10", "X16", "X5"]
    # the rule does not depend on the as-of date once the deal is abandoned (X10 decided after 12/09)
    assert doc_ids(variant, "abandoned_prospects", "F", as_of="2026-09-12") == ["X10", "X16", "X5"]


def test_a_prospect_without_document_says_its_latest_decision(variant):
    # D3 holds X17 (refused 01/07) and X18 (cancelled 20/06), none in progress at 29/11: still in the cell,
    # with no document and no amount; its latest decision is X17's refusal; the signatory is that of
    # its most recent document, X18 (created 15/06: Paul Associé, Exemple Expertise SAS)
    assert by_deal(variant, "prospects_without_document", "F") == {
        "D3": (0, 0, 0, 0, "Paul Associé", "Exemple Expertise SAS"),
    }
    frame = variant.drilldown("prospects_without_document", by="deal", unit="F").set_index("deal_id")
    assert frame.loc["D3", "deal_created_on"] == pd.Timestamp("2026-06-01")
    assert frame.loc["D3", "last_decision"] == "refused"
    assert frame.loc["D3", "last_decision_on"] == pd.Timestamp("2026-07-01")
    assert doc_ids(variant, "prospects_without_document", "F") == []
    # as of 25/06, X17 was in progress: D3 was not without document
    assert "D3" not in by_deal(variant, "prospects_without_document", "F", as_of="2026-06-25")


def test_the_new_columns_sort_like_the_whole_frame(variant):
    rows = variant._drill_rows("prospects_without_document", by="deal", unit="F", as_of="2026-07-05")
    frame = rows.frame()
    assert set(frame["deal_id"]) >= {"D3"}
    for column in ("deal_created_on", "last_decision", "last_decision_on"):
        for ascending in (True, False):
            got = rows.frame(rows.order(column, ascending)).reset_index(drop=True)
            pd.testing.assert_frame_equal(got, reference_sort(frame, column, ascending), check_dtype=False)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_footer_words_say_what_the_amounts_are(locale):
    words = {
        code: drilldown.footer_words(code, locale=locale)
        for code in ("converted_prospects", "abandoned_prospects", "prospects_without_document",
                     "offers_in_progress", "signed_budget", "refused_offers")
    }
    if locale == "fr":
        assert words["converted_prospects"].startswith("honoraires signés de ces affaires")
        assert words["abandoned_prospects"].startswith("honoraires en jeu à l'abandon")
        assert drilldown.footer_words("won_prospects", month="2026-03", locale="fr") == words["converted_prospects"]
        assert "mars 2026" in drilldown.footer_words("signed_budget", month="2026-03", locale="fr")
        assert "91-180" in drilldown.footer_words("offers_in_progress", bucket="91-180", locale="fr")
    else:
        assert words["converted_prospects"].startswith("fees signed on these deals")
        assert words["abandoned_prospects"].startswith("fees at stake when abandoned")
        assert "Mar 2026" in drilldown.footer_words("signed_budget", month="2026-03", locale="en")
    assert len(set(words.values())) == len(words)  # every cell says its own


def test_an_empty_view_says_why(views):
    fr = drilldown.empty_words("prospects_without_document", "document", locale="fr")
    en = drilldown.empty_words("prospects_without_document", "document", locale="en")
    assert "aucune offre en cours" in fr and "no offer in progress" in en
    assert drilldown.empty_words("signed_budget", "document", locale="fr") != fr
