"""Shared assertion: every cell of the table reconciles with its drill-downs."""

from __future__ import annotations

from prospects import drilldown, figures


def assert_reconciles(ds, mask, period):
    """Every cell's drill-down is exactly its rows and adds up to it; months add up too."""
    f = figures.compute(ds, mask, period, with_previous=False)
    sel = figures.selections(ds, mask, period)
    ind = f.indicators
    visible_deals = set(ds.deal_ids(mask))
    for code in figures.DOCUMENT_CELLS:
        docs = drilldown.rows(ds, sel, code, "document")
        deals = drilldown.rows(ds, sel, code, "deal")
        expected_ids = set(ds.document_ids(sel.documents[code]))
        assert set(docs["document_id"]) == expected_ids and len(docs) == len(expected_ids)
        count = ind["offers_in_progress"] if code == "potential_fees" else ind["signed_offers"] if code == "signed_budget" else ind[code]
        assert len(docs) == count
        assert deals["documents"].sum() == count
        fee_code = {"offers_in_progress": "potential_fees", "signed_offers": "signed_budget"}.get(code, code)
        if fee_code in ("potential_fees", "signed_budget"):
            for part in ("recurring", "one_off", "total"):
                assert docs[part].sum() == ind[fee_code][part]
                assert deals[part].sum() == ind[fee_code][part]
        assert set(docs["deal_id"]) <= visible_deals and set(deals["deal_id"]) <= visible_deals
    signed_docs = set(ds.document_ids(sel.documents["signed_offers"]))
    deal_cells = {}
    for code in figures.DEAL_CELLS:
        deals = drilldown.rows(ds, sel, code, "deal")
        docs = drilldown.rows(ds, sel, code, "document")
        deal_cells[code] = (deals, docs)
        assert set(deals["deal_id"]) == set(ds.deal_ids(sel.deals[code])) and len(deals) == ind[code]
        # the documents that make each deal count (docs/metrics.md, "Deal cells"): the by-document
        # view holds only the cell's deals' documents, and both views add up to each other
        assert set(docs["deal_id"]) <= set(deals["deal_id"])
        assert deals["documents"].sum() == len(docs)
        for part in ("recurring", "one_off", "total"):
            assert deals[part].sum() == docs[part].sum()
        assert set(deals["deal_id"]) <= visible_deals
    assert deal_cells["prospects_without_document"][1].empty
    assert deal_cells["prospects_without_document"][0]["total"].sum() == 0
    # converted prospects show signed documents of the period only: never more than the signed budget
    assert set(deal_cells["converted_prospects"][1]["document_id"]) <= signed_docs
    assert set(deal_cells["converted_prospects"][1]["status"]) <= {"signed"}
    assert set(deal_cells["abandoned_prospects"][1]["status"]) <= {"in_progress", "signed", "refused", "cancelled"}
    won_docs, won_total = [], 0
    for row in f.monthly.to_dict("records"):
        won = drilldown.rows(ds, sel, "won_prospects", "deal", month=row["month"])
        assert len(won) == row["won_prospects"]
        won_by_doc = drilldown.rows(ds, sel, "won_prospects", "document", month=row["month"])
        assert won["documents"].sum() == len(won_by_doc) and won["total"].sum() == won_by_doc["total"].sum()
        won_docs += list(won_by_doc["document_id"])
        won_total += won["total"].sum()
        signed = drilldown.rows(ds, sel, "signed_budget", "document", month=row["month"])
        by_deal = drilldown.rows(ds, sel, "signed_budget", "deal", month=row["month"])
        for part in ("recurring", "one_off", "total"):
            assert signed[part].sum() == row[part] == by_deal[part].sum()
    assert f.monthly["won_prospects"].sum() == ind["converted_prospects"]
    # a month's won prospects show the same documents as they do among the converted prospects
    assert sorted(won_docs) == sorted(deal_cells["converted_prospects"][1]["document_id"])
    assert won_total == deal_cells["converted_prospects"][0]["total"].sum()
    assert f.monthly["total"].sum() == ind["signed_budget"]["total"]
    for bucket in f.ageing.to_dict("records"):
        rows = drilldown.rows(ds, sel, "offers_in_progress", "document", bucket=bucket["bucket"])
        assert len(rows) == bucket["offers"] and rows["total"].sum() == bucket["total"]


def visible_literally(viewer, deals) -> set[str]:
    """docs/access.md read literally, one canonical deal row at a time: the prospect deals a viewer may see."""
    seen = set()
    for d in deals.itertuples():
        if d.kind != "prospect":
            continue
        in_team = viewer.collaborator_id in (d.partner_id, d.manager_id, d.client_manager_id)
        guarded_ok = d.group_id is None or d.group_id in viewer.groups
        if in_team or (viewer.can_validate_offers and d.unit_id in viewer.perimeter and guarded_ok):
            seen.add(d.id)
    return seen
