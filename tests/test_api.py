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
    assert set(narrow._rows().unit_ids()) <= {"R2", "A2", "T2"}
    assert narrow._rows().n_deals < full._rows().n_deals
    with pytest.raises(ValueError, match="sous « R2 »"):
        narrow.figures(unit="R1")
    with pytest.raises(ValueError, match="sous « R2 »"):
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
    stamp = firm._snapshot().stamp
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
    rows = me._rows()
    me.figures(unit="R1", period=me.period(previous=True))
    assert me._rows() is rows
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


# ---------------------------------------------------------------------------
# the view's public surface is the boundary: everything it hands out is the viewer's


import inspect  # noqa: E402
from collections.abc import Mapping  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from prospects import api, config, dataset, db, drilldown, figures, store  # noqa: E402
from prospects.demo import demo_logins, generate  # noqa: E402
from prospects.sample import sample_firm  # noqa: E402
from prospects.scoping import Directory, build_directory, resolve_viewer  # noqa: E402

from .reconcile import visible_literally  # noqa: E402

#: What a view must never hand out: each leads to rows (or people, or the database) of
#: other viewers. Reaching one of them through public names is a leak in itself.
UNSCOPED = (api.Firm, api.View, sa.engine.Engine, sa.engine.Connection, store.Snapshot, dataset.Dataset,
            drilldown.Rows, Directory, config.Settings, pa.Table, pa.RecordBatch)


def public_calls(view) -> dict[str, list[tuple[tuple, dict]] | None]:
    """Every public name of a view, with the typical calls an analyst makes (None: an attribute).

    Adding a public name to the View without adding it here fails the test: every new
    door of the boundary is walked.
    """
    perimeter = sorted(view.viewer.perimeter)
    units = [u for u in (view.within, *perimeter[:3]) if u is not None]
    people = list(view.filter_options()["collaborators"]["login"].head(2))
    where = [{}] + [{"unit": u} for u in units] + [{"collaborator": c} for c in people]
    last_year = view.period(previous=True)
    cells = [*figures.DOCUMENT_CELLS, *figures.DEAL_CELLS, "won_prospects"]
    drills = [((cell,), {"by": by, **w}) for cell in cells for by in ("deal", "document") for w in where[:2]]
    drills += [(("signed_budget",), {"by": "document", "lines": True, **w}) for w in where]
    drills += [(("offers_in_progress",), {"by": "document", "bucket": ">180", **w}) for w in where[:2]]
    drills += [(("signed_budget",), {"by": "deal", "month": m, **w}) for m in view.period().months()[:2] for w in where[:2]]

    def own_frames():
        for w in where:
            try:
                yield ((view.drilldown("signed_budget", by="document", **w),), {})
                yield ((view.drilldown("offers_in_progress", by="document", **w),), {})
            except (prospects.AccessDenied, ValueError):
                continue

    return {
        "login": None,
        "within": None,
        "viewer": None,
        "period": [((), {}), ((), {"previous": True}), ((2025,), {})],
        "figures": [((), w) for w in where] + [((), {"period": last_year, **w}) for w in where],
        "drilldown": drills,
        "with_lines": list(own_frames()),
        "timeline": [((), w) for w in where[:2]],
        "filter_options": [((), {})],
        "metrics": metrics_calls(view, where),
        "deals": [((), w) for w in where] + [((), {"period": last_year, **w}) for w in where],
        "documents": [((), w) for w in where],
        "lines": [((), w) for w in where],
    }


#: Every metric of the table, and those a document's dimension may cut.
ALL_METRICS = ["prospects_without_document", "offers_in_progress", "potential_fees", "signed_offers", "signed_budget",
               "refused_offers", "refused_fees", "decided_offers", "abandoned_prospects", "converted_prospects",
               "win_rate", "refusal_rate", "median_days_to_sign", "aged_offers>90"]
DOCUMENT_METRICS = [m for m in ALL_METRICS if m not in ("prospects_without_document", "abandoned_prospects",
                                                       "converted_prospects")]


