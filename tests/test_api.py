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
        "deals": [((), w) for w in where] + [((), {"period": last_year, **w}) for w in where],
        "documents": [((), w) for w in where],
        "lines": [((), w) for w in where],
    }


class Reached:
    """Every text reachable from an object through public names, and where from."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.unscoped: list[str] = []
        self._seen: set[int] = set()

    def walk(self, obj, path: str, depth: int = 4) -> None:
        if obj is None or isinstance(obj, (bool, int, float, complex, dt.date, dt.timedelta, np.generic, type)):
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
    """Call every public name of ``view``, follow what comes back, and check it against ACCESS.md."""
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
    """ACCESS.md at the view's boundary, on Cabinet Exemple (the director is not in the confidential group)."""
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
