"""Property-based tests (hypothesis) on random firms.

For random organisations, people, groups, deals, documents and lines, and for every
viewer and every filter they may use: each cell's drill-down is exactly its rows and
adds up to it, months add up to the year, and no row outside the viewer's visible
deals ever appears.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prospects import db, drilldown, figures
from prospects.api import open_firm
from prospects.sample import frame
from prospects.scoping import AccessDenied, Filters, scope_mask, visible_mask

from .reconcile import assert_reconciles, visible_literally

UNITS = [
    ("F", "Firm", "firm", None),
    ("R1", "Region 1", "region", "F"),
    ("R2", "Region 2", "region", "F"),
    ("A1", "Agency 1", "agency", "R1"),
    ("A2", "Agency 2", "agency", "R1"),
    ("A3", "Agency 3", "agency", "R2"),
    ("T1", "Team 1", "team", "A1"),
    ("T2", "Team 2", "team", "A1"),
    ("T3", "Team 3", "team", "A3"),
]
UNIT_IDS = [u[0] for u in UNITS]
PARENT = {u[0]: u[3] for u in UNITS}
KIND = {u[0]: u[2] for u in UNITS}


def ancestor(unit_id, level):
    """The unit's ancestor-or-self of a kind (None when the unit sits above it)."""
    while unit_id is not None:
        if KIND[unit_id] == level:
            return unit_id
        unit_id = PARENT[unit_id]
    return None


def ancestor_or_self(unit_id, top):
    """Whether ``top`` is the unit or above it."""
    while unit_id is not None:
        if unit_id == top:
            return True
        unit_id = PARENT[unit_id]
    return False


GROUPS = ["G1", "G2", "G3"]
BASE = dt.date(2024, 6, 1)  # dates range over 2024-06-01 … 2026-12-31
SPAN = (dt.date(2026, 12, 31) - BASE).days


def day(offset: int) -> str:
    return (BASE + dt.timedelta(days=offset)).isoformat()