def metrics_calls(view, where) -> list[tuple[tuple, dict]]:
    """metrics() by every dimension, with the unit aliases, N-1, several years and months."""
    calls = [((ALL_METRICS,), {"by": by, **w}) for by in (None, "region", "agency", "team", "partner", "manager",
                                                           "client_manager") for w in where]
    calls += [((DOCUMENT_METRICS,), {"by": by, **w}) for by in ("doc_type", "template", "signatory", ["team", "doc_type"])
              for w in where[:3]]
    for unit in ("perimeter", "firm", "mine"):
        calls += [((ALL_METRICS,), {"by": "partner", "unit": unit, "compare": "N-1"}),
                  ((DOCUMENT_METRICS,), {"by": ["template", "manager"], "unit": unit, "freq": "Q"}),
                  (("signed_budget",), {"unit": unit, "fiscal_years": [2025, 2026], "freq": "M", "by": "team"})]
    return calls


class Reached:
    """Every text reachable from an object through public names, and where from."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.unscoped: list[str] = []
        self._seen: set[int] = set()

    def walk(self, obj, path: str, depth: int = 4) -> None:
        if obj is None or isinstance(obj, (bool, int, float, complex, dt.date, dt.timedelta, np.generic, type, pd.Period)):
            return
        if isinstance(obj, str):
            self.texts.setdefault(obj, path)
            return
        if id(obj) in self._seen:
            return
        self._seen.add(id(obj))
        if isinstance(obj, UNSCOPED):
            self.unscoped.append(f"{path} → {type(obj).__name__}")
            return
        if isinstance(obj, pd.DataFrame):
            self.walk(obj.index, f"{path}.index", depth)
            for column in obj.columns:
                self.walk(obj[column], f"{path}[{column!r}]", depth)
            return
        if isinstance(obj, (pd.Series, pd.Index, np.ndarray, pa.Array, pa.ChunkedArray)):
            values = obj.to_pylist() if isinstance(obj, (pa.Array, pa.ChunkedArray)) else np.asarray(obj)
            if isinstance(values, list) or values.dtype == object:
                for v in values if isinstance(values, list) else values.ravel():
                    self.walk(v, path, depth)
            return
        if isinstance(obj, Mapping):
            for k, v in obj.items():
                self.walk(k, f"{path}.keys()", depth)
                self.walk(v, f"{path}[{k!r}]", depth)
            return
        if isinstance(obj, (list, tuple, set, frozenset)):
            for v in obj:
                self.walk(v, f"{path}[]", depth)
            return
        if depth <= 0:
            return
        for name in dir(obj):  # any other object: follow its public names a few levels
            if name.startswith("_"):
                continue
            try:
                value = getattr(obj, name)
            except Exception:  # a property that refuses gives nothing
                continue
            if inspect.ismethod(value) or inspect.isbuiltin(value):
                try:
                    required = [p for p in inspect.signature(value).parameters.values()
                                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
                except (TypeError, ValueError):
                    continue
                if required:
                    continue
                try:
                    value = value()
                except Exception:  # a refusal hands out nothing
                    continue
                self.walk(value, f"{path}.{name}()", depth - 1)
            else:
                self.walk(value, f"{path}.{name}", depth - 1)


def hidden_texts(frames, viewer) -> dict[str, set[str]]:
    """What a viewer may not see: ids (and names found on no visible row) of the other deals and documents."""
    deals, docs = frames["deals"], frames["documents"]
    visible = visible_literally(viewer, deals)
    shown_deals = deals["id"].isin(visible)
    shown_docs = docs["deal_id"].isin(visible)
    seen_names = set(deals.loc[shown_deals, ["name", "prospect_name"]].stack()) | set(docs.loc[shown_docs, "title"].dropna())
    return {
        "deal ids": set(deals.loc[~shown_deals, "id"]),
        "document ids": set(docs.loc[~shown_docs, "id"]),
        "names": (set(deals.loc[~shown_deals, ["name", "prospect_name"]].stack()) | set(docs.loc[~shown_docs, "title"].dropna()))
        - seen_names,
    }


def walk_view(view, frames) -> None:
    """Call every public name of ``view``, follow what comes back, and check it against docs/access.md."""
    viewer = resolve_viewer(build_directory(frames), view.login)
    calls = public_calls(view)
    public = {name for name in dir(view) if not name.startswith("_")}
    assert public == set(calls), f"public names of View not walked by this test: {sorted(public ^ set(calls))}"
    reached = Reached()
    answered = 0
    for name, cases in calls.items():
        if cases is None:
            reached.walk(getattr(view, name), f"view.{name}")
            continue
        method = getattr(view, name)
        for args, kwargs in cases:
            try:
                result = method(*args, **kwargs)
            except (prospects.AccessDenied, ValueError):
                continue  # refused: nothing handed out
            answered += 1
            reached.walk(result, f"view.{name}(*{args!r:.40}, **{kwargs!r:.80})")
    assert answered > 10
    assert not reached.unscoped, f"{view.login}: unscoped objects reachable: {reached.unscoped[:5]}"
    for what, texts in hidden_texts(frames, viewer).items():
        leaked = sorted(set(reached.texts) & texts)
        assert not leaked, f"{view.login}: {what} it may not see: {[(t, reached.texts[t]) for t in leaked[:5]]}"


@pytest.mark.parametrize("login", ["dir", "part1", "part2", "man1", "man2", "staff1"])
def test_every_public_name_of_a_view_hands_out_only_what_the_viewer_may_see(firm, login):
    """docs/access.md at the view's boundary, on Cabinet Exemple (the director is not in the confidential group)."""
    walk_view(firm.as_viewer(login), sample_firm())


