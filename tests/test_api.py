"""The public surface: a small, documented API re-exported from the package."""

import prospects


def test_public_surface_is_exported_and_documented():
    assert set(prospects.__all__) == {*prospects._EXPORTS, "__version__"}
    for name in prospects._EXPORTS:
        obj = getattr(prospects, name)
        assert obj is not None
        if callable(obj):
            assert obj.__doc__, name


import datetime as dt  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def firm(sample_url):
    return prospects.open_firm(sample_url, today="2026-11-29")


def test_as_viewer_refuses_what_access_md_refuses(firm):
    with pytest.raises(prospects.AccessDenied):
        firm.as_viewer("gone")
    with pytest.raises(prospects.AccessDenied):
        firm.as_viewer("nobody")
    me = firm.as_viewer("part1")
    for call in (lambda: me.deals(unit="R2"), lambda: me.documents(unit="F"), lambda: me.lines(collaborator="man2"),
                 lambda: me.timeline(unit="R2"), lambda: me.figures(unit="A2")):
        with pytest.raises(prospects.AccessDenied):
            call()


def test_scoped_frames_have_readable_names(firm):
    me = firm.as_viewer("part1")
    deals = me.deals(unit="R1")
    assert {"region", "agency", "team", "partner", "manager", "client_manager", "converted_on"} <= set(deals.columns)
    assert set(deals["region"]) == {"Île-de-France"}
    docs = me.documents(unit="R1")
    assert (docs["total"] == docs["recurring"] + docs["one_off"]).all()
    assert "X8" in set(docs["id"])  # confidential D6: part1 is in its group
    lines = me.lines(unit="R1")
    assert set(lines["document_id"]) <= set(docs["id"])
    assert lines.groupby("document_id")["amount_cents"].sum().to_dict() == docs.set_index("id")["total"][lambda s: s > 0].to_dict()


def test_timeline_ends_on_the_figures_of_today(firm):
    me = firm.as_viewer("dir")
    t = me.timeline([dt.date(2026, 3, 14), dt.date(2026, 3, 15), dt.date(2026, 11, 29)], unit="F")
    assert t["as_of"].tolist() == [dt.date(2026, 3, 14), dt.date(2026, 3, 15), dt.date(2026, 11, 29)]
    assert t["signed_offers"].tolist() == [1, 2, 4]  # X1 signed on 15/03
    assert t.iloc[-1]["signed_budget"] == me.figures(unit="F").indicators["signed_budget"]["total"]
    weekly = me.timeline(unit="F")
    assert len(weekly) == 48 and (weekly["as_of"].diff().dropna() == dt.timedelta(days=7)).all()


def test_a_view_within_a_unit_reads_less_and_gives_the_same_figures(firm):
    full = firm.as_viewer("dir")
    narrow = firm.as_viewer("dir", within="R2")
    assert narrow.figures(unit="R2").indicators == full.figures(unit="R2").indicators
    assert narrow.drilldown("abandoned_prospects", unit="R2").equals(full.drilldown("abandoned_prospects", unit="R2"))
    period = full.period()
    assert set(narrow.dataset(period).unit_ids()) <= {"R2", "A2", "T2"}
    assert narrow.dataset(period).n_deals < full.dataset(period).n_deals
    with pytest.raises(ValueError, match="under R2"):
        narrow.figures(unit="R1")
    with pytest.raises(ValueError, match="under R2"):
        narrow.figures()
    with pytest.raises(prospects.AccessDenied):
        firm.as_viewer("part1", within="R2")


def test_filters_and_fiscal_years_never_read_the_database(firm, monkeypatch):
    """Once the firm is open, every figure, drill-down and frame comes from the figure store.

    The database is asked one thing only: its version stamp (a load may have committed a
    new extract since), never a row.
    """
    import prospects.db as db

    me = firm.as_viewer("part1")
    stamp = firm.snapshot().stamp
    asked = []

    def no_sql(*_a, **_k):
        raise AssertionError("the database was read after the firm was opened")

    for name in ("read_all", "read_table", "read_consistent", "read_extract_info", "make_engine"):
        monkeypatch.setattr(db, name, no_sql)
    monkeypatch.setattr(db, "read_version", lambda engine: asked.append(engine) or stamp)
    monkeypatch.setattr(firm.engine, "connect", no_sql)
    mine = me.figures()
    assert me.figures(unit="R1").indicators["signed_offers"] == 4
    assert me.figures(unit="R1", period=me.period(previous=True)).period.fiscal_year == 2025
    assert me.figures(collaborator="man1").indicators is not None
    assert len(me.drilldown("signed_budget", by="document", unit="R1", lines=True)) == 4
    assert len(me.deals(unit="R1")) and len(me.documents(unit="R1")) and len(me.lines(unit="R1"))
    assert me.figures().indicators == mine.indicators
    # one dataset per version of the store, whatever the period or filter
    assert me.dataset(me.period()) is me.dataset(me.period(previous=True))
    assert asked and all(engine is firm.engine for engine in asked)


def test_with_lines_refuses_documents_outside_the_view(firm):
    """A frame naming documents the viewer may not see gets no lines: refused."""
    import pandas as pd

    part2 = firm.as_viewer("part2")  # Lille: may not see Paris's documents
    own = part2.drilldown("signed_budget", by="document", unit="R2")
    assert list(part2.with_lines(own)["lines"].map(len)) == [1] * len(own) or len(own) == 0
    foreign = pd.DataFrame({"document_id": ["X1"]})  # a signed Paris document
    with pytest.raises(prospects.AccessDenied):
        part2.with_lines(foreign)
    with pytest.raises(prospects.AccessDenied):
        part2.with_lines(pd.DataFrame({"document_id": ["no-such-document"]}))
    director = firm.as_viewer("dir")
    confidential = pd.DataFrame({"document_id": ["X8"]})  # on D6, guarded by G_CONF
    with pytest.raises(prospects.AccessDenied):
        director.with_lines(confidential)
    assert firm.as_viewer("part1").with_lines(confidential)["lines"].map(len).iloc[0] >= 0