@st.composite
def firms(draw):
    n_people = draw(st.integers(3, 7))
    people = []
    for i in range(n_people):
        people.append((
            f"C{i}", f"u{i}", f"Person {i}",
            draw(st.sampled_from(["partner", "director", "manager", "staff"])),
            draw(st.sampled_from(UNIT_IDS)), None,
            draw(st.booleans()), True,
        ))
    group_units = sorted({(g, u) for g in GROUPS for u in draw(st.lists(st.sampled_from(UNIT_IDS), max_size=2))})
    group_members = sorted({(g, f"C{i}") for g in GROUPS for i in draw(st.lists(st.integers(0, n_people - 1), max_size=3))})
    person = st.one_of(st.none(), st.sampled_from([p[0] for p in people]))
    deals, docs, lines = [], [], []
    for d in range(draw(st.integers(0, 14))):
        created = draw(st.integers(0, SPAN - 40))
        abandoned = draw(st.one_of(st.none(), st.integers(created, SPAN)))
        deals.append((
            f"D{d}", f"Deal {d}", draw(st.sampled_from(["prospect", "prospect", "prospect", "client"])), f"Prospect {d}",
            draw(st.sampled_from(UNIT_IDS)), draw(person), draw(person), draw(person),
            draw(st.one_of(st.none(), st.none(), st.sampled_from(GROUPS))),
            "open" if abandoned is None else "abandoned", day(created),
            None if abandoned is None else day(abandoned), None,
        ))
        for k in range(draw(st.integers(0, 4))):
            doc_id = f"X{d}_{k}"
            # often after the deal's abandonment: a prospect given up who comes back (docs/metrics.md counts it)
            after = abandoned is not None and abandoned < SPAN - 20 and draw(st.booleans())
            doc_created = draw(st.integers(abandoned + 1, SPAN - 20) if after else st.integers(created, SPAN - 20))
            status = draw(st.sampled_from(["in_progress", "signed", "refused", "cancelled"]))
            sent = draw(st.one_of(st.none(), st.integers(doc_created, doc_created + 15)))
            decided = None if status == "in_progress" else draw(st.integers(doc_created, SPAN))
            docs.append((
                doc_id, f"D{d}", "Proposition commerciale", None, None, status, day(doc_created),
                None if sent is None else day(sent), None if decided is None else day(decided), draw(person), None,
            ))
            for n in range(draw(st.integers(0, 3))):
                lines.append((doc_id, n + 1, "Mission", draw(st.sampled_from(["recurring", "one_off"])), draw(st.integers(0, 5_000_000))))
    return {
        "org_units": frame("org_units", UNITS),
        "entities": frame("entities", []),
        "collaborators": frame("collaborators", people),
        "groups": frame("groups", [(g, g) for g in GROUPS]),
        "group_units": frame("group_units", group_units),
        "group_members": frame("group_members", group_members),
        "deals": frame("deals", deals),
        "documents": frame("documents", docs),
        "document_lines": frame("document_lines", lines),
    }


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tables=firms(), today_offset=st.integers(300, SPAN), as_of_back=st.integers(0, 200), data=st.data())
def test_random_firms_reconcile_and_never_leak(tmp_path_factory, tables, today_offset, as_of_back, data):
    url = f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}"
    db.replace_all(db.make_engine(url), tables)
    today = BASE + dt.timedelta(days=today_offset)
    firm = open_firm(url, today=today)
    all_deals = tables["deals"]
    for login in firm.directory.collaborators["login"]:
        view = firm.as_viewer(login)
        period = view.period()
        as_of = max(period.start, period.as_of - dt.timedelta(days=as_of_back))
        period = view.period(as_of=as_of)
        ds = view._rows()
        may_see = visible_literally(view.viewer, all_deals)
        # the viewer's rows: every deal they may see, whatever its dates, and no other visible one
        assert set(ds.deal_ids(visible_mask(view.viewer, firm.directory, ds))) == may_see
        logins = list(firm.directory.collaborators["login"])
        options = [
            Filters(),
            Filters(unit=data.draw(st.sampled_from(UNIT_IDS))),
            Filters(collaborator=data.draw(st.sampled_from(logins))),
            Filters(unit=data.draw(st.sampled_from(UNIT_IDS)), collaborator=data.draw(st.sampled_from(logins))),
        ]
        for f in options:
            try:
                mask = scope_mask(view.viewer, firm.directory, ds, f)
            except AccessDenied:
                assert not f.is_mine
                continue
            assert set(ds.deal_ids(mask)) <= may_see
            assert_reconciles(ds, mask, period)
            assert_no_leak(ds, mask, period, may_see)


def assert_no_leak(ds, mask, period, may_see):
    sel = figures.selections(ds, mask, period)
    shown = set(ds.deal_ids(mask))
    for code in (*figures.DOCUMENT_CELLS, *figures.DEAL_CELLS):
        for by in ("deal", "document"):
            rows = drilldown.rows(ds, sel, code, by)
            assert set(rows["deal_id"]) <= shown <= may_see


@settings(max_examples=40, deadline=None)
@given(tables=firms(), today_offset=st.integers(300, SPAN))
def test_figures_match_a_naive_row_by_row_count(tmp_path_factory, tables, today_offset):
    """The vectorised figures equal a slow, literal reading of docs/metrics.md over all rows."""
    url = f"sqlite:///{tmp_path_factory.mktemp('naive') / 'p.db'}"
    db.replace_all(db.make_engine(url), tables)
    today = BASE + dt.timedelta(days=today_offset)
    firm = open_firm(url, today=today)
    deals, docs, lines = tables["deals"], tables["documents"], tables["document_lines"]

    for login in firm.directory.collaborators["login"]:
        view = firm.as_viewer(login)
        period = view.period()
        ds = view._rows()
        # which deals count, from the rows alone (not from what the product read):
        # "Mes affaires", and for a validator the whole firm
        cid = view.viewer.collaborator_id
        mine = {d.id for d in deals.itertuples() if d.kind == "prospect" and cid in (d.partner_id, d.manager_id, d.client_manager_id)}
        cases = [(None, mine)]
        if "F" in view.viewer.perimeter:
            may_see = visible_literally(view.viewer, deals)
            cases.append(("F", {d for d in may_see if ancestor_or_self(deals.set_index("id").at[d, "unit_id"], "F")}))
        for unit, counted in cases:
            mask = view._mask(ds, unit)
            assert set(ds.deal_ids(mask)) == counted
            got = figures.compute(ds, mask, period, with_previous=False).indicators
            assert got == naive(deals, docs, lines, counted, period.start, period.as_of)