def test_a_view_within_a_unit_hands_out_only_what_the_viewer_may_see(firm):
    walk_view(firm.as_viewer("dir", within="R1"), sample_firm())


@pytest.fixture(scope="module")
def demo_firm(tmp_path_factory):
    frames = generate("small", 7, today=dt.date(2026, 11, 29))
    url = f"sqlite:///{tmp_path_factory.mktemp('demo-surface') / 'demo.db'}"
    db.replace_all(db.make_engine(url), frames)
    return frames, prospects.open_firm(url, today="2026-11-29")


def test_every_public_name_of_a_demo_view_hands_out_only_what_the_viewer_may_see(demo_firm):
    """A director, a regional partner, an agency manager, a validator in no group, a manager without the right, staff."""
    frames, firm = demo_firm
    tried = demo_logins(frames)
    assert len(tried) >= 5
    for entry in tried:
        walk_view(firm.as_viewer(entry["login"]), frames)


# ---------------------------------------------------------------------------
# scope that says what it is (issue 23.2)

import warnings  # noqa: E402

from prospects.api import ArgumentError, Notice, Scope  # noqa: E402


def test_unit_aliases_name_the_perimeter_and_the_firm(firm):
    director, part1 = firm.as_viewer("dir"), firm.as_viewer("part1")
    assert director.figures(unit="perimeter").indicators == director.figures(unit="F").indicators
    assert director.figures(unit="firm").indicators == director.figures(unit="F").indicators
    assert part1.figures(unit="perimeter").indicators == part1.figures(unit="R1").indicators
    assert part1.drilldown("signed_budget", unit="perimeter").equals(part1.drilldown("signed_budget", unit="R1"))
    assert part1.deals(unit="perimeter").equals(part1.deals(unit="R1"))
    assert part1.figures(unit="mine").indicators == part1.figures().indicators
    with pytest.raises(prospects.AccessDenied, match=r"« firm » est hors de votre périmètre ; vouliez-vous dire"):
        part1.figures(unit="firm")  # the firm is wider than a partner's region
    with pytest.raises(prospects.AccessDenied, match="le vôtre est vide"):
        firm.as_viewer("man1").figures(unit="perimeter")  # a validator in no group
    with pytest.raises(prospects.AccessDenied, match="réservés aux personnes habilitées"):
        firm.as_viewer("man2").metrics("signed_offers", unit="perimeter")
    assert firm.as_viewer("dir", within="R2").figures(unit="perimeter").indicators == director.figures(unit="R2").indicators


