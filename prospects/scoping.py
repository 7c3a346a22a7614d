"""Who sees which deals (docs/access.md).

:func:`scope_mask` is the one function that decides which deals a viewer sees, with
the filters applied; every figure, drill-down, export and report goes through it before
any aggregation. :func:`resolve_viewer` turns a login into a :class:`Viewer` (refusing
unknown and inactive logins) and :func:`check_filters` refuses filters the viewer has
no right to. The rule runs on the figure store's integer codes (units, people,
groups), vectorised; there is no other copy of it (no SQL version).

Perimeter of a validator = (union of the subtrees of the units granted by the groups
they belong to) ∩ (subtree of the ancestor of their home unit at the level capped by
their function). The cap is a maximum breadth, never widened: when the home unit sits
above the cap level (a manager capped at agency whose home unit is a region or the firm),
there is no ancestor at that level and the perimeter is empty (the collaborator sees their
own deals only). A function capped at ``None`` has an empty perimeter.
:func:`empty_perimeters` names every validator whose perimeter is empty, and why (no
group, groups covering no unit, a function cap), so that loads, imports and the
subscriptions list can warn; a refusal says why too (:func:`outside_perimeter`).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from .config import DEFAULT_FUNCTION_CAPS
from .i18n import A_LEVEL_LABELS, FUNCTION_LABELS, LEVEL_LABELS, Phrase, Said, Term, shown

LEVELS = ("firm", "region", "agency", "team")


class AccessDenied(Said, PermissionError):
    """The viewer may not see what was asked (unknown login, filter outside the perimeter…):
    a sentence of the catalog, said in the viewer's language where it is shown
    (:class:`~prospects.i18n.Said`)."""


@dataclass(frozen=True, eq=False)
class Directory:
    """The organisation and the people: small tables, loaded once per extract.

    ``units`` is indexed by unit id, in depth-first order (a unit, then its subtree,
    children by id), with columns name, kind, parent_id, depth, one column per level
    (firm, region, agency, team) holding the ancestor-or-self at that level (None when
    the unit is above it), ``code`` (its position: the integer the figure store uses)
    and ``end`` (the code after its subtree, so that a subtree is the code range
    ``[code, end)``). ``collaborators``, ``entities`` and ``groups`` are indexed by id,
    ordered by id, with a ``code`` column likewise.
    """

    units: pd.DataFrame
    collaborators: pd.DataFrame  # indexed by id
    entities: pd.DataFrame  # indexed by id
    group_units: pd.DataFrame
    group_members: pd.DataFrame
    groups: pd.DataFrame

    @property
    def firm_name(self) -> str:
        firm = self.units[self.units["kind"] == "firm"]
        return str(firm["name"].iloc[0]) if len(firm) else ""

    def subtree(self, unit_id: str) -> frozenset[str]:
        """A unit and everything under it."""
        lo, hi = self.subtree_codes(unit_id)
        return frozenset(self.units.index[lo:hi])

    def subtree_codes(self, unit_id: str) -> tuple[int, int]:
        """The unit codes of a unit's subtree: ``range(lo, hi)``."""
        row = self.units.loc[unit_id]
        return int(row["code"]), int(row["end"])

    def unit_lut(self, unit_ids: frozenset[str] | set[str]) -> np.ndarray:
        """A boolean table over unit codes: True for the given units."""
        lut = np.zeros(len(self.units), dtype=bool)
        codes = self.units["code"].reindex(list(unit_ids)).dropna().to_numpy(dtype=np.int64)
        lut[codes] = True
        return lut

    def login_to_id(self, login: str) -> str | None:
        hit = self.collaborators.index[self.collaborators["login"] == login]
        return str(hit[0]) if len(hit) else None

    def collaborator_code(self, collaborator_id: str | None) -> int:
        """The figure store's integer for a collaborator (-1 for none or unknown)."""
        if collaborator_id is None or collaborator_id not in self.collaborators.index:
            return -1
        return int(self.collaborators.at[collaborator_id, "code"])

    def group_codes(self, group_ids: frozenset[str] | set[str]) -> np.ndarray:
        """The figure store's integers of some groups (unknown ids left out)."""
        return self.groups["code"].reindex(list(group_ids)).dropna().to_numpy(dtype=np.int64)