def naive(deals, docs, lines, counted, start, a):
    """docs/metrics.md read literally, one row at a time."""
    ts = pd.Timestamp
    a, s = ts(a), ts(start)
    fees = {}
    for r in lines.itertuples():
        f = fees.setdefault(r.document_id, {"recurring": 0, "one_off": 0})
        f[r.billing] += r.amount_cents
    deal = {r.id: r for r in deals.itertuples() if r.id in counted}
    my_docs = [r for r in docs.itertuples() if r.deal_id in deal]
    converted = {}
    for r in my_docs:
        if r.status == "signed":
            converted[r.deal_id] = min(converted.get(r.deal_id, r.decided_on), r.decided_on)

    def abandoned_at(d, when):
        return d.status == "abandoned" and d.abandoned_on <= when

    in_progress = [r for r in my_docs if r.created_on <= a and (pd.isna(r.decided_on) or r.decided_on > a) and not abandoned_at(deal[r.deal_id], a)]
    open_deals = [d for d in deal.values() if d.created_on <= a and not (d.id in converted and converted[d.id] <= a) and not abandoned_at(d, a)]
    signed = [r for r in my_docs if r.status == "signed" and s <= r.decided_on <= a]
    refused = [r for r in my_docs if r.status == "refused" and s <= r.decided_on <= a]

    def total(rows):
        rec = sum(fees.get(r.id, {}).get("recurring", 0) for r in rows)
        one = sum(fees.get(r.id, {}).get("one_off", 0) for r in rows)
        return {"recurring": rec, "one_off": one, "total": rec + one}

    sb, rb = total(signed), total(refused)
    days = [(r.decided_on - (r.sent_on if not pd.isna(r.sent_on) else r.created_on)).days for r in signed]
    return {
        "prospects_without_document": sum(1 for d in open_deals if not any(r.deal_id == d.id for r in in_progress)),
        "offers_in_progress": len(in_progress),
        "potential_fees": total(in_progress),
        "signed_offers": len(signed),
        "signed_budget": sb,
        "refused_offers": len(refused),
        "abandoned_prospects": sum(1 for d in deal.values() if d.status == "abandoned" and s <= d.abandoned_on <= a),
        "converted_prospects": sum(1 for c in converted.values() if s <= c <= a),
        "win_rate": {
            "by_count": len(signed) / (len(signed) + len(refused)) if signed or refused else None,
            "by_value": sb["total"] / (sb["total"] + rb["total"]) if sb["total"] + rb["total"] else None,
        },
        "median_days_to_sign": float(np.median(days)) if days else None,
    }


# ---------------------------------------------------------------------------
# metrics tables (View.metrics): groups add up, and only the viewer's own groups appear

#: Metrics whose groups add up to the whole (counts and cents); rates and medians do not.
ADDITIVE = ["prospects_without_document", "offers_in_progress", "potential_fees", "signed_offers", "signed_budget",
            "refused_offers", "refused_fees", "decided_offers", "abandoned_prospects", "converted_prospects",
            "aged_offers>30"]
RATES = ["win_rate", "refusal_rate", "median_days_to_sign"]
DEAL_ONLY = {"prospects_without_document", "abandoned_prospects", "converted_prospects"}
CUTS = ["region", "agency", "team", "partner", "manager", "client_manager", "doc_type", "template", "signatory",
        ["region", "partner"], ["team", "signatory"], ["agency", "doc_type", "manager"]]