def test_a_perimeter_of_several_units_is_their_union(tmp_path):
    """A manager granted two agencies: "perimeter" is both, each deal once."""
    frames = sample_firm()
    frames["group_units"] = pd.concat([frames["group_units"], pd.DataFrame({"group_id": ["G_M"] * 2, "unit_id": ["A1", "A2"]})])
    frames["groups"] = pd.concat([frames["groups"], pd.DataFrame({"id": ["G_M"], "name": ["Two agencies"]})])
    frames["group_members"] = pd.concat([frames["group_members"], pd.DataFrame({"group_id": ["G_M"], "collaborator_id": ["C1"]})])
    frames["collaborators"].loc[frames["collaborators"]["id"] == "C1", "function"] = "manager"  # capped at agency: none
    frames["collaborators"].loc[frames["collaborators"]["id"] == "C1", "unit_id"] = "A1"
    url = f"sqlite:///{tmp_path / 'two.db'}"
    db.replace_all(db.make_engine(url), frames)
    view = prospects.open_firm(url, today="2026-11-29").as_viewer("dir")
    assert view.viewer.perimeter == {"A1", "T1"}  # the cap keeps A1's subtree
    frames["collaborators"].loc[frames["collaborators"]["id"] == "C1", "function"] = "director"
    db.replace_all(db.make_engine(url), frames)
    view = prospects.open_firm(url, today="2026-11-29").as_viewer("dir")
    assert view._widest() == ["F"]
    # a director granted only the two agencies (not the firm): two widest units
    frames["group_members"] = frames["group_members"][frames["group_members"]["group_id"] != "G_FIRM"]
    db.replace_all(db.make_engine(url), frames)
    view = prospects.open_firm(url, today="2026-11-29").as_viewer("dir")
    assert view._widest() == ["A1", "A2"]
    both = view.figures(unit="perimeter").indicators
    a1, a2 = view.figures(unit="A1").indicators, view.figures(unit="A2").indicators
    assert both["signed_offers"] == a1["signed_offers"] + a2["signed_offers"]
    assert both["abandoned_prospects"] == a1["abandoned_prospects"] + a2["abandoned_prospects"]
    m = view.metrics("signed_offers", unit="perimeter", by="agency")
    assert set(m["unit_id"]) == {"A1+A2"} and set(m["unit_name"]) == {"Paris + Lille"}
    assert repr(view).startswith("<View dir · director · A1 + A2 · 4 units")


def test_an_empty_mes_affaires_of_someone_with_a_perimeter_is_said(firm):
    director = firm.as_viewer("dir")  # on no deal's team, the whole firm in his perimeter
    for call in (director.figures, lambda: director.metrics("signed_offers"), lambda: director.drilldown("signed_budget"),
                 director.documents):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            call()
        notes = [w for w in seen if issubclass(w.category, Notice)]
        assert len(notes) == 1 and 'unit="perimeter"' in str(notes[0].message) and 'unit="firm"' in str(notes[0].message)
        assert notes[0].filename == __file__  # it points at the caller's line, not the package's
    for quiet in (lambda: director.figures(unit="perimeter"), firm.as_viewer("part1").figures,
                  firm.as_viewer("man2").figures):  # a scope, own deals, no perimeter: nothing to say
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            quiet()
    # the package's own front ends say their scope on screen: no notice for them
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec("view.figures()", {"__name__": "prospects.dashboard.fake", "view": director})