def build_directory(tables: Mapping[str, pd.DataFrame]) -> Directory:
    """A :class:`Directory` from canonical frames of the directory tables."""
    units = tables["org_units"].set_index("id", drop=False)
    parent = units["parent_id"].to_dict()
    kind = units["kind"].to_dict()
    children: dict[str | None, list[str]] = {}
    for uid in sorted(units.index):
        children.setdefault(parent.get(uid), []).append(uid)
    # depth-first order from the roots (the firm; any unit whose parent is missing too)
    order: list[str] = []
    ends: dict[str, int] = {}
    roots = [u for u in sorted(units.index) if parent.get(u) is None or parent.get(u) not in kind]
    stack: list[tuple[str, bool]] = [(r, False) for r in reversed(roots)]
    seen: set[str] = set()
    while stack:
        uid, done = stack.pop()
        if done:
            ends[uid] = len(order)
            continue
        if uid in seen:
            continue
        seen.add(uid)
        order.append(uid)
        stack.append((uid, True))
        stack.extend((c, False) for c in reversed(children.get(uid, [])) if c not in seen)
    units = units.loc[order]
    chains: dict[str, dict[str, str]] = {}
    for uid in units.index:
        chain, cur, visited = {}, uid, set()
        while cur is not None and cur not in visited:
            visited.add(cur)
            chain[kind[cur]] = cur
            cur = parent.get(cur)
        chains[uid] = chain
    level_cols = {lvl: pd.Series([chains[u].get(lvl) for u in units.index], index=units.index, dtype=object) for lvl in LEVELS}
    units = units.assign(
        **level_cols,
        depth=units["kind"].map({k: i for i, k in enumerate(LEVELS)}),
        code=np.arange(len(units), dtype=np.int64),
        end=np.array([ends[u] for u in units.index], dtype=np.int64),
    )

    def coded(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values("id", kind="stable").set_index("id", drop=False)
        return frame.assign(code=np.arange(len(frame), dtype=np.int64))

    return Directory(
        units=units,
        collaborators=coded(tables["collaborators"]),
        entities=coded(tables["entities"]),
        group_units=tables["group_units"],
        group_members=tables["group_members"],
        groups=coded(tables["groups"]),
    )


class DealCodes(Protocol):
    """Deals as the figure store holds them: integer codes (-1 for null) of the directory."""

    deal_unit: np.ndarray
    deal_partner: np.ndarray
    deal_manager: np.ndarray
    deal_client_manager: np.ndarray
    deal_group: np.ndarray


@dataclass(frozen=True)
class Viewer:
    """A signed-in collaborator and what they may see."""

    login: str
    collaborator_id: str
    full_name: str
    function: str
    home_unit_id: str
    can_validate_offers: bool
    perimeter: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    #: a validator with an empty perimeter: why (one of :data:`NO_PERIMETER`), and the level
    #: their function caps them at (for :func:`outside_perimeter`)
    no_perimeter: str = ""
    cap: str = ""

    @property
    def has_filters(self) -> bool:
        """Whether the viewer gets the Organisation and Collaborateurs filters."""
        return self.can_validate_offers


def resolve_viewer(
    directory: Directory, login: str, function_caps: Mapping[str, str | None] = DEFAULT_FUNCTION_CAPS
) -> Viewer:
    """The viewer behind a login; unknown and inactive logins are refused."""
    if not isinstance(login, str) or not login.strip():
        raise AccessDenied("api.no_login")
    collabs = directory.collaborators
    hit = collabs[collabs["login"] == login]
    if hit.empty:
        raise AccessDenied("api.unknown_login", login=shown(login))
    row = hit.iloc[0]
    if not bool(row["active"]):
        raise AccessDenied("api.inactive_login", login=shown(login))
    cid = str(row["id"])
    groups = frozenset(directory.group_members.loc[directory.group_members["collaborator_id"] == cid, "group_id"])
    perimeter: frozenset[str] = frozenset()
    can_validate = bool(row["can_validate_offers"])
    why, cap = "", ""
    if can_validate:
        perimeter, why, cap = _perimeter(directory, row, groups, function_caps)
    return Viewer(
        login=login,
        collaborator_id=cid,
        full_name=str(row["full_name"]),
        function=str(row["function"]),
        home_unit_id=str(row["unit_id"]),
        can_validate_offers=can_validate,
        perimeter=perimeter,
        groups=groups,
        no_perimeter=why,
        cap=cap,
    )


def _perimeter(directory: Directory, row: pd.Series, groups: frozenset[str], caps: Mapping[str, str | None]) -> tuple[frozenset[str], str, str]:
    """A validator's perimeter, why it is empty ("" when it is not, else one of
    :data:`NO_PERIMETER`) and their function's cap level ("" for none)."""
    ranges, why, cap = _perimeter_ranges(directory, row, groups, caps)
    units = directory.units.index
    return frozenset().union(*(units[lo:hi] for lo, hi in ranges)), why, cap


def _perimeter_ranges(
    directory: Directory, row: pd.Series, groups: frozenset[str], caps: Mapping[str, str | None],
    grants: Mapping[str, list[str]] | None = None,
) -> tuple[list[tuple[int, int]], str, str]:
    """THE perimeter rule, on unit code ranges: (granted subtrees) ∩ (the subtree of the
    home unit's ancestor at the cap level). Subtrees are code ranges that nest or are
    disjoint, so each granted range meets the capped one in a range. Returns those ranges,
    why there are none ("" when there are) and the cap level ("" for none). ``grants``:
    the units of each group, when the caller has them at hand."""
    cap = caps.get(str(row["function"]))
    if cap is None:
        return [], "cap_none", ""
    units = directory.units
    top = units.at[str(row["unit_id"]), cap]
    if not isinstance(top, str):  # home above the cap level: no ancestor there, the cap is never widened
        return [], "home_above_cap", cap
    if not groups:
        return [], "no_group", cap
    if grants is None:
        granted_ids = directory.group_units.loc[directory.group_units["group_id"].isin(groups), "unit_id"].unique()
    else:
        granted_ids = list(dict.fromkeys(u for g in groups for u in grants.get(g, ())))
    granted = [directory.subtree_codes(uid) for uid in granted_ids if uid in units.index]
    if not granted:
        return [], "groups_without_units", cap
    clo, chi = directory.subtree_codes(top)
    ranges = [(max(lo, clo), min(hi, chi)) for lo, hi in granted if max(lo, clo) < min(hi, chi)]
    return ranges, "" if ranges else "outside_cap", cap


#: Why an active validator's perimeter is empty (docs/access.md), in the order it is told:
#: their function has no cap level; their home unit sits above their cap level (the
#: function and home unit first: no group fixes those); they are in no group; their
#: groups cover no unit; their groups cover nothing under their cap.
NO_PERIMETER = ("cap_none", "home_above_cap", "no_group", "groups_without_units", "outside_cap")


def empty_perimeters(
    directory: Directory, caps: Mapping[str, str | None] = DEFAULT_FUNCTION_CAPS
) -> pd.DataFrame:
    """Active validators whose perimeter is empty — they see their own deals only — and why.

    The collaborators' rows with ``why`` (the first of :data:`NO_PERIMETER` that holds),
    ``cap`` (their function's level, None for none), ``home_kind``, ``cap_unit`` (the
    ancestor of their home unit at that level, None when above it) and ``groups`` (their
    group ids, ", "-joined). The perimeter is the one :func:`resolve_viewer` computes (the
    same rule, :func:`_perimeter_ranges`, which says why it is empty). ``load``,
    ``import`` and ``prospects subscriptions`` list them.
    """
    people = directory.collaborators
    v = people[people["can_validate_offers"].astype(bool) & people["active"].astype(bool)]
    members = directory.group_members
    groups_of = members.groupby("collaborator_id")["group_id"].agg(frozenset).to_dict()
    grants = directory.group_units.groupby("group_id")["unit_id"].agg(list).to_dict()
    units = directory.units
    rows = []
    for cid, row in v.iterrows():
        groups = groups_of.get(cid, frozenset())
        ranges, why, cap = _perimeter_ranges(directory, row, groups, caps, grants)
        if ranges:
            continue
        home = str(row["unit_id"])
        top = units.at[home, cap] if cap and home in units.index else None
        rows.append({"id": cid, "why": why, "cap": cap or None, "home_kind": units.at[home, "kind"] if home in units.index else None,
                     "cap_unit": top if isinstance(top, str) else None, "groups": ", ".join(sorted(groups))})
    extra = pd.DataFrame(rows, columns=["id", "why", "cap", "home_kind", "cap_unit", "groups"]).set_index("id")
    return v.loc[extra.index].assign(**{c: extra[c] for c in extra.columns})


@dataclass(frozen=True)
class Filters:
    """The viewer's choice: an org unit (subtree) and/or a collaborator (by login)."""

    unit: str | None = None
    collaborator: str | None = None

    @property
    def is_mine(self) -> bool:
        """No filter: the default "Mes affaires" view."""
        return self.unit is None and self.collaborator is None


def outside_perimeter(viewer: Viewer, directory: Directory, what: Phrase) -> AccessDenied:
    """The refusal of ``what`` (``Phrase.of("access.the_unit", unit=…)``, values already
    escaped) outside the viewer's perimeter, saying why in one line and naming only what the
    viewer may see: why their perimeter is empty (``access.because.*``, one per
    :data:`NO_PERIMETER`), or the top units it covers. Never anything about ``what`` itself,
    so that an existing unit and a made-up id get the same sentence."""
    if viewer.perimeter:
        units = directory.units
        tops = sorted((u for u in viewer.perimeter if units.at[u, "parent_id"] not in viewer.perimeter),
                      key=lambda u: (int(units.at[u, "depth"]), str(units.at[u, "name"]), u))
        names = ", ".join(shown(units.at[u, "name"], 40) for u in tops[:3]) + (", …" if len(tops) > 3 else "")
        return AccessDenied("access.outside", what=what, units=names)
    if viewer.no_perimeter not in NO_PERIMETER:
        return AccessDenied("access.outside_empty", what=what)
    because = Phrase.of(f"access.because.{viewer.no_perimeter}", function=Term(FUNCTION_LABELS, viewer.function),
                        level=Term(LEVEL_LABELS, viewer.cap), a_level=Term(A_LEVEL_LABELS, viewer.cap))
    return AccessDenied("access.outside_empty_because", what=what, because=because)


def check_filters(viewer: Viewer, directory: Directory, filters: Filters) -> None:
    """Refuse filters without the right or outside the viewer's perimeter (saying why, :func:`outside_perimeter`)."""
    if filters.is_mine:
        return
    if not viewer.can_validate_offers:
        raise AccessDenied("api.no_filters")
    if filters.unit is not None and filters.unit not in viewer.perimeter:
        raise outside_perimeter(viewer, directory, Phrase.of("access.the_unit", unit=shown(filters.unit)))
    if filters.collaborator is not None:
        cid = directory.login_to_id(filters.collaborator)
        if cid is None or directory.collaborators.at[cid, "unit_id"] not in viewer.perimeter:
            raise outside_perimeter(viewer, directory, Phrase.of("access.the_collaborator", login=shown(filters.collaborator)))


#: Masks already computed, per deals object (a viewer's dataset) and viewer: the rule is a
#: function of both only, so a filter change reuses them (freed with the dataset).
_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _memo(deals: DealCodes, key: tuple, compute) -> np.ndarray:
    try:
        cache = _MEMO.setdefault(deals, {})
    except TypeError:  # not weak-referenceable: no cache
        return compute()
    mask = cache.get(key)
    if mask is None:
        mask = compute()
        mask.flags.writeable = False
        if len(cache) > 8:
            cache.clear()
        cache[key] = mask
    return mask


def visible_mask(viewer: Viewer, directory: Directory, deals: DealCodes) -> np.ndarray:
    """``visible(u, d)`` of docs/access.md for every deal (integer comparisons on codes; read-only)."""
    return _memo(deals, ("visible", viewer, id(directory)), lambda: _visible(viewer, directory, deals))


def _visible(viewer: Viewer, directory: Directory, deals: DealCodes) -> np.ndarray:
    in_team = _in_team(deals, directory.collaborator_code(viewer.collaborator_id))
    if not viewer.can_validate_offers or not viewer.perimeter:
        return in_team
    in_perimeter = directory.unit_lut(viewer.perimeter)[deals.deal_unit]
    # group code + 1 indexes this table: 0 is "no group" (not confidential)
    member = np.zeros(len(directory.groups) + 1, dtype=bool)
    member[0] = True
    member[directory.group_codes(viewer.groups) + 1] = True
    guarded_ok = member[deals.deal_group + 1]
    return in_team | (in_perimeter & guarded_ok)


def scope_mask(viewer: Viewer, directory: Directory, deals: DealCodes, filters: Filters = Filters()) -> np.ndarray:
    """THE scoping function: which of ``deals`` count for this viewer and filters.

    ``deals`` are the figure store's prospect deals (or a subset: a
    :class:`~prospects.dataset.Dataset`). Visible to the viewer, matching the filters
    ("Mes affaires" when there is none). Refuses filters the viewer has no right to.
    """
    check_filters(viewer, directory, filters)
    if filters.is_mine:  # the viewer's team: visible by definition
        return _in_team(deals, directory.collaborator_code(viewer.collaborator_id)).copy()
    mask = visible_mask(viewer, directory, deals).copy()
    if filters.unit is not None:
        lo, hi = directory.subtree_codes(filters.unit)
        mask &= (deals.deal_unit >= lo) & (deals.deal_unit < hi)
    if filters.collaborator is not None:
        mask &= _in_team(deals, directory.collaborator_code(directory.login_to_id(filters.collaborator)))
    return mask


def _in_team(deals: DealCodes, code: int) -> np.ndarray:
    """Whether the collaborator (store code) is partner, manager or client manager of each deal (read-only)."""
    if code < 0:
        return np.zeros(len(deals.deal_unit), dtype=bool)
    return _memo(deals, ("team", code), lambda: (deals.deal_partner == code) | (deals.deal_manager == code)
                 | (deals.deal_client_manager == code))


def filter_options(viewer: Viewer, directory: Directory) -> dict[str, pd.DataFrame]:
    """What the Organisation and Collaborateurs filters may offer this viewer.

    ``units``: the perimeter's units (id, name, kind, parent_id, region, agency), ordered
    for a region → agency → team cascade; ``collaborators``: people whose home unit is in
    the perimeter (id, login, full_name, function). Both empty without the right.
    """
    if not viewer.can_validate_offers:
        units = directory.units.iloc[0:0]
        people = directory.collaborators.iloc[0:0]
    else:
        units = directory.units[directory.units.index.isin(viewer.perimeter)]
        people = directory.collaborators[directory.collaborators["unit_id"].isin(viewer.perimeter)]
    units = units.sort_values(["depth", "name"], kind="stable")[["id", "name", "kind", "parent_id", "region", "agency"]]
    people = people.sort_values("full_name")[["id", "login", "full_name", "function", "unit_id"]]
    return {"units": units.reset_index(drop=True), "collaborators": people.reset_index(drop=True)}