def literal_groups(tables, counted, by) -> set[tuple]:
    """The groups a metrics table may show, read literally from the rows: the dimensions' ids
    (or texts) of the counted deals — and of their documents when a dimension is a document's."""
    deals = tables["deals"].set_index("id")
    by = [by] if isinstance(by, str) else by

    def of_deal(d, dim):
        if dim in ("region", "agency", "team"):
            return ancestor(deals.at[d, "unit_id"], dim)
        return deals.at[d, f"{dim}_id"]

    if not any(dim in ("doc_type", "template", "signatory") for dim in by):
        return {tuple(of_deal(d, dim) for dim in by) for d in counted}
    out = set()
    for doc in tables["documents"].itertuples():
        if doc.deal_id in counted:
            out.add(tuple({"doc_type": doc.doc_type, "template": doc.template, "signatory": doc.signatory_id}.get(dim)
                          if dim in ("doc_type", "template", "signatory") else of_deal(doc.deal_id, dim) for dim in by))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tables=firms(), today_offset=st.integers(300, SPAN), data=st.data())
def test_metrics_by_any_dimension_add_up_and_never_leave_the_viewers_scope(tmp_path_factory, tables, today_offset, data):
    """For every viewer: metrics(by=…) summed over its groups equals the ungrouped figure (every
    metric that adds up, every period and sub-period), the ungrouped figures are the dashboard's,
    months and quarters add up to the year, and the groups are exactly those of the deals the
    viewer may see in that scope — never one of another perimeter."""
    import warnings

    url = f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'p.db'}"
    db.replace_all(db.make_engine(url), tables)
    firm = open_firm(url, today=BASE + dt.timedelta(days=today_offset))
    all_deals = tables["deals"]
    unit_of = all_deals.set_index("id")["unit_id"]
    for login in firm.directory.collaborators["login"]:
        view = firm.as_viewer(login)
        v = view.viewer
        may_see = visible_literally(v, all_deals)
        choices = [None, *(["perimeter", *sorted(v.perimeter)] if v.can_validate_offers and v.perimeter else [])]
        unit = data.draw(st.sampled_from(choices))
        by = data.draw(st.sampled_from(CUTS))
        freq = data.draw(st.sampled_from([None, "M", "Q"]))
        per_document = any(d in ("doc_type", "template", "signatory") for d in ([by] if isinstance(by, str) else by))
        names = [m for m in ADDITIVE if not (per_document and m in DEAL_ONLY)] + RATES
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty "Mes affaires" is said: not the point here
            whole = view.metrics(ADDITIVE + RATES, unit=unit, compare="N-1", freq=freq)
            cut = view.metrics(names, unit=unit, by=by, compare="N-1", freq=freq)
            year = view.metrics(ADDITIVE + RATES, unit=unit, compare="N-1")
            figs = view.figures(unit=unit)
        # which deals count, read literally: the team's for "Mes affaires", else the visible ones under the units
        if unit is None:
            counted = {d.id for d in all_deals.itertuples() if d.kind == "prospect"
                       and v.collaborator_id in (d.partner_id, d.manager_id, d.client_manager_id)}
        else:
            units = v.perimeter if unit == "perimeter" else {u for u in UNIT_IDS if ancestor_or_self(u, unit)}
            counted = {d for d in may_see if unit_of[d] in units}
        assert counted <= may_see | {d.id for d in all_deals.itertuples() if v.collaborator_id in
                                     (d.partner_id, d.manager_id, d.client_manager_id)}
        dims = [by] if isinstance(by, str) else by
        id_cols = [d if d in ("doc_type", "template") else f"{d}_id" for d in dims]
        shown = {tuple(None if pd.isna(x) else x for x in row) for row in cut[id_cols].itertuples(index=False)}
        assert shown == literal_groups(tables, counted, by), (login, unit, by)
        # groups add up, for every metric that does, in every (sub-)period of N and N-1
        key = ["fiscal_year", "period", "metric", "component"]
        additive = set(ADDITIVE) & set(names)
        sums = cut[cut["metric"].isin(additive)].groupby(key)["value"].sum()
        for k, value in whole[whole["metric"].isin(additive)].set_index(key)["value"].items():
            assert sums.get(k, 0) == value, (login, unit, by, freq, k)
        # the ungrouped year is the dashboard's (N and N-1), and sub-periods make the year
        frame = figs.to_frame(compare="N-1")
        for fy, col in ((figs.period.fiscal_year, "N"), (figs.previous.period.fiscal_year, "N-1")):
            got = year[year["fiscal_year"] == fy]
            for (metric, component), expected in frame[col].items():
                hit = got[(got["metric"] == metric) & (got["component"] == component)]["value"]
                assert len(hit) == 1 and (hit.iloc[0] == expected or (np.isnan(hit.iloc[0]) and np.isnan(expected)))
            flows = ["signed_offers", "signed_budget", "refused_offers", "refused_fees", "decided_offers",
                     "abandoned_prospects", "converted_prospects"]
            states = ["offers_in_progress", "potential_fees", "prospects_without_document", "aged_offers>30"]
            sub = whole[whole["fiscal_year"] == fy]
            for (metric, component), total in got.set_index(["metric", "component"])["value"].items():
                parts = sub[(sub["metric"] == metric) & (sub["component"] == component)]["value"]
                if metric in flows:
                    assert parts.sum() == total, (metric, component, freq)
                elif metric in states:
                    assert parts.iloc[-1] == total, (metric, component, freq)