def test_every_result_says_what_it_covers(firm):
    part1 = firm.as_viewer("part1")
    figs = part1.figures(unit="R1")
    assert isinstance(figs.scope, Scope) and figs.previous.scope == figs.scope
    assert str(figs.scope) == ("Paul Associé (part1, associé) — Île-de-France (R1) ; les affaires confidentielles "
                               "des groupes dont vous n'êtes pas membre sont exclues")
    for frame in (part1.metrics("signed_offers", unit="R1"), part1.drilldown("signed_budget", unit="R1"),
                  part1.deals(unit="R1"), part1.documents(unit="R1"), part1.lines(unit="R1"),
                  part1.timeline([dt.date(2026, 6, 30)], unit="R1"), figs.to_frame()):
        assert frame.attrs["scope"] == figs.scope
    mine = part1.figures().scope
    assert mine.mine and not mine.confidential_excluded
    assert str(mine) == "Paul Associé (part1, associé) — Mes affaires (celles dont vous êtes associé, manager ou responsable client)"
    who = part1.figures(collaborator="man1").scope
    assert "Marie Manager (man1)" in str(who) and who.confidential_excluded
    # what is left out is a rule, never a count: the director (who misses D6 and D12) and a member read alike
    assert str(firm.as_viewer("dir").figures(unit="F").scope).endswith("dont vous n'êtes pas membre sont exclues")
    assert not any(ch.isdigit() for ch in str(firm.as_viewer("dir").figures(unit="F").scope))


def test_scope_in_english(sample_url, monkeypatch):
    monkeypatch.setenv("PROSPECTS_LOCALE", "en")
    view = prospects.open_firm(sample_url, today="2026-11-29").as_viewer("part1")
    assert str(view.figures(unit="R1").scope) == ("Paul Associé (part1, partner) — Île-de-France (R1); "
                                                  "confidential groups you are not in are excluded")


def test_open_firm_takes_a_demos_own_date_and_says_so(tmp_path, monkeypatch):
    from prospects import demo
    from prospects.config import load_settings

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.delenv("PROSPECTS_TODAY", raising=False)
    demo.run_demo_command(load_settings(db=url, today="2026-11-29"), "small", 42)  # what `prospects demo` records
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        firm = prospects.open_firm(url)
    assert firm.today == dt.date(2026, 11, 29) and firm.today_from == "the demo's date"
    notes = [str(w.message) for w in seen if issubclass(w.category, Notice)]
    assert notes == ["cette base est une démonstration construite pour le 2026-11-29 : les chiffres sont à cette "
                     "date (passez today=… pour en choisir une autre)"]
    assert "today 2026-11-29 (the demo's date)" in repr(firm)
    assert firm.as_viewer(demo.demo_logins(db.read_all(firm.engine))[0]["login"]).period().as_of == dt.date(2026, 11, 29)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # chosen dates are not announced
        assert prospects.open_firm(url, today="2026-06-30").today_from == "argument"
        monkeypatch.setenv("PROSPECTS_TODAY", "2026-10-01")
        chosen = prospects.open_firm(url)
        assert (chosen.today, chosen.today_from) == (dt.date(2026, 10, 1), "PROSPECTS_TODAY")


def test_a_firms_own_data_keeps_the_system_date(sample_url, monkeypatch):
    monkeypatch.delenv("PROSPECTS_TODAY", raising=False)
    own = prospects.open_firm(sample_url)
    assert (own.today, own.today_from) == (dt.date.today(), "system date")


# ---------------------------------------------------------------------------
# pandas-native results (issue 23.3)


