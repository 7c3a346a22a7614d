"""A viewer's dataset: positions into the figure store, read in place or gathered, never another row.

The oracle is the canonical frames read literally (docs/access.md through
``tests.reconcile.visible_literally``, fees summed from the lines), on Cabinet Exemple and
on a generated demo firm; each viewer's dataset is built three ways (the default choice,
forced in place, forced gathered) and must hold the same rows with the same values.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from prospects import dataset, store
from prospects.demo import generate
from prospects.sample import sample_firm
from prospects.scoping import resolve_viewer, visible_mask

from .reconcile import visible_literally


@pytest.fixture(scope="module", params=["sample", "demo-small-seed7"])
def firm(request, tmp_path_factory):
    frames = sample_firm() if request.param == "sample" else generate("small", 7, today=dt.date(2026, 11, 29))
    folder = tmp_path_factory.mktemp("dataset")
    store.publish(folder, frames, "v1")
    return frames, store.open_current(folder)


def logins(frames, limit: int = 40) -> list[str]:
    """Active logins, validators first (the widest perimeters), at most ``limit``."""
    people = frames["collaborators"]
    people = people[people["active"]].sort_values(["can_validate_offers", "id"], ascending=[False, True])
    return list(people["login"].head(limit))


def build(snap, viewer, how: str, monkeypatch, **kw) -> dataset.Dataset:
    share = {"default": dataset.DENSE_ENOUGH, "in place": 0.0, "gathered": 2.0}[how]
    monkeypatch.setattr(dataset, "DENSE_ENOUGH", share)
    return dataset.for_viewer(snap, viewer, **kw)


def fees_by_document(frames) -> pd.DataFrame:
    lines = frames["document_lines"]
    out = lines.pivot_table(index="document_id", columns="billing", values="amount_cents", aggfunc="sum", fill_value=0)
    return out.reindex(columns=["recurring", "one_off"], fill_value=0).astype("int64")


def rows_of(ds: dataset.Dataset, deal_mask: np.ndarray) -> dict:
    """What the dataset says about some of its deals and their documents, keyed by id."""
    deal_pos = np.flatnonzero(deal_mask)
    doc_pos = np.flatnonzero(deal_mask[ds.doc_deal])
    units = ds.unit_ids(deal_pos)
    return {
        "deals": dict(zip(ds.deal_text("id", deal_pos), units, strict=True)),
        "documents": {
            doc: (deal, int(rec), int(one))
            for doc, deal, rec, one in zip(
                ds.doc_text("id", doc_pos), ds.deal_text("id", ds.doc_deal[doc_pos]),
                ds.doc_recurring[doc_pos], ds.doc_one_off[doc_pos], strict=True)
        },
    }


def expected_rows(frames, deal_ids: set[str]) -> dict:
    deals = frames["deals"].set_index("id")
    docs = frames["documents"]
    docs = docs[docs["deal_id"].isin(deal_ids)]
    fees = fees_by_document(frames).reindex(docs["id"], fill_value=0)
    return {
        "deals": {d: deals.at[d, "unit_id"] for d in deal_ids},
        "documents": {
            doc: (deal, int(fees.at[doc, "recurring"]), int(fees.at[doc, "one_off"]))
            for doc, deal in zip(docs["id"], docs["deal_id"], strict=True)
        },
    }


@pytest.mark.parametrize("how", ["default", "in place", "gathered"])
def test_every_viewer_sees_exactly_the_rows_access_md_gives_them(firm, how, monkeypatch):
    frames, snap = firm
    directory = snap.directory
    for login in logins(frames):
        viewer = resolve_viewer(directory, login)
        ds = build(snap, viewer, how, monkeypatch)
        mask = visible_mask(viewer, directory, ds)
        assert rows_of(ds, mask) == expected_rows(frames, visible_literally(viewer, frames["deals"])), (login, how)
        if how == "gathered" and ds.n_deals:
            assert ds.deal_pick is not None and ds.n_deals == int(mask.sum())  # only the viewer's deals copied
        if how == "in place" and ds.n_deals:
            assert ds.deal_pick is None and np.shares_memory(ds.deal_unit, snap.col("deals", "unit"))


def test_a_wide_viewer_reads_the_store_in_place_and_a_narrow_one_gathers(firm):
    frames, snap = firm
    directory = snap.directory
    widest = max(logins(frames), key=lambda login: len(resolve_viewer(directory, login).perimeter))
    wide = dataset.for_viewer(snap, resolve_viewer(directory, widest))
    assert wide.deal_pick is None and np.shares_memory(wide.doc_recurring, snap.col("documents", "recurring"))
    staff = frames["collaborators"].query("function == 'staff' and active")["login"]
    for login in staff.head(5):
        viewer = resolve_viewer(directory, login)
        narrow = dataset.for_viewer(snap, viewer)
        visible = visible_literally(viewer, frames["deals"])
        if visible and len(visible) < dataset.DENSE_ENOUGH * snap.n_deals / 4:
            assert narrow.deal_pick is not None and narrow.n_deals == len(visible)


@pytest.mark.parametrize("how", ["default", "in place", "gathered"])
def test_within_a_unit_holds_every_prospect_deal_of_its_subtree(firm, how, monkeypatch):
    frames, snap = firm
    directory = snap.directory
    viewer = resolve_viewer(directory, logins(frames)[0])
    deals = frames["deals"]
    for unit in directory.units.index:
        ds = build(snap, viewer, how, monkeypatch, within=unit)
        subtree = directory.subtree(unit)
        wanted = set(deals.loc[(deals["kind"] == "prospect") & deals["unit_id"].isin(subtree), "id"])
        assert rows_of(ds, np.ones(ds.n_deals, dtype=bool)) == expected_rows(frames, wanted), (unit, how)


def test_lines_and_store_positions_round_trip(firm, monkeypatch):
    frames, snap = firm
    directory = snap.directory
    lines = frames["document_lines"].sort_values(["document_id", "line_no"], ignore_index=True)
    for how in ("in place", "gathered"):
        for login in logins(frames, limit=8):
            ds = build(snap, resolve_viewer(directory, login), how, monkeypatch)
            pos = np.arange(ds.n_documents)[::3]  # every third document
            ids = set(ds.doc_text("id", pos))
            want = lines[lines["document_id"].isin(ids)].reset_index(drop=True)
            got = ds.lines(pos)
            pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)
            assert list(ds.doc_positions(ds.doc_rows(pos))) == list(pos)
            assert len(ds.doc_positions(np.array([-1, snap.n_documents + 5]))) == 0


def test_arrays_are_read_only(firm):
    frames, snap = firm
    ds = dataset.for_viewer(snap, resolve_viewer(snap.directory, logins(frames)[0]))
    for name in ("deal_unit", "doc_recurring", "doc_deal", "doc_decided"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(ds, name)[:1] = 0