@settings(max_examples=50, deadline=None)
@given(tables=firms(), today_offset=st.integers(300, SPAN), as_of_back=st.integers(0, 200))
def test_deal_cells_show_exactly_the_documents_of_their_rule(tmp_path_factory, tables, today_offset, as_of_back):
    """docs/metrics.md, "Deal cells", read literally from the raw rows (an oracle that shares
    nothing with the product but the tables): for every deal cell and every month, the
    by-deal rows are exactly the cell's deals, each with the documents of the rule and
    their fees (a deal's other documents never add); the by-document view is exactly those
    documents; by deal adds up to by document."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dealcells') / 'p.db'}"
    db.replace_all(db.make_engine(url), tables)
    today = BASE + dt.timedelta(days=today_offset)
    firm = open_firm(url, today=today)
    deals, docs, lines = tables["deals"], tables["documents"], tables["document_lines"]
    names = dict(zip(tables["collaborators"]["id"], tables["collaborators"]["full_name"], strict=True))
    for login in firm.directory.collaborators["login"]:
        view = firm.as_viewer(login)
        period = view.period()
        period = view.period(as_of=max(period.start, period.as_of - dt.timedelta(days=as_of_back)))
        ds = view._rows()
        units = [None, "F"] if "F" in view.viewer.perimeter else [None]
        for unit in units:
            mask = view._mask(ds, unit)
            counted = set(ds.deal_ids(mask))
            sel = figures.selections(ds, mask, period)
            expected = deal_cell_oracle(deals, docs, lines, counted, period)
            for (code, month), (cell_deals, rule_docs) in expected.items():
                by_deal = drilldown.rows(ds, sel, code, "deal", month=month)
                by_doc = drilldown.rows(ds, sel, code, "document", month=month)
                where = (login, unit, code, month, period.as_of)
                assert sorted(by_deal["deal_id"]) == sorted(cell_deals), where
                assert sorted(by_doc["document_id"]) == sorted(d.id for d in rule_docs), where
                fees = document_fees(lines)
                for row in by_deal.to_dict("records"):
                    mine = [d for d in rule_docs if d.deal_id == row["deal_id"]]
                    assert row["documents"] == len(mine), where
                    assert row["recurring"] == sum(fees.get(d.id, (0, 0))[0] for d in mine), where
                    assert row["one_off"] == sum(fees.get(d.id, (0, 0))[1] for d in mine), where
                    assert row["total"] == row["recurring"] + row["one_off"], where
                    shown_from = mine or [d for d in docs.itertuples()
                                          if d.deal_id == row["deal_id"] and d.created_on <= pd.Timestamp(period.as_of)]
                    latest = max(shown_from, key=lambda d: (d.created_on, d.id), default=None)
                    assert row["signatory"] == (names.get(latest.signatory_id) if latest is not None else None), where
                for row in by_doc.to_dict("records"):
                    assert (row["recurring"], row["one_off"]) == fees.get(row["document_id"], (0, 0)), where
                assert by_deal["documents"].sum() == len(by_doc), where
                for part in drilldown.MONEY_COLUMNS:
                    assert by_deal[part].sum() == by_doc[part].sum(), where
            # the months add up to the converted prospects' cell, deals and documents alike
            won = [expected[key] for key in expected if key[0] == "won_prospects"]
            assert sorted(d for deals_, _ in won for d in deals_) == sorted(expected[("converted_prospects", None)][0])
            # the converted prospects' documents are among the signed offers of the period
            converted_docs = {d.id for d in expected[("converted_prospects", None)][1]}
            assert converted_docs <= set(ds.document_ids(sel.documents["signed_offers"]))
            # a prospect without document: its history beside it
            frame = drilldown.rows(ds, sel, "prospects_without_document", "deal")
            a = pd.Timestamp(period.as_of)
            by_id = deals.set_index("id")
            for row in frame.to_dict("records"):
                assert row["deal_created_on"] == by_id.at[row["deal_id"], "created_on"]
                decided = [d for d in docs.itertuples() if d.deal_id == row["deal_id"] and not pd.isna(d.decided_on)
                           and d.decided_on <= a]
                last = max(decided, key=lambda d: (d.decided_on, d.created_on, d.id), default=None)
                assert row["last_decision"] == (last.status if last is not None else None)
                assert (pd.isna(row["last_decision_on"]) if last is None else row["last_decision_on"] == last.decided_on)


def document_fees(lines) -> dict[str, tuple[int, int]]:
    """Each document's (recurring, one-off) cents, summed from its lines."""
    out: dict[str, list[int]] = {}
    for r in lines.itertuples():
        out.setdefault(r.document_id, [0, 0])[0 if r.billing == "recurring" else 1] += r.amount_cents
    return {k: (v[0], v[1]) for k, v in out.items()}