def test_figures_to_frame_compares_n_and_n_1(firm):
    figs = firm.as_viewer("dir").figures(unit="F")
    frame = figs.to_frame(compare="N-1")
    assert list(frame.columns) == ["N", "N-1", "Δ", "Δ %"] and frame.index.names == ["metric", "component"]
    row = frame.loc[("signed_budget", "total")]
    # N: X1, X2, X9, X13; N-1 as of 29/11/2025: X11 only (X12 was signed on 31/12/2025)
    assert (row["N"], row["N-1"], row["Δ"], row["Δ %"]) == (1_850_000, 400_000, 1_450_000, 362.5)
    assert np.isnan(frame.loc[("refused_offers", "count"), "Δ %"])  # from 0: no percentage
    assert frame.loc[("win_rate", "by_count"), "N"] == pytest.approx(0.8)
    assert list(figs.to_frame().columns) == ["N"]
    assert figs.monthly.index.dtype == pd.PeriodDtype("M") and list(figs.monthly["month"])[:2] == ["2026-01", "2026-02"]


def test_short_reprs_and_html(firm):
    assert repr(firm.as_viewer("part1")) == "<View part1 · partner · R1 · 3 units · as of 2026-11-29>"
    assert repr(firm.as_viewer("man2")) == "<View man2 · manager · own deals · as of 2026-11-29>"
    assert repr(firm.as_viewer("dir", within="R2")) == "<View dir · director · F · 7 units · within R2 · as of 2026-11-29>"
    assert repr(firm).startswith("<Firm Cabinet Exemple · sqlite:///") and len(repr(firm)) < 250
    figs = firm.as_viewer("part1").figures(unit="R1")
    assert len(repr(figs)) < 300 and repr(figs).startswith("<Figures FY 2026 as of 2026-11-29 · Paul Associé")
    page = figs._repr_html_()
    assert page.count("<table") == 1 and "Budget signé" in page and "18\u202f500\u202f€" in page
    assert "N-1 à date (29/11/2025)" in page and "Île-de-France (R1)" in page
    assert "<script" not in page


def test_drilldowns_and_frames_carry_ids_beside_names_and_age(firm):
    part1 = firm.as_viewer("part1")
    people = firm.directory.collaborators["full_name"]
    units = firm.directory.units["name"]
    docs = part1.drilldown("offers_in_progress", by="document", unit="R1")
    for col in ("unit_id", "region_id", "agency_id", "team_id", "partner_id", "manager_id", "client_manager_id",
                "signatory_id", "signatory_entity_id", "age_days"):
        assert col in docs.columns
    cols = list(docs.columns)
    assert cols.index("region_id") + 1 == cols.index("region") and cols.index("partner_id") + 1 == cols.index("partner")
    for frame in (docs, part1.drilldown("signed_budget", by="deal", unit="R1"), part1.documents(unit="R1")):
        for role in ("partner", "manager", "client_manager"):
            named = frame[frame[f"{role}_id"].notna()]
            assert list(named[role]) == [people[i] for i in named[f"{role}_id"]]
        for level in ("region", "agency", "team"):
            named = frame[frame[f"{level}_id"].notna()]
            assert list(named[level]) == [units[i] for i in named[f"{level}_id"]]
    ages = dict(zip(docs["document_id"], docs["age_days"], strict=True))
    assert ages == {"X3": 328, "X8": 9}  # sent 05/01 and 20/11/2026, as of 29/11/2026
    deals = part1.drilldown("offers_in_progress", by="deal", unit="R1")
    assert dict(zip(deals["deal_id"], deals["age_days"], strict=True)) == {"D2": 384, "D6": 151}  # since created
    frame = part1.documents(unit="R1").set_index("id")
    assert frame.loc["X3", "age_days"] == 328 and frame.loc["X1", "signatory"] == "Paul Associé"
    assert frame["created_on"].dtype == "datetime64[s]"


def test_frames_read_as_of_their_date(firm):
    """Documents and deals stand as they did on the period's as-of date (later decisions are not known yet)."""
    director = firm.as_viewer("dir")
    march = director.period(as_of="2026-03-01")
    docs = director.documents(unit="F", period=march).set_index("id")
    assert docs.loc["X1", "status"] == "in_progress" and pd.isna(docs.loc["X1", "decided_on"])  # signed 15/03/2026
    assert docs.loc["X4", "status"] == "refused" and docs.loc["X4", "decided_on"] == pd.Timestamp("2026-02-28")
    assert docs.loc["X1", "age_days"] == 19  # sent 10/02/2026
    deals = director.deals(unit="F", period=march).set_index("id")
    assert deals.loc["D4", "status"] == "open" and pd.isna(deals.loc["D4", "abandoned_on"])  # abandoned 10/09/2026
    assert pd.isna(deals.loc["D4", "abandon_reason"]) and pd.isna(deals.loc["D1", "converted_on"])
    assert deals.loc["D8", "status"] == "abandoned" and deals.loc["D8", "abandon_reason"] == "Concurrent retenu"
    now = director.deals(unit="F").set_index("id")
    assert now.loc["D4", "status"] == "abandoned" and now.loc["D4", "abandon_reason"] == "Prix trop élevé"
    assert now.loc["D1", "converted_on"] == pd.Timestamp("2026-03-15")


# ---------------------------------------------------------------------------
# errors an analyst can act on (issue 23.4)


@pytest.mark.parametrize(("call", "fr", "en"), [
    (lambda v: v.figures(fiscal_year="2025"),
     "fiscal_year attend un entier, par exemple fiscal_year=2025 ; reçu '2025' (str)",
     "fiscal_year expects an integer, e.g. fiscal_year=2025; got '2025' (str)"),
    (lambda v: v.figures(as_of=20260630), "as_of attend une date", "as_of expects a date"),
    (lambda v: v.figures(as_of="30/06/2026"), "as_of attend une date", "as_of expects a date"),
    (lambda v: v.figures(unit=3), "unit attend un texte", "unit expects a text"),
    (lambda v: v.metrics("signed_budgte"), "indicateur inconnu « signed_budgte » ; vouliez-vous dire signed_budget",
     "unknown metric 'signed_budgte'; did you mean signed_budget"),
    (lambda v: v.metrics("aged_offers"), "demande un seuil en jours", "needs a threshold in days"),
    (lambda v: v.metrics("win_rate.by_size"), "composante inconnue ; composantes : by_count, by_value",
     "unknown component; components: by_count, by_value"),
    (lambda v: v.metrics("signed_offers", by="country"), "dimension inconnue « country »", "unknown dimension 'country'"),
    (lambda v: v.metrics("signed_offers", freq="W"), "freq « W » inconnue", "unknown freq 'W'"),
    (lambda v: v.metrics("signed_offers", compare="N-2"), "compare « N-2 » inconnu", "unknown compare 'N-2'"),
    (lambda v: v.metrics("signed_offers", fiscal_years="2025"), "fiscal_years attend une liste d'entiers",
     "fiscal_years expects a list of integers"),
    (lambda v: v.metrics("signed_offers", fiscal_years=[2025], compare="N-1"), "pas les deux", "not both"),
    (lambda v: v.drilldown("signed_budjet"), "vouliez-vous dire signed_budget", "did you mean signed_budget"),
    (lambda v: v.drilldown("signed_budget", by="row"), "vue « row » inconnue", "unknown view 'row'"),
    (lambda v: v.drilldown("signed_budget", month="2026-13"), "le mois 2026-13 n'est pas dans l'exercice 2026",
     "month 2026-13 is not in fiscal year 2026"),
    (lambda v: v.drilldown("offers_in_progress", bucket="90+"), "tranche d'ancienneté « 90+ » inconnue",
     "unknown ageing bucket '90+'"),
    (lambda v: v.drilldown("signed_budget", lines="yes"), "lines attend True ou False", "lines expects True or False"),
])
def test_wrong_arguments_get_one_sentence_in_the_sessions_language(sample_url, monkeypatch, call, fr, en):
    for locale, expected in (("fr", fr), ("en", en)):
        monkeypatch.setenv("PROSPECTS_LOCALE", locale)
        view = prospects.open_firm(sample_url, today="2026-11-29").as_viewer("part1")
        with pytest.raises(ArgumentError) as caught:
            call(view)
        message = str(caught.value)
        assert expected in message and "\n" not in message and "Traceback" not in message
        assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)
        assert caught.value.__cause__ is None