def deal_cell_oracle(deals, docs, lines, counted, period) -> dict:
    """(code, month) → (the cell's deal ids, the documents the rule shows), one row at a time."""
    ts = pd.Timestamp
    s, a = ts(period.start), ts(period.as_of)
    deal = {r.id: r for r in deals.itertuples() if r.id in counted}
    mine = [r for r in docs.itertuples() if r.deal_id in deal]
    converted: dict[str, pd.Timestamp] = {}
    for r in mine:
        if r.status == "signed":
            converted[r.deal_id] = min(converted.get(r.deal_id, r.decided_on), r.decided_on)

    def abandoned_at(d, when):
        return d.status == "abandoned" and d.abandoned_on <= when

    in_progress = {r.deal_id for r in mine if r.created_on <= a and (pd.isna(r.decided_on) or r.decided_on > a)
                   and not abandoned_at(deal[r.deal_id], a)}
    open_deals = [d.id for d in deal.values() if d.created_on <= a and not (d.id in converted and converted[d.id] <= a)
                  and not abandoned_at(d, a)]
    won = [d for d, c in converted.items() if s <= c <= a]
    abandoned = [d.id for d in deal.values() if d.status == "abandoned" and s <= d.abandoned_on <= a]

    def signed_by_a(ids):
        return [r for r in mine if r.deal_id in ids and r.status == "signed" and r.decided_on <= a]

    def at_stake(ids):
        return [r for r in mine if r.deal_id in ids and r.created_on <= deal[r.deal_id].abandoned_on
                and (pd.isna(r.decided_on) or r.decided_on >= deal[r.deal_id].abandoned_on)]

    out = {
        ("converted_prospects", None): (won, signed_by_a(set(won))),
        ("abandoned_prospects", None): (abandoned, at_stake(set(abandoned))),
        ("prospects_without_document", None): ([d for d in open_deals if d not in in_progress], []),
    }
    for month in period.months():
        that_month = [d for d in won if converted[d].strftime("%Y-%m") == month]
        out[("won_prospects", month)] = (that_month, signed_by_a(set(that_month)))
    return out