def test_access_denied_speaks_the_sessions_language(sample_url, monkeypatch):
    monkeypatch.setenv("PROSPECTS_LOCALE", "en")
    firm = prospects.open_firm(sample_url, today="2026-11-29")
    with pytest.raises(prospects.AccessDenied, match=r"^Access denied: unknown login 'nobody'$"):
        firm.as_viewer("nobody")  # never a suggestion: the login comes from whoever signs in
    with pytest.raises(prospects.AccessDenied, match=r"^Access denied: collaborator 'gone' is inactive$"):
        firm.as_viewer("gone")
    with pytest.raises(prospects.AccessDenied, match=r"^Access denied: unit 'R2' is outside your perimeter, which covers: Île-de-France; did you mean R1"):
        firm.as_viewer("part1").figures(unit="R2")
    with pytest.raises(prospects.AccessDenied, match=r"^Access denied: the Organisation and Collaborators filters"):
        firm.as_viewer("man2").figures(unit="A2")


def test_close_matches_come_only_from_what_the_viewer_may_see(firm):
    """Typing a unit or person of another perimeter (its id or its name) never names anything outside."""
    directory = firm.directory
    for login in ("part1", "part2", "man1", "dir"):
        view = firm.as_viewer(login)
        v = view.viewer
        inside = set(v.perimeter)
        outside_units = set(directory.units.index) - inside
        outside_text = outside_units | set(directory.units.loc[sorted(outside_units), "name"])
        people_inside = set(view.filter_options()["collaborators"]["login"])
        outside_people = set(directory.collaborators["login"]) - people_inside
        outside_text |= outside_people | set(directory.collaborators.loc[
            directory.collaborators["login"].isin(outside_people), "full_name"])
        typed = [*sorted(outside_text), "Lile", "Hauts de France", "R3", "A3", "Parys", "man", "Marc", "Pierre", "zzz"]
        for text in typed:
            for what in ("unit", "collaborator"):
                try:
                    view.figures(**{what: text})
                except prospects.AccessDenied as exc:
                    message = str(exc)
                    _, _, suggested = message.partition(" ; vouliez-vous dire ")
                    for item in filter(None, suggested.rstrip(" ?").split(", ")):
                        named = item.split(" (")[0].strip('"')  # "A1 (Paris)", "man1", "perimeter"
                        assert named in inside | people_inside | {"perimeter", "firm"}, (login, text, message)
                else:
                    assert text in inside or text in people_inside
    part1 = firm.as_viewer("part1")
    with pytest.raises(prospects.AccessDenied, match=r"vouliez-vous dire A1 \(Paris\)"):
        part1.figures(unit="paris")
    with pytest.raises(prospects.AccessDenied, match="vouliez-vous dire man1"):
        part1.figures(collaborator="man")  # man2 is in Lille: not offered
    same = []
    for hidden_or_not in ("R2", "R9"):  # an existing hidden unit reads like one that does not exist
        with pytest.raises(prospects.AccessDenied) as caught:
            part1.figures(unit=hidden_or_not)
        same.append(str(caught.value).replace(hidden_or_not, "?"))
    assert same[0] == same[1]


def test_one_call_reads_one_version_of_the_store(firm, monkeypatch):
    """However many units and periods a call covers, it asks the database for its version once
    (and so never mixes two versions, should a load commit in the middle)."""
    view = firm.as_viewer("dir")
    asked = []
    real = db.read_version
    monkeypatch.setattr(db, "read_version", lambda engine: asked.append(1) or real(engine))
    view.metrics(["signed_budget", "win_rate"], by="region", unit=["R1", "R2", "perimeter"], compare="N-1", freq="M")
    assert len(asked) == 1
    asked.clear()
    view.drilldown("signed_budget", unit="perimeter", lines=False)
    view.documents(unit="firm")
    assert len(asked) == 2
